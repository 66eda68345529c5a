"""Squeeze: trade spatial resolution for channels (space-to-depth)."""

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfvae.flows.base import Flow
from tfvae.nets._validate import positive_int

tfb = tfp.bijectors


class SpaceToDepth(tfb.Bijector):
    """`(H, W, C) -> (H/f, W/f, f*f*C)`: each f x f patch becomes channels.

    A fixed permutation of entries: log|det| = 0 both ways.
    """

    def __init__(self, factor=2, name="space_to_depth"):
        parameters = dict(locals())
        self._factor = factor
        super().__init__(forward_min_event_ndims=3, is_constant_jacobian=True,
                         parameters=parameters, name=name)

    def _forward(self, x):
        return tf.nn.space_to_depth(x, self._factor)

    def _inverse(self, y):
        return tf.nn.depth_to_space(y, self._factor)

    def _forward_log_det_jacobian(self, x):
        return tf.zeros([], dtype=x.dtype)

    def _forward_event_shape(self, shape):
        f = self._factor
        return tf.TensorShape([shape[0] // f, shape[1] // f, shape[2] * f * f])

    def _inverse_event_shape(self, shape):
        f = self._factor
        return tf.TensorShape([shape[0] * f, shape[1] * f, shape[2] // (f * f)])

    def _forward_event_shape_tensor(self, shape):
        f = self._factor
        return tf.stack([shape[0] // f, shape[1] // f, shape[2] * f * f])

    def _inverse_event_shape_tensor(self, shape):
        f = self._factor
        return tf.stack([shape[0] * f, shape[1] * f, shape[2] // (f * f)])


@keras.saving.register_keras_serializable(package="tfvae")
class Squeeze(Flow):
    """Squeeze layer of RealNVP/Glow: `(batch, H, W, C) -> (batch, H/f, W/f, f²C)`.

    Maths: y[i, j, (a*f + b)*C + c] = x[i*f + a, j*f + b, c] (TF's
    `space_to_depth` order); inverse `depth_to_space`; log|det| = 0.
    Multi-scale flows squeeze so that channel-wise couplings and 1x1
    convolutions mix neighbouring pixels.

    Args:
        factor: positive int f; H and W must be divisible by it.

    Raises:
        ValueError: a non-image input or H, W not divisible by `factor`.

    References:
        Dinh et al., "Density estimation using Real NVP", ICLR 2017.
    """

    event_ndims = 3

    def __init__(self, factor=2, **kwargs):
        super().__init__(**kwargs)
        self.factor = positive_int(factor, "factor")

    def build(self, input_shape):
        shape = tuple(input_shape)
        f = self.factor
        if len(shape) != 4 or any(d is None or d % f for d in shape[1:3]):
            raise ValueError(
                f"Squeeze(factor={f}) expects (batch, H, W, C) inputs with H and W divisible by {f}. "
                f"Received input_shape={shape}")

    def make_bijector(self, context=None):
        return SpaceToDepth(self.factor, name=self.name)

    def compute_output_shape(self, input_shape, context_shape=None):
        b, h, w, c = input_shape
        f = self.factor
        return (b, h // f, w // f, c * f * f), (b,)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config
