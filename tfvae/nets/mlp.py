"""Multi-layer perceptron backbone."""

import keras

from tfvae.nets._validate import activation_name, positive_int_tuple


@keras.saving.register_keras_serializable(package="tfvae")
class MLP(keras.layers.Layer):
    """Flattens its input and applies `Dense -> activation` blocks.

    A backbone, not a head: the model that uses it adds the output layer it
    needs (the VAE adds the posterior or likelihood parameters), so the same
    `MLP([512, 256])` serves as encoder, decoder or conditioner.

    Args:
        hidden_units: sequence of positive ints, the width of each layer.
        activation: Keras activation name for every hidden layer.
        output_units: optional int; if given, a final linear `Dense` layer.
        zero_init_output: initialise that final layer to zero (conditioners
            use this so a flow starts at the identity).

    Shapes:
        `(batch, *features) -> (batch, hidden_units[-1])`, or
        `(batch, output_units)` when `output_units` is set. Extra leading
        dimensions are kept: `(..., *features)` is flattened only over the
        trailing `len(features)` axes, chosen at build time.
    """

    def __init__(self, hidden_units=(256, 256), activation="relu", output_units=None,
                 zero_init_output=False, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = positive_int_tuple(hidden_units, "hidden_units", allow_empty=True)
        self.activation = activation_name(activation)
        if output_units is not None:
            output_units = positive_int_tuple((output_units,), "output_units")[0]
        self.output_units = output_units
        self.zero_init_output = bool(zero_init_output)
        self.dense_layers = [
            keras.layers.Dense(u, activation=self.activation, name=f"dense_{i}", dtype=self.dtype_policy)
            for i, u in enumerate(self.hidden_units)
        ]
        self.output_layer = None
        if output_units is not None:
            init = "zeros" if self.zero_init_output else "glorot_uniform"
            self.output_layer = keras.layers.Dense(
                output_units, kernel_initializer=init, bias_initializer="zeros",
                name="output", dtype=self.dtype_policy)

    def build(self, input_shape):
        self._feature_rank = max(len(input_shape) - 1, 1)
        width = 1
        for d in input_shape[1:]:
            if d is None:
                raise ValueError(
                    f"MLP needs fully known feature dimensions. Received input_shape={input_shape}")
            width *= int(d)
        self._flat_width = width
        for layer in self.dense_layers:
            layer.build((None, width))
            width = layer.units
        if self.output_layer is not None:
            self.output_layer.build((None, width))

    def call(self, x):
        if self._feature_rank > 1:
            x = keras.ops.reshape(x, (keras.ops.shape(x)[0], self._flat_width))
        for layer in self.dense_layers:
            x = layer(x)
        if self.output_layer is not None:
            x = self.output_layer(x)
        return x

    def compute_output_shape(self, input_shape):
        units = self.output_units or (self.hidden_units[-1] if self.hidden_units else self._flat_width)
        return (input_shape[0], units)

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_units=list(self.hidden_units),
            activation=self.activation,
            output_units=self.output_units,
            zero_init_output=self.zero_init_output,
        )
        return config
