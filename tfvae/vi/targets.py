"""Unnormalised test densities with known normalising constants.

Each factory returns `(log_prob_fn, log_z)`: a TensorFlow callable
`(n, d) -> (n,)` and the exact log Z of exp(log_prob_fn).
"""

import math

import numpy as np
import tensorflow as tf

_LOG_2PI = math.log(2.0 * math.pi)


def gaussian(mean, covariance, log_z=0.0):
    """p̃(z) = exp(log_z) N(z; mean, covariance), so log Z = `log_z`.

    Args:
        mean: `(d,)`. covariance: `(d, d)` positive definite. log_z: the
            offset added to the normalised log-density.
    """
    mean = np.asarray(mean, np.float64)
    covariance = np.asarray(covariance, np.float64)
    d = mean.shape[0]
    if covariance.shape != (d, d):
        raise ValueError(f"Expected `covariance` to be ({d}, {d}). Received: covariance.shape={covariance.shape}")
    chol = np.linalg.cholesky(covariance)  # raises LinAlgError unless positive definite
    precision = tf.constant(np.linalg.inv(covariance), tf.float32)
    const = float(log_z) - 0.5 * d * _LOG_2PI - float(np.sum(np.log(np.diag(chol))))
    mu = tf.constant(mean, tf.float32)

    def log_prob(z):
        r = tf.cast(z, tf.float32) - mu
        return tf.cast(-0.5 * tf.reduce_sum(tf.matmul(r, precision) * r, axis=-1) + const, z.dtype)

    return log_prob, float(log_z)


def banana(curvature=1.0, scale1=1.0, scale2=0.5, log_z=0.0):
    """The "banana": z₁ ~ N(0, s₁²), z₂ | z₁ ~ N(b z₁², s₂²) (Haario et al., 1999).

        p̃(z) = exp(log_z) N(z₁; 0, s₁²) N(z₂ − b z₁²; 0, s₂²)

    The map (z₁, z₂) -> (z₁, z₂ − b z₁²) has unit Jacobian, so p̃ integrates
    to exp(log_z) exactly; a Gaussian q cannot bend with it.

    Args:
        curvature: b. scale1, scale2: s₁, s₂ > 0. log_z: the known log Z.
    """
    b, s1, s2 = float(curvature), float(scale1), float(scale2)
    if not (s1 > 0 and s2 > 0):
        raise ValueError(f"Expected positive scales. Received: scale1={scale1!r}, scale2={scale2!r}")
    const = float(log_z) - _LOG_2PI - math.log(s1) - math.log(s2)

    def log_prob(z):
        z1, z2 = z[:, 0], z[:, 1]
        return -0.5 * tf.square(z1 / s1) - 0.5 * tf.square((z2 - b * tf.square(z1)) / s2) + const

    return log_prob, float(log_z)
