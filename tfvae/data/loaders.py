"""`tfvae.data.load` and `load_numpy`: datasets by name.

"digits" comes from scikit-learn (offline); "mnist" and "fashion_mnist" from
their original IDX files when `data_dir` holds them (`tfvae.data.idx`); the
rest from TensorFlow Datasets (see `tfvae.data.tfds` for the offline
behaviour).
"""

import numpy as np
import tensorflow as tf

from tfvae.data import _checks
from tfvae.data import digits
from tfvae.data import idx
from tfvae.data import pipeline
from tfvae.data import registry
from tfvae.data import splits as splits_lib


def _source(name, split, data_dir, download):
    """Returns `(dataset of {"image": levels, "label"}, num_examples, info, in_memory)`."""
    info = registry.info(name)
    idx_dir = idx.locate(name, data_dir)
    if info.source == "sklearn" or idx_dir is not None:
        if idx_dir is not None:
            levels, labels = idx.load_levels(name, split, idx_dir)
        else:
            levels, labels = digits.load_levels(split)
        ds = tf.data.Dataset.from_tensor_slices({"image": levels, "label": labels})
        return ds, len(labels), info, True
    from tfvae.data import tfds as tfds_source  # Lazy: imports tensorflow_datasets.

    ds, n = tfds_source.source(name, split, data_dir=data_dir, download=download)
    return ds, n, info, False


def load(name, split="train", *, batch_size=128, binarize=False, dequantize=False, shuffle=None,
         seed=0, repeat=False, drop_remainder=False, cache=True, with_labels=False, training=None,
         data_dir=None, download=False):
    """Loads a named dataset as a batched `tf.data.Dataset` of images in [0, 1].

    Images are `k / (L - 1)` for levels `k` in 0..L-1 (`L = info(name).num_bins`).
    Optional transforms, at most one:

    - `binarize`: `b ~ Bernoulli(x)` per pixel (for Bernoulli likelihoods).
    - `dequantize`: `y = (k + u) / L`, `u ~ U[0, 1)` (for continuous
      likelihoods; `floor(y L) = k`).

    On training splits (every part of `split` is a slice of "train") the
    noise is drawn afresh every epoch; elsewhere it is one fixed draw per
    example, so evaluation is deterministic. Both follow from `seed`.

    Args:
      name: one of `tfvae.data.names()`: "digits" (scikit-learn, offline),
        "mnist", "fashion_mnist", "binarized_mnist", "cifar10" (TFDS).
      split: "train", "test", "validation" (digits, binarized_mnist), or a
        TFDS slice such as "train[:90%]" or "train[90%:]".
      batch_size: positive int.
      binarize, dequantize: the transforms above.
      shuffle: reshuffle every epoch; defaults to `training`.
      seed: non-negative int seeding shuffling and noise.
      repeat: repeat forever (then pass `steps_per_epoch` to `fit`).
      drop_remainder: drop the last partial batch.
      cache: cache the raw uint8 examples in memory after the first pass
        (TFDS datasets; the digits and IDX files are in memory already, so
        it is a no-op for them).
      with_labels: yield `(images, labels)` with int32 labels.
      training: override the "is this a training split" rule above.
      data_dir: TFDS data directory (default `$TFDS_DATA_DIR` or
        `~/tensorflow_datasets`). For "mnist" and "fashion_mnist" it may
        instead hold the four original IDX files (gzipped or not), directly
        or in a `<name>` subdirectory, e.g. Debian's
        "/usr/share/datasets/fashion-mnist"; those are read directly.
      download: allow TFDS to download and prepare the data (network).

    Returns:
      `tf.data.Dataset` of float32 `(batch, H, W, C)`, or `(images, labels)`.

    Raises:
      ValueError: unknown name or split, bad batch size or seed, both
        transforms, or `with_labels` on a dataset without labels.
      tfvae.data.DatasetNotAvailableError (a `FileNotFoundError`): a TFDS
        dataset is not prepared locally and `download` is False.
    """
    info = registry.info(name)
    _checks.positive_int(batch_size, "batch_size")
    _checks.seed(seed)
    if with_labels and not info.has_labels:
        raise ValueError(f"Expected a dataset with labels for `with_labels=True`; {name!r} has none.")
    if training is None:
        training = splits_lib.is_training_split(split, info.splits)
    training = bool(_checks.boolean(training, "training"))
    shuffle = training if shuffle is None else bool(_checks.boolean(shuffle, "shuffle"))
    ds, n, info, in_memory = _source(name, split, data_dir, download)
    return pipeline.build(
        ds, levels=True, num_bins=info.num_bins, batch_size=batch_size, training=training,
        binarize=binarize, dequantize=dequantize, shuffle=shuffle, seed=seed, repeat=repeat,
        drop_remainder=drop_remainder, cache=bool(cache) and not in_memory,
        with_labels=with_labels, num_examples=n)


def load_numpy(name, split="test", *, with_labels=False, data_dir=None, download=False):
    """Loads a whole split into memory, un-binarised, in its stored order.

    Args:
      name, split, data_dir, download: as in `load`.
      with_labels: also return the int32 labels.

    Returns:
      float32 array `(N, H, W, C)` in [0, 1] (levels `k / (L - 1)`), or
      `(images, labels)` if `with_labels`.

    Raises:
      As `load`.
    """
    info = registry.info(name)
    if with_labels and not info.has_labels:
        raise ValueError(f"Expected a dataset with labels for `with_labels=True`; {name!r} has none.")
    ds, _, info, _ = _source(name, split, data_dir, download)
    images, labels = [], []
    for batch in ds.batch(10_000).as_numpy_iterator():
        images.append(batch["image"])
        if with_labels:
            labels.append(batch["label"])
    if not images:
        x = np.zeros((0, *info.input_shape), np.float32)
    else:
        x = np.concatenate(images).astype(np.float32) / np.float32(info.num_bins - 1)
    if with_labels:
        y = np.concatenate(labels).astype(np.int32) if labels else np.zeros((0,), np.int32)
        return x, y
    return x
