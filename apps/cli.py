"""The `tfvae` command line: train | evaluate | sample | export.

    tfvae train --data digits --latent-dim 8 --hidden-units 128 64 \\
        --prior realnvp --posterior-flow iaf --epochs 30 --output-dir runs/digits
    tfvae evaluate --model runs/digits/model.keras --split test --num-samples 1000
    tfvae sample --model runs/digits/model.keras -n 64 --seed 0 --out samples.png
    tfvae export --model runs/digits/model.keras --out saved_models/digits_vae/1

Each command is also a function (`train(args)`, ...) returning a dict of
results, and `run(argv)` parses and dispatches; `apps.demo` is built on
them. Bad flags, bad paths, missing or corrupt files, bad data and parts
of tfvae that do not exist yet are reported in one line with exit code 2;
a run stopped by the NaN guard exits with 1, Ctrl-C with 130 (`--debug`
shows the traceback instead).
"""

import os
import re
import sys
import time

import tfvae  # noqa: F401  (quiet TF logs, Keras backend) -- before keras/tensorflow

import keras
import numpy as np
import tensorflow as tf

from apps import _args
from apps import _build
from apps import _runs
from apps import report as _report
from apps._runs import UsageError
from tfvae.training import files
from tfvae.training.images import save_image_grid


def model_spec(args, input_shape):
    """The JSON model description `apps._build.build_vae` understands."""
    num_bins = args.num_bins
    if num_bins is None and args.likelihood in ("categorical", "discretized_logistic"):
        num_bins = 2 if args.binarize else tfvae.data.info(args.data).num_bins
    return {
        "input_shape": list(input_shape), "latent_dim": args.latent_dim, "net": args.net,
        "hidden_units": list(args.hidden_units),
        "decoder_units": list(args.decoder_units) if args.decoder_units else None,
        "conv_filters": list(args.conv_filters), "likelihood": args.likelihood, "num_bins": num_bins,
        "prior": args.prior, "prior_layers": args.prior_layers, "prior_components": args.prior_components,
        "posterior_flow": args.posterior_flow, "flow_layers": args.flow_layers,
        "flow_hidden_units": list(args.flow_hidden_units) if args.flow_hidden_units else None,
        "beta": args.beta, "free_bits": args.free_bits,
        "num_importance_samples": args.num_importance_samples, "seed": args.seed,
    }


def train(args):
    """Trains a VAE and writes its run folder. Returns the history dict."""
    settings = _runs.data_settings(args.data, args.likelihood, args.binarize, args.dequantize)
    args.binarize = settings["binarize"]
    spec = model_spec(args, tfvae.data.info(args.data).input_shape)
    out = args.output_dir or os.path.join("runs", args.data)
    resuming = _runs.check_train_paths(args, out)  # before any work
    if os.path.exists(os.path.join(out, "model.keras")) and not (args.overwrite or resuming):
        raise UsageError(f"{out} already holds a trained model.keras: choose another --output-dir "
                         "or pass --overwrite")
    if args.jit_compile and args.strategy != "default":
        raise UsageError("--jit-compile with --strategy mirrored/multi_worker fails in TensorFlow "
                         "(keras-team/keras#19005): drop --jit-compile")
    strategy = tfvae.training.make_strategy(args.strategy)  # first: multi-worker configures the runtime
    tfvae.training.set_precision(args.mixed_precision)
    out = tfvae.training.distribute.write_dir(out)  # chief: --output-dir; other workers: a temp folder
    keras.utils.set_random_seed(args.seed)  # weight initialisers
    clip = {k: v for k, v in (("clipnorm", args.clipnorm), ("global_clipnorm", args.global_clipnorm)) if v}
    if len(clip) > 1:
        raise UsageError("--clipnorm and --global-clipnorm exclude each other")
    with strategy.scope():
        model = _build.build_vae(spec)
        model.compile(optimizer=keras.optimizers.Adam(args.lr, **clip),
                      jit_compile="auto" if args.jit_compile is None else args.jit_compile,
                      steps_per_execution=args.steps_per_execution)
    load = dict(batch_size=args.batch_size, data_dir=args.data_dir, download=args.download)
    train_ds = _runs.load_split(settings, "train", seed=args.seed, **load)
    val_split = None if args.validation_split.lower() == "none" else args.validation_split
    val_ds = _runs.load_split(settings, val_split, seed=args.seed + 1, training=False, **load) if val_split else None
    test_ds = _runs.load_split(settings, "test", seed=args.seed + 1, training=False, **load)
    callbacks = _callbacks(args, model, test_ds, train_ds)
    verbose = {0: 1, 1: 2}.get(args.quiet, 0)
    config = {"model": spec, "data": dict(settings, batch_size=args.batch_size, seed=args.seed),
              "training": {"epochs": args.epochs, "lr": args.lr, "kl_warmup": args.kl_warmup,
                           "jit_compile": args.jit_compile, "steps_per_execution": args.steps_per_execution,
                           "validation_split": val_split, "strategy": args.strategy,
                           "replicas": strategy.num_replicas_in_sync, "mixed_precision": args.mixed_precision,
                           "clipnorm": args.clipnorm, "global_clipnorm": args.global_clipnorm,
                           "nan_guard": args.nan_guard, "backup_dir": args.backup_dir,
                           "backup_freq": args.backup_freq, "checkpoint_dir": args.checkpoint_dir,
                           "tensorboard_dir": args.tensorboard_dir}}
    os.makedirs(out, exist_ok=True)
    if args.backup_dir:  # the backup remembers its run's settings
        run_record = os.path.join(args.backup_dir, "run_config.json")
        if resuming:
            _runs.check_same_run(run_record if os.path.isfile(run_record) else os.path.join(out, "config.json"),
                                 config, args.backup_dir)
        _runs.write_json(run_record, config)
    _runs.write_json(os.path.join(out, "config.json"), config)

    start = time.perf_counter()
    history = model.fit(train_ds, epochs=args.epochs, validation_data=val_ds, callbacks=callbacks, shuffle=False,
                        verbose=verbose)
    seconds = time.perf_counter() - start
    model_path = os.path.join(out, "model.keras")
    with files.atomic_path(model_path) as tmp:  # saved first: nothing trained is lost if evaluation fails
        model.save(tmp)

    test = _runs.test_metrics(model, test_ds, args.eval_samples, seed=args.seed, verbose=0)
    # After a resume `history` also holds the epochs trained before the restart.
    record = {"config": config, "epochs": [int(e) + 1 for e in history.epoch],
              "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
              "train_seconds": seconds, "test": test,
              "nan_guard": next((c.failure for c in callbacks if isinstance(c, tfvae.training.NaNGuard)), None)}
    _runs.write_json(os.path.join(out, "history.json"), record)
    scale = _runs.grid_scale(model)
    save_image_grid(model.sample(64, seed=args.seed).numpy(), os.path.join(out, "samples.png"), nrow=8, scale=scale)
    x = _runs.first_batch(test_ds, 10)
    rows = np.concatenate([x, model.reconstruct(x).numpy()])
    save_image_grid(rows, os.path.join(out, "reconstructions.png"), nrow=len(x), scale=scale)
    if args.quiet < 2:
        print(f"test ({args.data}, {seconds:.1f} s training):\n{_runs.format_metrics(test)}")
        print(f"wrote {out}/: model.keras config.json history.json samples.png reconstructions.png")
    if record["nan_guard"] is not None:
        failure = record["nan_guard"]
        raise TrainingStopped(f"training stopped at epoch {failure['epoch'] + 1}, batch {failure['batch'] + 1}: "
                              f"`{failure['metric']}` became {failure['value']}; {out}/ holds the last good "
                              "epoch's weights (try a lower --lr or --clipnorm)")
    return dict(record, output_dir=out, model_path=model_path, model=model)


class TrainingStopped(RuntimeError):
    """Training ended early (the NaN guard stopped it): exit code 1."""


def _callbacks(args, model, test_ds, train_ds=None):
    """NaN guard first (later callbacks then see restored weights), KL
    warm-up, backup, checkpoints, TensorBoard."""
    callbacks = [tfvae.training.NaNGuard(verbose=int(args.quiet < 2))] if args.nan_guard else []
    if args.kl_warmup:
        callbacks.append(tfvae.training.KLWarmup(epochs=args.kl_warmup))
    if args.backup_dir:
        callbacks.append(tfvae.training.BackupAndRestore(args.backup_dir, save_freq=args.backup_freq or "epoch",
                                                         delete_checkpoint=False, dataset=train_ds))
    if args.checkpoint_dir:
        callbacks.append(tfvae.training.checkpoint(args.checkpoint_dir))
    if args.tensorboard_dir:
        callbacks.append(tfvae.training.TensorBoard(args.tensorboard_dir, images=_runs.first_batch(test_ds, 8),
                                                    num_samples=16, seed=args.seed, scale=_runs.grid_scale(model)))
    return callbacks


def evaluate(args):
    """Evaluates a saved model on a split; prints and writes the metrics."""
    split_name = args.split.replace(os.sep, "_")
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.model)), f"eval_{split_name}.json")
    _runs.check_output_file(out, "--out")  # before any work
    model = _runs.load_model(args.model)
    saved = _runs.run_config(args.model)
    saved_data = saved.get("data", {})
    data = args.data or saved_data.get("data", "digits")
    name = _build.likelihood_name(model.likelihood)
    binarize = args.binarize if args.binarize is not None else saved_data.get("binarize")
    dequantize = args.dequantize if args.dequantize is not None else saved_data.get("dequantize")
    settings = _runs.data_settings(data, name, binarize, dequantize)
    if tuple(tfvae.data.info(data).input_shape) != tuple(model.data_shape):
        raise UsageError(f"the model expects inputs of shape {tuple(model.data_shape)}, but {data!r} "
                         f"has {tuple(tfvae.data.info(data).input_shape)}")
    batch_size = args.batch_size or saved_data.get("batch_size", 256)
    ds = _runs.load_split(settings, args.split, batch_size, seed=args.seed + 1, training=False,
                          data_dir=args.data_dir, download=args.download)
    start = time.perf_counter()
    metrics = _runs.test_metrics(model, ds, args.num_samples, seed=args.seed, verbose=0)
    result = {"model": args.model, "data": settings, "split": args.split, "seconds": time.perf_counter() - start,
              **metrics}
    _runs.write_json(out, result)
    if args.quiet < 2:
        print(f"{data} {args.split} ({result['seconds']:.1f} s):\n{_runs.format_metrics(metrics)}\nwrote {out}")
    if _report.wanted(args):  # sample quality, post-hoc samplers, latent grids: apps/report.py
        result["report"] = _report.run(args, model, settings, metrics)
    return dict(result, out=out)


def sample(args):
    """Writes a PNG grid of `n` samples from the model's prior."""
    _runs.check_output_file(args.out, "--out")  # before any work
    model = _runs.load_model(args.model)
    images = model.sample(args.num_samples, seed=args.seed, mean=not args.draw).numpy()
    save_image_grid(images, args.out, nrow=args.nrow, scale=args.scale or _runs.grid_scale(model))
    print(f"wrote {args.num_samples} samples to {args.out}")
    return {"out": args.out, "shape": list(images.shape)}


def export(args):
    """Exports a SavedModel with `tfvae.export.export_saved_model`."""
    from tfvae.export import export_saved_model as exporter
    from tfvae.export import layout
    try:
        path, base, _ = layout.check_version_dir(args.out)  # before any work: a bad --out is a ValueError
        layout.refuse_existing(path, args.overwrite)
        files.check_writable_dir(base, "the folder of --out")
    except FileExistsError as e:
        raise UsageError(f"{e} (CLI flag: --overwrite)") from None
    model = _runs.load_model(args.model)
    try:
        caps = {k: v for k, v in (("max_num_samples", args.max_num_samples),
                                  ("max_importance_samples", args.max_importance_samples)) if v is not None}
        out = exporter(model, args.out, overwrite=args.overwrite, **caps)
    except FileExistsError as e:
        raise UsageError(f"{e} (CLI flag: --overwrite)") from None
    except TypeError as e:  # the exporter knows no signatures for this model type
        raise UsageError(str(e)) from None
    print(f"exported {args.model} to {out}")
    return {"out": str(out)}


COMMANDS = {"train": train, "evaluate": evaluate, "sample": sample, "export": export}


def run(argv=None):
    """Parses `argv` and runs the command; returns its result dict.

    Every expected failure is reported in one line on stderr, without a
    traceback (`--debug` re-raises it instead).

    Raises:
        SystemExit(2): bad flags or paths, missing or unreadable files, bad
            settings, bad data (also when found inside the input pipeline),
            a dataset that cannot be had offline.
        SystemExit(1): training stopped by the NaN guard; another
            TensorFlow runtime error; the file system failed while writing.
        SystemExit(130): interrupted (Ctrl-C).
    """
    parser = _args.build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except Exception as e:  # noqa: BLE001 -- classified below; anything else is a bug: traceback
        code, message = _classify(e)
        if code is None or args.debug:
            raise
        parser.exit(code, f"tfvae {args.command}: error: {message}\n")
    except KeyboardInterrupt:
        if args.debug:
            raise
        parser.exit(130, f"tfvae {args.command}: interrupted; files already written are complete"
                         f"{' (rerun the same command to resume from --backup-dir)' if getattr(args, 'backup_dir', None) else ''}\n")


def _classify(e):
    """`(exit code, one-line message)` for an expected failure, else `(None, None)`."""
    if isinstance(e, (UsageError, tfvae.data.DatasetNotAvailableError)):
        return 2, _one_line(str(e))
    if isinstance(e, TrainingStopped):
        return 1, _one_line(str(e))
    if isinstance(e, tf.errors.InvalidArgumentError):  # data checks inside the input pipeline
        return 2, tf_error_line(e)
    if isinstance(e, tf.errors.OpError):
        return 1, tf_error_line(e)
    if isinstance(e, (ValueError, TypeError)):  # a constructor's or loader's own check of a setting
        return 2, _one_line(str(e))
    if isinstance(e, OSError):  # disk full, permissions changed mid-run, ...
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        return 1, _one_line(f"{e.strerror or e}{where}")
    return None, None


def _one_line(text):
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return " ".join(lines) if len(lines) <= 3 else lines[0]


def tf_error_line(e):
    """The user-facing line of a TensorFlow runtime error: the failed
    assertion's own message, not "Graph execution error:"."""
    message = getattr(e, "message", str(e))
    found = re.search(r"assertion failed: \[(.*?)\]\s*(?:\n|\[\[|$)", message, re.S)
    if found:
        return " ".join(found.group(1).split())
    for line in message.splitlines():
        line = line.strip()
        if line and not line.startswith(("Graph execution error", "Detected at node", "<stack traces", "[[", "File ")):
            return re.sub(r"\s*\[Op:[^\]]*\]$", "", line)
    return type(e).__name__


def main(argv=None):
    """Console-script entry point; returns the exit code."""
    run(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
