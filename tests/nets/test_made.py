import tfvae  # noqa: F401  (quiet TF logs, Keras 3 backend)

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfvae.nets import MADE
from tfvae.nets.made import input_degrees

ORDERS = ["left-to-right", "right-to-left", "random", (3, 1, 4, 2)]


def _randomized(made, x, context):
    made(x, context)
    rng = np.random.default_rng(1)
    for w in made.weights:
        w.assign(rng.standard_normal(w.shape))
    return made


def _jacobian(made, x, context, param):
    """`(batch, D_out, D_in)`, one gradient per output row: examples are
    independent, so d sum_b out[b, d] / d x[b] is row d of example b
    (much faster eagerly than `batch_jacobian`'s pfor)."""
    rows = []
    for d in range(x.shape[-1]):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = tf.reduce_sum(made(x, context)[:, d, param])
        rows.append(tape.gradient(out, x))
    return tf.stack(rows, axis=1).numpy()


@pytest.mark.parametrize("order", ORDERS, ids=str)
@pytest.mark.parametrize("context_dim", [None, 3])
@pytest.mark.parametrize("hidden_degrees", ["equal", "random"])
def test_autoregressive_property(order, context_dim, hidden_degrees):
    """d out_d / d x_e is non-zero only when degree(e) < degree(d); with
    "equal" degrees and enough units every allowed connection exists."""
    made = MADE(4, (16, 16), params=2, context_size=context_dim, input_order=order,
                hidden_degrees=hidden_degrees, activation="tanh", seed=5, dtype="float64")
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((6, 4)))
    c = None if context_dim is None else tf.constant(rng.standard_normal((6, context_dim)))
    _randomized(made, x, c)
    degrees = input_degrees(order, 4, np.random.RandomState(5))
    allowed = degrees[:, None] > degrees[None, :]   # [output d, input e]
    for param in range(2):
        jac = _jacobian(made, x, c, param)
        np.testing.assert_array_equal(jac[:, ~allowed], 0.0)
        if hidden_degrees == "equal":
            assert np.all(np.abs(jac[:, allowed]) > 0)
    # Lower-triangular in the natural order, strictly upper in the reversed one.
    if order == "left-to-right":
        assert np.all(np.triu(np.ones((4, 4))) * jac == 0)
    if order == "right-to-left":
        assert np.all(np.tril(np.ones((4, 4))) * jac == 0)


def test_context_reaches_every_output():
    made = MADE(3, (8,), params=2, activation="tanh", seed=0, dtype="float64")
    rng = np.random.default_rng(0)
    x, c = tf.constant(rng.standard_normal((4, 3))), tf.constant(rng.standard_normal((4, 2)))
    _randomized(made, x, c)
    with tf.GradientTape() as tape:
        tape.watch(c)
        out = tf.reshape(made(x, c), (4, -1))
    jac = tape.batch_jacobian(out, c).numpy()
    # Every output, including the first in the ordering, depends on the context.
    assert np.all(np.abs(jac).sum(axis=(0, 2)) > 0)


def test_shape_and_zero_init():
    made = MADE(5, (8, 8), params=3, seed=0)
    out = made(tf.random.normal((2, 5)))
    assert out.shape == (2, 5, 3)
    np.testing.assert_array_equal(out.numpy(), 0.0)


def test_context_mismatch_errors():
    made = MADE(3, (8,), seed=0)
    made(tf.zeros((2, 3)))
    with pytest.raises(ValueError, match="built without a context"):
        made(tf.zeros((2, 3)), tf.zeros((2, 2)))
    conditional = MADE(3, (8,), context_size=2, seed=0)
    conditional(tf.zeros((2, 3)), tf.zeros((2, 2)))
    with pytest.raises(ValueError, match="pass `context`"):
        conditional(tf.zeros((2, 3)))
    with pytest.raises(ValueError, match="context_size=2"):
        MADE(3, (8,), context_size=2)(tf.zeros((2, 3)), tf.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
        MADE(3, (8,))(tf.zeros((2, 4)))


@pytest.mark.parametrize("kwargs, name", [
    (dict(event_size=0), "event_size"),
    (dict(event_size=3, hidden_units=()), "hidden_units"),
    (dict(event_size=3, params=0), "params"),
    (dict(event_size=3, input_order="sideways"), "input_order"),
    (dict(event_size=3, input_order=(1, 2, 2)), "input_order"),
    (dict(event_size=3, hidden_degrees="odd"), "hidden_degrees"),
    (dict(event_size=3, activation="nope"), "activation"),
    (dict(event_size=3, seed=1.5), "seed"),
])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        MADE(**kwargs)


@pytest.mark.parametrize("order", ["random", (2, 3, 1)], ids=str)
def test_config_and_keras_round_trip(order, tmp_path):
    made = MADE(3, (8,), input_order=order, hidden_degrees="random", seed=4)
    x, c = tf.random.normal((2, 3), seed=1), tf.random.normal((2, 2), seed=2)
    _randomized(made, x, c)
    clone = MADE.from_config(made.get_config())
    clone(x, c)
    clone.set_weights(made.get_weights())
    np.testing.assert_array_equal(clone(x, c).numpy(), made(x, c).numpy())

    inputs = keras.Input((3,))
    context = keras.Input((2,))
    model = keras.Model([inputs, context], MADE.from_config(made.get_config())(inputs, context))
    model.layers[-1].set_weights(made.get_weights())
    path = str(tmp_path / "made.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded([x, c]).numpy(), made(x, c).numpy())


def test_seeded_kernels_are_distinct_and_reproducible():
    def build():
        made = MADE(3, (8, 8, 8), seed=7)
        made(tf.zeros((1, 3)), tf.zeros((1, 8)))
        return made
    a, b = build(), build()
    np.testing.assert_array_equal(a.kernels[1].numpy(), b.kernels[1].numpy())
    assert not np.array_equal(a.kernels[1].numpy(), a.kernels[2].numpy())
    assert not np.array_equal(a.context_kernels[1].numpy(), a.context_kernels[2].numpy())


def test_mixed_precision():
    made = MADE(3, (8,), seed=0, dtype="mixed_float16")
    out = made(tf.random.normal((2, 3)), tf.random.normal((2, 2)))
    assert out.dtype == "float16" and out.shape == (2, 3, 2)
