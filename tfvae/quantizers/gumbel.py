"""Gumbel-softmax (concrete) relaxation of categorical latents."""

import math

import keras
import tensorflow as tf

from tfvae.nets._validate import positive_int


def gumbel_softmax_sample(logits, temperature, seed, hard=False):
    """A relaxed one-hot draw y = softmax((l + g) / τ), g ~ Gumbel(0, 1).

    `hard=True` returns the one-hot of argmax(l + g) (an exact categorical
    draw: the Gumbel-max trick) with the relaxed sample's gradient
    (straight-through).

    Args:
        logits: `(..., K)` unnormalised log-probabilities.
        temperature: τ > 0, scalar.
        seed: `(2,)` int seed of the stateless Gumbel noise.
    Returns:
        `(..., K)` float32.

    References:
        Jang et al., "Categorical Reparameterization with Gumbel-Softmax", 2017;
        Maddison et al., "The Concrete Distribution", 2017.
    """
    logits = tf.cast(logits, tf.float32)
    u = tf.random.stateless_uniform(tf.shape(logits), seed, minval=1e-20, maxval=1.0)
    g = -tf.math.log(-tf.math.log(u))
    y = tf.nn.softmax((logits + g) / tf.cast(temperature, tf.float32), axis=-1)
    if not hard:
        return y
    y_hard = tf.one_hot(tf.argmax(logits + g, axis=-1), tf.shape(logits)[-1], dtype=tf.float32)
    return y + tf.stop_gradient(y_hard - y)


def kl_to_uniform(logits):
    """KL(q || Uniform(K)) = Σ_k q_k log q_k + log K = −H(q) + log K, per
    categorical variable: `(..., K) -> (...)` nats."""
    log_q = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    k = logits.shape[-1]
    return tf.reduce_sum(tf.exp(log_q) * log_q, axis=-1) + math.log(k)


@keras.saving.register_keras_serializable(package="tfvae")
class GumbelSoftmax(keras.layers.Layer):
    """Maps features to N categorical variables of K classes and draws a
    relaxed one-hot sample of each.

    `features (batch, F) -> Dense(N·K) -> logits (batch, N, K)`; the sample
    is `gumbel_softmax_sample(logits, τ, seed, hard)`, the KL to the uniform
    prior `kl_to_uniform(logits)` summed over the N variables.

    Args:
        num_latents: N, the number of categorical variables.
        num_categories: K ≥ 2, classes per variable.
        hard: straight-through one-hot samples in training.

    Call: `layer(features, temperature, seed)` returns a dict
        logits `(batch, N, K)`, sample `(batch, N, K)`, kl `(batch,)`.
    """

    def __init__(self, num_latents, num_categories, hard=False, **kwargs):
        super().__init__(**kwargs)
        self.num_latents = positive_int(num_latents, "num_latents")
        self.num_categories = positive_int(num_categories, "num_categories")
        if self.num_categories < 2:
            raise ValueError(f"Expected `num_categories` to be at least 2. Received: num_categories={num_categories}")
        self.hard = bool(hard)
        self.proj = keras.layers.Dense(self.num_latents * self.num_categories, name="logits",
                                       dtype=self.dtype_policy)

    def build(self, feature_shape):
        self.proj.build(tuple(feature_shape))
        self.built = True

    def logits(self, features):
        out = tf.cast(self.proj(features), tf.float32)
        return tf.reshape(out, [-1, self.num_latents, self.num_categories])

    def call(self, features, temperature=1.0, seed=None, hard=None):
        logits = self.logits(features)
        hard = self.hard if hard is None else hard
        seed = tf.zeros([2], tf.int32) if seed is None else seed
        return {"logits": logits,
                "sample": gumbel_softmax_sample(logits, temperature, seed, hard=hard),
                "kl": tf.reduce_sum(kl_to_uniform(logits), axis=-1)}

    def get_config(self):
        config = super().get_config()
        config.update(num_latents=self.num_latents, num_categories=self.num_categories, hard=self.hard)
        return config
