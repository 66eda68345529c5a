"""Bernoulli likelihood for binary data."""

import keras
import tensorflow as tf

from tfvae.likelihoods.base import Likelihood


@keras.saving.register_keras_serializable(package="tfvae")
class Bernoulli(Likelihood):
    """p(x | l) = σ(l)^x (1 − σ(l))^(1−x), parameterised by logits l.

    log p(x | l) = x·l − softplus(l), computed without forming σ(l), so it is
    exact for large |l|. The support is {0, 1}: grey-level data are rejected
    rather than silently scored with a density that does not normalise
    (binarise them: `tfvae.data.load(..., binarize=True)`).
    """

    num_params = 1
    support = "{0, 1}"
    support_hint = ("binarise the data (tfvae.data.load(..., binarize=True)) or choose a likelihood "
                    "for grey levels ('discretized_logistic', 'categorical', 'gaussian')")

    def log_prob_elementwise(self, x, params):
        logits = params[..., 0]
        return x * logits - tf.math.softplus(logits)

    def mean(self, params):
        return tf.sigmoid(tf.cast(params[..., 0], tf.float32))

    def sample(self, params, seed):
        p = self.mean(params)
        u = tf.random.stateless_uniform(tf.shape(p), seed=seed, alg="philox")
        return tf.cast(u < p, tf.float32)

    def in_support(self, x):
        return tf.reduce_all((x == 0.0) | (x == 1.0))
