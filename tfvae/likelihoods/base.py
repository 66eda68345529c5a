"""What every likelihood p(x | z) provides to the models.

A likelihood is a Keras layer (it may own weights, e.g. a learned Gaussian
scale) that interprets the decoder's raw output. The decoder head emits
`num_params` numbers per data dimension, shaped `(..., *event_shape, P)`.
"""

import contextlib
import threading

import keras
import tensorflow as tf

from tfvae._tensors import repeat_samples

_fusion = threading.local()


@contextlib.contextmanager
def xla_fused():
    """Within this context, `log_prob_repeated` of tfvae's own likelihoods,
    traced in a graph that is not XLA-compiled, runs as one XLA cluster.

    Without XLA, `log_prob` is several passes over its `(..., *event_shape)`
    operands (Bernoulli: a product, a softplus, a difference, the sum), each
    over memory; XLA fuses them into one, over the event flattened to one
    axis (tfvae's likelihoods are element-wise over it). The decoder's matrix products stay
    with TensorFlow's own kernels, faster on CPU than XLA's. Used by the
    importance-sampled log-likelihood, where the log-density of `S · batch`
    decoder outputs is 40% of the work. Ignored eagerly, within a
    `tf.distribute` strategy's scope (XLA cannot read mirrored variables,
    stack notes) and for subclasses defined outside tfvae (their ops may
    have no XLA kernel). Not for graphs that are exported: TF Serving runs
    XLA:CPU only behind an experimental flag.
    """
    previous = getattr(_fusion, "on", False)
    _fusion.on = True
    try:
        yield
    finally:
        _fusion.on = previous


def _fusable(likelihood):
    if not getattr(_fusion, "on", False) or tf.executing_eagerly():
        return False
    if tf.distribute.has_strategy():
        return False
    return type(likelihood).log_prob_elementwise.__module__.startswith("tfvae.likelihoods.")


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

    def log_prob_repeated(self, x, params):
        """log p(x | params) for k draws of parameters per example: `x`
        `(b, *event_shape)`, `params` `(k·b, *event_shape, P)` sample-major
        (row s·b + i belongs to x[i]); returns `(k·b,)`. `log_prob` on x
        repeated k times; under `xla_fused()` (the importance sampler) the
        repeat, the log-density and the sum are one fused pass and the
        repeated x is never materialised."""
        if _fusable(self):
            fused = self.__dict__.get("_tfvae_xla_log_prob")
            if fused is None:
                fused = tf.function(self._log_prob_repeated_flat, jit_compile=True, autograph=False,
                                    reduce_retracing=True)
                object.__setattr__(self, "_tfvae_xla_log_prob", fused)   # not a tracked attribute
            return fused(x, params)
        return self._log_prob_repeated(x, params)

    def _log_prob_repeated(self, x, params):
        return self.log_prob(repeat_samples(x, tf.shape(params)[0] // tf.shape(x)[0]), params)

    def _log_prob_repeated_flat(self, x, params):
        # The fused form. tfvae's likelihoods are element-wise over the event,
        # so it is flattened to one axis: x (1, b, D) broadcast against
        # params (k, b, D, P). XLA:CPU's loop over one contiguous axis runs
        # about twice as fast as over (H, W, C) with a trailing P axis.
        b = tf.shape(x)[0]
        flat_x = tf.reshape(tf.cast(x, tf.float32), [1, b, -1])
        flat_params = tf.reshape(tf.cast(params, tf.float32), [-1, b, tf.shape(flat_x)[-1], tf.shape(params)[-1]])
        flat_x = tf.broadcast_to(flat_x, tf.shape(flat_params)[:-1])
        return tf.reshape(tf.reduce_sum(self.log_prob_elementwise(flat_x, flat_params), -1), [-1])

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
