"""Checks of the discrete-latent models' arguments and of the integer codes
their `decode` takes.

The code checks raise `ValueError` eagerly; inside a graph (exported signatures) the
range check becomes a `tf.debugging.Assert` with the same text.
"""

import numpy as np
import tensorflow as tf

from tfvae.nets._validate import nonnegative_float, positive_int, positive_int_tuple


def codebook_args(input_shape, num_embeddings, embedding_dim, commitment_cost):
    """The checked `(input_shape (H, W, C), K ≥ 2, D, β ≥ 0)` of a VQ model,
    or a `ValueError` naming the bad argument."""
    data_shape = positive_int_tuple(input_shape, "input_shape")
    if len(data_shape) != 3:
        raise ValueError(f"Expected `input_shape` to be (H, W, C). Received: input_shape={input_shape!r}")
    k = positive_int(num_embeddings, "num_embeddings")
    if k < 2:
        raise ValueError(f"Expected `num_embeddings` to be at least 2. Received: num_embeddings={num_embeddings}")
    return (data_shape, k, positive_int(embedding_dim, "embedding_dim"),
            nonnegative_float(commitment_cost, "commitment_cost"))


def check_codes(codes, grid_shape, num_embeddings, name="codes", owner="VQVAE"):
    """Returns `codes` as int32 `(batch, *grid_shape)`, or raises.

    Integer dtypes only (a float "code" is more likely a mix-up with images
    or embeddings than a code); values must lie in [0, num_embeddings).
    """
    expected = "(batch, " + ", ".join(str(d) for d in grid_shape) + ")"
    if not tf.is_tensor(codes):
        codes = np.asarray(codes)
    dtype = tf.as_dtype(codes.dtype)
    if not dtype.is_integer:
        raise ValueError(f"{owner} expected `{name}` to be integers in [0, {num_embeddings}); "
                         f"received dtype {dtype.name}.")
    shape = tuple(codes.shape)
    if len(shape) != len(grid_shape) + 1 or any(
            d is not None and d != e for d, e in zip(shape[1:], grid_shape)):
        raise ValueError(f"{owner} expected `{name}` of shape {expected}; received shape {shape}.")
    codes = tf.cast(codes, tf.int32)
    ok = tf.reduce_all((codes >= 0) & (codes < num_embeddings))
    message = f"{owner}: `{name}` has values outside [0, {num_embeddings})"
    if tf.executing_eagerly():
        if not bool(ok):
            raise ValueError(f"{message} (received min {int(tf.reduce_min(codes))}, "
                             f"max {int(tf.reduce_max(codes))}).")
        return codes
    with tf.control_dependencies([tf.debugging.Assert(ok, [message])]):
        return tf.identity(codes)
