"""The standard normal prior."""

import keras
import tensorflow as tf

from tfvae.objectives.gaussian import kl_normal_standard, standard_normal_log_prob
from tfvae.priors.base import Prior


@keras.saving.register_keras_serializable(package="tfvae")
class StandardNormal(Prior):
    """p(z) = N(0, I_D); no weights. KL from a diagonal Gaussian is analytic:
    KL_d = ½(μ_d² + σ_d² − 1) − log σ_d."""

    has_analytic_kl = True

    def log_prob(self, z, context=None):
        return standard_normal_log_prob(z)

    def sample(self, n, seed, context=None, temperature=1.0):
        return temperature * tf.random.stateless_normal((n, self.latent_dim), seed=seed, alg="philox")

    def kl_from_gaussian(self, loc, scale, context=None):
        return kl_normal_standard(loc, scale)
