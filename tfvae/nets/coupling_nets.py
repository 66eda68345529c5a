"""Small convolutional conditioner for image coupling layers."""

import keras

from tfvae.nets._validate import activation_name, positive_int


@keras.saving.register_keras_serializable(package="tfvae")
class CouplingConvNet(keras.layers.Layer):
    """Glow's coupling network: conv 3x3 -> conv 1x1 -> zero-initialised conv 3x3.

    `(batch, H, W, C_in) -> (batch, H, W, output_channels)`, "same" padding,
    so the conditioner sees a 3x3 neighbourhood twice (a 5x5 receptive field)
    and outputs per-pixel, per-channel parameters.

    The last convolution starts at zero so the coupling layer that owns this
    net starts as the identity map: deep flows then train from a
    well-conditioned start instead of a random composition of many maps.

    Args:
        hidden_channels: positive int, width of the two hidden convolutions.
        output_channels: positive int, channels of the output.
        activation: Keras activation name for the hidden layers.
        zero_init_output: initialise the last convolution to zero.

    Raises:
        ValueError: non-positive widths or an unknown activation.

    References:
        Kingma & Dhariwal, "Glow: Generative Flow with Invertible 1x1
        Convolutions", NeurIPS 2018.
    """

    def __init__(self, hidden_channels=64, output_channels=2, activation="relu",
                 zero_init_output=True, **kwargs):
        super().__init__(**kwargs)
        self.hidden_channels = positive_int(hidden_channels, "hidden_channels")
        self.output_channels = positive_int(output_channels, "output_channels")
        self.activation = activation_name(activation)
        self.zero_init_output = bool(zero_init_output)
        policy = self.dtype_policy
        self.conv_in = keras.layers.Conv2D(
            self.hidden_channels, 3, padding="same", activation=self.activation, name="conv_in",
            dtype=policy)
        self.conv_hidden = keras.layers.Conv2D(
            self.hidden_channels, 1, activation=self.activation, name="conv_hidden", dtype=policy)
        init = "zeros" if self.zero_init_output else "glorot_uniform"
        self.conv_out = keras.layers.Conv2D(
            self.output_channels, 3, padding="same", kernel_initializer=init,
            bias_initializer="zeros", name="conv_out", dtype=policy)

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 4 or any(d is None for d in shape[1:]):
            raise ValueError(
                f"CouplingConvNet expects `(batch, H, W, C)` inputs with known H, W, C. "
                f"Received input_shape={input_shape}")
        self.conv_in.build(shape)
        self.conv_hidden.build(shape[:3] + (self.hidden_channels,))
        self.conv_out.build(shape[:3] + (self.hidden_channels,))

    def call(self, x):
        return self.conv_out(self.conv_hidden(self.conv_in(x)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:3]) + (self.output_channels,)

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_channels=self.hidden_channels,
            output_channels=self.output_channels,
            activation=self.activation,
            zero_init_output=self.zero_init_output,
        )
        return config
