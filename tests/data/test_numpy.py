"""`from_numpy`: argument checks and the pipeline on in-memory images."""

import numpy as np
import pytest

import tfvae  # noqa: F401  (quiet TF import)
from tfvae import data


def _x(n=10, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 4, 3, 2)).astype(np.float32) / 255


def test_batches_shapes_and_values():
    x = _x()
    ds = data.from_numpy(x, batch_size=4, shuffle=False)
    batches = [b.numpy() for b in ds]
    assert [b.shape for b in batches] == [(4, 4, 3, 2), (4, 4, 3, 2), (2, 4, 3, 2)]
    assert batches[0].dtype == np.float32
    np.testing.assert_array_equal(np.concatenate(batches), x)


def test_shuffle_is_seeded_and_labels_follow_images():
    x, y = _x(), np.arange(10)
    a = [(b.numpy(), l.numpy()) for b, l in data.from_numpy(x, y, batch_size=10, seed=5)][0]
    b = [(b.numpy(), l.numpy()) for b, l in data.from_numpy(x, y, batch_size=10, seed=5)][0]
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[1], np.arange(10))
    np.testing.assert_array_equal(a[0], x[a[1]])
    assert a[1].dtype == np.int32


def test_binarize_and_dequantize():
    x = _x()
    b = next(iter(data.from_numpy(x, batch_size=10, binarize=True)))
    assert set(np.unique(b.numpy())) <= {0.0, 1.0}
    y = next(iter(data.from_numpy(x, batch_size=10, shuffle=False, dequantize=True, num_bins=256))).numpy()
    np.testing.assert_array_equal(np.floor(y * 256), np.round(x * 255))


@pytest.mark.parametrize("x, match", [
    (np.zeros((4, 8, 8)), r"4-D \(N, H, W, C\).*shape \(4, 8, 8\)"),
    (np.zeros((0, 2, 2, 1)), r"at least one image"),
    (np.full((2, 2, 2, 1), 1.5), r"in \[0, 1\].*1.5"),
    (np.full((2, 2, 2, 1), -0.1), r"in \[0, 1\]"),
    (np.full((2, 2, 2, 1), np.nan), r"finite.*NaN"),
    (np.array([[[["a"]]]]), r"hold numbers"),
])
def test_bad_images_raise_naming_the_problem(x, match):
    with pytest.raises(ValueError, match=match):
        data.from_numpy(x)


@pytest.mark.parametrize("kwargs, match", [
    (dict(batch_size=0), r"Expected `batch_size` to be a positive integer. Received: batch_size=0"),
    (dict(batch_size=-3), r"batch_size=-3"),
    (dict(dequantize=True), r"`num_bins`"),
    (dict(dequantize=True, num_bins=1), r"`num_bins` to be at least 2"),
    (dict(binarize=True, dequantize=True, num_bins=256), r"at most one"),
    (dict(y=np.zeros(3, np.int64)), r"`y` to be integer labels of shape \(10,\)"),
    (dict(y=np.zeros(10)), r"`y` to be integer labels"),
    (dict(shuffle="yes"), r"`shuffle` to be a boolean"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.from_numpy(_x(), **kwargs)
