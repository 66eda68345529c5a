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
    """Autoregressive p(c | s) = Π_i p(c_i | c_<i, s) over an h×w grid of
    codes in [0, K), raster order, optionally conditioned on a map s.

    codes -> embedding (K -> filters) -> MaskedConv2D type A (`first_kernel`)
    -> `num_layers` residual blocks [relu, MaskedConv2D B 3x3, relu,
    MaskedConv2D B 1x1] -> relu -> 1x1 -> K logits per position. A stack of
    plain masked convolutions has a blind spot (positions above-right beyond
    its receptive field); on the small grids of a VQ-VAE the type-A kernel
    covers most of the past.

    Conditioning (`condition_shape=(h_s, w_s, C)`, van den Oord et al. 2016,
    conditional PixelCNN with a spatial condition). The map s
    `(batch, h_s, w_s, C)`, with h_s dividing h and w_s dividing w (e.g. the
    one-hot top codes of a VQ-VAE-2 conditioning its bottom codes), goes
    through a conditioning stack that sees all of s (it is given, not
    predicted): a 3x3 convolution and relu at s's resolution, then a
    nearest-neighbour upsampling to h×w, u = up(relu(conv3x3(s))). Every
    masked layer ℓ then adds a 1x1 convolution of u to its output:
        y_ℓ = MaskedConv_ℓ(x_ℓ) + V_ℓ u,
    (all V_ℓ are one 1x1 convolution `condition_proj`, split by layer).
    V_ℓ u at position i depends on s only, so causality in c is untouched.
    Without a condition none of these layers exist: the unconditional
    network, its weights and its outputs are those of a plain PixelCNN.

    Args:
        num_embeddings: K.
        grid_shape: `(h, w)`.
        filters, num_layers, first_kernel: width, residual blocks, and the
            (odd) kernel size of the type-A layer.
        condition_shape: None, or `(h_s, w_s, C)` of the conditioning map.

    Call: `codes (batch, h, w)` int [, `condition (batch, h_s, w_s, C)`
    float] -> logits `(batch, h, w, K)` float32.

    References:
        van den Oord et al., "Pixel Recurrent Neural Networks", ICML 2016.
        van den Oord et al., "Conditional Image Generation with PixelCNN
        Decoders", NeurIPS 2016.
    """

    def __init__(self, num_embeddings, grid_shape, filters=64, num_layers=4, first_kernel=5, condition_shape=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings")
        self.grid_shape = tuple(positive_int(d, "grid_shape") for d in grid_shape)
        self.filters = positive_int(filters, "filters")
        self.num_layers = positive_int(num_layers, "num_layers")
        self.first_kernel = positive_int(first_kernel, "first_kernel")
        self.condition_shape = _condition_shape(condition_shape, self.grid_shape)
        self.embedding = keras.layers.Embedding(self.num_embeddings, self.filters, name="embedding",
                                                dtype=self.dtype_policy)
        self.first = MaskedConv2D(self.filters, self.first_kernel, "A", name="masked_a", dtype=self.dtype_policy)
        self.convs3 = [MaskedConv2D(self.filters, 3, "B", name=f"masked_b3_{i}", dtype=self.dtype_policy)
                       for i in range(self.num_layers)]
        self.convs1 = [MaskedConv2D(self.filters, 1, "B", name=f"masked_b1_{i}", dtype=self.dtype_policy)
                       for i in range(self.num_layers)]
        self.out = keras.layers.Conv2D(self.num_embeddings, 1, name="logits", dtype=self.dtype_policy)
        if self.condition_shape is not None:
            self.condition_stack = keras.layers.Conv2D(self.filters, 3, padding="same", activation="relu",
                                                       name="condition_stack", dtype=self.dtype_policy)
            # One 1x1 convolution for all 1 + 2·num_layers masked layers.
            self.condition_proj = keras.layers.Conv2D(self.filters * (1 + 2 * self.num_layers), 1,
                                                      name="condition_proj", dtype=self.dtype_policy)

    @property
    def conditional(self):
        return self.condition_shape is not None

    def build(self, input_shape=None):
        h, w = self.grid_shape
        self.embedding.build((None, h, w))
        shape = (None, h, w, self.filters)
        self.first.build(shape)
        for layer in self.convs3 + self.convs1:
            layer.build(shape)
        self.out.build(shape)
        if self.conditional:
            self.condition_stack.build((None,) + self.condition_shape)
            self.condition_proj.build(shape)
        self.built = True

    def condition_biases(self, condition):
        """The per-layer terms V_ℓ u of `condition (batch, h_s, w_s, C)`: a
        list of 1 + 2·num_layers tensors `(batch, h, w, filters)` (type-A
        layer, then the 3x3 and 1x1 layers of each block); None without a
        condition. Computed once per condition (`sample` reuses them for
        all h·w passes)."""
        if not self.conditional:
            if condition is not None:
                raise ValueError(f"{self.name} is unconditional (condition_shape=None) but received a `condition`.")
            return None
        if condition is None:
            raise ValueError(f"{self.name} is conditional (condition_shape={self.condition_shape}): pass "
                             "`condition`.")
        u = self.condition_stack(condition)
        fh, fw = self.grid_shape[0] // self.condition_shape[0], self.grid_shape[1] // self.condition_shape[1]
        u = tf.repeat(tf.repeat(u, fh, axis=1), fw, axis=2)  # nearest-neighbour upsampling
        return tf.split(self.condition_proj(u), 1 + 2 * self.num_layers, axis=-1)

    def logits_from_embedded(self, x, biases=None):
        """The network after the embedding: `x (batch, h, w, filters)` (the
        embedded codes) and `condition_biases(...)` -> logits
        `(batch, h, w, K)` float32. (Differentiable in `x`: the causality
        tests take its Jacobian.)"""
        x = self.first(x)
        if biases is not None:
            x = x + biases[0]
        for i, (a, b) in enumerate(zip(self.convs3, self.convs1)):
            y = a(tf.nn.relu(x))
            if biases is not None:
                y = y + biases[1 + 2 * i]
            y = b(tf.nn.relu(y))
            if biases is not None:
                y = y + biases[2 + 2 * i]
            x = x + y
        return tf.cast(self.out(tf.nn.relu(x)), tf.float32)

    def call(self, codes, condition=None):
        biases = self.condition_biases(condition)
        return self.logits_from_embedded(self.embedding(tf.cast(codes, tf.int32)), biases)

    def log_prob(self, codes, condition=None):
        """log p(codes [| condition]), summed over the grid: `(batch, h, w)
        -> (batch,)` nats."""
        codes = tf.cast(codes, tf.int32)
        log_p = tf.nn.log_softmax(self(codes, condition), axis=-1)
        picked = tf.gather(log_p, codes[..., None], batch_dims=3)[..., 0]
        return tf.reduce_sum(picked, axis=[1, 2])

    def sample(self, num_samples, seed, temperature=1.0, condition=None):
        """Ancestral sampling, one network pass per grid position (h·w
        sequential passes), with stateless categorical draws: position i
        uses the seed `fold_in(seed, i)`, so a seed gives the same codes
        eagerly, in a `tf.function`, and in an exported SavedModel.

        Args:
            num_samples: int or int32 scalar tensor.
            seed: `(2,)` int seed.
            condition: `(num_samples, h_s, w_s, C)` for a conditional
                network (one condition per draw), else None.
        Returns:
            `(num_samples, h, w)` int32 codes.
        """
        h, w = self.grid_shape
        seed = tf.cast(seed, tf.int64)
        codes0 = tf.zeros(tf.stack([num_samples, h, w]), tf.int32)
        biases = self.condition_biases(condition)

        def body(i, codes):
            logits = self.logits_from_embedded(self.embedding(codes), biases)[:, i // w, i % w] / temperature
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
        if self.conditional:  # absent otherwise: an unconditional config is unchanged
            config["condition_shape"] = list(self.condition_shape)
        return config


def _condition_shape(value, grid_shape):
    """`(h_s, w_s, C)` with h_s | h and w_s | w, or None."""
    if value is None:
        return None
    message = (f"Expected `condition_shape` to be None or (h_s, w_s, channels) of positive integers with h_s "
               f"dividing {grid_shape[0]} and w_s dividing {grid_shape[1]} (the grid). "
               f"Received: condition_shape={value!r}")
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(message)
    value = tuple(value)
    if len(value) != 3 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0 for v in value):
        raise ValueError(message)
    if len(grid_shape) != 2 or grid_shape[0] % value[0] or grid_shape[1] % value[1]:
        raise ValueError(message)
    return tuple(int(v) for v in value)
