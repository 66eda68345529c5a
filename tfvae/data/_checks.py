"""Argument checks for the data pipelines (Keras-style messages).

`tfvae.data` sits at the bottom of the package, so it keeps its own checks
rather than importing `tfvae.nets._validate` (imports point downwards only).
"""

import numbers


def positive_int(value, name):
    """Returns `value` as an int, or raises naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"Expected `{name}` to be a positive integer. Received: {name}={value!r}")
    return int(value)


def boolean(value, name):
    """Returns `value` as a bool; rejects anything but True/False (e.g. 'no')."""
    if not isinstance(value, (bool, type(None))) and not (
            isinstance(value, numbers.Integral) and value in (0, 1)):
        raise ValueError(f"Expected `{name}` to be a boolean. Received: {name}={value!r}")
    return None if value is None else bool(value)


def seed(value, name="seed"):
    """Returns a non-negative int seed, or raises naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"Expected `{name}` to be a non-negative integer. Received: {name}={value!r}")
    return int(value)
