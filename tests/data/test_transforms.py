"""Binarisation and dequantisation: values, per-epoch freshness, fixed eval draws."""

import numpy as np
import pytest

import tfvae  # noqa: F401  (quiet TF import)
from tfvae import data


def _epoch(ds):
    return np.concatenate([b.numpy() for b in ds])


def _epochs(ds, n=2):
    return [_epoch(ds) for _ in range(n)]


def test_train_binarisation_is_binary_fresh_each_epoch_and_reproducible():
    # shuffle=False isolates the noise from the shuffling.
    make = lambda seed=0: data.load("digits", "train", batch_size=256, binarize=True,  # noqa: E731
                                    shuffle=False, seed=seed)
    first, second = _epochs(make())
    assert set(np.unique(first)) == {0.0, 1.0}
    assert first.dtype == np.float32 and first.shape == (1437, 8, 8, 1)
    changed = np.mean(first != second)
    assert changed > 0.05, changed  # A fresh Bernoulli draw each epoch.
    rerun = _epochs(make())
    np.testing.assert_array_equal(rerun[0], first)  # Same seed, same run.
    np.testing.assert_array_equal(rerun[1], second)
    assert not np.array_equal(_epoch(make(seed=1)), first)


def test_binarisation_is_unbiased():
    x = data.load_numpy("digits", "train")
    draws = np.mean(_epochs(data.load("digits", "train", batch_size=1437, binarize=True,
                                      shuffle=False), n=8), axis=0)
    # Mean of 8 draws over 1437 * 64 pixels: the overall mean is within ~4 sd.
    assert abs(draws.mean() - x.mean()) < 0.005
    # Pixels at 0 or 1 are never flipped.
    assert np.all(draws[x == 0] == 0) and np.all(draws[x == 1] == 1)


def test_test_binarisation_is_fixed_across_epochs_batch_sizes_and_order():
    a, b = _epochs(data.load("digits", "test", batch_size=64, binarize=True))
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0.0, 1.0}
    np.testing.assert_array_equal(_epoch(data.load("digits", "test", batch_size=360, binarize=True)), a)
    # Keyed on the example, not its position: shuffling permutes the same draws.
    shuffled = _epoch(data.load("digits", "test", batch_size=64, binarize=True, shuffle=True))
    assert not np.array_equal(shuffled, a)
    assert {r.tobytes() for r in shuffled} == {r.tobytes() for r in a}
    # A different seed gives a different (still fixed) draw.
    assert not np.array_equal(_epoch(data.load("digits", "test", batch_size=64, binarize=True, seed=3)), a)


@pytest.mark.parametrize("split", ["train", "test"])
def test_dequantisation_range_and_levels(split):
    levels = np.round(data.load_numpy("digits", split) * 16)
    first, second = _epochs(data.load("digits", split, batch_size=512, dequantize=True, shuffle=False))
    for y in (first, second):
        assert y.dtype == np.float32 and y.min() > 0.0 and y.max() < 1.0
        np.testing.assert_array_equal(np.floor(y * 17), levels)  # L = 17 levels.
        np.testing.assert_array_equal(np.floor(y.astype(np.float64) * 17), levels)
    if split == "train":
        assert np.mean(first != second) > 0.99  # Fresh noise each epoch.
        # The noise u = y L - k is uniform on [0, 1): mean 1/2, variance 1/12.
        u = first * 17 - levels
        assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.01
    else:
        np.testing.assert_array_equal(first, second)  # Fixed for evaluation.


def test_training_flag_overrides_the_split_rule():
    # training=False also turns the default shuffling off.
    a, b = _epochs(data.load("digits", "train", batch_size=512, binarize=True, training=False))
    np.testing.assert_array_equal(a, b)
    c, d = _epochs(data.load("digits", "test", batch_size=512, binarize=True, training=True, shuffle=False))
    assert np.mean(c != d) > 0.05
