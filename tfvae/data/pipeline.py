"""The one tf.data recipe every `tfvae.data` source goes through.

    enumerate -> cache -> shuffle -> repeat -> scale (+ fixed noise)
              -> batch -> (+ fresh noise per epoch) -> prefetch

Noise for binarisation/dequantisation is stateless and keyed so runs are
reproducible from `seed`:

- training: keyed on a per-batch seed from `Dataset.random(seed,
  rerandomize_each_iteration=True)`, which gives a new, still seeded,
  stream every epoch (every new iterator and every repetition);
- evaluation: keyed on `[index, seed]` of each example, so every pass, in
  any order or batch size, sees the same binarised/dequantised images.
"""

import tensorflow as tf

from tfvae.data import _checks
from tfvae.data import transforms

# Shuffle the whole split when it fits comfortably (raw uint8 MNIST is 47 MB);
# beyond that a 60k-example buffer is a good approximation.
_MAX_SHUFFLE_BUFFER = 60_000


def build(source, *, levels, num_bins, batch_size, training, binarize, dequantize, shuffle, seed,
          repeat, drop_remainder, cache, with_labels, num_examples=None):
    """Builds the batched dataset.

    Args:
      source: `tf.data.Dataset` of dicts `{"image": (H, W, C)[, "label": ()]}`.
      levels: if True, "image" holds integer levels 0..L-1 (scaled here to
        [0, 1]); if False it is already float in [0, 1].
      num_bins: number of levels `L` (used by scaling and dequantisation).
      batch_size, shuffle, seed, repeat, drop_remainder, cache, with_labels:
        as in `tfvae.data.load`.
      training: draw fresh noise every epoch (True) or a fixed draw (False).
      binarize, dequantize: the transform to apply (at most one).
      num_examples: size of `source` if known (sets the shuffle buffer).

    Returns:
      A `tf.data.Dataset` of float32 images `(batch, H, W, C)`, or of
      `(images, labels)` if `with_labels`.
    """
    batch_size = _checks.positive_int(batch_size, "batch_size")
    seed = _checks.seed(seed)
    if binarize and dequantize:
        raise ValueError(
            "Expected at most one of `binarize` and `dequantize` to be True "
            "(binary data needs no dequantisation). Received: binarize=True, dequantize=True")
    if with_labels and "label" not in source.element_spec:
        raise ValueError("Expected a dataset with labels for `with_labels=True`, but this one has none.")
    noisy = bool(binarize or dequantize)

    def noise(x, key):
        return transforms.apply(x, num_bins=num_bins, binarize_images=binarize,
                                dequantize_images=dequantize, seed=key)

    ds = source.enumerate()
    if cache:
        ds = ds.cache()  # Raw levels (uint8 for TFDS/digits): small and exact.
    if shuffle:
        if num_examples is None:
            num_examples = int(ds.cardinality())
        buffer = min(num_examples, _MAX_SHUFFLE_BUFFER) if num_examples > 0 else 10_000
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def per_example(index, example):
        x = example["image"]
        x = transforms.to_unit_interval(x, num_bins) if levels else tf.cast(x, tf.float32)
        if noisy and not training:
            x = noise(x, tf.stack([index, tf.constant(seed, tf.int64)]))
        out = {"image": x}
        if with_labels:
            out["label"] = tf.cast(example["label"], tf.int32)
        return out

    if noisy and not training:
        # Evaluation noise is keyed on each example's index: map, then batch.
        ds = ds.map(per_example, num_parallel_calls=tf.data.AUTOTUNE)
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    else:
        # Every op left in `per_example` is elementwise: one call per batch
        # instead of per example (tf.data's per-element overhead dominated
        # small images; benchmarks/input_pipeline.py).
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
        ds = ds.map(per_example, num_parallel_calls=tf.data.AUTOTUNE)
    if noisy and training:
        keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        ds = tf.data.Dataset.zip((ds, keys)).map(
            lambda batch, key: {**batch, "image": noise(batch["image"], tf.stack(
                [key, tf.constant(seed, tf.int64)]))},
            num_parallel_calls=tf.data.AUTOTUNE)
    if with_labels:
        ds = ds.map(lambda batch: (batch["image"], batch["label"]))
    else:
        ds = ds.map(lambda batch: batch["image"])
    return ds.prefetch(tf.data.AUTOTUNE)
