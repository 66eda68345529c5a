"""Invertible 1x1 convolution (Glow), LU-parameterised."""

import keras
import numpy as np
import scipy.linalg
import tensorflow as tf

from tfvae.flows._lu import lu_forward, lu_inverse, lu_log_abs_det
from tfvae.flows.base import Flow, per_example


@keras.saving.register_keras_serializable(package="tfvae")
class InvertibleConv1x1(Flow):
    """A learned C x C matrix applied to the channels of every pixel.

    Maths, with W = P L (U + diag(sign(s) * exp(log|s|))) (LU form):
        forward:  y[h, w, :] = W x[h, w, :]
        inverse:  x[h, w, :] = W^{-1} y[h, w, :]   (two triangular solves)
        log|det dy/dx| = H * W * Σ_c log|s_c|
    P is a fixed permutation, L unit lower-triangular and U strictly upper
    triangular (only those parts of the `lower`/`upper` weights are used),
    `log|s|` trainable, sign(s) fixed. The starting W is a random rotation;
    its LU factors are computed once with scipy at build time, because XLA
    on CPU has no LU/determinant kernel, and the log-det then needs only
    the triangular diagonal.

    Args:
        seed: int seed of the initial random rotation.

    Call:
        x: `(batch, H, W, C)`. Returns `(y, log_det)`, `log_det` `(batch,)`.

    Raises:
        ValueError: a non-image input.

    Example:
        >>> step = tfvae.flows.Chain([tfvae.flows.ActNorm(), tfvae.flows.InvertibleConv1x1(seed=0),
        ...                           tfvae.flows.AffineCoupling("channel", hidden_channels=64)])

    References:
        Kingma & Dhariwal, "Glow", NeurIPS 2018, section 3.2.
    """

    event_ndims = 3

    def __init__(self, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.seed = int(seed)

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                f"InvertibleConv1x1 expects (batch, H, W, C) inputs with known C. "
                f"Received input_shape={tuple(input_shape)}")
        c = int(input_shape[-1])
        rotation, _ = np.linalg.qr(np.random.RandomState(self.seed).standard_normal((c, c)))
        p, lower, upper = scipy.linalg.lu(rotation)
        s = np.diag(upper)
        # scipy gives W = P L U; TFP's ScaleMatvecLU wants indices with W[perm] = L U.
        perm = np.argmax(p, axis=0).astype("int32")
        const = keras.initializers.Constant
        self.permutation = self.add_weight(shape=(c,), dtype="int32", trainable=False,
                                           initializer=const(perm), name="permutation")
        self.lower = self.add_weight(shape=(c, c), initializer=const(lower), name="lower")
        self.upper = self.add_weight(shape=(c, c), initializer=const(upper), name="upper")
        self.log_abs_s = self.add_weight(shape=(c,), initializer=const(np.log(np.abs(s))),
                                         name="log_abs_s")
        self.sign_s = self.add_weight(shape=(c,), initializer=const(np.sign(s)), trainable=False,
                                      name="sign_s")
        self._strict_lower = np.tril(np.ones((c, c)), -1)
        self._strict_upper = np.triu(np.ones((c, c)), 1)

    def lower_upper(self):
        """The packed LU matrix: L below the diagonal, U on and above it."""
        dtype = self.lower.dtype
        diag = tf.convert_to_tensor(self.sign_s) * tf.exp(tf.convert_to_tensor(self.log_abs_s))
        return (tf.convert_to_tensor(self.lower) * tf.constant(self._strict_lower, dtype)
                + tf.convert_to_tensor(self.upper) * tf.constant(self._strict_upper, dtype)
                + tf.linalg.diag(diag))

    def _log_det(self, x, lower_upper):
        pixels = tf.cast(tf.shape(x)[1] * tf.shape(x)[2], x.dtype)
        return per_example(pixels * lu_log_abs_det(lower_upper), x)

    def _forward_and_log_det(self, x, context):
        lower_upper = tf.cast(self.lower_upper(), x.dtype)
        return lu_forward(x, lower_upper, self.permutation), self._log_det(x, lower_upper)

    def _inverse_and_log_det(self, y, context):
        lower_upper = tf.cast(self.lower_upper(), y.dtype)
        return lu_inverse(y, lower_upper, self.permutation), -self._log_det(y, lower_upper)

    @property
    def identity_at_init(self):
        return False  # a random rotation

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config
