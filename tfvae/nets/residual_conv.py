"""Convolutional encoder/decoder with spatial latents (VQ-VAE backbones)."""

import keras
import tensorflow as tf

from tfvae.nets._validate import activation_name, positive_int, positive_int_tuple


def _check_count(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"Expected `{name}` to be a non-negative integer. Received: {name}={value!r}")
    return value


@keras.saving.register_keras_serializable(package="tfvae")
class ResidualBlock(keras.layers.Layer):
    """x + Conv1x1(act(Conv3x3(act(x)))), channels kept (van den Oord et al., 2017)."""

    def __init__(self, hidden_channels=32, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.hidden_channels = positive_int(hidden_channels, "hidden_channels")
        self.activation = activation_name(activation)
        self.act = keras.layers.Activation(self.activation, dtype=self.dtype_policy)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.conv3 = keras.layers.Conv2D(self.hidden_channels, 3, padding="same", name="conv3",
                                         dtype=self.dtype_policy)
        self.conv1 = keras.layers.Conv2D(channels, 1, name="conv1", dtype=self.dtype_policy)
        self.conv3.build(tuple(input_shape))
        self.conv1.build(tuple(input_shape[:-1]) + (self.hidden_channels,))

    def call(self, x):
        # EnsureShape (free: it passes its input's buffer on) keeps the sum
        # from feeding the next block's activation directly. With it doing
        # so, TF 2.21's grappler remapper fuses conv1 + bias + sum + ReLU,
        # drops the sum's other use (the next residual) and gives up on the
        # whole graph: "remapper failed: ... fanout ... exist for missing
        # node", logged at ERROR, and none of its other fusions applied.
        return tf.ensure_shape(x + self.conv1(self.act(self.conv3(self.act(x)))), x.shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(hidden_channels=self.hidden_channels, activation=self.activation)
        return config


class _ResidualStack(keras.layers.Layer):
    """Arguments, residual blocks, build and config shared by the encoder and decoder."""

    def __init__(self, filters, num_residual_blocks, activation, **kwargs):
        super().__init__(**kwargs)
        self.filters = positive_int_tuple(filters, "filters")
        self.num_residual_blocks = _check_count(num_residual_blocks, "num_residual_blocks")
        self.activation = activation_name(activation)

    def _residual_blocks(self, channels):
        return [ResidualBlock(max(channels // 2, 1), self.activation, name=f"res_{i}", dtype=self.dtype_policy)
                for i in range(self.num_residual_blocks)]

    def _build_in_order(self, layers, input_shape):
        shape = tuple(input_shape)
        for layer in layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def get_config(self):
        config = super().get_config()
        config.update(filters=list(self.filters), num_residual_blocks=self.num_residual_blocks,
                      activation=self.activation)
        return config


@keras.saving.register_keras_serializable(package="tfvae")
class ResidualConvEncoder(_ResidualStack):
    """Strided 4x4 convolutions, then residual blocks; spatial output.

    Each entry of `filters` is one `Conv2D(f, 4, strides=2)`, halving H and
    W: `(64, 128)` maps 28x28 -> 7x7 and 32x32 -> 8x8; `(64,)` maps the 8x8
    digits to 4x4. Then a 3x3 convolution and `num_residual_blocks` blocks.

    Shapes: `(batch, H, W, C) -> (batch, H/2ⁿ, W/2ⁿ, filters[-1])`.
    """

    def __init__(self, filters=(64, 128), num_residual_blocks=2, activation="relu", **kwargs):
        super().__init__(filters, num_residual_blocks, activation, **kwargs)
        self.downs = [keras.layers.Conv2D(f, 4, strides=2, padding="same", activation=self.activation,
                                          name=f"down_{i}", dtype=self.dtype_policy)
                      for i, f in enumerate(self.filters)]
        self.mix = keras.layers.Conv2D(self.filters[-1], 3, padding="same", name="mix", dtype=self.dtype_policy)
        self.blocks = self._residual_blocks(self.filters[-1])
        self.out_act = keras.layers.Activation(self.activation, dtype=self.dtype_policy)

    def build(self, input_shape):
        self._build_in_order(self.downs + [self.mix] + self.blocks, input_shape)

    def call(self, x):
        for layer in self.downs + [self.mix] + self.blocks:
            x = layer(x)
        return self.out_act(x)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.downs:
            shape = layer.compute_output_shape(shape)
        return shape


@keras.saving.register_keras_serializable(package="tfvae")
class ResidualConvDecoder(_ResidualStack):
    """The mirror of `ResidualConvEncoder`: a 3x3 convolution to
    `filters[0]` channels, residual blocks, then one
    `Conv2DTranspose(f, 4, strides=2)` per entry of `filters`.

    Shapes: `(batch, h, w, D) -> (batch, h·2ⁿ, w·2ⁿ, filters[-1])`; the
    model's head maps the features to likelihood parameters per pixel.
    """

    def __init__(self, filters=(128, 64), num_residual_blocks=2, activation="relu", **kwargs):
        super().__init__(filters, num_residual_blocks, activation, **kwargs)
        self.mix = keras.layers.Conv2D(self.filters[0], 3, padding="same", name="mix", dtype=self.dtype_policy)
        self.blocks = self._residual_blocks(self.filters[0])
        self.act = keras.layers.Activation(self.activation, dtype=self.dtype_policy)
        self.ups = [keras.layers.Conv2DTranspose(f, 4, strides=2, padding="same", activation=self.activation,
                                                 name=f"up_{i}", dtype=self.dtype_policy)
                    for i, f in enumerate(self.filters)]

    def build(self, input_shape):
        self._build_in_order([self.mix] + self.blocks + self.ups, input_shape)

    def call(self, z):
        x = self.mix(z)
        for block in self.blocks:
            x = block(x)
        x = self.act(x)
        for up in self.ups:
            x = up(x)
        return x

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[:-1]) + (self.filters[0],)
        for layer in self.ups:
            shape = layer.compute_output_shape(shape)
        return shape
