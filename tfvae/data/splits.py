"""Split strings in the TensorFlow Datasets slicing syntax.

`"train"`, `"test"`, `"train[:90%]"`, `"train[-100:]"`, `"train[:50%]+test"`.
TFDS datasets get the string unchanged (TFDS slices them); the bundled
digits are sliced here with the same rules (percent boundaries rounded to
the closest example), so the same split strings work for every dataset.
"""

import math
import re

_PART = re.compile(r"^\s*(?P<base>[A-Za-z_][\w]*)\s*(\[\s*(?P<start>[^:\]]*)\s*:\s*(?P<stop>[^\]]*)\s*\])?\s*$")
_BOUND = re.compile(r"^(?P<value>-?\d+)(?P<percent>%?)$")


def _parts(split, known_splits):
    if not isinstance(split, str) or not split.strip():
        raise ValueError(
            f"Expected `split` to be a split name such as {list(known_splits)} or a slice "
            f"like 'train[:90%]'. Received: split={split!r}")
    parts = []
    for text in split.split("+"):
        match = _PART.match(text)
        if match is None:
            raise ValueError(
                f"Expected `split` in the form 'train', 'train[:90%]' or 'train[10:]+test'. "
                f"Received: split={split!r}")
        if match["base"] not in known_splits:
            raise ValueError(
                f"Unknown split {match['base']!r}. Expected `split` to use one of "
                f"{list(known_splits)}. Received: split={split!r}")
        parts.append((match["base"], match["start"], match["stop"]))
    return parts


def _bound(text, size, split):
    if text is None or not text.strip():
        return None
    match = _BOUND.match(text.strip())
    if match is None:
        raise ValueError(
            f"Expected slice bounds in `split` to be integers or percentages. Received: split={split!r}")
    value = int(match["value"])
    if match["percent"]:
        if not -100 <= value <= 100:
            raise ValueError(
                f"Expected percent slice bounds in `split` within [-100%, 100%]. Received: split={split!r}")
        # Closest rounding, as TFDS does by default.
        return int(math.floor(value * size / 100 + 0.5))
    return value


def base_names(split, known_splits):
    """Validates `split`; returns the base split names it uses, e.g. ('train',)."""
    return tuple(base for base, _, _ in _parts(split, known_splits))


def is_training_split(split, known_splits):
    """True if every part of `split` is a slice of "train"."""
    return all(base == "train" for base in base_names(split, known_splits))


def select(split, sizes):
    """Resolves `split` against splits of the given sizes.

    Args:
      split: a split string, e.g. "train[:90%]+test".
      sizes: mapping from base split name to its number of examples.

    Returns:
      A list of `(base, start, stop)` with non-negative Python ints, to be
      applied as `array[start:stop]` to the base split's examples.

    Raises:
      ValueError: on an unknown split name or malformed slice.
    """
    selected = []
    for base, start, stop in _parts(split, tuple(sizes)):
        size = sizes[base]
        start_i, stop_i, _ = slice(_bound(start, size, split), _bound(stop, size, split)).indices(size)
        selected.append((base, start_i, max(start_i, stop_i)))
    return selected
