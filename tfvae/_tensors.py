"""Tensor helpers shared by models, likelihoods and evaluation."""

import tensorflow as tf


def repeat_samples(t, k):
    """`(b, ...) -> (k·b, ...)`, sample-major: row s·b + i is t[i] (the
    layout of k posterior draws per example flattened into one batch)."""
    shape = tf.shape(t)
    return tf.reshape(tf.broadcast_to(t[None], tf.concat([[k], shape], 0)), tf.concat([[k * shape[0]], shape[1:]], 0))
