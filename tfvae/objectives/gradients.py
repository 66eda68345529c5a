"""The doubly-reparameterised gradient (DReG) of the IWAE bound.

With z_k = μ + σ ε_k (φ: the encoder's parameters), log w_k = log p(x|z_k) +
β [log p(z_k) − log q(z_k|x)] and normalised weights w̃_k = softmax(log w)_k,
the reparameterised gradient of IWAE = log (1/K) Σ_k w_k is

    ∇_φ IWAE = Σ_k w̃_k [∂log w_k/∂z_k · ∂z_k/∂φ  −  β ∂log q_φ(z_k)/∂φ],

whose second, score-function term has zero mean yet dominates the variance
as K grows: the encoder's gradient signal-to-noise ratio falls like
1/√K (Rainforth et al., 2018). Rewriting that term by the
reparameterisation identity E_q[f(z) ∇_φ log q_φ(z)] = E_ε[∇_z f(z) ∂z/∂φ]
with f = w̃_k, whose z-derivative is w̃_k (1 − w̃_k) ∂log w_k/∂z_k, gives
the same expectation with no score term (Tucker et al., 2019):

    ∇_φ IWAE ≐ Σ_k w̃_k (1 − β + β w̃_k) ∂log w_k/∂z_k · ∂z_k/∂φ,

where ∂log w_k/∂z_k holds q's parameters fixed. β = 1 gives the paper's
w̃_k²; K = 1 gives w̃ = 1, the path derivative ("sticking the landing",
Roeder et al., 2017). The decoder's and prior's gradients are unchanged.

The identity needs only that z_k is a reparameterised sample, so it
holds for flow posteriors too (z_k = z_K, φ also the flow's weights),
with ∂log w_k/∂z_k taking ∇_z log q_K at fixed parameters
(`tfvae.flows.score`).

So a model computes the bound as usual, except that log q's gradient is
taken at fixed parameters (for a Gaussian, `stop_gradient` on (μ, σ)) and
z passes through a `GradientScale` whose factor 1 − β + β w̃_k is set once
the weights are known: the plain gradient of the loss is then the DReG
estimator, in one backward pass.

References:
    Tucker, Lawson, Gu, Maddison. Doubly Reparameterized Gradient
    Estimators for Monte Carlo Objectives. ICLR 2019. arXiv:1810.04152.
    Rainforth et al. Tighter Variational Bounds are Not Necessarily Better.
    ICML 2018. Roeder, Wu, Duvenaud. Sticking the Landing. NeurIPS 2017.
"""

import tensorflow as tf


class GradientScale:
    """Identity in the forward pass whose backward pass multiplies the
    incoming gradient by `factor`, a tensor assigned *after* the forward
    pass (it may depend on values computed downstream of the output).

    Usage: `z = scale(z)`, compute with z, set `scale.factor` (broadcastable
    to z, no gradient of its own), then differentiate. Each forward pass
    needs its own instance.
    """

    def __init__(self):
        self.factor = None

    def __call__(self, t):
        @tf.custom_gradient
        def scaled_identity(t):
            def grad(dy):
                if self.factor is None:
                    raise ValueError("GradientScale.factor must be set before the backward pass.")
                return dy * tf.cast(tf.stop_gradient(self.factor), dy.dtype)
            return tf.identity(t), grad
        return scaled_identity(t)


def dreg_factor(log_weights, beta=1.0, axis=0):
    """1 − β + β w̃_k, the DReG factor on ∂log w_k/∂z_k ∂z_k/∂φ (see above).

    Args:
        log_weights: `(K, batch)` log w_k, β already applied to the prior
            and posterior terms; `axis` holds the samples.
        beta: the KL weight β (a scalar, may be a tensor).
    Returns:
        the factors, same shape as `log_weights`, without gradient.
    """
    w = tf.nn.softmax(tf.stop_gradient(log_weights), axis=axis)
    beta = tf.cast(beta, w.dtype)
    return 1.0 - beta + beta * w


ESTIMATORS = ("auto", "reparameterization", "doubly_reparameterized")


def uses_dreg(estimator, k, monte_carlo_kl, cheap_score=True):
    """Whether a VAE trains with the path / DReG gradient: `estimator` is
    its `gradient_estimator` (one of `ESTIMATORS`), K its number of
    importance samples, `monte_carlo_kl` whether its K = 1 KL term is a
    Monte Carlo estimate, `cheap_score` whether ∇_z log q costs no more
    than a forward pass (a Gaussian posterior, or a posterior flow with a
    closed-form Jacobian; a flow without one needs `batch_jacobian`, D
    backward passes of the flow every step). "auto" chooses it whenever
    log q is a Monte Carlo term of the loss and its score is cheap.
    Raises ValueError for an unknown name, and for DReG at K = 1 with an
    analytic KL (there is no log q term to estimate)."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"Expected `gradient_estimator` to be one of {ESTIMATORS}. "
                         f"Received: gradient_estimator={estimator!r}")
    if estimator == "auto":
        return (k > 1 or monte_carlo_kl) and cheap_score
    if estimator == "reparameterization":
        return False
    if k == 1 and not monte_carlo_kl:
        raise ValueError("With num_importance_samples=1, gradient_estimator='doubly_reparameterized' is the path "
                         "derivative of a Monte Carlo KL, but this model's KL is analytic; pass analytic_kl=False "
                         "(or keep the analytic KL with gradient_estimator='reparameterization').")
    return True
