"""Activation normalisation (Glow) with data-dependent initialisation."""

import keras
import numpy as np
import tensorflow as tf

from tfvae.flows.base import Flow, per_example
from tfvae.nets._validate import nonnegative_float


@keras.saving.register_keras_serializable(package="tfvae")
class ActNorm(Flow):
    """Per-channel affine map whose first batch sets it to zero mean, unit variance.

    Maths, per channel c (the last axis), with weights b and s = log scale:
        forward:  y = (x + b) * exp(s)
        inverse:  x = y * exp(-s) - b
        log|det dy/dx| = N * Σ_c s_c,   N = H*W for images, 1 for vectors

    Data-dependent initialisation (`data_init=True`): on the first call, in
    whichever direction, the parameters are set so that the output of that
    call has zero mean and unit variance per channel over the batch:
    forward first (inside `Glow`, whose image -> latent direction runs its
    steps forward): b = -mean(x), s = -log(std(x) + ε); inverse first (a
    bare ActNorm in `FlowModel` or a `FlowPrior`, which evaluate densities
    through the inverse): s = log(std(y) + ε), b = mean(y) / (std(y) + ε).
    A non-trainable `initialized` weight records that this happened; it is
    saved with the model, so a reloaded layer is *not* re-initialised on its
    first batch. It aggregates with "only_first_replica" so replicas under a
    distribution strategy agree on it. With `data_init=False` the layer
    starts as the identity (NICE's diagonal scaling layer).

    Args:
        event_ndims: 3 for images `(batch, H, W, C)`, 1 for vectors `(batch, D)`.
        data_init: initialise from the first batch.
        epsilon: added to the standard deviation (constant channels).

    Raises:
        ValueError: bad `event_ndims` or `epsilon`, or a mismatched input rank.

    Example:
        >>> norm = tfvae.flows.ActNorm(event_ndims=3)
        >>> y, log_det = norm(images)   # the first batch comes out standardised per channel

    References:
        Kingma & Dhariwal, "Glow", NeurIPS 2018, section 3.1.
    """

    def __init__(self, event_ndims=3, data_init=True, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        if event_ndims not in (1, 3):
            raise ValueError(f"Expected `event_ndims` to be 1 or 3. Received: event_ndims={event_ndims!r}")
        self.event_ndims = int(event_ndims)
        self.data_init = bool(data_init)
        self.epsilon = nonnegative_float(epsilon, "epsilon")

    def build(self, input_shape):
        if len(input_shape) != self.event_ndims + 1 or input_shape[-1] is None:
            raise ValueError(
                f"ActNorm(event_ndims={self.event_ndims}) expects inputs of rank {self.event_ndims + 1} "
                f"with a known last axis. Received input_shape={tuple(input_shape)}")
        channels = int(input_shape[-1])
        self._event_shape = tuple(input_shape[1:])
        self.loc = self.add_weight(shape=(channels,), initializer="zeros", name="loc")
        self.log_scale = self.add_weight(shape=(channels,), initializer="zeros", name="log_scale")
        self.initialized = self.add_weight(
            shape=(), initializer="zeros" if self.data_init else "ones", trainable=False,
            name="initialized", aggregation="only_first_replica")

    def _initialize(self, x):
        axes = list(range(len(x.shape) - 1))
        mean = tf.reduce_mean(x, axis=axes)
        std = tf.sqrt(tf.reduce_mean(tf.square(x - mean), axis=axes))
        self.loc.assign(tf.cast(-mean, self.loc.dtype))
        self.log_scale.assign(tf.cast(-tf.math.log(std + self.epsilon), self.log_scale.dtype))
        self.initialized.assign(tf.ones([], self.initialized.dtype))
        return tf.ones([], tf.bool)

    def _initialize_inverse(self, y):
        axes = list(range(len(y.shape) - 1))
        mean = tf.reduce_mean(y, axis=axes)
        std = tf.sqrt(tf.reduce_mean(tf.square(y - mean), axis=axes)) + self.epsilon
        self.loc.assign(tf.cast(mean / std, self.loc.dtype))
        self.log_scale.assign(tf.cast(tf.math.log(std), self.log_scale.dtype))
        self.initialized.assign(tf.ones([], self.initialized.dtype))
        return tf.ones([], tf.bool)

    def _maybe_initialize(self, x, initialize):
        if tf.executing_eagerly():
            if not bool(keras.ops.convert_to_numpy(self.initialized)):
                initialize(x)
            return
        with tf.init_scope():  # the variable's value now, outside the graph
            done = bool(keras.ops.convert_to_numpy(self.initialized))
        if done:  # nothing to trace: the flag never goes back to 0
            return
        if tf.distribute.has_strategy() and tf.distribute.get_strategy().num_replicas_in_sync > 1:
            # An assignment inside a cond cannot sync replicas (merge_call in
            # control flow), and replicas would each see only their share of
            # the batch. Models initialise on the first global batch before
            # `fit` (tfvae.models._steps.data_init_before_fit).
            raise ValueError(f"{self.name}: ActNorm's data-dependent initialisation must run before "
                             "training under a distribution strategy: call the model (or its `fit`, which "
                             "does it) on a first batch outside `strategy.run`.")
        # Traced (fit, tf.function, XLA): Python `if` on a variable is not
        # allowed, so branch in the graph; later reads of loc/log_scale are
        # ordered after the assignment by automatic control dependencies.
        tf.cond(tf.convert_to_tensor(self.initialized) > 0.5,
                lambda: tf.zeros([], tf.bool), lambda: initialize(x))

    def _pixels(self, x):
        """N: how many times each channel's parameters apply per example."""
        if self.event_ndims == 1:
            return 1.0
        return tf.cast(tf.reduce_prod(tf.shape(x)[1:-1]), x.dtype)

    def _forward_and_log_det(self, x, context):
        if self.data_init:
            self._maybe_initialize(x, self._initialize)
        log_scale = tf.cast(self.log_scale, x.dtype)
        y = (x + tf.cast(self.loc, x.dtype)) * tf.exp(log_scale)
        return y, per_example(self._pixels(x) * tf.reduce_sum(log_scale), x)

    def _inverse_and_log_det(self, y, context):
        if self.data_init:
            self._maybe_initialize(y, self._initialize_inverse)
        log_scale = tf.cast(self.log_scale, y.dtype)
        x = y * tf.exp(-log_scale) - tf.cast(self.loc, y.dtype)
        return x, per_example(-self._pixels(y) * tf.reduce_sum(log_scale), y)

    @property
    def identity_at_init(self):
        # Data initialisation standardises the first batch: not the identity.
        return not self.data_init

    @property
    def triangular_order(self):
        return np.arange(int(np.prod(self._event_shape)))

    def get_config(self):
        config = super().get_config()
        config.update(event_ndims=self.event_ndims, data_init=self.data_init, epsilon=self.epsilon)
        return config
