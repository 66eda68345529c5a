"""Keras's first-batch build: the optimizer built before the first trace, and
under a multi-worker strategy made to work on tuples.

Without a strategy, Keras 3's TensorFlow trainer skips its symbolic build
and leaves the optimizer to build itself inside the first traced training
step. A `tf.function` whose first trace creates variables is traced a
second time without them, so every model paid two traces of its training
step. tfvae models create every weight in `__init__`,
so `ReplicaSafeBuild` builds the optimizer on their variables first and
the step is traced once.

Before `fit`, `evaluate` or `predict` trace, Keras 3's TensorFlow trainer
(`_maybe_symbolic_build`) takes the first distributed batch and, to read
its shapes and dtypes, averages it over replicas with one
`strategy.reduce("MEAN", batch, axis=None)`. Under
`MultiWorkerMirroredStrategy` with two or more workers, TF's collective
reduce accepts a single per-replica tensor but not a tuple of them: a
dataset of `(x, c)` pairs (a `ConditionalVAE`), or of `(x,)`, fails with
"Attempt to convert a value (PerReplica ...) to a Tensor" before the first
step. A mean over replicas has the shape and dtype of any one replica's
share, so `ReplicaSafeBuild` hands Keras the first local replica's share
instead: the same symbolic build, with no collective at all (the same on
every worker, so none waits on another).
"""

import tensorflow as tf


class ReplicaSafeBuild:
    """Mixin for `keras.Model` subclasses; list it before `keras.Model`."""

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = getattr(self, "_distribute_strategy", None)
        if strategy is None:
            optimizer = getattr(self, "optimizer", None)
            if optimizer is not None and not optimizer.built and self.built \
                    and all(layer.built for layer in self._flatten_layers()):
                optimizer.build(self.trainable_variables)
        if iterator is None or strategy is None:
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        for _, _, batches in iterator:  # as Keras reads it; `fit` resets the iterator afterwards
            data_batch = next(batches)
            break
        data_batch = tf.nest.map_structure(
            lambda v: strategy.experimental_local_results(v)[0]
            if isinstance(v, tf.distribute.DistributedValues) else v, data_batch)
        return super()._maybe_symbolic_build(data_batch=data_batch)
