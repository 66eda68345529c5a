"""Closed-form Gaussian densities and KLs (every constant kept).

All functions sum over the last axis (the latent dimension) unless they say
otherwise, and broadcast over any leading axes (samples, batch).
"""

import math

import tensorflow as tf

LOG_2PI = math.log(2.0 * math.pi)


def normal_log_prob(z, loc, scale):
    """log N(z; loc, diag(scale²)) = Σ_d [−½((z−μ)/σ)² − log σ − ½ log 2π].

    Args:
        z, loc, scale: broadcastable tensors `(..., D)`; `scale > 0`.
    Returns:
        `(...)`: the log-density summed over the last axis.
    """
    u = (z - loc) / scale
    return tf.reduce_sum(-0.5 * tf.square(u) - tf.math.log(scale) - 0.5 * LOG_2PI, axis=-1)


def standard_normal_log_prob(z):
    """log N(z; 0, I) = Σ_d [−½ z² − ½ log 2π]; `(..., D) -> (...)`."""
    return tf.reduce_sum(-0.5 * tf.square(z) - 0.5 * LOG_2PI, axis=-1)


def kl_normal_standard(loc, scale):
    """Per-dimension KL(N(μ, σ²) || N(0, 1)) = ½(μ² + σ² − 1) − log σ.

    Args:
        loc, scale: `(..., D)`.
    Returns:
        `(..., D)`: not summed, so free bits can act per dimension.
    """
    return 0.5 * (tf.square(loc) + tf.square(scale) - 1.0) - tf.math.log(scale)


def precision_weighted(loc_a, scale_a, loc_b, scale_b):
    """The normalised product of N(μ_a, σ_a²) and N(μ_b, σ_b²), per dimension:
    σ² = 1 / (σ_a⁻² + σ_b⁻²), μ = σ² (μ_a σ_a⁻² + μ_b σ_b⁻²) (the ladder
    VAE's merge of a bottom-up and a top-down Gaussian, Sønderby et al., 2016).

    Args:
        loc_a, scale_a, loc_b, scale_b: broadcastable `(..., D)`, scales > 0.
    Returns:
        `(loc, scale)`, each `(..., D)`.
    """
    prec_a, prec_b = tf.math.reciprocal(tf.square(scale_a)), tf.math.reciprocal(tf.square(scale_b))
    var = tf.math.reciprocal(prec_a + prec_b)
    return var * (loc_a * prec_a + loc_b * prec_b), tf.sqrt(var)
