"""Sylvester normalizing flows (van den Berg et al., 2018)."""

import keras
import numpy as np
import tensorflow as tf

from tfvae.flows._amortised import AmortisedFlow, identity_jacobian
from tfvae.nets._validate import positive_int

_KINDS = ("orthogonal", "householder", "triangular")
_ORTHOGONALIZATIONS = ("qr", "polar")
# Iterations of Q <- Q (I + (I - QᵀQ) / 2) from Q / |Q|_F: singular values
# grow ~1.5x per step until near 1, then converge quadratically, so 30 steps
# reach machine precision for any reasonably conditioned Q with D up to ~10^4.
ORTHOGONALIZATION_STEPS = 30


@keras.saving.register_keras_serializable(package="tfvae")
class Sylvester(AmortisedFlow):
    """A stack of Sylvester maps z' = z + Q R h(R̃ Qᵀ z + b), h = tanh.

    Per layer, Q is `(D, M)` with orthonormal columns, R and R̃ are `(M, M)`
    upper triangular, b in R^M. By Sylvester's determinant identity
    det(I_D + Q R H R̃ Qᵀ) = det(I_M + H R̃ R) with H = diag h'(R̃ Qᵀ z + b),
    and the product of triangular matrices is triangular, so

        forward:   z' = z + Q R tanh(R̃ Qᵀ z + b)
        log|det dz'/dz| = sum_i log|1 + r̃_ii r_ii h'((R̃ Qᵀ z + b)_i)|
        Jacobian:  dz'/dz = I + Q R H R̃ Qᵀ, so through the stack
                   J' = J + (Q R H)(R̃ Qᵀ J), O(D² M) per layer (`forward_and_jacobian`)
        inverse:   no closed form -- raises NotImplementedError.

    Invertibility needs r_ii r̃_ii > -1 / sup h' = -1; diagonals are
    tanh(raw), so |r_ii r̃_ii| < 1 for any raw parameters.

    How Q is made (`kind`):
        "orthogonal":  M = `num_ortho_vectors` (<= D; default D) raw
            columns, orthonormalised by `orthogonalization`: "qr" (default)
            takes the Q of a reduced QR decomposition with diag(R) > 0
            (unique, and differentiable while the raw columns are
            independent); "polar" iterates Q <- Q (I + (I - QᵀQ)/2) from
            Q / |Q|_F (a fixed `ORTHOGONALIZATION_STEPS`) towards the
            nearest orthonormal matrix, as the paper does. Both reach every
            orthonormal Q; QR is one decomposition where "polar" is 30
            small matrix products. A config without this key reloads as
            "polar" (the only kind there was before the option).
        "householder": M = D, Q = prod_j (I - 2 v_j v_jᵀ / |v_j|^2) over
            `num_ortho_vectors` (default D) reflections.
        "triangular":  M = D, Q = I on even layers and the reversal
            permutation on odd ones; `num_ortho_vectors` must be None.

    R starts at zero (its head or weight is zero-initialised), so the flow
    starts as the identity; R̃, Q and b start random so dz'/dR is non-zero.
    Amortised when built with a context (all of Q, R, R̃, b are `Dense`
    heads on it, per example, as in the paper); otherwise the layer's own
    weights.

    Args:
        num_layers: K, the number of Sylvester maps.
        num_ortho_vectors: M for "orthogonal", reflections for
            "householder", None for "triangular".
        kind: "orthogonal", "householder" or "triangular".
        orthogonalization: "qr" or "polar", for kind="orthogonal".
        context_size: optional context width; None infers it at the first
            call (no context at all means the non-amortised mode).
        seed: int or None; seeds the random initialisers.

    Call args:
        x: `(batch, D)`; context: optional `(batch, c)`.

    Returns:
        `(y, log_det)`: `(batch, D)` and `(batch,)`.

    Raises:
        ValueError: bad arguments, M > D, non-vector input, context mismatch.
        NotImplementedError: from `inverse` and `bijector.inverse`.

    Example:
        >>> vae = tfvae.VAE(..., posterior_flow=tfvae.flows.Sylvester(num_layers=4, num_ortho_vectors=8))

    References:
        van den Berg, Hasenclever, Tomczak, Welling. Sylvester Normalizing
        Flows for Variational Inference. UAI 2018. arXiv:1803.05649.
    """

    has_inverse = False

    def __init__(self, num_layers=1, num_ortho_vectors=None, kind="orthogonal", context_size=None,
                 seed=None, orthogonalization="qr", **kwargs):
        super().__init__(context_size=context_size, **kwargs)
        self.num_layers = positive_int(num_layers, "num_layers")
        if kind not in _KINDS:
            raise ValueError(f"Expected `kind` to be one of {_KINDS}. Received: kind={kind!r}")
        self.kind = kind
        if orthogonalization not in _ORTHOGONALIZATIONS:
            raise ValueError(f"Expected `orthogonalization` to be one of {_ORTHOGONALIZATIONS}. "
                             f"Received: orthogonalization={orthogonalization!r}")
        self.orthogonalization = orthogonalization
        if num_ortho_vectors is not None:
            num_ortho_vectors = positive_int(num_ortho_vectors, "num_ortho_vectors")
            if kind == "triangular":
                raise ValueError("Expected `num_ortho_vectors` to be None for kind='triangular' "
                                 f"(M = D there). Received: num_ortho_vectors={num_ortho_vectors}")
        self.num_ortho_vectors = num_ortho_vectors
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        self.seed = seed

    def _build_flow(self, event_size, context_dim):
        d, k = event_size, self.num_layers
        if self.kind == "orthogonal" and self.num_ortho_vectors and self.num_ortho_vectors > d:
            raise ValueError(f"Expected `num_ortho_vectors` <= D = {d} for kind='orthogonal'. "
                             f"Received: num_ortho_vectors={self.num_ortho_vectors}")
        self.rank = self.num_ortho_vectors if self.kind == "orthogonal" and self.num_ortho_vectors else d
        m = self.rank
        s = self.seed

        def glorot(offset):
            return keras.initializers.GlorotUniform(seed=None if s is None else s + offset)

        def normal(stddev, offset):
            return keras.initializers.RandomNormal(stddev=stddev, seed=None if s is None else s + offset)

        groups = {
            # Zero R: the flow starts as the identity.
            "r": (k * m * m, "zeros", "zeros"),
            "r_tilde": (k * m * m, glorot(0), normal(0.5, 1)),
            "b": (k * m, glorot(2), "zeros"),
        }
        if self.kind == "orthogonal":
            groups["q"] = (k * d * m, glorot(3), normal(1.0, 4))
        elif self.kind == "householder":
            groups["v"] = (k * (self.num_ortho_vectors or d) * d, glorot(3), normal(1.0, 4))
        self.add_parameters(groups)

    def _maps(self, z, params, jacobian=False):
        k, m = self.num_layers, self.rank
        r_diag, r = _triangular(keras.ops.reshape(params["r"], (-1, k, m, m)))
        rt_diag, r_tilde = _triangular(keras.ops.reshape(params["r_tilde"], (-1, k, m, m)))
        b = keras.ops.reshape(params["b"], (-1, k, m))
        q = self._q(params, z.dtype)                                     # (batch or 1, K, D, M)
        # Every layer's R̃ Qᵀ and Q R in two batched products, before the
        # sequential part: z' = z + (Q R) tanh((R̃ Qᵀ) z + b).
        into = tf.matmul(r_tilde, q, transpose_b=True)                   # (., K, M, D)
        out = tf.matmul(q, r)                                            # (., K, D, M)
        diag_product = rt_diag * r_diag                                  # (., K, M)
        log_det = tf.zeros_like(z[:, 0])
        jac = identity_jacobian(z) if jacobian else None
        for i in range(k):
            h = tf.tanh(tf.linalg.matvec(into[:, i], z) + b[:, i])
            z = z + tf.linalg.matvec(out[:, i], h)
            dh = 1.0 - h * h
            log_det += tf.reduce_sum(tf.math.log(tf.abs(1.0 + diag_product[:, i] * dh)), axis=-1)
            if jacobian:
                jac = jac + tf.matmul(out[:, i] * dh[:, None, :], tf.matmul(into[:, i], jac))
        return (z, log_det) if not jacobian else (z, log_det, jac)

    def _q(self, params, dtype):
        """Q of every layer, `(batch or 1, K, D, M)`."""
        k, d, m = self.num_layers, self.event_size, self.rank
        if self.kind == "orthogonal":
            raw = keras.ops.reshape(params["q"], (-1, k, d, m))
            orthonormal = qr_orthonormalize if self.orthogonalization == "qr" else orthogonalize
            return orthonormal(raw)
        if self.kind == "householder":
            return householder_product(keras.ops.reshape(params["v"], (-1, k, self.num_ortho_vectors or d, d)))
        identity = np.eye(d)
        return tf.constant(np.stack([identity if i % 2 == 0 else identity[::-1] for i in range(k)]), dtype=dtype)[None]

    def get_config(self):
        config = super().get_config()
        config.update(num_layers=self.num_layers, num_ortho_vectors=self.num_ortho_vectors,
                      kind=self.kind, seed=self.seed, orthogonalization=self.orthogonalization)
        return config

    @classmethod
    def from_config(cls, config):
        # Saved before `orthogonalization` existed: those Q were polar factors.
        return super().from_config({"orthogonalization": "polar", **config})


def _triangular(raw):
    """tanh-bounded diagonal and the upper-triangular matrix it sits in."""
    diag = tf.tanh(tf.linalg.diag_part(raw))
    strict = tf.linalg.band_part(raw, 0, -1) - tf.linalg.band_part(raw, 0, 0)
    return diag, strict + tf.linalg.diag(diag)


def orthogonalize(q, steps=ORTHOGONALIZATION_STEPS):
    """`(..., D, M)` -> the nearest matrix with orthonormal columns (the
    orthogonal polar factor), by the iteration of Kovarik / Björck."""
    q = q / tf.norm(q, axis=(-2, -1), keepdims=True)
    eye = tf.eye(q.shape[-1], dtype=q.dtype)

    def step(i, q):
        return i + 1, tf.matmul(q, 1.5 * eye - 0.5 * tf.matmul(q, q, transpose_a=True))

    # A loop, not unrolled Python: 30 unrolled steps per layer make graphs
    # (and XLA compiles) several times larger.
    _, q = tf.while_loop(lambda i, q: True, step, (tf.constant(0), q), maximum_iterations=steps)
    return q


def qr_orthonormalize(q):
    """`(..., D, M)`, M <= D -> the Q factor of q = QR with diag(R) > 0:
    orthonormal columns spanning q's, Gram-Schmidt in column order."""
    factor, r = tf.linalg.qr(q)
    negative = tf.linalg.diag_part(r)[..., None, :] < 0
    return tf.where(negative, -factor, factor)


def householder_product(v):
    """`(..., H, D)` reflection vectors -> prod_j (I - 2 v_j v_jᵀ / |v_j|^2), `(..., D, D)`."""
    v = v / tf.norm(v, axis=-1, keepdims=True)
    d = v.shape[-1]
    q = tf.eye(d, dtype=v.dtype)
    for j in range(v.shape[-2]):
        vj = v[..., j, :]
        # Q (I - 2 v vᵀ) = Q - 2 (Q v) vᵀ: no D x D reflection is formed.
        q = q - 2.0 * tf.linalg.matvec(q, vj)[..., :, None] * vj[..., None, :]
    return q
