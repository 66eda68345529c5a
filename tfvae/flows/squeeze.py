"""Squeeze: trade spatial resolution for channels (space-to-depth)."""

import keras
import tensorflow as tf

from tfvae.flows.base import Flow
from tfvae.nets._validate import positive_int


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

    Example:
        >>> y, _ = tfvae.flows.Squeeze()(tf.zeros((2, 8, 8, 1)))   # y: (2, 4, 4, 4)

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

    def _forward_and_log_det(self, x, context):
        return tf.nn.space_to_depth(x, self.factor), tf.zeros(tf.shape(x)[:1], x.dtype)

    def _inverse_and_log_det(self, y, context):
        return tf.nn.depth_to_space(y, self.factor), tf.zeros(tf.shape(y)[:1], y.dtype)

    @property
    def identity_at_init(self):
        return False  # a fixed reshuffle of entries

    def compute_output_shape(self, input_shape, context_shape=None):
        b, h, w, c = input_shape
        f = self.factor
        return (b, h // f, w // f, c * f * f), (b,)

    def inverse_output_shape(self, output_shape):
        b, h, w, c = output_shape
        f = self.factor
        return (b, h * f, w * f, c // (f * f))

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config
