"""Static facts about the datasets `tfvae.data` knows by name.

Kept as plain data (no TensorFlow Datasets import) so `tfvae.data.info` is
instant and works offline, before any data is downloaded.
"""

import dataclasses
import types
from typing import Mapping, Optional, Tuple


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a model needs to know about a dataset before seeing it.

    Attributes:
      name: the name `tfvae.data.load` accepts.
      input_shape: `(H, W, C)` of one image.
      num_bins: number of discrete intensity levels `L` in the stored data
        (17 for the scikit-learn digits, 256 for 8-bit images, 2 for
        binarized MNIST). Images are scaled to `k / (L - 1)` in [0, 1].
      num_examples: examples per named split, e.g. `{"train": 60000, ...}`.
      splits: the named splits, in a conventional order.
      num_classes: number of label classes, or None if there are no labels.
      source: `"sklearn"` (bundled, offline) or `"tfds"` (TensorFlow
        Datasets; must be downloaded once).
    """

    name: str
    input_shape: Tuple[int, int, int]
    num_bins: int
    num_examples: Mapping[str, int]
    splits: Tuple[str, ...]
    num_classes: Optional[int]
    source: str

    @property
    def has_labels(self):
        return self.num_classes is not None

    @property
    def num_dims(self):
        """Number of pixel values per example (H * W * C), e.g. for bits/dim."""
        h, w, c = self.input_shape
        return h * w * c


def _info(name, input_shape, num_bins, num_examples, num_classes, source):
    return DatasetInfo(
        name=name, input_shape=tuple(input_shape), num_bins=num_bins,
        # A read-only view keeps the frozen dataclass honestly immutable.
        num_examples=types.MappingProxyType(dict(num_examples)),
        splits=tuple(num_examples), num_classes=num_classes, source=source)


# Digits: a seeded permutation of scikit-learn's 1797 images, 1437 train and
# 360 test; "validation" is the last 10% of "train" (see tfvae.data.digits).
_REGISTRY = {
    "digits": _info("digits", (8, 8, 1), 17,
                    {"train": 1437, "validation": 144, "test": 360}, 10, "sklearn"),
    "mnist": _info("mnist", (28, 28, 1), 256, {"train": 60000, "test": 10000}, 10, "tfds"),
    "fashion_mnist": _info("fashion_mnist", (28, 28, 1), 256,
                           {"train": 60000, "test": 10000}, 10, "tfds"),
    "binarized_mnist": _info("binarized_mnist", (28, 28, 1), 2,
                             {"train": 50000, "validation": 10000, "test": 10000}, None, "tfds"),
    "cifar10": _info("cifar10", (32, 32, 3), 256, {"train": 50000, "test": 10000}, 10, "tfds"),
}


def names():
    """Returns the dataset names `tfvae.data.load` accepts, sorted."""
    return tuple(sorted(_REGISTRY))


def info(name):
    """Returns the `DatasetInfo` of a known dataset, without loading it.

    Args:
      name: one of `tfvae.data.names()`.

    Returns:
      A frozen `DatasetInfo`.

    Raises:
      ValueError: if `name` is not a known dataset (the message lists them).
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(
            f"Unknown dataset. Expected `name` to be one of {list(names())}. Received: name={name!r}")
    return _REGISTRY[name]
