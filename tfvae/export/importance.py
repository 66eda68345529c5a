"""Importance-sampled log p(x) as a single graph (a `tf.while_loop`).

`tfvae.evaluation.loglik.importance_sampled_log_likelihood` drives its
chunks from Python, which a SavedModel signature cannot do: the batch size
and the number of samples S are only known when a request arrives. This is
the same estimator with the same chunking and the same per-chunk seeds,
computed in-graph, so the exported signature returns what
`VAE.log_likelihood(x, S, seed=seed)` returns for the same inputs.
"""

import math

import tensorflow as tf

from tfvae.evaluation.loglik import default_chunk_size
from tfvae.objectives.bounds import logsumexp_update


def log_likelihood(model, x, num_samples, seed, condition=None):
    """log p(x) ≈ log (1/S) Σ_s p(x|z_s) p(z_s) / q(z_s|x), z_s ~ q(z|x).

    Chunks of k samples for the whole batch at once (vectorised), combined
    with a running logsumexp: memory is O(k · batch · data size), whatever S.

    Args:
        model: a `tfvae.VAE` (anything with `bound_terms`, `data_shape`,
            `likelihood.num_params`).
        x: `(batch, *data_shape)` float32, already checked.
        num_samples: S, an int32 scalar tensor ≥ 1.
        seed: `(2,)` int64 seed.
        condition: `(batch, C)` float32 for a conditional model (log p(x|c)),
            else None.
    Returns:
        `(batch,)` float32, nats per example.
    """
    num_samples = tf.cast(num_samples, tf.int32)
    batch = tf.shape(x)[0]
    chunk = default_chunk_size(batch, num_samples, model.data_shape, model.likelihood.num_params)
    num_chunks = (num_samples + chunk - 1) // chunk
    seeds = tf.random.split(tf.cast(seed, tf.int64), num_chunks)
    extra = {} if condition is None else {"condition": condition}

    def body(i, done, running):
        k = tf.minimum(chunk, num_samples - done)
        log_px, log_pz, log_q, _ = model.bound_terms(x, k, seeds[i], training=False, **extra)
        log_w = log_px + log_pz - log_q
        running = logsumexp_update(running, log_w)
        return i + 1, done + k, running

    _, done, running = tf.while_loop(
        lambda i, done, running: i < num_chunks, body,
        (tf.constant(0), tf.constant(0), tf.fill([batch], tf.constant(-math.inf, tf.float32))),
        shape_invariants=(tf.TensorShape([]), tf.TensorShape([]), tf.TensorShape([None])))
    return running - tf.math.log(tf.cast(done, tf.float32))
