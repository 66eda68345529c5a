"""What every likelihood p(x | z) provides to the models.

A likelihood is a Keras layer (it may own weights, e.g. a learned Gaussian
scale) that interprets the decoder's raw output. The decoder head emits
`num_params` numbers per data dimension, shaped `(..., *event_shape, P)`.
"""

import keras
import tensorflow as tf


class Likelihood(keras.layers.Layer):
    """Base class.

    Subclasses set `num_params` and implement `log_prob_elementwise`,
    `mean` and `sample`. `log_prob` sums over the `event_ndims` data axes,
    keeping every constant, so it is a true log-density (continuous data) or
    log-probability (discrete data) in nats.
    """

    num_params = 1
    #: Human-readable support and a hint, used in error messages.
    support = "finite real numbers"
    support_hint = ""

    def __init__(self, event_ndims=3, **kwargs):
        # Log-likelihoods stay float32 under a mixed-precision policy.
        kwargs["dtype"] = kwargs.get("dtype") or "float32"
        super().__init__(**kwargs)
        self.event_ndims = int(event_ndims)

    def log_prob_elementwise(self, x, params):
        raise NotImplementedError

    def log_prob(self, x, params):
        """log p(x | params) summed over the event axes.

        Args:
            x: `(..., *event_shape)` data.
            params: `(..., *event_shape, P)` decoder output.
        Returns:
            `(...)` nats.
        """
        lp = self.log_prob_elementwise(x, tf.cast(params, tf.float32))
        return tf.reduce_sum(lp, axis=list(range(-self.event_ndims, 0)))

    def mean(self, params):
        """E[x | params], `(..., *event_shape)`."""
        raise NotImplementedError

    def sample(self, params, seed):
        """One draw of x, `(..., *event_shape)`; `seed` is a `(2,)` int tensor."""
        raise NotImplementedError

    def in_support(self, x):
        """Scalar bool tensor: every value of `x` lies in the support."""
        return tf.reduce_all(tf.math.is_finite(x))

    def get_config(self):
        config = super().get_config()
        config["event_ndims"] = self.event_ndims
        return config


def on_grid(x, num_bins):
    """All of `x` in [0, 1] and on the grid {0, 1/(L−1), ..., 1}."""
    k = x * (num_bins - 1)
    return tf.reduce_all((x >= 0.0) & (x <= 1.0) & (tf.abs(k - tf.round(k)) < 1e-3))
