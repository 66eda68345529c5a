"""Argument checks shared by the metrics: Keras-style error messages."""

import numpy as np


def positive_int(value, name):
    """Returns `value` if it is a positive integer, else raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Expected `{name}` to be a positive integer. Received: {name}={value!r}")
    return int(value)


def features(x, name, dim=None, min_rows=1, dtype=np.float64):
    """Converts `x` to a finite `(n, d)` array with at least `min_rows` rows.

    Args:
      x: array-like `(n, d)` (a tensor is fine).
      name: the argument's name, for messages.
      dim: expected `d`, or None.
      min_rows: the fewest rows the metric can use.
      dtype: dtype of the returned array.

    Raises:
      ValueError: not two-dimensional, too few rows, wrong width, NaN/inf.
    """
    x = np.asarray(x, dtype=dtype)
    if x.ndim != 2:
        raise ValueError(f"Expected `{name}` of shape (num_examples, num_features). "
                         f"Received: {name}.shape={x.shape}")
    if x.shape[0] < min_rows:
        raise ValueError(f"Expected `{name}` to hold at least {min_rows} example(s). "
                         f"Received: {name}.shape={x.shape}")
    if x.shape[1] == 0:
        raise ValueError(f"Expected `{name}` to have at least one feature. Received: {name}.shape={x.shape}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"Expected `{name}` to have {dim} features, like the other feature set. "
                         f"Received: {name}.shape={x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"Expected `{name}` to be finite. Received: {name} containing NaN or inf")
    return x


def batches(source, name):
    """Yields `(n, d)` arrays from an array or an iterable of arrays.

    A 2-D array is one batch; anything else iterable (a list of batches, a
    generator, a `tf.data.Dataset` of feature batches) is streamed.
    """
    if hasattr(source, "shape") and len(source.shape) == 2:
        yield source
        return
    if isinstance(source, (str, bytes)) or not hasattr(source, "__iter__"):
        raise ValueError(f"Expected `{name}` to be an array (num_examples, num_features) or an iterable "
                         f"of such batches. Received: {name} of type {type(source).__name__}")
    for batch in source:
        yield batch
