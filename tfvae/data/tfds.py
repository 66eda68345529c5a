"""TensorFlow Datasets sources: MNIST, Fashion-MNIST, binarized MNIST, CIFAR-10.

`tensorflow_datasets` is imported only here and only when one of these is
requested, so `import tfvae` stays fast. Nothing touches the network unless
the caller passes `download=True`: the prepared files are looked up in
`data_dir` first, and a missing dataset raises `DatasetNotAvailableError`
at once, saying where it looked and how to provide the data.
"""

import os

import tensorflow as tf

from tfvae.data import idx
from tfvae.data import registry
from tfvae.data import splits as splits_lib


class DatasetNotAvailableError(FileNotFoundError):
    """A TFDS dataset is not prepared locally and downloading was not allowed."""


def _import_tfds():
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:  # pragma: no cover - it is a declared dependency
        raise ImportError(
            "Loading TFDS datasets needs `tensorflow-datasets`: pip install tensorflow-datasets") from e
    return tfds


def _not_available_message(name, builder, data_dir):
    root = data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets (the TFDS default)"
    return (
        f"Dataset {name!r} is not available offline: no prepared copy was found in "
        f"{builder.data_dir!r} (data_dir={root}). To provide it:\n"
        f"  - pass `download=True` on a machine with internet access;\n"
        f"  - on a machine with internet run `tfds build {name} --data_dir=DIR` (or "
        f"`tfds.load({name!r}, data_dir=DIR)`), copy DIR/{name} to this machine and pass "
        f"`data_dir=DIR` (or set TFDS_DATA_DIR=DIR);\n"
        + ("  - or put the four original IDX files (train-images-idx3-ubyte.gz, ...; Debian's "
           "dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist) in a directory DIR "
           "and pass `data_dir=DIR`.\n" if name in idx.FILES else "") +
        "The scikit-learn 'digits' dataset works offline: tfvae.data.load('digits', ...).")


def builder(name, data_dir=None, download=False):
    """Returns a prepared TFDS builder, preparing it only if `download`.

    Raises:
      DatasetNotAvailableError: not prepared in `data_dir` and not `download`.
    """
    tfds = _import_tfds()
    b = tfds.builder(name, data_dir=data_dir)
    if not b.is_prepared():
        if not download:
            raise DatasetNotAvailableError(_not_available_message(name, b, data_dir))
        b.download_and_prepare()
    return b


def source(name, split, data_dir=None, download=False):
    """Returns the raw examples of a TFDS split.

    Args:
      name: a registered TFDS dataset name (see `tfvae.data.names()`).
      split: a split name or TFDS slice such as "train[:90%]".
      data_dir: TFDS data directory; None uses TFDS's default
        (`$TFDS_DATA_DIR` or `~/tensorflow_datasets`).
      download: allow downloading and preparing the dataset.

    Returns:
      `(dataset, num_examples)`: a `tf.data.Dataset` of dicts
      `{"image": uint8 (H, W, C)[, "label": int64 ()]}` in a fixed order, and
      its size if TFDS knows it (else None).

    Raises:
      ValueError: unknown split.
      DatasetNotAvailableError: the data is not prepared and `download` is False.
    """
    info = registry.info(name)
    splits_lib.base_names(split, info.splits)  # Fail on a typo before any I/O.
    b = builder(name, data_dir=data_dir, download=download)
    # shuffle_files=False: a fixed order, so `[index, seed]`-keyed evaluation
    # noise is the same on every run.
    ds = b.as_dataset(split=split, shuffle_files=False)
    keep = ("image", "label") if info.has_labels else ("image",)
    ds = ds.map(lambda ex: {k: ex[k] for k in keep}, num_parallel_calls=tf.data.AUTOTUNE)
    n = int(ds.cardinality())
    return ds, (n if n >= 0 else None)
