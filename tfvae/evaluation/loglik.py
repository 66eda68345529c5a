"""Importance-sampled log-likelihood, vectorised over samples and streamed."""

import math
import numbers

import numpy as np
import tensorflow as tf

from tfvae.likelihoods.base import xla_fused
from tfvae.nets._validate import check_fits_in_memory, positive_int
from tfvae.objectives.bounds import logsumexp_update


# Samples per chunk are chosen so one chunk holds about this many
# (sample, example, data-dimension) likelihood terms: bounded memory. An
# exported signature serves many requests at once and keeps the smaller
# bound (32 MB per float32 tensor of a chunk); the Python estimator runs
# alone, and its larger chunks (128 MB) run the decoder's products on more
# rows per call and the encoder fewer times.
_TERMS_PER_CHUNK = 2**23
_EVAL_TERMS_PER_CHUNK = 2**25


def default_chunk_size(batch, num_samples, data_shape, num_params, terms=None):
    """Samples per chunk, so a chunk holds about `terms` (default
    `_TERMS_PER_CHUNK`) (sample, example, dimension, parameter) terms:
    bounded memory. Works on Python ints and on scalar tensors (the exported
    signature's in-graph loop)."""
    terms = _TERMS_PER_CHUNK if terms is None else terms
    per_sample = tf.maximum(1, batch * math.prod(data_shape) * max(1, num_params))
    return tf.maximum(1, tf.minimum(num_samples, terms // per_sample))


def _log_weights_fn(model):
    """A traced `(x, k, seed) -> log w (k, batch)`, cached on the model."""
    fn = getattr(model, "_tfvae_log_weights_fn", None)
    if fn is None:
        # No autograph: the bound has no Python control flow on tensors, and
        # skipping the source conversion makes tracing faster and robust.
        @tf.function(reduce_retracing=True, autograph=False)
        def fn(x, k, seed, condition=None):
            extra = {} if condition is None else {"condition": condition}
            log_px, log_pz, log_q, _ = model.bound_terms(x, k, seed, training=False, **extra)
            return log_px + log_pz - log_q
        model._tfvae_log_weights_fn = fn
    return fn


def importance_sampled_log_likelihood(model, x, num_samples=1000, chunk_size=None, seed=0, condition=None):
    """log p(x) ≈ log (1/S) Σ_s p(x|z_s) p(z_s) / q(z_s|x), z_s ~ q(z|x).

    A consistent estimate (it is the IWAE bound with K = S, so it is biased
    low by O(1/S) and converges to log p(x)). Samples are drawn `chunk_size`
    at a time for the whole batch at once; chunks are combined with a running
    logsumexp, so memory is O(chunk_size · batch · data size).

    Args:
        model: a `tfvae.VAE` (anything with `bound_terms`).
        x: `(batch, *input_shape)` float32, already checked.
        num_samples: S.
        chunk_size: samples per chunk; default fits `_EVAL_TERMS_PER_CHUNK`.
        seed: int; the estimate is reproducible for a given seed.
        condition: None, or for a conditional model the flat condition
            `(batch, C)` float32 (`ConditionalVAE` converts labels first);
            the estimate is then of log p(x | c).
    Returns:
        `(batch,)` float32 tensor, nats per example.
    """
    num_samples = positive_int(num_samples, "num_samples")
    if chunk_size is not None:
        chunk_size = positive_int(chunk_size, "chunk_size")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"Expected `seed` to be an integer. Received: seed={seed!r}")
    batch = int(x.shape[0])
    if batch == 0:
        raise ValueError(f"Expected `x` to hold at least one example. Received: x with shape {tuple(x.shape)}")
    terms = batch * math.prod(model.data_shape) * max(1, model.likelihood.num_params)
    if chunk_size is None:
        chunk_size = int(default_chunk_size(batch, num_samples, model.data_shape, model.likelihood.num_params,
                                            _EVAL_TERMS_PER_CHUNK))
    chunk_size = min(chunk_size, num_samples)
    # A chunk's decoder output (k × batch × data × parameters floats) and
    # the intermediate tensors of the same size dominate the memory.
    check_fits_in_memory(
        4 * 4 * chunk_size * terms, f"log_likelihood on a batch of {batch} with chunk_size={chunk_size}",
        "pass a smaller `chunk_size` (samples per chunk), or split `x` into smaller batches "
        "(tfvae.evaluation.log_likelihood streams a dataset 256 examples at a time).")
    fn = _log_weights_fn(model)
    seeds = tf.random.split(tf.constant([seed, 0], tf.int64), -(-num_samples // chunk_size))
    running = tf.fill([batch], -np.inf)
    done = 0
    for i in range(seeds.shape[0]):
        k = min(chunk_size, num_samples - done)
        with xla_fused():   # the likelihood's passes over k · batch outputs as one
            log_w = fn(x, tf.constant(k), seeds[i], condition)
        running = logsumexp_update(running, log_w)
        done += k
    return running - math.log(done)


def log_likelihood(model, data, num_samples=1000, chunk_size=None, seed=0):
    """Mean importance-sampled log p(x) over a dataset or array.

    For a conditional model (`model.condition_dim` set) the data are
    `(x, c)` pairs (a dataset of tuples or a tuple of arrays) and the
    estimate is of log p(x | c).

    Returns:
        dict with `log_likelihood` (nats per example), its standard error
        over examples `stderr`, `num_examples`, `bits_per_dim` (the
        negative log-likelihood divided by `log 2 · prod(input_shape)`),
        and `per_example`, the `(num_examples,)` float32 array of estimates
        in data order. Two models scored on the same data compare by the
        paired difference of their `per_example` arrays, whose standard
        error is far smaller than either `stderr` (the spread between easy
        and hard examples cancels).
    """
    conditional = getattr(model, "condition_dim", None) is not None
    if isinstance(data, tf.data.Dataset):
        batches = (b if conditional else (b[0] if isinstance(b, (tuple, list)) else b) for b in data)
    elif conditional:
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ValueError(f"{type(model).__name__} is conditional: pass `data` as (x, c) or a dataset "
                             "of (x, c) tuples.")
        xs, cs = np.asarray(data[0]), np.asarray(data[1])
        batches = ((xs[i:i + 256], cs[i:i + 256]) for i in range(0, len(xs), 256))
    else:
        arr = np.asarray(data)
        batches = (arr[i:i + 256] for i in range(0, len(arr), 256))
    values = []
    for i, xb in enumerate(batches):
        inputs = tuple(xb[:2]) if conditional else (xb,)
        values.append(model.log_likelihood(*inputs, num_samples=num_samples, chunk_size=chunk_size,
                                           seed=seed + 7919 * i).numpy())
    if not values:
        raise ValueError("Expected `data` to hold at least one example. Received: an empty "
                         f"{'dataset' if isinstance(data, tf.data.Dataset) else 'array'}.")
    values = np.concatenate(values)
    ll = float(values.mean())
    dims = math.prod(model.data_shape)
    return {
        "log_likelihood": ll,
        "stderr": float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("nan"),
        "num_examples": int(len(values)),
        "bits_per_dim": -ll / (math.log(2.0) * dims),
        "per_example": values,
    }


