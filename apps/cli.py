"""The `tfvae` command line: train | evaluate | sample | export.

    tfvae train --data digits --latent-dim 8 --hidden-units 128 64 \\
        --prior realnvp --posterior-flow iaf --epochs 30 --output-dir runs/digits
    tfvae evaluate --model runs/digits/model.keras --split test --num-samples 1000
    tfvae sample --model runs/digits/model.keras -n 64 --seed 0 --out samples.png
    tfvae export --model runs/digits/model.keras --out saved_models/digits_vae/1

Each command is also a function (`train(args)`, ...) returning a dict of
results, and `run(argv)` parses and dispatches; `apps.demo` is built on
them. Bad flags, missing files and parts of tfvae that do not exist yet are
reported in one line with exit code 2.
"""

import os
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
    if os.path.exists(os.path.join(out, "model.keras")) and not args.overwrite:
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
    callbacks = _callbacks(args, model, test_ds)
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
    _runs.write_json(os.path.join(out, "config.json"), config)

    start = time.perf_counter()
    history = model.fit(train_ds, epochs=args.epochs, validation_data=val_ds, callbacks=callbacks, shuffle=False,
                        verbose=verbose)
    seconds = time.perf_counter() - start
    model_path = os.path.join(out, "model.keras")
    model.save(model_path)  # saved first: nothing trained is lost if evaluation fails

    test = _runs.test_metrics(model, test_ds, args.eval_samples, seed=args.seed, verbose=0)
    record = {"config": config, "epochs": list(range(1, len(history.epoch) + 1)),
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
    return dict(record, output_dir=out, model_path=model_path, model=model)


def _callbacks(args, model, test_ds):
    """NaN guard first (later callbacks then see restored weights), KL
    warm-up, backup, checkpoints, TensorBoard."""
    callbacks = [tfvae.training.NaNGuard(verbose=int(args.quiet < 2))] if args.nan_guard else []
    if args.kl_warmup:
        callbacks.append(tfvae.training.KLWarmup(epochs=args.kl_warmup))
    if args.backup_dir:
        callbacks.append(tfvae.training.BackupAndRestore(args.backup_dir, save_freq=args.backup_freq or "epoch",
                                                         delete_checkpoint=False))
    if args.checkpoint_dir:
        callbacks.append(tfvae.training.checkpoint(args.checkpoint_dir))
    if args.tensorboard_dir:
        callbacks.append(tfvae.training.TensorBoard(args.tensorboard_dir, images=_runs.first_batch(test_ds, 8),
                                                    num_samples=16, seed=args.seed, scale=_runs.grid_scale(model)))
    return callbacks


def evaluate(args):
    """Evaluates a saved model on a split; prints and writes the metrics."""
    model = _runs.load_model(args.model)
    saved = _runs.run_config(args.model)
    saved_data = saved.get("data", {})
    data = args.data or saved_data.get("data", "digits")
    likelihood = type(model.likelihood).__name__
    name = {v: k for k, v in _build.LIKELIHOODS.items()}.get(likelihood, likelihood.lower())
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
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.model)), f"eval_{args.split}.json")
    _runs.write_json(out, result)
    if args.quiet < 2:
        print(f"{data} {args.split} ({result['seconds']:.1f} s):\n{_runs.format_metrics(metrics)}\nwrote {out}")
    if _report.wanted(args):  # sample quality, post-hoc samplers, latent grids: apps/report.py
        result["report"] = _report.run(args, model, settings, metrics)
    return dict(result, out=out)


def sample(args):
    """Writes a PNG grid of `n` samples from the model's prior."""
    model = _runs.load_model(args.model)
    images = model.sample(args.num_samples, seed=args.seed, mean=not args.draw).numpy()
    save_image_grid(images, args.out, nrow=args.nrow, scale=args.scale or _runs.grid_scale(model))
    print(f"wrote {args.num_samples} samples to {args.out}")
    return {"out": args.out, "shape": list(images.shape)}


def export(args):
    """Exports a SavedModel with `tfvae.export.export_saved_model`."""
    exporter = _build.lookup("export", "export_saved_model", "tfvae export")
    model = _runs.load_model(args.model)
    try:
        out = exporter(model, args.out, overwrite=args.overwrite)
    except FileExistsError as e:
        raise UsageError(f"{e} (CLI flag: --overwrite)") from None
    except TypeError as e:  # the exporter knows no signatures for this model type
        raise UsageError(str(e)) from None
    print(f"exported {args.model} to {out}")
    return {"out": str(out)}


COMMANDS = {"train": train, "evaluate": evaluate, "sample": sample, "export": export}


def run(argv=None):
    """Parses `argv` and runs the command; returns its result dict.

    Raises:
        SystemExit(2): bad flags, missing files, parts of tfvae not available.
    """
    parser = _args.build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, _build.NotAvailableError, tfvae.data.DatasetNotAvailableError) as e:
        parser.exit(2, f"tfvae {args.command}: error: {e}\n")
    except ValueError as e:  # a constructor's or loader's own check of a setting
        parser.exit(2, f"tfvae {args.command}: error: {e}\n")
    except tf.errors.InvalidArgumentError as e:  # data checks inside the input pipeline
        parser.exit(2, f"tfvae {args.command}: error: {e.message.splitlines()[0]}\n")


def main(argv=None):
    """Console-script entry point; returns the exit code."""
    run(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
