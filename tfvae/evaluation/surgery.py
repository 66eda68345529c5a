"""ELBO surgery: where the KL term goes, and which latent units are used."""

import math

import numpy as np
import tensorflow as tf

from tfvae.nets._validate import positive_int
from tfvae.objectives.gaussian import normal_log_prob


def _as_batches(data, batch_size=256):
    if isinstance(data, tf.data.Dataset):
        for b in data:
            yield b[0] if isinstance(b, (tuple, list)) else b
    else:
        arr = np.asarray(data, dtype="float32")
        for i in range(0, len(arr), batch_size):
            yield arr[i:i + batch_size]


def _posterior_log_prob_matrix(vae, z, loc, scale, h, chunk):
    """`[log q(z_n | x_m)]`, `(N, M)`: Gaussian posteriors in closed form,
    flow posteriors through the flow's inverse with the context of x_m."""
    rows = []
    flow = vae.posterior_flow
    for i in range(0, z.shape[0], chunk):
        zc = z[i:i + chunk]
        if flow is None:
            rows.append(normal_log_prob(zc[:, None, :], loc[None], scale[None]))
            continue
        n, m = zc.shape[0], loc.shape[0]
        zk = tf.reshape(tf.broadcast_to(zc[:, None, :], (n, m, zc.shape[1])), (n * m, -1))
        ctx = tf.reshape(tf.broadcast_to(h[None], (n, m, h.shape[1])), (n * m, -1))
        z0, log_det = flow.inverse(zk, context=ctx)
        lq = normal_log_prob(tf.reshape(z0, (n, m, -1)), loc[None], scale[None]) + tf.reshape(log_det, (n, m))
        rows.append(lq)
    return tf.concat(rows, 0)


def elbo_surgery(vae, data, seed=0, active_threshold=0.01, chunk_size=None):
    """Splits the average KL into mutual information and marginal KL.

    With q(z) = (1/N) Σ_n q(z|x_n) the aggregate posterior over the N
    examples (Hoffman & Johnson, 2016):
        (1/N) Σ_n KL(q(z|x_n) || p(z)) = I_q[x; z] + KL(q(z) || p(z)),
        I_q[x; z] = E_{q(x,z)}[log q(z|x) − log q(z)]   (≤ log N),
    estimated with one z_n ~ q(z|x_n) per example and log q(z_n) computed
    against all N posteriors (an O(N²) sum, chunked). A near-zero mutual
    information with a small KL is posterior collapse; a large marginal KL
    says the prior does not match the aggregate posterior (what flow priors
    and the VampPrior address).

    Active units (Burda et al., 2016): dimensions u with
    Cov_x(E_q[z_u | x]) > `active_threshold`.

    Args:
        vae: a `tfvae.VAE`; a posterior flow needs an inverse (e.g. RealNVP).
        data: array `(N, *input_shape)` or a dataset; all of it is used.
    Returns:
        dict of floats, nats per example: `elbo`, `reconstruction`, `kl`
        (the model's own KL estimate), `mutual_information`, `marginal_kl`,
        `kl_monte_carlo` (= mutual_information + marginal_kl exactly),
        `active_units`, `num_examples`, `max_mutual_information` (log N).
    Raises:
        ValueError: a posterior flow without an inverse (planar, Sylvester;
            IAF's inverse takes D passes and is allowed but slow), or a
            conditional model.
    """
    if getattr(vae, "condition_dim", None) is not None:
        raise ValueError("elbo_surgery splits the KL of an unconditional VAE; for a ConditionalVAE the "
                         "aggregate posterior depends on the condition and is not supported yet.")
    if chunk_size is not None:
        chunk_size = positive_int(chunk_size, "chunk_size")
    flow = vae.posterior_flow
    locs, scales, hs, means, recs, kls, zs, lq_own = [], [], [], [], [], [], [], []
    seeds = iter(tf.random.split(tf.constant([seed, 1], tf.int64), 100_000))
    for xb in _as_batches(data):
        x = vae._check(xb)
        _, values = vae.compute_bound(x, next(seeds), training=False)
        recs.append(values["reconstruction"])
        kls.append(values["kl"])
        loc, scale, h = vae.posterior_params(x)
        z, log_q, _, _ = vae.sample_posterior(x, 1, next(seeds))
        locs.append(loc), scales.append(scale), hs.append(h)
        zs.append(z[0]), lq_own.append(log_q[0]), means.append(vae._latent_mean(x))
    if not locs or sum(int(t.shape[0]) for t in locs) == 0:
        raise ValueError("Expected `data` to hold at least one example. Received: an empty "
                         f"{'dataset' if isinstance(data, tf.data.Dataset) else 'array'}.")
    loc, scale, h, z = (tf.concat(t, 0) for t in (locs, scales, hs, zs))
    n = int(z.shape[0])
    chunk = chunk_size or max(1, 2**22 // (n * vae.latent_dim))
    try:
        matrix = _posterior_log_prob_matrix(vae, z, loc, scale, h, chunk)
    except NotImplementedError as e:
        raise ValueError("elbo_surgery needs log q(z|x) at arbitrary z; the posterior flow "
                         f"{type(flow).__name__} has no inverse.") from e
    log_q_agg = tf.reduce_logsumexp(matrix, axis=1) - math.log(n)
    log_q_own = tf.concat(lq_own, 0)
    log_p = vae.prior.log_prob(z)
    mi = float(tf.reduce_mean(log_q_own - log_q_agg))
    marginal_kl = float(tf.reduce_mean(log_q_agg - log_p))
    post_means = tf.concat(means, 0).numpy()
    active = int(np.sum(np.var(post_means, axis=0) > active_threshold))
    rec, kl = float(tf.reduce_mean(tf.concat(recs, 0))), float(tf.reduce_mean(tf.concat(kls, 0)))
    return {"elbo": rec - kl, "reconstruction": rec, "kl": kl, "mutual_information": mi,
            "marginal_kl": marginal_kl, "kl_monte_carlo": mi + marginal_kl, "active_units": active,
            "num_examples": n, "max_mutual_information": math.log(n)}
