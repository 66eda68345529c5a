"""The scikit-learn digits: 8x8 greyscale images, available offline.

scikit-learn bundles 1797 handwritten digits with intensities 0..16, so the
data has `L = 17` levels and is scaled to `k / 16` in [0, 1]. A permutation
from a fixed seed makes the splits deterministic on every machine:

- "test": the last 360 examples of the permutation,
- "train": the first 1437,
- "validation": the last 10% of "train" (144 examples, identical to
  "train[90%:]"). It overlaps "train"; for a disjoint pair use
  "train[:90%]" (1293 examples) with "validation".

References:
  Alpaydin & Kaynak (1998), Optical Recognition of Handwritten Digits,
  UCI Machine Learning Repository.
"""

import functools

import numpy as np

from tfvae.data import splits as splits_lib

NUM_TRAIN = 1437
NUM_TEST = 360
_PERMUTATION_SEED = 0  # Part of the dataset's definition: never change it.


@functools.lru_cache(maxsize=1)
def _permuted():
    from sklearn.datasets import load_digits  # Lazy: scikit-learn imports slowly.

    bunch = load_digits()
    # The legacy RandomState stream is frozen by NumPy's compatibility policy,
    # unlike `default_rng`, so the split is the same with any NumPy version.
    order = np.random.RandomState(_PERMUTATION_SEED).permutation(len(bunch.target))
    images = bunch.images[order].astype(np.uint8)[..., None]  # (1797, 8, 8, 1), levels 0..16
    labels = bunch.target[order].astype(np.int32)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _base_splits():
    images, labels = _permuted()
    train = slice(0, NUM_TRAIN)
    validation = slice(NUM_TRAIN - int(np.floor(0.1 * NUM_TRAIN + 0.5)), NUM_TRAIN)
    test = slice(NUM_TRAIN, NUM_TRAIN + NUM_TEST)
    return {name: (images[s], labels[s]) for name, s in
            (("train", train), ("validation", validation), ("test", test))}


def load_levels(split="train"):
    """Returns the raw levels and labels of a digits split.

    Args:
      split: "train", "validation", "test", or a slice of them in the TFDS
        syntax, e.g. "train[:90%]".

    Returns:
      `(levels, labels)`: uint8 array `(N, 8, 8, 1)` with values in 0..16,
      and int32 array `(N,)` with values in 0..9.

    Raises:
      ValueError: on an unknown or malformed split.
    """
    base = _base_splits()
    sizes = {name: len(labels) for name, (_, labels) in base.items()}
    pieces = [(base[name][0][a:b], base[name][1][a:b]) for name, a, b in splits_lib.select(split, sizes)]
    return (np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces]))
