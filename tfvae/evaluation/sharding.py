"""Feature statistics of an image stream, sharded over the replicas of a tf.distribute strategy.

Each global batch is cut into contiguous slices, one per replica (replica
`r` of `R` takes `np.array_split(batch, R)[r]`); every replica featurizes
its slice and reduces it to float64 `(count, mean, scatter)`; the slices'
moments are gathered (`strategy.gather`, so every worker of a multi-worker
strategy sees all of them) and merged exactly into one
`tfvae.metrics.FeatureStatistics`. Off a strategy (or with one replica)
this is the plain loop. Under multi-worker every worker must iterate the
same images in the same order (an array, or a seeded pipeline).
"""

import numpy as np
import tensorflow as tf

from tfvae.evaluation.features import extract_features
from tfvae.evaluation.features import image_batches
from tfvae.metrics import FeatureStatistics


def _moments(featurizer):
    def step(x):
        f = featurizer(x, training=False) if hasattr(featurizer, "trainable_variables") else featurizer(x)
        f = tf.reshape(tf.cast(f, tf.float64), [tf.shape(x)[0], -1])
        count = tf.cast(tf.shape(f)[0], tf.float64)
        mean = tf.math.divide_no_nan(tf.reduce_sum(f, 0), count)
        centred = f - mean
        return f, count[None], mean[None], tf.matmul(centred, centred, transpose_a=True)[None]
    return step


def collect(featurizer, images, batch_size=256, keep=False, strategy=None):
    """Streams features into `FeatureStatistics`; keeps them if asked.

    Args:
      featurizer: a Keras model or a callable on tensors (TensorFlow ops
        when a strategy has more than one replica).
      images: as `tfvae.evaluation.features.image_batches`.
      batch_size: global rows per step for arrays.
      keep: also return every feature vector, float32 `(N, d)`, in order.
      strategy: a `tf.distribute.Strategy`; default the active one.

    Returns:
      `(statistics, features or None)`.
    """
    strategy = strategy or tf.distribute.get_strategy()
    stats, kept = FeatureStatistics(), []
    replicas = strategy.num_replicas_in_sync
    if replicas == 1:
        for batch in extract_features(featurizer, images, batch_size):
            stats.update(batch)
            if keep:
                kept.append(batch)
        return stats, (np.concatenate(kept) if kept else None)
    step = tf.function(_moments(featurizer), reduce_retracing=True)
    for batch in image_batches(images, batch_size):
        parts = np.array_split(batch, replicas)
        values = strategy.experimental_distribute_values_from_function(
            lambda ctx: tf.constant(parts[ctx.replica_id_in_sync_group]))
        f, count, mean, scatter = strategy.run(step, args=(values,))
        count, mean, scatter = (strategy.gather(v, axis=0).numpy() for v in (count, mean, scatter))
        for n, m, s in zip(count, mean, scatter):
            if n > 0:  # an uneven last batch can leave a replica without rows
                stats.merge(FeatureStatistics.from_moments(m, s / max(n - 1.0, 1.0), int(n)))
        if keep:
            kept.append(strategy.gather(f, axis=0).numpy().astype(np.float32))
    return stats, (np.concatenate(kept) if kept else None)
