"""A learned diagonal Gaussian prior."""

import keras
import tensorflow as tf

from tfvae.objectives.gaussian import normal_log_prob
from tfvae.priors.base import Prior

# softplus(0.5413) = 1: unit scales at the start.
_UNIT = 0.5413


@keras.saving.register_keras_serializable(package="tfvae")
class DiagonalNormal(Prior):
    """p(z) = N(z; μ, diag σ²) with μ and σ = softplus(ρ) + 1e-4 learned.

    Starts as N(0, I) (μ = 0, σ ≈ 1). The KL from a diagonal Gaussian is
    analytic, per dimension:
        KL_d = log(σ_d / s_d) + (s_d² + (m_d - μ_d)²) / (2 σ_d²) - ½
    for q = N(m, s²). Also the learnable base of `tfvae.FlowModel(...,
    base="diagonal")`.

    Shapes: `log_prob: (N, D) -> (N,)`, `sample: n -> (n, D)`.
    """

    has_analytic_kl = True

    def build(self, input_shape):
        d = self.latent_dim
        self.loc = self.add_weight(name="loc", shape=(d,), initializer="zeros")
        self.raw_scale = self.add_weight(name="raw_scale", shape=(d,),
                                         initializer=keras.initializers.Constant(_UNIT))

    def _params(self):
        return tf.cast(self.loc, tf.float32), tf.math.softplus(tf.cast(self.raw_scale, tf.float32)) + 1e-4

    def log_prob(self, z, context=None):
        loc, scale = self._params()
        return normal_log_prob(z, loc, scale)

    def sample(self, n, seed, context=None, temperature=1.0):
        loc, scale = self._params()
        eps = tf.random.stateless_normal((n, self.latent_dim), seed=seed, alg="philox")
        return loc + temperature * scale * eps

    def kl_from_gaussian(self, loc, scale, context=None):
        mu, sigma = self._params()
        return tf.math.log(sigma / scale) + (tf.square(scale) + tf.square(loc - mu)) / (2.0 * tf.square(sigma)) - 0.5
