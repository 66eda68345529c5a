"""Gaussian likelihood with fixed, learned or decoder-predicted scale."""

import math
import numbers

import keras
import tensorflow as tf

from tfvae.likelihoods.base import Likelihood

_LOG_2PI = math.log(2.0 * math.pi)


@keras.saving.register_keras_serializable(package="tfvae")
class Gaussian(Likelihood):
    """p(x | μ, σ) = Π_i N(x_i; μ_i, σ_i²).

    log p = Σ_i [−½((x_i − μ_i)/σ_i)² − log σ_i − ½ log 2π].

    Args:
        scale: a positive float (fixed σ), `"learned"` (one trainable σ per
            data dimension, shared across examples), or `"predicted"` (the
            decoder emits σ per pixel: P = 2, σ = softplus(raw) + min_scale).
        min_scale: floor on σ that keeps the density bounded.

    Note: on data in [0, 1] this is a density, not a probability; compare
    log-likelihoods with discrete models only after uniform dequantisation.
    """

    def __init__(self, scale="learned", min_scale=1e-3, **kwargs):
        super().__init__(**kwargs)
        if isinstance(scale, numbers.Real) and not isinstance(scale, bool):
            if not scale > 0:
                raise ValueError(f"Expected `scale` to be positive. Received: scale={scale!r}")
            scale = float(scale)
        elif scale not in ("learned", "predicted"):
            raise ValueError('Expected `scale` to be a positive float, "learned" or "predicted". '
                             f"Received: scale={scale!r}")
        self.scale = scale
        self.min_scale = float(min_scale)
        self.num_params = 2 if scale == "predicted" else 1

    def build(self, event_shape):
        if self.scale == "learned":
            # softplus(0.5413) = 1: start at unit scale.
            self.raw_scale = self.add_weight(
                name="raw_scale", shape=tuple(event_shape),
                initializer=keras.initializers.Constant(0.5413), trainable=True)

    def _loc_scale(self, params):
        params = tf.cast(params, tf.float32)
        loc = params[..., 0]
        if self.scale == "predicted":
            scale = tf.math.softplus(params[..., 1]) + self.min_scale
        elif self.scale == "learned":
            scale = tf.math.softplus(tf.cast(self.raw_scale, tf.float32)) + self.min_scale
        else:
            scale = tf.constant(self.scale, tf.float32)
        return loc, scale

    def log_prob_elementwise(self, x, params):
        loc, scale = self._loc_scale(params)
        u = (x - loc) / scale
        return -0.5 * tf.square(u) - tf.math.log(scale) - 0.5 * _LOG_2PI

    def mean(self, params):
        return tf.cast(params[..., 0], tf.float32)

    def sample(self, params, seed):
        loc, scale = self._loc_scale(params)
        return loc + scale * tf.random.stateless_normal(tf.shape(loc), seed=seed, alg="philox")

    def get_config(self):
        config = super().get_config()
        config.update(scale=self.scale, min_scale=self.min_scale)
        return config
