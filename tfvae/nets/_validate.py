"""Argument checks shared by the constructors (Keras-style messages)."""

import numbers
import os

import keras
import numpy as np


def positive_int(value, name):
    """Returns `value` as an int, or raises naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"Expected `{name}` to be a positive integer. Received: {name}={value!r}")
    return int(value)


def nonnegative_float(value, name):
    """Returns `value` as a float if it is a finite number >= 0, or raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"Expected `{name}` to be a non-negative number. Received: {name}={value!r}")
    if value == float("inf"):
        raise ValueError(f"Expected `{name}` to be a non-negative number, not infinity. Received: {name}={value!r}")
    return float(value)


def boolean(value, name):
    """Returns `value` if it is a bool (or numpy bool), or raises: strings
    such as "no" are not silently truthy."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Expected `{name}` to be a boolean. Received: {name}={value!r}")
    return bool(value)


def available_memory_bytes():
    """Physical memory this process could still allocate (Linux/macOS:
    available pages; elsewhere None, meaning unknown)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits_in_memory(num_bytes, what, hint):
    """Raises `ValueError` if a tensor of `num_bytes` would not fit in the
    memory available now; `hint` says how to ask for less."""
    available = available_memory_bytes()
    if available is not None and num_bytes > available:
        raise ValueError(f"{what} needs about {num_bytes / 2**30:.3g} GiB, more than the "
                         f"{available / 2**30:.3g} GiB of memory available: {hint}")


def positive_float(value, name):
    """Returns `value` as a float if it is a finite number > 0, or raises."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0
            or value == float("inf")):
        raise ValueError(f"Expected `{name}` to be a positive finite number. Received: {name}={value!r}")
    return float(value)


def positive_int_tuple(values, name, allow_empty=False):
    """Returns a tuple of positive ints, or raises naming the argument."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(
            f"Expected `{name}` to be a sequence of positive integers. Received: {name}={values!r}")
    values = tuple(values)
    if not values and not allow_empty:
        raise ValueError(f"Expected `{name}` to be a non-empty sequence. Received: {name}={values!r}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
            raise ValueError(
                f"Expected `{name}` to be a sequence of positive integers. Received: {name}={values!r}")
    return tuple(int(v) for v in values)


def activation_name(activation):
    """Checks that Keras knows the activation; returns it unchanged."""
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"Expected `activation` to be a Keras activation name. Received: activation={activation!r}") from e
    return activation
