"""What the commands share: data settings, loading saved runs, metrics, files."""

import importlib
import json
import math
import os
import pkgutil

import keras
import numpy as np

import tfvae


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
    _register_everything()
    return keras.models.load_model(path)


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
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=False, default=_jsonable)
        f.write("\n")
    return path


def _jsonable(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


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
