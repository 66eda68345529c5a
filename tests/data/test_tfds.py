"""TFDS datasets with mocked data, and the offline error without network."""

import socket
import time

import numpy as np
import pytest

import tfvae  # noqa: F401  (quiet TF import)
from tfvae import data

tfds = pytest.importorskip("tensorflow_datasets")


@pytest.fixture
def no_network(monkeypatch):
    """Makes any socket connection fail loudly instead of hanging."""
    def refuse(*args, **kwargs):
        raise AssertionError("tfvae.data touched the network")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10", "binarized_mnist"])
def test_mocked_tfds_datasets_yield_float_images_in_unit_interval(name, no_network):
    info = data.info(name)
    # Real binarized MNIST stores 0/1; so must the mock (it draws
    # integers in [0, max_value), despite its docstring saying "maximum").
    max_value = 2 if name == "binarized_mnist" else None
    # mock_data makes `download_and_prepare` a no-op and `as_dataset` random:
    # `download=True` walks the real code path without any download.
    with tfds.testing.mock_data(num_examples=5, max_value=max_value):
        ds = data.load(name, split="train", batch_size=2, download=True)
        batches = [b.numpy() for b in ds]
        assert [b.shape for b in batches] == [(2, *info.input_shape)] * 2 + [(1, *info.input_shape)]
        x = np.concatenate(batches)
        assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0
        levels = x * (info.num_bins - 1)
        np.testing.assert_allclose(levels, np.round(levels), atol=1e-4)
        assert len(np.unique(x)) > 1
        b = np.concatenate([b.numpy() for b in data.load(name, "test", batch_size=5, binarize=True,
                                                         download=True)])
        assert b.shape == (5, *info.input_shape) and set(np.unique(b)) <= {0.0, 1.0}
        numpy_x = data.load_numpy(name, "test", download=True)
        assert numpy_x.shape == (5, *info.input_shape) and numpy_x.dtype == np.float32
        if info.has_labels:
            _, y = next(iter(data.load(name, "test", batch_size=5, with_labels=True, download=True)))
            assert y.shape == (5,) and y.dtype.name == "int32"


def test_tfds_slicing_strings_pass_through():
    with tfds.testing.mock_data(num_examples=4):
        assert data.load_numpy("mnist", "train[:50%]", download=True).shape[1:] == (28, 28, 1)


@pytest.mark.parametrize("name", ["mnist", "cifar10", "binarized_mnist"])
def test_missing_dataset_raises_quickly_with_instructions(name, tmp_path, no_network):
    start = time.monotonic()
    with pytest.raises(data.DatasetNotAvailableError) as err:
        data.load(name, split="test", data_dir=str(tmp_path))
    assert time.monotonic() - start < 20
    message = str(err.value)
    assert "not available offline" in message and str(tmp_path) in message
    assert f"tfds build {name}" in message and "data_dir" in message and "download=True" in message
    assert isinstance(err.value, FileNotFoundError)
    with pytest.raises(data.DatasetNotAvailableError):
        data.load_numpy(name, split="test", data_dir=str(tmp_path))


def test_bad_arguments_fail_before_any_io(tmp_path, no_network):
    with pytest.raises(ValueError, match=r"Unknown split 'valid'.*\['train', 'test'\]"):
        data.load("mnist", split="valid", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"labels.*'binarized_mnist' has none"):
        data.load("binarized_mnist", with_labels=True, data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="positive integer"):
        data.load("cifar10", batch_size=0, data_dir=str(tmp_path))


def test_info_needs_no_download():
    assert data.info("cifar10").input_shape == (32, 32, 3)
    assert data.info("binarized_mnist").num_bins == 2
    assert data.info("mnist").num_examples["train"] == 60000
    assert set(data.names()) == {"digits", "mnist", "fashion_mnist", "binarized_mnist", "cifar10"}
