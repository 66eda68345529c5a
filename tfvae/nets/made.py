"""MADE: a masked dense network whose outputs are autoregressive in its inputs."""

import numbers

import keras
import numpy as np

from tfvae.nets._context import check_context, context_dim_at_build
from tfvae.nets._validate import activation_name, positive_int, positive_int_tuple

_ORDERS = ("left-to-right", "right-to-left", "random")
_HIDDEN_DEGREES = ("equal", "random")


@keras.saving.register_keras_serializable(package="tfvae")
class MADE(keras.layers.Layer):
    """Masked Autoencoder for Distribution Estimation (Germain et al., 2015).

    Every input dimension d gets a degree m(d) in {1..D} (its position in
    `input_order`); every hidden unit k a degree m(k). Masks keep a weight
    only where information may flow:

        input -> hidden:   m(k) >= m(d)
        hidden -> hidden:  m(k') >= m(k)
        hidden -> output:  m(d) >  m(k)   (strict)

    so output d depends only on inputs with a smaller degree: the Jacobian
    d out[:, d, p] / d x[:, d'] is zero unless m(d') < m(d). Each output
    dimension carries `params` numbers (e.g. shift and log-scale).

    The context vector (if any) enters every hidden layer through an
    unmasked kernel: it is not part of the autoregressive ordering. With a
    context, hidden degrees range over {0..D-1} instead of {1..D-1}, so
    degree-0 units see only the context and feed every output -- otherwise
    the first output in the ordering could never depend on the context.

    Masks are numpy constants derived from the config (and, for "random"
    orders or degrees, `seed`; None means seed 0), so a config rebuilds the
    same network. The output layer is zero-initialised: a flow driven by a
    fresh MADE gets shift = log-scale = 0 and starts as the identity.

    Args:
        event_size: D, the number of input dimensions.
        hidden_units: widths of the masked hidden layers (at least one).
        params: numbers per output dimension.
        context_size: optional width c of the context; None infers it at
            build time from the `context` passed to the first call.
        input_order: "left-to-right", "right-to-left", "random", or a
            permutation of 1..D giving each input's degree.
        hidden_degrees: "equal" (cycle through the allowed degrees) or
            "random" (as in the paper).
        activation: Keras activation name for hidden layers.
        seed: int or None; seeds random masks and the kernel initialiser.

    Call args:
        x: `(batch, D)`.
        context: optional `(batch, c)`; required iff built with a context.

    Returns:
        `(batch, D, params)`.

    Raises:
        ValueError: for bad arguments, a wrong input width, or a context
            passed to a network built without one (or missing when needed).

    References:
        Germain, Gregor, Murray, Larochelle. MADE: Masked Autoencoder for
        Distribution Estimation. ICML 2015. arXiv:1502.03509.
    """

    def __init__(self, event_size, hidden_units=(64, 64), params=2, context_size=None,
                 input_order="left-to-right", hidden_degrees="equal", activation="relu",
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.event_size = positive_int(event_size, "event_size")
        self.hidden_units = positive_int_tuple(hidden_units, "hidden_units")
        self.params = positive_int(params, "params")
        self.context_size = None if context_size is None else positive_int(context_size, "context_size")
        self.input_order = _check_order(input_order, self.event_size)
        if hidden_degrees not in _HIDDEN_DEGREES:
            raise ValueError(f"Expected `hidden_degrees` to be one of {_HIDDEN_DEGREES}. "
                             f"Received: hidden_degrees={hidden_degrees!r}")
        self.hidden_degrees = hidden_degrees
        self.activation = activation_name(activation)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)
        self._activation_fn = keras.activations.get(self.activation)

    def build(self, x_shape, context_shape=None):
        if x_shape[-1] != self.event_size:
            raise ValueError(f"MADE expected inputs of shape (batch, {self.event_size}). "
                             f"Received: x.shape={x_shape}")
        context_dim = context_dim_at_build("MADE", self.context_size, context_shape)
        self._context_dim = context_dim
        self._masks = make_masks(self.input_order, self.event_size, self.hidden_units, self.params,
                                 has_context=context_dim is not None,
                                 hidden_degrees=self.hidden_degrees, seed=self.seed)
        # A seeded Keras initialiser repeats its values on every call, so
        # each kernel gets its own seed (else equal-shaped kernels would be
        # identical copies).
        seeds = iter(np.random.RandomState(self.seed).randint(2**31 - 1, size=2 * len(self.hidden_units))
                     if self.seed is not None else [None] * (2 * len(self.hidden_units)))

        def init():
            seed = next(seeds)
            return keras.initializers.GlorotUniform(seed=None if seed is None else int(seed))

        self.kernels, self.biases, self.context_kernels = [], [], []
        fan_in = self.event_size
        for i, units in enumerate(self.hidden_units):
            self.kernels.append(self.add_weight(shape=(fan_in, units), initializer=init(), name=f"kernel_{i}"))
            self.biases.append(self.add_weight(shape=(units,), initializer="zeros", name=f"bias_{i}"))
            context_init = init()
            if context_dim is not None:
                self.context_kernels.append(self.add_weight(
                    shape=(context_dim, units), initializer=context_init, name=f"context_kernel_{i}"))
            fan_in = units
        # Zero output layer: shift = log-scale = 0, so the flow using this
        # network is the identity at initialisation.
        out = self.event_size * self.params
        self.output_kernel = self.add_weight(shape=(fan_in, out), initializer="zeros", name="output_kernel")
        self.output_bias = self.add_weight(shape=(out,), initializer="zeros", name="output_bias")

    def call(self, x, context=None):
        check_context("MADE", self._context_dim, context)
        h = x
        for i in range(len(self.hidden_units)):
            mask = keras.ops.convert_to_tensor(self._masks[i], dtype=self.compute_dtype)
            h = keras.ops.matmul(h, self.kernels[i] * mask) + self.biases[i]
            if context is not None:
                h = h + keras.ops.matmul(context, self.context_kernels[i])
            h = self._activation_fn(h)
        mask = keras.ops.convert_to_tensor(self._masks[-1], dtype=self.compute_dtype)
        out = keras.ops.matmul(h, self.output_kernel * mask) + self.output_bias
        return keras.ops.reshape(out, (-1, self.event_size, self.params))

    def compute_output_shape(self, x_shape, context_shape=None):
        return (x_shape[0], self.event_size, self.params)

    def get_config(self):
        config = super().get_config()
        config.update(
            event_size=self.event_size,
            hidden_units=list(self.hidden_units),
            params=self.params,
            context_size=self.context_size,
            input_order=self.input_order if isinstance(self.input_order, str) else list(self.input_order),
            hidden_degrees=self.hidden_degrees,
            activation=self.activation,
            seed=self.seed,
        )
        return config


def input_degrees(input_order, event_size, rng):
    """Degrees 1..D of the inputs for an order name or explicit permutation."""
    if input_order == "left-to-right":
        return np.arange(1, event_size + 1)
    if input_order == "right-to-left":
        return np.arange(event_size, 0, -1)
    if input_order == "random":
        return rng.permutation(event_size) + 1
    return np.asarray(input_order)


def make_masks(input_order, event_size, hidden_units, params, has_context=False,
               hidden_degrees="equal", seed=None):
    """Returns the float32 masks `[in->h1, h1->h2, ..., hL->out]` as numpy.

    The last mask has `D * params` columns, output (d, p) at column
    `d * params + p`, matching the `(batch, D, params)` reshape.
    """
    rng = np.random.RandomState(0 if seed is None else seed)
    degrees_in = input_degrees(input_order, event_size, rng)
    # Without a context, degree-0 units would be constants; with one they
    # carry the context to every output (see the class docstring).
    low = 0 if (has_context or event_size == 1) else 1
    high = event_size - 1
    masks, previous = [], degrees_in
    for i, units in enumerate(hidden_units):
        if hidden_degrees == "equal":
            degrees = low + np.arange(units) % (high - low + 1)
        else:
            # Never below the previous layer's minimum: such units would be dead.
            floor = low if i == 0 else int(previous.min())
            degrees = rng.randint(floor, high + 1, size=units)
        masks.append((degrees[None, :] >= previous[:, None]).astype("float32"))
        previous = degrees
    out = (degrees_in[None, :] > previous[:, None]).astype("float32")
    masks.append(np.repeat(out, params, axis=1))
    return masks


def _check_order(input_order, event_size):
    if isinstance(input_order, str):
        if input_order not in _ORDERS:
            raise ValueError(f"Expected `input_order` to be one of {_ORDERS} or a permutation of "
                             f"1..{event_size}. Received: input_order={input_order!r}")
        return input_order
    order = tuple(input_order) if hasattr(input_order, "__iter__") else None
    if order is None or sorted(order) != list(range(1, event_size + 1)):
        raise ValueError(f"Expected `input_order` to be one of {_ORDERS} or a permutation of "
                         f"1..{event_size}. Received: input_order={input_order!r}")
    return tuple(int(o) for o in order)
