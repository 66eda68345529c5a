"""What the commands share: data settings, loading saved runs, metrics, files."""

import importlib
import json
import math
import os
import pkgutil

import keras
import numpy as np

import tfvae
from tfvae.training import files


class UsageError(ValueError):
    """A bad combination of flags or a missing file: reported, exit code 2."""


def data_settings(data, likelihood, binarize=None, dequantize=None):
    """Resolves `--binarize` / `--dequantize` for a likelihood, or raises.

    Bernoulli needs {0, 1} data, so it binarises by default; the Gaussian is
    a density, so it dequantises by default (a density on discrete levels is
    unbounded); the discrete likelihoods take the levels as they are.
    """
    info = tfvae.data.info(data)
    if binarize is None:
        binarize = likelihood == "bernoulli" and info.num_bins > 2
    if dequantize is None:
        dequantize = likelihood == "gaussian" and not binarize
    if binarize and dequantize:
        raise UsageError("--binarize and --dequantize exclude each other")
    if likelihood == "bernoulli" and not binarize and info.num_bins > 2:
        raise UsageError(f"the bernoulli likelihood needs binary data, but {data!r} has {info.num_bins} "
                         "levels: use --binarize or another --likelihood")
    if likelihood in ("categorical", "discretized_logistic") and dequantize:
        raise UsageError(f"the {likelihood} likelihood needs the quantised levels: drop --dequantize")
    return {"data": data, "binarize": bool(binarize), "dequantize": bool(dequantize)}


def load_split(settings, split, batch_size, seed, data_dir=None, download=False, training=None):
    return tfvae.data.load(settings["data"], split=split, batch_size=batch_size,
                           binarize=settings["binarize"], dequantize=settings["dequantize"], seed=seed,
                           training=training, data_dir=data_dir, download=download)


def first_batch(ds, n):
    """The first `n` examples of a dataset of batches, as a numpy array."""
    parts, count = [], 0
    for batch in ds:
        batch = batch[0] if isinstance(batch, (tuple, list)) else batch
        parts.append(np.asarray(batch))
        count += len(parts[-1])
        if count >= n:
            break
    return np.concatenate(parts)[:n]


def _register_everything():
    """Imports every tfvae module, so every registered class can be
    deserialised even if a package `__init__` does not import it yet."""
    for info in pkgutil.walk_packages(tfvae.__path__, prefix="tfvae."):
        try:
            importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 -- a half-written module must not block loading
            pass


def load_model(path):
    if not os.path.isfile(path):
        raise UsageError(f"no model file at {path!r} (expected a .keras file written by `tfvae train`)")
    if not os.access(path, os.R_OK):
        raise UsageError(f"cannot read the model file {path!r}: permission denied")
    _register_everything()
    try:
        return keras.models.load_model(path)
    except Exception as e:  # noqa: BLE001 -- zipfile, h5py, JSON and Keras each raise their own
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        reason = reason.split(". ")[0].rstrip(".")
        raise UsageError(f"cannot load the model file {path!r} (not a complete .keras file written by "
                         f"`tfvae train`?): {reason}") from e


def check_output_file(path, flag):
    """Raises `UsageError` unless `path` can be written as a file."""
    try:
        files.check_writable_file(path, flag)
    except ValueError as e:
        raise UsageError(str(e)) from None


def check_train_paths(args, out):
    """Checks every folder `tfvae train` writes before any work; returns
    whether `--backup-dir` holds a backup to resume from."""
    folders = [(out, "--output-dir")] + [(getattr(args, name), flag) for name, flag in (
        ("backup_dir", "--backup-dir"), ("checkpoint_dir", "--checkpoint-dir"),
        ("tensorboard_dir", "--tensorboard-dir")) if getattr(args, name, None)]
    for folder, flag in folders:
        try:
            files.check_writable_dir(folder, flag)
        except ValueError as e:
            raise UsageError(str(e)) from None
    for name in ("model.keras", "history.json", "config.json", "samples.png", "reconstructions.png"):
        if os.path.isdir(os.path.join(out, name)):
            raise UsageError(f"--output-dir {out!r} holds a directory named {name!r}, where the run writes a file")
    backup = getattr(args, "backup_dir", None)
    return bool(backup) and os.path.isfile(os.path.join(backup, tfvae.training.BackupAndRestore.METADATA))


def check_same_run(config_path, config, backup_dir):
    """Refuses to resume a backup with another run's settings."""
    if not os.path.isfile(config_path):
        return
    try:
        with open(config_path) as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return  # unreadable: the new config replaces it
    ignore = ("tensorboard_dir", "checkpoint_dir", "backup_dir")
    differs = [key for key in ("model", "data") if saved.get(key) != json.loads(json.dumps(config[key]))]
    saved_training = {k: v for k, v in saved.get("training", {}).items() if k not in ignore}
    new_training = {k: v for k, v in json.loads(json.dumps(config["training"])).items() if k not in ignore}
    differs += [f"training.{k}" for k in sorted(set(saved_training) | set(new_training))
                if saved_training.get(k) != new_training.get(k)]
    if differs:
        raise UsageError(f"--backup-dir {backup_dir!r} holds a backup of a run with other settings "
                         f"({', '.join(differs)} differ from {config_path}): rerun the same command to resume, "
                         "or use a new --backup-dir")


def run_config(model_path):
    """The `config.json` beside a saved model, or {}."""
    path = os.path.join(os.path.dirname(os.path.abspath(model_path)), "config.json")
    if os.path.isfile(path):
        with open(path) as f:
            return json.load(f)
    return {}


def test_metrics(model, ds, num_samples, seed=0, verbose=0):
    """ELBO terms (Keras `evaluate`) and, if `num_samples`, the importance-
    sampled log-likelihood; all in nats per example, plus bits/dim."""
    result = {k: float(v) for k, v in model.evaluate(ds, return_dict=True, verbose=verbose).items()}
    dims = math.prod(model.data_shape)
    result["elbo_bits_per_dim"] = -result["elbo"] / (math.log(2.0) * dims)
    if num_samples:
        ll = tfvae.evaluation.log_likelihood(model, ds, num_samples=num_samples, seed=seed)
        result.update(log_likelihood=ll["log_likelihood"], log_likelihood_stderr=ll["stderr"],
                      bits_per_dim=ll["bits_per_dim"], num_examples=ll["num_examples"],
                      num_importance_samples=int(num_samples))
    return result


def grid_scale(model):
    """Nearest-neighbour magnification so small images stay visible."""
    return max(1, 64 // int(model.data_shape[0])) if len(model.data_shape) == 3 else 1


def write_json(path, obj):
    """Writes `obj` as JSON crash-safely (`tfvae.training.files`)."""
    return files.write_json(path, obj)


def format_metrics(metrics):
    """One line per metric, for the terminal."""
    lines = []
    for key in ("loss", "elbo", "reconstruction", "kl", "iwae"):
        if key in metrics:
            lines.append(f"  {key:<16} {metrics[key]:10.4f} nats")
    if "log_likelihood" in metrics:
        lines.append(f"  {'log_likelihood':<16} {metrics['log_likelihood']:10.4f} "
                     f"± {metrics['log_likelihood_stderr']:.4f} nats "
                     f"(S={metrics['num_importance_samples']}, {metrics['num_examples']} examples)")
        lines.append(f"  {'bits_per_dim':<16} {metrics['bits_per_dim']:10.4f}")
    return "\n".join(lines)


def write_code_model_grids(model, x, out, seed, scale):
    """A VQ model's picture files: `reconstructions.png` (rows 1 and 3: the
    16 images `x`, 8 per row; rows 2 and 4: their reconstructions) and
    `samples.png` (36 draws from the code priors), each image scaled
    `scale` times; returns both paths."""
    rec = model.reconstruct(x).numpy()
    rec_path = tfvae.training.save_image_grid(np.concatenate([x[:8], rec[:8], x[8:], rec[8:]]),
                                              os.path.join(out, "reconstructions.png"), nrow=8, scale=scale)
    samples = model.sample(36, seed=seed).numpy()
    sample_path = tfvae.training.save_image_grid(samples, os.path.join(out, "samples.png"), nrow=6, scale=scale)
    return rec_path, sample_path
