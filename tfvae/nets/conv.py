"""Convolutional encoder and decoder backbones for small images."""

import keras

from tfvae.nets._validate import activation_name, positive_int, positive_int_tuple


@keras.saving.register_keras_serializable(package="tfvae")
class ConvEncoder(keras.layers.Layer):
    """Strided 3x3 convolutions, then a dense layer.

    Each entry of `filters` is one `Conv2D(f, 3, strides=2)` block, halving
    H and W: two blocks map 28x28 -> 7x7 and 32x32 -> 8x8.

    Shapes: `(batch, H, W, C) -> (batch, dense_units)`.
    """

    def __init__(self, filters=(32, 64), dense_units=256, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters = positive_int_tuple(filters, "filters")
        self.dense_units = positive_int(dense_units, "dense_units")
        self.activation = activation_name(activation)
        self.convs = [keras.layers.Conv2D(f, 3, strides=2, padding="same", activation=self.activation,
                                          name=f"conv_{i}", dtype=self.dtype_policy)
                      for i, f in enumerate(self.filters)]
        self.flatten = keras.layers.Flatten(dtype=self.dtype_policy)
        self.dense = keras.layers.Dense(self.dense_units, activation=self.activation, name="dense",
                                        dtype=self.dtype_policy)

    def build(self, input_shape):
        shape = tuple(input_shape)
        for conv in self.convs:
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
        self.flatten.build(shape)
        self.dense.build(self.flatten.compute_output_shape(shape))

    def call(self, x):
        for conv in self.convs:
            x = conv(x)
        return self.dense(self.flatten(x))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dense_units)

    def get_config(self):
        config = super().get_config()
        config.update(filters=list(self.filters), dense_units=self.dense_units, activation=self.activation)
        return config


@keras.saving.register_keras_serializable(package="tfvae")
class ConvDecoder(keras.layers.Layer):
    """Dense to a coarse grid, then 2x transposed convolutions up to H x W.

    With `n = len(filters)`, z goes to a `(H/2ⁿ, W/2ⁿ, filters[0])` grid and
    each block `Conv2DTranspose(f, 3, strides=2)` doubles it; the output is
    spatial features `(batch, H, W, filters[-1])`, which the VAE's head turns
    into per-pixel likelihood parameters with a 1x1 convolution.

    Args:
        output_shape: the image shape `(H, W, C)`; H and W divisible by 2ⁿ.
    """

    def __init__(self, output_shape, filters=(64, 32), activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.image_shape = positive_int_tuple(output_shape, "output_shape")
        self.filters = positive_int_tuple(filters, "filters")
        self.activation = activation_name(activation)
        if len(self.image_shape) != 3:
            raise ValueError(f"Expected `output_shape` to be (H, W, C). Received: output_shape={output_shape!r}")
        factor = 2 ** len(self.filters)
        h, w = self.image_shape[:2]
        if h % factor or w % factor:
            raise ValueError(f"ConvDecoder with {len(self.filters)} upsampling blocks needs H and W divisible "
                             f"by {factor}. Received: output_shape={output_shape!r}")
        self.grid = (h // factor, w // factor, self.filters[0])
        self.dense = keras.layers.Dense(h // factor * w // factor * self.filters[0],
                                        activation=self.activation, name="dense", dtype=self.dtype_policy)
        self.reshape = keras.layers.Reshape(self.grid, dtype=self.dtype_policy)
        self.deconvs = [keras.layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation=self.activation,
                                                     name=f"deconv_{i}", dtype=self.dtype_policy)
                        for i, f in enumerate(self.filters)]

    def build(self, input_shape):
        self.dense.build(tuple(input_shape))
        shape = (None,) + self.grid
        for deconv in self.deconvs:
            deconv.build(shape)
            shape = deconv.compute_output_shape(shape)

    def call(self, z):
        x = self.reshape(self.dense(z))
        for deconv in self.deconvs:
            x = deconv(x)
        return x

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.image_shape[:2] + (self.filters[-1],)

    def get_config(self):
        config = super().get_config()
        config.update(output_shape=list(self.image_shape), filters=list(self.filters), activation=self.activation)
        return config
