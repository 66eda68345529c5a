"""Categorical likelihood over the L levels of a quantised sub-pixel."""

import keras
import tensorflow as tf

from tfvae.likelihoods.base import Likelihood, on_grid
from tfvae.nets._validate import positive_int


@keras.saving.register_keras_serializable(package="tfvae")
class Categorical(Likelihood):
    """p(x = k/(L−1) | l) = softmax(l)_k, independently per sub-pixel.

    log p = l_k − logsumexp(l). Data must lie on the grid k/(L−1) in [0, 1].
    P = L decoder outputs per sub-pixel (256 for 8-bit images, 17 for the
    scikit-learn digits).
    """

    def __init__(self, num_bins=256, **kwargs):
        super().__init__(**kwargs)
        self.num_bins = positive_int(num_bins, "num_bins")
        if self.num_bins < 2:
            raise ValueError(f"Expected `num_bins` >= 2. Received: num_bins={num_bins}")
        self.num_params = self.num_bins
        self.support = f"the grid k/{self.num_bins - 1}, k = 0..{self.num_bins - 1}"
        self.support_hint = (f"pass quantised data with {self.num_bins} levels scaled to [0, 1] "
                             "(not dequantised), or set num_bins to the data's number of levels")

    def _levels(self, x):
        return tf.cast(tf.round(x * (self.num_bins - 1)), tf.int32)

    def log_prob_elementwise(self, x, params):
        log_p = tf.nn.log_softmax(tf.cast(params, tf.float32), axis=-1)
        return tf.gather(log_p, self._levels(x)[..., None], batch_dims=len(x.shape))[..., 0]

    def mean(self, params):
        p = tf.nn.softmax(tf.cast(params, tf.float32), axis=-1)
        return tf.reduce_sum(p * tf.linspace(0.0, 1.0, self.num_bins), axis=-1)

    def sample(self, params, seed):
        logits = tf.cast(params, tf.float32)
        k = tf.random.stateless_categorical(tf.reshape(logits, [-1, self.num_bins]), 1, seed=seed)
        return tf.reshape(tf.cast(k, tf.float32), tf.shape(logits)[:-1]) / (self.num_bins - 1)

    def in_support(self, x):
        return on_grid(x, self.num_bins)

    def get_config(self):
        config = super().get_config()
        config["num_bins"] = self.num_bins
        return config
