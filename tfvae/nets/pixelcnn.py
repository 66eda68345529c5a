"""PixelCNN over a grid of discrete codes (the VQ-VAE's learned prior)."""

import keras
import numpy as np
import tensorflow as tf

from tfvae.nets._validate import positive_int


def causal_mask(kernel_size, mask_type):
    """`(k, k)` mask of a raster-order causal kernel centred on the output.

    Rows above the centre and the centre row left of the centre are kept;
    type "B" also keeps the centre, type "A" does not (the first layer must
    not see the value it predicts).
    """
    k = kernel_size
    mask = np.zeros((k, k), np.float32)
    mask[: k // 2] = 1.0
    mask[k // 2, : k // 2 + (1 if mask_type == "B" else 0)] = 1.0
    return mask


@keras.saving.register_keras_serializable(package="tfvae")
class MaskedConv2D(keras.layers.Layer):
    """A 'same'-padded 2-D convolution whose kernel is multiplied by a
    causal mask (`causal_mask`): output (i, j) depends only on inputs before
    (i, j) in raster order (type "A") or also on (i, j) itself (type "B").

    Shapes: `(batch, H, W, C_in) -> (batch, H, W, filters)`.

    References:
        van den Oord et al., "Pixel Recurrent Neural Networks", ICML 2016.
    """

    def __init__(self, filters, kernel_size, mask_type="B", **kwargs):
        super().__init__(**kwargs)
        self.filters = positive_int(filters, "filters")
        self.kernel_size = positive_int(kernel_size, "kernel_size")
        if self.kernel_size % 2 == 0:
            raise ValueError(f"Expected `kernel_size` to be odd. Received: kernel_size={kernel_size}")
        if mask_type not in ("A", "B"):
            raise ValueError(f"Expected `mask_type` to be 'A' or 'B'. Received: mask_type={mask_type!r}")
        self.mask_type = mask_type

    def build(self, input_shape):
        k = self.kernel_size
        self.kernel = self.add_weight(name="kernel", shape=(k, k, input_shape[-1], self.filters),
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, x):
        mask = causal_mask(self.kernel_size, self.mask_type)[:, :, None, None]
        kernel = tf.cast(self.kernel, x.dtype) * tf.constant(mask, x.dtype)
        return tf.nn.conv2d(x, kernel, 1, "SAME") + tf.cast(self.bias, x.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, mask_type=self.mask_type)
        return config


@keras.saving.register_keras_serializable(package="tfvae")
class PixelCNN(keras.layers.Layer):
    """Autoregressive p(c) = Π_i p(c_i | c_<i) over an h×w grid of codes in
    [0, K), raster order.

    codes -> embedding (K -> filters) -> MaskedConv2D type A (`first_kernel`)
    -> `num_layers` residual blocks [relu, MaskedConv2D B 3x3, relu,
    MaskedConv2D B 1x1] -> relu -> 1x1 -> K logits per position. A stack of
    plain masked convolutions has a blind spot (positions above-right beyond
    its receptive field); on the small grids of a VQ-VAE the type-A kernel
    covers most of the past.

    Args:
        num_embeddings: K.
        grid_shape: `(h, w)`.
        filters, num_layers, first_kernel: width, residual blocks, and the
            (odd) kernel size of the type-A layer.

    Call: `codes (batch, h, w)` int -> logits `(batch, h, w, K)` float32.
    """

    def __init__(self, num_embeddings, grid_shape, filters=64, num_layers=4, first_kernel=5, **kwargs):
        super().__init__(**kwargs)
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings")
        self.grid_shape = tuple(positive_int(d, "grid_shape") for d in grid_shape)
        self.filters = positive_int(filters, "filters")
        self.num_layers = positive_int(num_layers, "num_layers")
        self.first_kernel = positive_int(first_kernel, "first_kernel")
        self.embedding = keras.layers.Embedding(self.num_embeddings, self.filters, name="embedding",
                                                dtype=self.dtype_policy)
        self.first = MaskedConv2D(self.filters, self.first_kernel, "A", name="masked_a", dtype=self.dtype_policy)
        self.convs3 = [MaskedConv2D(self.filters, 3, "B", name=f"masked_b3_{i}", dtype=self.dtype_policy)
                       for i in range(self.num_layers)]
        self.convs1 = [MaskedConv2D(self.filters, 1, "B", name=f"masked_b1_{i}", dtype=self.dtype_policy)
                       for i in range(self.num_layers)]
        self.out = keras.layers.Conv2D(self.num_embeddings, 1, name="logits", dtype=self.dtype_policy)

    def build(self, input_shape=None):
        h, w = self.grid_shape
        self.embedding.build((None, h, w))
        shape = (None, h, w, self.filters)
        self.first.build(shape)
        for layer in self.convs3 + self.convs1:
            layer.build(shape)
        self.out.build(shape)
        self.built = True

    def call(self, codes):
        x = self.first(self.embedding(tf.cast(codes, tf.int32)))
        for a, b in zip(self.convs3, self.convs1):
            x = x + b(tf.nn.relu(a(tf.nn.relu(x))))
        return tf.cast(self.out(tf.nn.relu(x)), tf.float32)

    def log_prob(self, codes):
        """log p(codes), summed over the grid: `(batch, h, w) -> (batch,)` nats."""
        codes = tf.cast(codes, tf.int32)
        log_p = tf.nn.log_softmax(self(codes), axis=-1)
        picked = tf.gather(log_p, codes[..., None], batch_dims=3)[..., 0]
        return tf.reduce_sum(picked, axis=[1, 2])

    def sample(self, num_samples, seed, temperature=1.0):
        """Ancestral sampling, one network pass per grid position (h·w
        sequential passes), with stateless categorical draws: position i
        uses the seed `fold_in(seed, i)`, so a seed gives the same codes
        eagerly, in a `tf.function`, and in an exported SavedModel.

        Args:
            num_samples: int or int32 scalar tensor.
            seed: `(2,)` int seed.
        Returns:
            `(num_samples, h, w)` int32 codes.
        """
        h, w = self.grid_shape
        seed = tf.cast(seed, tf.int64)
        codes0 = tf.zeros(tf.stack([num_samples, h, w]), tf.int32)

        def body(i, codes):
            logits = self(codes)[:, i // w, i % w] / temperature
            step_seed = tf.random.experimental.stateless_fold_in(seed, tf.cast(i, tf.int64))
            draw = tf.cast(tf.random.stateless_categorical(logits, 1, step_seed)[:, 0], tf.int32)
            here = tf.reshape(tf.one_hot(i, h * w, dtype=tf.int32), [1, h, w]) > 0
            return i + 1, tf.where(here, draw[:, None, None], codes)

        _, codes = tf.while_loop(lambda i, _: i < h * w, body, (tf.constant(0), codes0))
        return codes

    def get_config(self):
        config = super().get_config()
        config.update(num_embeddings=self.num_embeddings, grid_shape=list(self.grid_shape), filters=self.filters,
                      num_layers=self.num_layers, first_kernel=self.first_kernel)
        return config
