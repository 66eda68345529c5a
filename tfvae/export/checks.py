"""In-graph checks on the scalar inputs of serving signatures.

Data inputs (`x`, `z`) are checked by `tfvae.models._inputs.check_input`,
the same code the models run eagerly; inside a signature it becomes
`tf.debugging.Assert` ops. This module adds what only a serving signature
needs: its scalar arguments arrive as tensors (no Python-side validation is
possible), and TF Serving's C++ runtime does not compare a request's shapes
with the signature, so the data shape is asserted in the graph as well.

Every failed check raises `tf.errors.InvalidArgumentError` whose message
names the signature's input and what was expected.
"""

import tensorflow as tf


def _assert(condition, message):
    return tf.debugging.Assert(condition, [message])


def with_checks(value, *assertions):
    """`value`, evaluated only after `assertions` pass."""
    with tf.control_dependencies([a for a in assertions if a is not None]):
        return tf.identity(value)


def assert_shape(x, event_shape, name, owner):
    """Rank and per-example shape of `x` equal `(batch, *event_shape)`."""
    expected = tf.constant(list(event_shape), tf.int32)
    shape = tf.shape(x)
    same_rank = tf.equal(tf.size(shape), len(event_shape) + 1)
    # Compare sizes only when the rank matches (tf.equal would fail first).
    same_size = tf.cond(same_rank, lambda: tf.reduce_all(tf.equal(shape[1:], expected)),
                        lambda: tf.constant(False))
    dims = ", ".join(str(d) for d in event_shape)
    return _assert(same_size, f"{owner}: expected `{name}` of shape (batch, {dims}).")


def scalar(t, name, owner):
    """`t` is a scalar (rank 0).

    `EnsureShape` rather than an `Assert` on `tf.rank`: Grappler folds the
    rank to the placeholder's static shape `()` and drops such an assert,
    while TF Serving and loaded signatures feed whatever shape a request has
    (e.g. `"num_samples": [4]`). The error reads "Shape of tensor <name>
    [1] is not compatible with expected shape []".
    """
    del owner  # the runtime message names the tensor, i.e. the input
    return tf.ensure_shape(t, [], name=f"{name}_must_be_a_scalar")


def positive_count(n, name, owner, maximum=None):
    """`n` (int32 scalar) is in [1, maximum]."""
    n = scalar(n, name, owner)
    ok = n >= 1
    limit = ""
    if maximum is not None:
        ok = tf.logical_and(ok, n <= maximum)
        limit = f" and at most {maximum}"
    message = f"{owner}: expected `{name}` to be a positive integer{limit}."
    return with_checks(n, _assert(ok, message))


def positive_finite(t, name, owner):
    """`t` (float32 scalar) is finite and > 0."""
    t = scalar(t, name, owner)
    ok = tf.logical_and(tf.math.is_finite(t), t > 0.0)
    return with_checks(t, _assert(ok, f"{owner}: expected `{name}` to be a positive finite number."))


def in_unit_interval(x, name, owner, why):
    """Every value of `x` lies in [0, 1]."""
    ok = tf.reduce_all(tf.logical_and(x >= 0.0, x <= 1.0))
    return with_checks(x, _assert(ok, f"{owner}: expected `{name}` to lie in [0, 1] ({why})."))


def seed_pair(seed, owner=None):
    """`int64` scalar -> the `(2,)` int64 seed `[seed, 0]` that the models'
    `sample(..., seed=int)` use, so signature and model draw alike. With
    `owner`, `seed` is a signature input and checked to be a scalar."""
    if owner is not None:
        seed = scalar(seed, "seed", owner)
    return tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
