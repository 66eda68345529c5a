"""Codebook statistics accumulated over an epoch (or an evaluation)."""

import keras
import tensorflow as tf

from tfvae.nets._validate import positive_int


class _CodeCounts(keras.metrics.Metric):
    """Accumulates how often each of the K codes was assigned; `update_state`
    takes the `(K,)` counts of a batch (`VectorQuantizer.counts`)."""

    def __init__(self, num_embeddings, name, **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings")
        self.total = self.add_variable(shape=(self.num_embeddings,), initializer="zeros", name="counts")

    def update_state(self, counts):
        self.total.assign_add(tf.cast(counts, self.total.dtype))

    def get_config(self):
        return {"name": self.name, "num_embeddings": self.num_embeddings}


class CodebookPerplexity(_CodeCounts):
    """exp(H(p̄)) of the code frequencies p̄ over everything seen since the
    last reset: K when all codes are used equally, 1 for a single code."""

    def __init__(self, num_embeddings, name="perplexity", **kwargs):
        super().__init__(num_embeddings, name, **kwargs)

    def result(self):
        p = self.total / tf.maximum(tf.reduce_sum(self.total), 1.0)
        return tf.exp(-tf.reduce_sum(tf.math.multiply_no_nan(tf.math.log(p), p)))


class CodebookUsage(_CodeCounts):
    """Fraction of the K codes assigned at least once since the last reset."""

    def __init__(self, num_embeddings, name="usage", **kwargs):
        super().__init__(num_embeddings, name, **kwargs)

    def result(self):
        return tf.reduce_mean(tf.cast(self.total > 0, tf.float32))
