"""The amortised diagonal-Gaussian posterior head q(z | x)."""

import keras
import tensorflow as tf

from tfvae.objectives.gaussian import normal_log_prob
from tfvae.nets._validate import positive_int


@keras.saving.register_keras_serializable(package="tfvae")
class DiagonalGaussian(keras.layers.Layer):
    """Maps encoder features h to q(z | x) = N(μ(h), diag σ(h)²).

    μ = W_μ h + b_μ, σ = softplus(W_σ h + b_σ) + min_scale. Softplus (not
    exp) keeps σ's gradient bounded for large pre-activations, and the floor
    keeps log q finite.

    Shapes: `h (batch, F) -> (loc, scale)`, each `(batch, latent_dim)`.
    Samples by the reparameterisation z = μ + σ ε, ε ~ N(0, I):
    `sample(loc, scale, k, seed) -> (k, batch, latent_dim)`.
    """

    def __init__(self, latent_dim, min_scale=1e-4, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = positive_int(latent_dim, "latent_dim")
        self.min_scale = float(min_scale)
        self.dense = keras.layers.Dense(2 * self.latent_dim, name="params", dtype=self.dtype_policy)

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, h):
        params = tf.cast(self.dense(h), tf.float32)
        loc, raw = tf.split(params, 2, axis=-1)
        return loc, tf.math.softplus(raw) + self.min_scale

    @staticmethod
    def sample(loc, scale, k, seed):
        eps = tf.random.stateless_normal(tf.concat([[k], tf.shape(loc)], 0), seed=seed, dtype=loc.dtype, alg="philox")
        return loc + scale * eps

    @staticmethod
    def log_prob(z, loc, scale):
        """log q(z | x), `(k, batch, D) -> (k, batch)`."""
        return normal_log_prob(z, loc, scale)

    def get_config(self):
        config = super().get_config()
        config.update(latent_dim=self.latent_dim, min_scale=self.min_scale)
        return config
