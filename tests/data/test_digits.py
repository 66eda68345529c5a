"""The offline scikit-learn digits: shapes, range, splits, determinism."""

import numpy as np
import pytest

import tfvae  # noqa: F401  (quiet TF import)
from tfvae import data


def _all(ds):
    return np.concatenate([b.numpy() for b in ds])


def test_info_is_frozen_and_matches_the_data():
    info = data.info("digits")
    assert info.input_shape == (8, 8, 1) and info.num_bins == 17 and info.num_dims == 64
    assert dict(info.num_examples) == {"train": 1437, "validation": 144, "test": 360}
    assert info.splits == ("train", "validation", "test")
    with pytest.raises(Exception):
        info.num_bins = 2
    with pytest.raises(TypeError):
        info.num_examples["train"] = 1


@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_split_sizes_shapes_and_levels(split):
    x = data.load_numpy("digits", split=split)
    assert x.shape == (data.info("digits").num_examples[split], 8, 8, 1)
    assert x.dtype == np.float32 and x.min() == 0.0 and x.max() == 1.0
    # Values are exactly the 17 levels k / 16.
    np.testing.assert_array_equal(x * 16, np.round(x * 16))


def test_splits_are_disjoint_and_validation_is_the_end_of_train():
    train, val, test = (data.load_numpy("digits", s) for s in ("train", "validation", "test"))
    np.testing.assert_array_equal(val, train[-144:])
    np.testing.assert_array_equal(data.load_numpy("digits", "train[90%:]"), val)
    assert len(data.load_numpy("digits", "train[:90%]")) == 1293
    keys = lambda a: {row.tobytes() for row in a}  # noqa: E731
    # The 1797 images are pairwise distinct, so disjoint splits share none.
    assert len(keys(train)) == 1437 and not keys(train) & keys(test)
    assert len(data.load_numpy("digits", "train+test")) == 1797


def test_load_yields_batches_and_is_deterministic():
    ds = data.load("digits", split="train", batch_size=500)
    batches = [b.numpy() for b in ds]
    assert [b.shape for b in batches] == [(500, 8, 8, 1), (500, 8, 8, 1), (437, 8, 8, 1)]
    first, second = np.concatenate(batches), _all(ds)
    assert not np.array_equal(first, second)  # Reshuffled every epoch...
    np.testing.assert_array_equal(np.sort(first.reshape(-1)), np.sort(second.reshape(-1)))
    again = _all(data.load("digits", split="train", batch_size=500))
    np.testing.assert_array_equal(first, again)  # ... but reproducibly from the seed.
    other_seed = _all(data.load("digits", split="train", batch_size=500, seed=1))
    assert not np.array_equal(first, other_seed)


def test_test_split_is_unshuffled_and_matches_load_numpy():
    np.testing.assert_array_equal(_all(data.load("digits", "test", batch_size=100)),
                                  data.load_numpy("digits", "test"))


def test_labels_drop_remainder_and_repeat():
    x, y = next(iter(data.load("digits", "test", batch_size=32, with_labels=True)))
    assert x.shape == (32, 8, 8, 1) and y.shape == (32,) and y.dtype.name == "int32"
    _, labels = data.load_numpy("digits", "test", with_labels=True)
    np.testing.assert_array_equal(y.numpy(), labels[:32])
    assert len(list(data.load("digits", "test", batch_size=100, drop_remainder=True))) == 3
    assert len(list(data.load("digits", "test", batch_size=100, repeat=True).take(7))) == 7


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="digitz"), r"Unknown dataset.*'digits'.*'mnist'"),
    (dict(name="digits", batch_size=0), r"`batch_size` to be a positive integer.*batch_size=0"),
    (dict(name="digits", batch_size=2.5), r"batch_size=2.5"),
    (dict(name="digits", split="tset"), r"Unknown split 'tset'"),
    (dict(name="digits", split="train[:x]"), r"integers or percentages"),
    (dict(name="digits", seed=-1), r"`seed`"),
    (dict(name="digits", binarize=True, dequantize=True), r"at most one of `binarize` and `dequantize`"),
])
def test_bad_arguments_name_what_was_wrong(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.load(**kwargs)
