"""A learned mixture-of-Gaussians prior."""


import keras
import tensorflow as tf

from tfvae.nets._validate import positive_int
from tfvae.objectives.gaussian import normal_log_prob
from tfvae.priors.base import Prior


@keras.saving.register_keras_serializable(package="tfvae")
class MixtureOfGaussians(Prior):
    """p(z) = Σ_k π_k N(z; μ_k, diag σ_k²), all parameters learned.

    log p(z) = logsumexp_k [log softmax(a)_k + log N(z; μ_k, σ_k²)], with
    σ = softplus(ρ) + 1e-4. No closed-form KL from a Gaussian, so the VAE
    uses the Monte Carlo KL. Means start spread as N(0, 1) draws so the
    components are distinguishable from the first step.

    Args:
        num_components: K.
        seed: initialiser seed for the means.
    Shapes: `log_prob: (N, D) -> (N,)`, `sample: n -> (n, D)`.
    """

    def __init__(self, num_components=10, seed=None, latent_dim=None, **kwargs):
        super().__init__(latent_dim=latent_dim, **kwargs)
        self.num_components = positive_int(num_components, "num_components")
        self.seed = seed

    def build(self, input_shape):
        k, d = self.num_components, self.latent_dim
        self.means = self.add_weight(name="means", shape=(k, d),
                                     initializer=keras.initializers.RandomNormal(seed=self.seed))
        # softplus(0.5413) = 1: unit scales at the start.
        self.raw_scales = self.add_weight(name="raw_scales", shape=(k, d),
                                          initializer=keras.initializers.Constant(0.5413))
        self.logits = self.add_weight(name="logits", shape=(k,), initializer="zeros")

    def _params(self):
        return (tf.cast(self.means, tf.float32), tf.math.softplus(tf.cast(self.raw_scales, tf.float32)) + 1e-4,
                tf.nn.log_softmax(tf.cast(self.logits, tf.float32)))

    def log_prob(self, z, context=None):
        means, scales, log_pi = self._params()
        return tf.reduce_logsumexp(log_pi + normal_log_prob(z[:, None, :], means, scales), axis=-1)

    def sample(self, n, seed, context=None, temperature=1.0):
        means, scales, log_pi = self._params()
        seeds = tf.random.split(tf.cast(seed, tf.int64), 2)
        k = tf.random.stateless_categorical(log_pi[None], n, seed=seeds[0])[0]
        eps = tf.random.stateless_normal((n, self.latent_dim), seed=seeds[1], alg="philox")
        return tf.gather(means, k) + temperature * tf.gather(scales, k) * eps

    def get_config(self):
        config = super().get_config()
        config.update(num_components=self.num_components, seed=self.seed)
        return config


