"""Weight-free maths of an invertible linear map kept as packed LU factors.

W = Pᵀ L U in TFP's `ScaleMatvecLU` convention: `lower_upper` packs a unit
lower-triangular L (below the diagonal) and an upper-triangular U (on and
above it), and row i of W is row `invert_permutation(perm)[i]` of L U.
Applied to the last axis of `(..., D)` tensors:

    forward:  y = W x = gather(L U x, perm⁻¹)
    inverse:  x = U⁻¹ L⁻¹ gather(y, perm)     (two triangular solves)
    log|det W| = Σ_i log|U_ii|

No LU decomposition or determinant is ever computed here (XLA on CPU has
no kernel for either); only products and triangular solves.
"""

import tensorflow as tf


def _factors(lower_upper):
    d = lower_upper.shape[-1]
    lower = tf.linalg.set_diag(tf.linalg.band_part(lower_upper, -1, 0), tf.ones([d], lower_upper.dtype))
    return lower, tf.linalg.band_part(lower_upper, 0, -1)


def lu_forward(x, lower_upper, permutation):
    """y = W x over the last axis of `x (..., D)`."""
    lower, upper = _factors(lower_upper)
    w = tf.gather(tf.matmul(lower, upper), tf.math.invert_permutation(permutation))
    return tf.linalg.matvec(w, x)


def lu_inverse(y, lower_upper, permutation):
    """x = W⁻¹ y over the last axis of `y (..., D)`."""
    lower, upper = _factors(lower_upper)
    d = lower_upper.shape[-1]
    rhs = tf.transpose(tf.reshape(tf.gather(y, permutation, axis=-1), (-1, d)))  # (D, N)
    x = tf.linalg.triangular_solve(upper, tf.linalg.triangular_solve(lower, rhs, lower=True), lower=False)
    return tf.reshape(tf.transpose(x), tf.shape(y))


def lu_log_abs_det(lower_upper):
    """log|det W| = Σ_i log|U_ii| (a scalar)."""
    return tf.reduce_sum(tf.math.log(tf.abs(tf.linalg.diag_part(lower_upper))))
