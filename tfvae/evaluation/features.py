"""Feature extraction for the sample-quality metrics, one batch at a time.

    feats = extract_features(featurizer, images)  # a generator of (n, d) float32 batches
    samples = model_samples(vae, 10_000, seed=0)  # a generator of sample batches

Images can be a NumPy array or tensor `(N, H, W, C)`, a `tf.data.Dataset`
of image batches (or `(images, labels)` batches: the labels are dropped),
or any iterable of batches such as `model_samples`, so nothing forces all
images or features into memory at once.
"""

import keras
import numpy as np
import tensorflow as tf

from tfvae.metrics import _checks


def image_batches(images, batch_size=256):
    """Yields float32 image batches `(n, H, W, C)` from any image source.

    Args:
      images: array/tensor `(N, H, W, C)`, a batched `tf.data.Dataset`
        (of images or of tuples whose first element is images), or an
        iterable of such batches.
      batch_size: rows per batch when `images` is one array.

    Raises:
      ValueError: bad `batch_size`, or a batch that is not 4-D.
    """
    batch_size = _checks.positive_int(batch_size, "batch_size")
    if hasattr(images, "shape") and not isinstance(images, tf.data.Dataset):
        images = np.asarray(images)
        chunks = (images[i:i + batch_size] for i in range(0, images.shape[0], batch_size))
    else:
        chunks = images.as_numpy_iterator() if isinstance(images, tf.data.Dataset) else images
    for chunk in chunks:
        if isinstance(chunk, (tuple, list)):
            chunk = chunk[0]
        chunk = np.asarray(chunk, np.float32)
        if chunk.ndim != 4:
            raise ValueError(f"Expected image batches of shape (n, H, W, C). Received: shape {chunk.shape}")
        yield chunk


def _apply(featurizer, batch):
    if isinstance(featurizer, keras.Model):
        out = featurizer.predict_on_batch(batch)  # Keras's compiled predict function
    elif isinstance(featurizer, keras.Layer):
        out = featurizer(batch, training=False)
    else:
        out = featurizer(batch)
    out = keras.ops.convert_to_numpy(out).astype(np.float32)
    return out.reshape(out.shape[0], -1)


def extract_features(featurizer, images, batch_size=256):
    """Yields `(n, d)` float32 features of each image batch.

    Args:
      featurizer: a Keras model (run with `predict_on_batch`), a layer
        (called with `training=False`), or any callable from an image batch
        to features `(n, ...)`; features with more axes are flattened.
      images: as `image_batches`.
      batch_size: as `image_batches`.
    """
    for batch in image_batches(images, batch_size):
        yield _apply(featurizer, batch)


def model_samples(model, num_samples, batch_size=500, seed=0, labels=None, mean=True):
    """Yields `num_samples` samples of a model in batches, seeded per batch.

    Args:
      model: anything with `sample(n, seed=...)` (a `tfvae.VAE`, a post-hoc
        sampler), or `sample(n, c, seed=...)` when `labels` is given (a
        `tfvae.ConditionalVAE`).
      num_samples, batch_size: positive ints.
      seed: int; batch `i` uses seed `seed + i`, so the stream is
        reproducible.
      labels: optional `(num_samples,)` conditions, sliced per batch.
      mean: decode to the likelihood mean (True) or draw x ~ p(x|z).
    """
    num_samples = _checks.positive_int(num_samples, "num_samples")
    batch_size = _checks.positive_int(batch_size, "batch_size")
    if labels is not None and len(labels) != num_samples:
        raise ValueError(f"Expected {num_samples} labels, one per sample. Received: {len(labels)}")
    for i, start in enumerate(range(0, num_samples, batch_size)):
        n = min(batch_size, num_samples - start)
        kwargs = {"seed": seed + i, "mean": mean}
        if labels is None:
            out = model.sample(n, **kwargs)
        else:
            out = model.sample(n, np.asarray(labels[start:start + n]), **kwargs)
        yield keras.ops.convert_to_numpy(out)
