"""The KL term split into index-code MI, total correlation and dimension-wise KL.

With the data index n uniform over a dataset of N examples, q(z|n) the
encoder's diagonal Gaussian, q(z) = (1/N) Σ_n q(z|n) the aggregate posterior
and q(z_d) its marginals, the average KL term of the ELBO decomposes as
(Chen et al., 2018, eq. 2)

    E_n KL(q(z|n) || p(z)) = I_q(z; n)                          index-code MI
                           + KL(q(z) || Π_d q(z_d))             total correlation
                           + E_q(z)[Σ_d log q(z_d) − log p(z)]  dimension-wise KL

(the last is Σ_d KL(q(z_d) || p(z_d)) when p factorises, e.g. N(0, I)).
Per example i of a minibatch x_1..x_M with z_i ~ q(z|x_i), the three terms
are estimated by

    mi_i   = log q(z_i|x_i) − log q̂(z_i)
    tc_i   = log q̂(z_i) − Σ_d log q̂(z_id)
    dwkl_i = Σ_d log q̂(z_id) − log p(z_i)

so mi_i + tc_i + dwkl_i = log q(z_i|x_i) − log p(z_i), the Monte Carlo KL,
exactly, whatever the estimator. q̂ comes from the batch,
q̂(z_i) = Σ_j w_ij q(z_i|x_j) (and the same weights per dimension for
q̂(z_id)), with either

    "weighted"   (minibatch-weighted sampling, Chen et al., eq. 4):
                 w_ij = 1/(N M) for every j. Because the batch is treated as
                 one draw of a minibatch containing x_i, the weights sum to
                 1/N: for M ≪ N, log q̂ is about log q − log N, so mi_i is
                 inflated by about log N, tc_i by about (D − 1) log N, and
                 dwkl_i lowered by about D log N. The offsets are nearly
                 constant, which is why it trains; the reported values are
                 not the decomposition's.
    "stratified" (minibatch stratified sampling, Chen et al., App. C.2):
                 the stratum {x_i} gets its exact weight, w_ii = 1/N, and the
                 other N − 1 examples are estimated from the other M − 1
                 members of the batch, w_ij = (N − 1)/(N (M − 1)), j ≠ i. The
                 weights sum to 1 and q̂(z_i) is an unbiased estimate of
                 q(z_i) for a uniformly drawn batch (exact when M = N).
                 Chen et al. put weight (N − M + 1)/(N (M − 1)) on one
                 designated other member and 1/(M − 1) on the rest, which
                 has the same expectation; uniform weights have lower
                 variance.

References:
    Chen, Li, Grosse, Duvenaud. Isolating Sources of Disentanglement in
    Variational Autoencoders. NeurIPS 2018. arXiv:1802.04942.
"""

import math

import tensorflow as tf

from tfvae.objectives.gaussian import normal_log_prob

ESTIMATORS = ("stratified", "weighted")


def log_weights(batch_size, dataset_size, estimator="stratified"):
    """The `(M, M)` float32 matrix log w_ij of the module docstring.

    Args:
        batch_size: M, an int or int scalar tensor (M ≥ 2 for "stratified").
        dataset_size: N ≥ M, a Python int.
        estimator: "stratified" or "weighted".
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"Expected `estimator` to be one of {ESTIMATORS}. Received: estimator={estimator!r}")
    m = tf.cast(batch_size, tf.float32)
    n = float(dataset_size)
    if estimator == "weighted":
        return tf.fill([batch_size, batch_size], -tf.math.log(n * m))
    off = tf.math.log(n - 1.0) - math.log(n) - tf.math.log(tf.maximum(m - 1.0, 1.0))
    eye = tf.eye(batch_size)
    return eye * (-math.log(n)) + (1.0 - eye) * off


def kl_decomposition(z, loc, scale, log_pz, dataset_size, estimator="stratified"):
    """Index-code MI, total correlation and dimension-wise KL per example.

    Args:
        z: `(M, D)`, z_i ~ q(z | x_i) (reparameterised, so gradients flow).
        loc, scale: `(M, D)`, the diagonal Gaussians q(z | x_j) of the batch.
        log_pz: `(M,)` log p(z_i) under the prior, nats.
        dataset_size: N, the number of training examples (a Python int ≥ M).
        estimator: "stratified" (default) or "weighted" (see the module).
    Returns:
        `(mi, tc, dwkl)`, each `(M,)` float32 nats, summing to
        log q(z_i|x_i) − log p(z_i).
    Raises:
        ValueError: an unknown estimator.
    """
    z, loc, scale = (tf.cast(t, tf.float32) for t in (z, loc, scale))
    # log q(z_id | x_j), (M, M, D): row i's sample under every member j's Gaussian.
    log_q_dims = normal_log_prob(z[:, None, :, None], loc[None, :, :, None], scale[None, :, :, None])
    log_w = log_weights(tf.shape(z)[0], dataset_size, estimator)
    log_q_joint = tf.reduce_sum(log_q_dims, -1)                              # (M, M)
    log_q_cond = tf.linalg.diag_part(log_q_joint)                            # log q(z_i | x_i)
    log_qz = tf.reduce_logsumexp(log_w + log_q_joint, axis=1)                # log q̂(z_i)
    log_prod = tf.reduce_sum(tf.reduce_logsumexp(log_w[..., None] + log_q_dims, axis=1), -1)
    return log_q_cond - log_qz, log_qz - log_prod, log_prod - tf.cast(log_pz, tf.float32)
