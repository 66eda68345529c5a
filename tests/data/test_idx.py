"""MNIST-format IDX files read without TFDS (synthetic files in the real layout)."""

import gzip
import struct

import numpy as np
import pytest

import tfvae  # noqa: F401  (quiet TF import)
from tfvae import data
from tfvae.data import idx


def write_idx(path, array, gz=True):
    array = np.asarray(array)
    code = {np.dtype("uint8"): 0x08, np.dtype("int32"): 0x0C}[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    body = array.astype(array.dtype.newbyteorder(">")).tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(header + body)


def make_dataset(directory, n_train=7, n_test=3, gz=True):
    rng = np.random.default_rng(0)
    arrays = {}
    for part, stems, n in (("train", idx.FILES["mnist"]["train"], n_train),
                           ("test", idx.FILES["mnist"]["test"], n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, (n,), dtype=np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(directory / (stems[0] + suffix), images, gz)
        write_idx(directory / (stems[1] + suffix), labels, gz)
        arrays[part] = (images, labels)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trips_every_supported_layout(tmp_path, gz):
    a = np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 5
    write_idx(tmp_path / "a.idx", a, gz=False)
    np.testing.assert_array_equal(idx.read_idx(tmp_path / "a.idx"), a)
    b = np.arange(6, dtype=np.uint8)
    write_idx(tmp_path / ("b.idx.gz" if gz else "b.idx"), b, gz=gz)
    out = idx.read_idx(tmp_path / ("b.idx.gz" if gz else "b.idx"))
    assert out.dtype == np.uint8 and out.tolist() == b.tolist()


def test_read_idx_rejects_non_idx_and_truncated_files(tmp_path):
    (tmp_path / "junk").write_bytes(b"<html>not found</html>")
    with pytest.raises(ValueError, match="not an IDX file"):
        idx.read_idx(tmp_path / "junk")
    write_idx(tmp_path / "t", np.zeros((4, 28, 28), np.uint8), gz=False)
    raw = (tmp_path / "t").read_bytes()
    (tmp_path / "t").write_bytes(raw[:-10])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        idx.read_idx(tmp_path / "t")


@pytest.mark.parametrize("layout", ["flat", "named", "debian"])
def test_load_reads_idx_files_from_data_dir_without_tfds(tmp_path, layout, monkeypatch):
    directory = {"flat": tmp_path, "named": tmp_path / "fashion_mnist",
                 "debian": tmp_path / "fashion-mnist"}[layout]
    directory.mkdir(exist_ok=True)
    arrays = make_dataset(directory, gz=layout != "named")
    monkeypatch.setattr(data.tfds, "source", lambda *a, **k: pytest.fail("TFDS was used"))
    x, y = data.load_numpy("fashion_mnist", "test", with_labels=True, data_dir=tmp_path)
    np.testing.assert_array_equal(x[..., 0] * 255.0, arrays["test"][0].astype(np.float32))
    np.testing.assert_array_equal(y, arrays["test"][1])
    assert x.shape == (3, 28, 28, 1) and y.dtype == np.int32
    # Slices follow the TFDS syntax; the pipeline binarises and batches as for any source.
    tail = data.load_numpy("fashion_mnist", "train[-2:]+test[:1]", data_dir=tmp_path)
    np.testing.assert_array_equal(tail[:2, ..., 0] * 255.0, arrays["train"][0][-2:])
    batches = list(data.load("fashion_mnist", "train", batch_size=4, binarize=True, data_dir=tmp_path))
    assert [b.shape[0] for b in batches] == [4, 3]
    assert set(np.unique(np.concatenate([b.numpy() for b in batches]))) <= {0.0, 1.0}


def test_incomplete_idx_directory_falls_back_to_tfds_and_its_instructions(tmp_path):
    make_dataset(tmp_path)
    (tmp_path / (idx.FILES["mnist"]["test"][1] + ".gz")).unlink()
    assert idx.locate("mnist", tmp_path) is None
    pytest.importorskip("tensorflow_datasets")
    with pytest.raises(data.DatasetNotAvailableError, match="IDX files"):
        data.load_numpy("mnist", "test", data_dir=tmp_path)


def test_mismatched_label_file_is_named(tmp_path):
    make_dataset(tmp_path)
    write_idx(tmp_path / (idx.FILES["mnist"]["test"][1] + ".gz"), np.zeros((2,), np.uint8))
    with pytest.raises(ValueError, match="2 labels for 3 images"):
        data.load_numpy("mnist", "test", data_dir=tmp_path)
