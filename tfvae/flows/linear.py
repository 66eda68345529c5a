"""LU-parameterised invertible linear map for vectors."""

import numbers

import keras
import numpy as np
import tensorflow as tf

from tfvae.flows._lu import lu_forward, lu_inverse, lu_log_abs_det
from tfvae.flows.base import Flow, per_example
from tfvae.nets._validate import positive_int


@keras.saving.register_keras_serializable(package="tfvae")
class LULinear(Flow):
    """y = W x with W = P L U, stored as its LU factors (Kingma & Dhariwal, 2018).

    The vector counterpart of Glow's invertible 1x1 convolution: it mixes
    all dimensions between coupling or autoregressive layers, where a fixed
    permutation only reorders them.

        forward:   y = P L U x
        inverse:   x = U^{-1} L^{-1} P^T y        (two triangular solves)
        log|det dy/dx| = sum_i log|U_ii|          (same for every example)

    L is unit lower triangular and U upper triangular, both packed in one
    trainable `(D, D)` weight `lower_upper`; the row permutation P is a
    fixed, non-trainable integer weight. The factors come from a random
    orthogonal matrix, factorised once at initialisation with
    `tf.linalg.lu` outside any graph (`tf.init_scope`): XLA on CPU has no LU
    or determinant kernel, and no call ever needs one -- the log-det is
    the diagonal of U (`tfvae.flows._lu`, TFP's `ScaleMatvecLU` convention). A fresh
    layer is a rotation (log-det 0), not the identity.

    Args:
        dim: D, or None to take it from the first input.
        seed: int or None; seeds the random orthogonal initialisation
            (None draws a fresh one, like Keras' default initialisers).

    Call args:
        x: `(batch, D)`; context: ignored (the map is unconditional).

    Returns:
        `(y, log_det)`: `(batch, D)` and `(batch,)`.

    Raises:
        ValueError: bad `dim`/`seed`, or inputs that are not `(batch, dim)`.

    Example:
        >>> flow = tfvae.flows.Chain([tfvae.flows.LULinear(seed=0), tfvae.flows.MAF(num_layers=1)])

    References:
        Kingma, Dhariwal. Glow: Generative Flow with Invertible 1x1
        Convolutions. NeurIPS 2018. arXiv:1807.03039.
    """

    def __init__(self, dim=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.dim = None if dim is None else positive_int(dim, "dim")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None or \
                (self.dim is not None and input_shape[-1] != self.dim):
            expected = self.dim if self.dim is not None else "D"
            raise ValueError(f"LULinear expects inputs of shape (batch, {expected}). "
                             f"Received: x.shape={tuple(input_shape)}")
        dim = int(input_shape[-1])
        lower_upper, permutation = _random_orthogonal_lu(dim, self.seed)
        self.lower_upper = self.add_weight(
            shape=(dim, dim), initializer=_constant(lower_upper), name="lower_upper")
        self.permutation = self.add_weight(
            shape=(dim,), initializer=_constant(permutation), dtype="int32", trainable=False,
            name="permutation")

    # Unconditional: a context (e.g. passed to every flow by `Chain`) is ignored.
    def _forward_and_log_det(self, x, context):
        lower_upper = tf.cast(self.lower_upper, x.dtype)
        return lu_forward(x, lower_upper, self.permutation), per_example(lu_log_abs_det(lower_upper), x)

    def _inverse_and_log_det(self, y, context):
        lower_upper = tf.cast(self.lower_upper, y.dtype)
        return lu_inverse(y, lower_upper, self.permutation), per_example(-lu_log_abs_det(lower_upper), y)

    @property
    def identity_at_init(self):
        return False  # a random rotation

    def get_config(self):
        config = super().get_config()
        config.update(dim=self.dim, seed=self.seed)
        return config


def _random_orthogonal_lu(dim, seed):
    """Packed LU factors and pivots of a random orthogonal `(dim, dim)` matrix."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    q *= np.sign(np.diag(r))  # Haar-distributed, not biased by QR's sign convention
    with tf.init_scope():  # eager even if the first call is being traced
        lower_upper, permutation = tf.linalg.lu(tf.constant(q))
        return lower_upper.numpy(), permutation.numpy()


def _constant(value):
    def initializer(shape, dtype=None):
        return keras.ops.cast(value, dtype)
    return initializer
