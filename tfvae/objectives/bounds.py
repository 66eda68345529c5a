"""Variational bounds as pure functions of log-densities.

Notation, per example x and latent samples z_1..z_K ~ q(z|x):
    log w_k = log p(x|z_k) + log p(z_k) − log q(z_k|x)
    ELBO     = E_q[log p(x|z)] − KL(q(z|x) || p(z))       ≤ log p(x)
    IWAE_K   = log (1/K) Σ_k w_k                            ≤ log p(x)
with IWAE_1 = ELBO (in expectation) and IWAE_K ↑ log p(x) as K → ∞
(Burda et al., 2016).
"""


import tensorflow as tf


def iwae_bound(log_weights, axis=0):
    """log-mean-exp of the importance weights over `axis`.

    Args:
        log_weights: `(K, batch)` (or any shape; `axis` holds the samples).
    Returns:
        the bound with the sample axis removed, e.g. `(batch,)`.
    """
    k = tf.cast(tf.shape(log_weights)[axis], log_weights.dtype)
    return tf.reduce_logsumexp(log_weights, axis=axis) - tf.math.log(k)


def free_bits_kl(kl, free_bits, latent_dim=None):
    """Batch-averaged KL with a floor of `free_bits` nats per latent dimension
    (Kingma et al., 2016).

    When the KL is known per dimension (`kl` is `(batch, D)`) the floor acts
    on each dimension's batch-averaged KL; otherwise (`kl` is `(batch,)`, a
    Monte Carlo estimate of the total) it acts on the total against
    `free_bits · latent_dim`. Below the floor the KL gets no gradient, so the
    encoder is not pushed to collapse those dimensions onto the prior.

    Returns:
        scalar: the floored, batch-averaged KL to put in the loss.
    """
    if kl.shape.rank == 2:
        return tf.reduce_sum(tf.maximum(tf.reduce_mean(kl, axis=0), free_bits))
    if latent_dim is None:
        raise ValueError("`latent_dim` is needed to floor a total (not per-dimension) KL.")
    return tf.maximum(tf.reduce_mean(kl), free_bits * float(latent_dim))


def logsumexp_update(running, log_weights):
    """Folds a chunk of log-weights into a running logsumexp over samples.

    Args:
        running: `(batch,)` logsumexp of the weights seen so far (−inf at start).
        log_weights: `(k, batch)` the next chunk.
    Returns:
        `(batch,)`; after all S samples, `running − log S` is the IWAE_S
        estimate, with memory bounded by one chunk.
    """
    return tf.reduce_logsumexp(tf.concat([running[None], log_weights], axis=0), axis=0)
