"""MNIST and Fashion-MNIST from their original IDX files, without TFDS.

The four files LeCun et al. and Zalando publish (and that Debian's
`dataset-fashion-mnist` package installs under
/usr/share/datasets/fashion-mnist) are read directly, gzipped or not:

    train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
    t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]

IDX format: two zero bytes, a type code (0x08 = uint8), the number of
dimensions n, then n big-endian uint32 sizes, then the values in C order.
`tfvae.data.load(name, data_dir=DIR)` uses these files whenever DIR (or
DIR/<name>, DIR/<name with '-'>) holds them, so no TFDS preparation is needed.
"""

import gzip
import os

import numpy as np

from tfvae.data import splits as splits_lib

#: name -> split -> (images file stem, labels file stem).
FILES = {
    name: {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
           "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    for name in ("mnist", "fashion_mnist")
}

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
           0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path):
    """Reads one IDX file (optionally gzipped) into a NumPy array.

    Args:
      path: file path; a name ending in ".gz" is decompressed.

    Returns:
      An array of the stored shape and type (native byte order).

    Raises:
      ValueError: the file is not IDX (bad magic number, unknown type code)
        or its size disagrees with the header (e.g. a truncated download).
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise ValueError(f"{path!s} is not an IDX file: expected the magic bytes 00 00 <type> <ndim>, "
                         f"found {raw[:4].hex(' ') or 'an empty file'}.")
    dtype, ndim = np.dtype(_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path!s} is truncated: its IDX header needs {header} bytes, the file has {len(raw)}.")
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path!s} has {len(raw)} bytes but its IDX header (shape {shape}, {dtype}) "
                         f"implies {expected}: the file is truncated or corrupt.")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _file(directory, stem):
    for candidate in (stem, stem + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path
    return None


def locate(name, data_dir):
    """The directory holding all four IDX files of `name`, or None.

    Looks in `data_dir`, `data_dir/<name>` and `data_dir/<name with '-'>`
    (the layout of Debian's dataset-fashion-mnist). Returns None for a
    dataset without IDX files or when `data_dir` is None.
    """
    if name not in FILES or data_dir is None:
        return None
    data_dir = os.path.expanduser(os.fspath(data_dir))
    stems = [stem for pair in FILES[name].values() for stem in pair]
    for directory in (data_dir, os.path.join(data_dir, name), os.path.join(data_dir, name.replace("_", "-"))):
        if all(_file(directory, stem) for stem in stems):
            return directory
    return None


def load_levels(name, split, directory):
    """Images and labels of `split` from the IDX files in `directory`.

    Args:
      name: "mnist" or "fashion_mnist".
      split: "train", "test" or a slice such as "train[:90%]" or "train[-5000:]".
      directory: a directory `locate` returned.

    Returns:
      `(levels, labels)`: uint8 `(N, 28, 28, 1)` in 0..255 and int32 `(N,)`,
      in the files' order.

    Raises:
      ValueError: unknown or malformed split, or files that are not IDX,
        disagree with each other, or are not 28x28 images.
    """
    wanted = splits_lib.base_names(split, tuple(FILES[name]))
    base = {}
    for part in FILES[name]:
        if part not in wanted:
            continue
        image_path, label_path = (_file(directory, stem) for stem in FILES[name][part])
        images, labels = read_idx(image_path), read_idx(label_path)
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
            raise ValueError(f"{image_path} should hold uint8 28x28 images; it holds {images.dtype} "
                             f"of shape {images.shape}.")
        if labels.shape != images.shape[:1]:
            raise ValueError(f"{label_path} has {labels.shape[0] if labels.ndim else 0} labels for "
                             f"{images.shape[0]} images in {image_path}.")
        base[part] = (images[..., None], labels.astype(np.int32))
    sizes = {part: len(labels) for part, (_, labels) in base.items()}
    pieces = [(base[part][0][a:b], base[part][1][a:b]) for part, a, b in splits_lib.select(split, sizes)]
    return np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])
