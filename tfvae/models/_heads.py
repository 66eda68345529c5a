"""Output heads that turn backbone features into distribution parameters."""

import math

import keras
import tensorflow as tf


def flatten_features(h):
    """`(batch, ...) -> (batch, F)`: encoders may return spatial features."""
    if h.shape.rank == 2:
        return h
    return tf.reshape(h, [tf.shape(h)[0], math.prod(h.shape[1:])])


@keras.saving.register_keras_serializable(package="tfvae")
class DecoderHead(keras.layers.Layer):
    """Projects decoder features to `P` likelihood parameters per dimension.

    Flat features `(N, F)` go through `Dense(prod(data_shape)·P)`; spatial
    features `(N, H, W, F)` whose H, W match the data go through a 1x1
    convolution to `C·P` channels (keeps conv decoders local). Either way the
    output is `(N, *data_shape, P)` in float32.
    """

    def __init__(self, data_shape, num_params, **kwargs):
        super().__init__(**kwargs)
        self.data_shape = tuple(int(d) for d in data_shape)
        self.num_params = int(num_params)

    def build(self, feature_shape):
        feature_shape = tuple(feature_shape)
        size = math.prod(self.data_shape) * self.num_params
        if len(feature_shape) == 2:
            self.proj = keras.layers.Dense(size, name="proj", dtype=self.dtype_policy)
        elif (len(self.data_shape) == 3 and len(feature_shape) == 4
              and tuple(feature_shape[1:3]) == self.data_shape[:2]):
            self.proj = keras.layers.Conv2D(self.data_shape[-1] * self.num_params, 1, name="proj",
                                            dtype=self.dtype_policy)
        else:
            raise ValueError(
                f"The decoder must return (batch, features) or (batch, {self.data_shape[0]}, "
                f"{self.data_shape[1] if len(self.data_shape) > 1 else '...'}, features); "
                f"it returned shape {feature_shape}.")
        self.proj.build(feature_shape)

    def call(self, features):
        out = self.proj(features)
        return tf.cast(tf.reshape(out, [-1, *self.data_shape, self.num_params]), tf.float32)

    def get_config(self):
        config = super().get_config()
        config.update(data_shape=list(self.data_shape), num_params=self.num_params)
        return config
