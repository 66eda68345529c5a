"""In-graph checks on the scalar inputs of serving signatures.

Data inputs (`x`, `z`) are checked by `tfvae.models._inputs.check_input`,
the same code the models run eagerly; inside a signature it becomes
`tf.debugging.Assert` ops. This module adds what only a serving signature
needs: its scalar arguments arrive as tensors (no Python-side validation is
possible), and neither TF Serving nor a loaded signature called with tensors
compares a request's shapes with the signature, so shapes are checked in the
graph as well.

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


def shaped(x, event_shape, name):
    """`x`, checked at run time to be `(batch, *event_shape)`.

    `EnsureShape` rather than an `Assert` on `tf.shape(x)`: Grappler folds
    rank comparisons to the placeholder's static rank, so such an assert
    can be dropped, while TF Serving and loaded signatures feed whatever
    shape a request has. The error reads "Shape of tensor x [2,64] is not
    compatible with expected shape [?,8,8,1]".
    """
    return tf.ensure_shape(x, [None, *event_shape], name=f"{name}_shape_check")


def scalar(t, name):
    """`t`, checked at run time to be a scalar (see `shaped`): the error
    reads "Shape of tensor num_samples [1] is not compatible with expected
    shape []" (e.g. for a REST request with `"num_samples": [4]`)."""
    return tf.ensure_shape(t, [], name=f"{name}_must_be_a_scalar")


def positive_count(n, name, owner, maximum=None):
    """`n` (int32 scalar) is in [1, maximum]."""
    n = scalar(n, name)
    ok = n >= 1
    limit = ""
    if maximum is not None:
        ok = tf.logical_and(ok, n <= maximum)
        limit = f" and at most {maximum} (the cap fixed when this SavedModel was exported)"
    message = f"{owner}: expected `{name}` to be a positive integer{limit}."
    return with_checks(n, _assert(ok, message))


def positive_finite(t, name, owner):
    """`t` (float32 scalar) is finite and > 0."""
    t = scalar(t, name)
    ok = tf.logical_and(tf.math.is_finite(t), t > 0.0)
    return with_checks(t, _assert(ok, f"{owner}: expected `{name}` to be a positive finite number."))


def in_unit_interval(x, name, owner, why):
    """Every value of `x` lies in [0, 1]."""
    ok = tf.reduce_all(tf.logical_and(x >= 0.0, x <= 1.0))
    return with_checks(x, _assert(ok, f"{owner}: expected `{name}` to lie in [0, 1] ({why})."))


def same_rows(t, rows, name, owner):
    """`t`, checked to have `rows` rows (one per example of the data input)."""
    ok = tf.equal(tf.shape(t)[0], rows)
    message = f"{owner}: expected one row of `{name}` per example; batch sizes differ:"
    return with_checks(t, tf.debugging.Assert(ok, [message, tf.shape(t)[0], rows]))


def row_count(t, name, owner, maximum):
    """The number of rows of `t` (one sample each), checked to be in [1, maximum]."""
    n = tf.shape(t)[0]
    ok = tf.logical_and(n >= 1, n <= maximum)
    return with_checks(n, _assert(ok, f"{owner}: expected `{name}` to have between 1 and {maximum} rows "
                                      "(one sample per row)."))


def seed_pair(seed, owner=None):
    """`int64` scalar -> the `(2,)` int64 seed `[seed, 0]` that the models'
    `sample(..., seed=int)` use, so signature and model draw alike. With
    `owner`, `seed` is a signature input and checked to be a scalar."""
    if owner is not None:
        seed = scalar(seed, "seed")
    return tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
