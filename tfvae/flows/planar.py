"""Planar flow (Rezende & Mohamed, 2015): amortised or free parameters,
forward only."""

import math

import keras
import numpy as np
import tensorflow as tf

from tfvae.flows._amortised import AmortisedFlow, identity_jacobian
from tfvae.nets._validate import positive_int


# softplus(log(e - 1)) = 1, so m(0) = 0 below.
_SHIFT = math.log(math.e - 1.0)


@keras.saving.register_keras_serializable(package="tfvae")
class Planar(AmortisedFlow):
    """A stack of planar maps, each z' = z + û h(wᵀz + b), h = tanh.

    Per layer, with u, w in R^D and b in R:

        û = u + (m(wᵀu) - wᵀu) w / |w|^2,  m(a) = -1 + softplus(a + log(e-1))
        forward:   z' = z + û tanh(wᵀz + b)
        log|det dz'/dz| = log|1 + ûᵀ ψ(z)|,  ψ(z) = (1 - tanh²(wᵀz + b)) w
        Jacobian:  dz'/dz = I + û ψ(z)ᵀ, so through the stack
                   J' = J + û (ψ(z)ᵀ J), O(D²) per layer (`forward_and_jacobian`)
        inverse:   no closed form -- raises NotImplementedError.

    Invertibility needs wᵀû >= -1 (Rezende & Mohamed, appendix A). The
    reparameterisation gives wᵀû = m(wᵀu) > -1 for any raw u, w, so the
    constraint holds throughout training. The paper's m(a) = -1 +
    softplus(a) is shifted by log(e-1) so that m(0) = 0: then u = 0 gives
    û = 0, the identity -- which is how the flow is initialised (u's head
    or weight is zero), while w and b start random so that dz'/du =
    tanh(wᵀz + b) is non-zero and training can leave the identity.

    Amortised when built with a context (the VAE encoder's features):
    u, w, b are `Dense` heads on the context, one set per example.
    Otherwise u, w, b are the layer's own weights, shared by all examples.

    Args:
        num_layers: K, the number of planar maps.
        context_size: optional context width; None infers it at the first
            call (no context at all means the non-amortised mode).
        seed: int or None; seeds the random initialisers.

    Call args:
        x: `(batch, D)`; context: optional `(batch, c)`.

    Returns:
        `(y, log_det)`: `(batch, D)` and `(batch,)`.

    Raises:
        ValueError: bad arguments, non-vector input, context mismatch.
        NotImplementedError: from `inverse` and `bijector.inverse`.

    Example:
        >>> vae = tfvae.VAE(..., posterior_flow=tfvae.flows.Planar(num_layers=8))

    References:
        Rezende, Mohamed. Variational Inference with Normalizing Flows.
        ICML 2015. arXiv:1505.05770.
    """

    has_inverse = False

    def __init__(self, num_layers=1, context_size=None, seed=None, **kwargs):
        super().__init__(context_size=context_size, **kwargs)
        self.num_layers = positive_int(num_layers, "num_layers")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        self.seed = seed

    def _build_flow(self, event_size, context_dim):
        k, d = self.num_layers, event_size
        seed = self.seed
        self.add_parameters({
            # Zero u: the flow starts as the identity (see the docstring).
            "u": (k * d, "zeros", "zeros"),
            "w": (k * d, keras.initializers.GlorotUniform(seed=seed),
                  keras.initializers.RandomNormal(stddev=1.0 / np.sqrt(d), seed=seed)),
            "b": (k, keras.initializers.GlorotUniform(seed=None if seed is None else seed + 1), "zeros"),
        })


    def _maps(self, z, params, jacobian=False):
        k, d = self.num_layers, self.event_size
        u = keras.ops.reshape(params["u"], (-1, k, d))
        w = keras.ops.reshape(params["w"], (-1, k, d))
        b = params["b"]
        u_hat = constrained_u(u, w)
        log_det = tf.zeros_like(z[:, 0])
        jac = identity_jacobian(z) if jacobian else None
        for i in range(k):
            a = tf.reduce_sum(w[:, i] * z, axis=-1) + b[:, i]
            h = tf.tanh(a)
            z = z + u_hat[:, i] * h[:, None]
            dh = 1.0 - h * h
            # ûᵀψ = (1 - h²) wᵀû, and wᵀû > -1 keeps 1 + ûᵀψ > 0.
            log_det += tf.math.log(tf.abs(1.0 + dh * tf.reduce_sum(w[:, i] * u_hat[:, i], -1)))
            if jacobian:
                psi_jac = dh[:, None] * tf.linalg.matvec(jac, w[:, i], transpose_a=True)   # ψᵀJ (batch, D)
                jac = jac + u_hat[:, i][:, :, None] * psi_jac[:, None, :]
        return (z, log_det) if not jacobian else (z, log_det, jac)

    def get_config(self):
        config = super().get_config()
        config.update(num_layers=self.num_layers, seed=self.seed)
        return config


def constrained_u(u, w):
    """û with wᵀû = m(wᵀu) > -1 for any u, w (shapes `(..., D)`)."""
    wu = tf.reduce_sum(w * u, axis=-1, keepdims=True)
    m = -1.0 + tf.math.softplus(wu + _SHIFT)
    # The tiny constant only matters for w = 0, where the correction is 0 anyway.
    norm_sq = tf.reduce_sum(w * w, axis=-1, keepdims=True) + np.finfo(np.float32).tiny
    return u + (m - wu) * w / norm_sq
