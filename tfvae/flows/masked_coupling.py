"""Weight-free maths of masked coupling: the masks and the TFP bijector.

The layer in `coupling.py` owns the conditioner network; this module only
turns "a mask plus a conditioner function" into an invertible map.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfb = tfp.bijectors

MASKS = ("alternating", "checkerboard", "channel")


def make_mask(kind, event_shape, parity=0):
    """Binary numpy mask `m` of shape `event_shape` (1 = conditioning, kept).

    - "alternating" (vectors `(D,)`): m[i] = (i + parity + 1) % 2, so
      parity 0 keeps the even features and transforms the odd ones.
    - "checkerboard" (images `(H, W, C)`): m[h, w, :] = (h + w + parity + 1) % 2.
    - "channel" (images): parity 0 keeps the first C // 2 channels.
    """
    shape = tuple(int(d) for d in event_shape)
    if kind == "alternating":
        if len(shape) != 1 or shape[0] < 2:
            raise ValueError(f"An alternating mask needs vectors with D >= 2. Received event shape {shape}")
        mask = (np.arange(shape[0]) + parity + 1) % 2
    elif kind == "checkerboard":
        if len(shape) != 3 or shape[0] * shape[1] < 2:
            raise ValueError(f"A checkerboard mask needs images (H, W, C) with H*W >= 2. Received {shape}")
        h, w = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
        mask = np.broadcast_to(((h + w + parity + 1) % 2)[..., None], shape)
    elif kind == "channel":
        if len(shape) != 3 or shape[2] < 2:
            raise ValueError(f"A channel mask needs images (H, W, C) with C >= 2. Received {shape}")
        keep = np.arange(shape[2]) < shape[2] // 2
        mask = np.broadcast_to(keep if parity == 0 else ~keep, shape)
    else:
        raise ValueError(f"Expected `mask` to be one of {MASKS}. Received: mask={kind!r}")
    return np.ascontiguousarray(mask, dtype=np.float64)


class MaskedCoupling(tfb.Bijector):
    """y = m*x + (1-m)*(x*exp(s(m*x)) + t(m*x)).

    Maths, with binary mask `m` (1 = kept) and `(t, s) = conditioner(m*x)`:
        forward:  y = m*x + (1-m) * (x * exp(s) + t)
        inverse:  x = m*y + (1-m) * (y - t) * exp(-s)     (m*x == m*y)
        log|det dy/dx| = sum over the event of (1-m)*s
    The Jacobian is triangular after reordering (kept entries first) with
    diagonal 1 on kept entries and exp(s) on the others. With `affine=False`
    (NICE's additive coupling) s = 0: volume preserving.

    Args:
        mask: float tensor broadcastable to the event shape.
        conditioner: callable `m*x -> (shift, log_scale)` (log_scale ignored
            when not affine), tensors shaped like `x`.
        event_ndims: 1 (vectors) or 3 (images).
        affine: affine (RealNVP) or additive (NICE) coupling.

    References:
        Dinh, Krueger & Bengio, "NICE", ICLR 2015 workshop.
        Dinh, Sohl-Dickstein & Bengio, "Density estimation using Real NVP", ICLR 2017.
    """

    def __init__(self, mask, conditioner, event_ndims=1, affine=True, name="masked_coupling"):
        parameters = dict(locals())
        self._mask = mask
        self._conditioner = conditioner
        self._affine = affine
        self._event_ndims = event_ndims
        super().__init__(forward_min_event_ndims=event_ndims, is_constant_jacobian=not affine,
                         parameters=parameters, name=name)

    def _reduce(self, t):
        return tf.reduce_sum(t, axis=list(range(-self._event_ndims, 0)))

    def _forward(self, x):
        kept = self._mask * x
        shift, log_scale = self._conditioner(kept)
        scale = tf.exp(log_scale) if self._affine else 1.0
        return kept + (1.0 - self._mask) * (x * scale + shift)

    def _inverse(self, y):
        kept = self._mask * y
        shift, log_scale = self._conditioner(kept)
        inv_scale = tf.exp(-log_scale) if self._affine else 1.0
        return kept + (1.0 - self._mask) * (y - shift) * inv_scale

    def _forward_log_det_jacobian(self, x):
        if not self._affine:
            return tf.zeros([], dtype=x.dtype)
        _, log_scale = self._conditioner(self._mask * x)
        return self._reduce((1.0 - self._mask) * log_scale)

    def _inverse_log_det_jacobian(self, y):
        if not self._affine:
            return tf.zeros([], dtype=y.dtype)
        _, log_scale = self._conditioner(self._mask * y)
        return -self._reduce((1.0 - self._mask) * log_scale)

    def forward_and_log_det(self, x):
        """`(y, log_det)` with one conditioner evaluation instead of two."""
        kept = self._mask * x
        shift, log_scale = self._conditioner(kept)
        if not self._affine:
            return kept + (1.0 - self._mask) * (x + shift), tf.zeros(tf.shape(x)[:1], x.dtype)
        y = kept + (1.0 - self._mask) * (x * tf.exp(log_scale) + shift)
        return y, self._reduce((1.0 - self._mask) * log_scale)

    def inverse_and_log_det(self, y):
        """`(x, log|det dx/dy|)` with one conditioner evaluation."""
        kept = self._mask * y
        shift, log_scale = self._conditioner(kept)
        if not self._affine:
            return kept + (1.0 - self._mask) * (y - shift), tf.zeros(tf.shape(y)[:1], y.dtype)
        x = kept + (1.0 - self._mask) * (y - shift) * tf.exp(-log_scale)
        return x, -self._reduce((1.0 - self._mask) * log_scale)
