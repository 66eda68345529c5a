"""∇_z log q(z|x) at a flow posterior's own sample, for path gradients.

A flow posterior z_K = F(z_0; h), z_0 ~ N(μ, diag σ²), has
log q_K(z_K) = log q_0(z_0) − log|det J|, J = ∂z_K/∂z_0. The path-gradient
estimators (`tfvae.objectives.gradients`) need its score at fixed
parameters, s = ∇_{z_K} log q_K(z_K), which would ordinarily take the
flow's inverse (sequential for IAF, none in closed form for planar and
Sylvester). By the chain rule through z_0 = F⁻¹(z_K) it needs only the
forward pass already made:

    s = J⁻ᵀ ∇_{z_0} [log q_0(z_0) − log|det J(z_0)|],

one vector-Jacobian product for the bracket, J by `batch_jacobian` (D
products, vectorised), and a D×D solve per sample. Any flow whose
outputs depend only on their own example's input works.
"""

import tensorflow as tf

from tfvae.posteriors.gaussian import DiagonalGaussian


def flow_sample_and_score(flow, z0, loc, scale, context):
    """Runs the flow and returns its sample, log q_K and score.

    Args:
        flow: the posterior flow, `(z_0 (N, D), context) -> (z_K, log_det (N,))`.
        z0: `(N, D)` base samples (differentiable: the path to φ).
        loc, scale: `(N, D)` q_0's parameters, per row of `z0`.
        context: `(N, F)` the flow's context (or None).
    Returns:
        z_K `(N, D)` (differentiable), and the value of log q_K(z_K) `(N,)`
        and the score s `(N, D)` at fixed parameters, both without gradient.
    """
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(z0)
        zk, log_det = flow(z0, context=context)
        log_q = DiagonalGaussian.log_prob(z0, tf.stop_gradient(loc), tf.stop_gradient(scale)) - log_det
    v = tape.gradient(log_q, z0)
    jacobian = tape.batch_jacobian(zk, z0)
    del tape
    score = tf.linalg.solve(tf.linalg.matrix_transpose(jacobian), v[..., None])[..., 0]
    return zk, tf.stop_gradient(log_q), tf.stop_gradient(score)
