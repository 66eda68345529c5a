"""∇_z log q(z) at a flow's own sample, for path gradients.

A flow density z = F(u), u ~ q_0, has log q(z) = log q_0(u) − log|det J|,
J = ∂z/∂u. Path-gradient estimators ("sticking the landing", DReG; see
`tfvae.objectives.gradients` and `tfvae.vi`) need its score at fixed
parameters, s = ∇_z log q(z), which would ordinarily take the flow's
inverse (sequential for IAF, none in closed form for planar and Sylvester).
By the chain rule through u = F⁻¹(z) it needs only the forward pass:

    s = J⁻ᵀ ∇_u [log q_0(u) − log|det J(u)|],

one vector-Jacobian product for the bracket, J from the flow's
`forward_and_jacobian` (carried through the forward pass in closed form for
planar and Sylvester flows, else `batch_jacobian`: D products, vectorised),
and a D×D solve per sample. Any flow whose outputs depend only on their own
example's input works.
"""

import tensorflow as tf


def flow_sample_and_score(flow, u, base_log_prob, context=None):
    """Runs the flow on base samples and returns its sample, log q and score.

    Args:
        flow: a tfvae vector flow; its `forward_and_jacobian` gives J (in
            closed form or by `batch_jacobian`).
        u: `(N, D)` base samples (differentiable: the path to the weights).
        base_log_prob: `u (N, D) -> (N,)`, log q_0(u) with q_0's weights
            held constant (gradient only through u).
        context: `(N, F)` the flow's context, or None.
    Returns:
        z `(N, D)` (differentiable), and the value of log q(z) `(N,)` and
        the score s `(N, D)` at fixed weights, both without gradient.
    """
    # One forward pass gives z, the log-det (for the bracket's gradient) and J.
    with tf.GradientTape() as tape:
        tape.watch(u)
        z, log_det, jacobian = flow.forward_and_jacobian(u, context=context)
        log_q = base_log_prob(u) - log_det
    v = tape.gradient(log_q, u)
    score = tf.linalg.solve(tf.linalg.matrix_transpose(jacobian), v[..., None])[..., 0]
    return z, tf.stop_gradient(log_q), tf.stop_gradient(score)


def path_log_prob(z, log_q, score):
    """log q(z)'s value `log_q (...)` with gradient sᵀ ∂z/∂φ only.

    `log_q + Σ s (z − stop(z))`: equal to `log_q`, differentiable through
    `z (..., D)` alone, as if log q were evaluated at fixed weights.
    """
    return log_q + tf.reduce_sum(score * (z - tf.stop_gradient(z)), -1)
