"""Batched `tf.data` pipelines from in-memory NumPy images."""

import numpy as np
import tensorflow as tf

from tfvae.data import _checks
from tfvae.data import pipeline


def check_images(x, name="x"):
    """Returns `x` as float32 `(N, H, W, C)` in [0, 1], or raises naming the problem."""
    try:
        arr = np.asarray(x)
    except Exception as e:  # noqa: BLE001 - any conversion failure is a bad argument
        raise ValueError(f"Expected `{name}` to be an array of images. Received: {type(x).__name__}") from e
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"Expected `{name}` to hold numbers. Received: {name} with dtype {arr.dtype}")
    if arr.ndim != 4:
        raise ValueError(
            f"Expected `{name}` to be 4-D (N, H, W, C). Received: {name} with shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"Expected `{name}` to hold at least one image. Received: {name} with shape {arr.shape}")
    arr = arr.astype(np.float32)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"Expected `{name}` to be finite. Received: {name} containing NaN or inf")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"Expected `{name}` to be in [0, 1]. Received: {name} with values in [{lo}, {hi}]")
    return arr


def from_numpy(x, y=None, *, batch_size=128, shuffle=True, seed=0, binarize=False, dequantize=False,
               num_bins=None, training=None, repeat=False, drop_remainder=False, cache=False):
    """Makes a batched dataset from images in memory.

    Args:
      x: images `(N, H, W, C)` in [0, 1] (any real dtype; cast to float32).
      y: optional labels `(N,)`; if given the dataset yields `(x, y)` with
        int32 labels.
      batch_size: positive int.
      shuffle: reshuffle every epoch (seeded).
      seed: non-negative int; the run's shuffling and noise follow from it.
      binarize: replace `x` by a draw `b ~ Bernoulli(x)`.
      dequantize: replace `x` by `(round(x (L-1)) + u) / L`, `u ~ U[0, 1)`;
        needs `num_bins` (`L`).
      num_bins: number of discrete levels `L` in `x` (e.g. 256).
      training: fresh noise every epoch if True, one fixed draw per example
        if False; defaults to `shuffle`.
      repeat, drop_remainder, cache: as in `tf.data`.

    Returns:
      A `tf.data.Dataset` of float32 `(batch, H, W, C)` (or `(x, y)` pairs).

    Raises:
      ValueError: if `x` is not 4-D, not finite or not in [0, 1], `y` does
        not match, `batch_size` is not positive, or `dequantize` is set
        without a valid `num_bins`.
    """
    arr = check_images(x)
    shuffle = bool(_checks.boolean(shuffle, "shuffle"))
    training = shuffle if training is None else bool(_checks.boolean(training, "training"))
    if dequantize:
        if num_bins is None:
            raise ValueError("Expected `num_bins` (number of levels, e.g. 256) with `dequantize=True`. "
                             "Received: num_bins=None")
        num_bins = _checks.positive_int(num_bins, "num_bins")
        if num_bins < 2:
            raise ValueError(f"Expected `num_bins` to be at least 2. Received: num_bins={num_bins}")
    elements = {"image": arr}
    if y is not None:
        labels = np.asarray(y)
        if labels.shape != (arr.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"Expected `y` to be integer labels of shape ({arr.shape[0]},). "
                f"Received: y with shape {labels.shape} and dtype {labels.dtype}")
        elements["label"] = labels.astype(np.int32)
    source = tf.data.Dataset.from_tensor_slices(elements)
    return pipeline.build(
        source, levels=False, num_bins=num_bins or 2, batch_size=batch_size, training=training,
        binarize=binarize, dequantize=dequantize, shuffle=shuffle, seed=seed, repeat=repeat,
        drop_remainder=drop_remainder, cache=cache, with_labels=y is not None, num_examples=len(arr))
