"""The β-TCVAE decomposition of the KL term against closed forms.

A Gaussian aggregate posterior: encoder means μ_n ~ N(0, Σ_μ) (correlated)
and q(z|n) = N(μ_n, s² I), so q(z) = N(0, Σ) with Σ = Σ_μ + s² I as N → ∞.
Then, against p(z) = N(0, I),
    TC   = ½ (Σ_d log Σ_dd − log det Σ)
    MI   = ½ log det Σ − D log s
    DWKL = Σ_d ½ (Σ_dd − 1 − log Σ_dd).
"""

import numpy as np
import pytest
from scipy.special import logsumexp

from tfvae.objectives import standard_normal_log_prob
from tfvae.objectives.tc import kl_decomposition, log_weights

S = 0.5
SIGMA_MU = np.array([[1.0, 0.8], [0.8, 1.0]])
SIGMA = SIGMA_MU + S**2 * np.eye(2)


def _closed_form():
    tc = 0.5 * (np.log(np.diag(SIGMA)).sum() - np.linalg.slogdet(SIGMA)[1])
    mi = 0.5 * np.linalg.slogdet(SIGMA)[1] - 2 * np.log(S)
    dwkl = 0.5 * np.sum(np.diag(SIGMA) - 1 - np.log(np.diag(SIGMA)))
    return mi, tc, dwkl


def _dataset(n, seed):
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(np.zeros(2), SIGMA_MU, size=n).astype("float32")


def _terms(mu, seed, estimator, dataset_size):
    rng = np.random.default_rng(seed)
    scale = np.full_like(mu, S)
    z = (mu + S * rng.normal(size=mu.shape)).astype("float32")
    out = kl_decomposition(z, mu, scale, standard_normal_log_prob(z), dataset_size, estimator)
    return z, [t.numpy() for t in out]


def test_stratified_estimates_recover_the_known_total_correlation():
    """Batches of 1000 from a dataset of 20000: the mean of each term over
    4 batches is within 0.03 nats of its closed form (the terms' Monte
    Carlo standard errors are ≤ 0.01; TC ≈ 0.26, MI ≈ 1.35, DWKL ≈ 0.03)."""
    data = _dataset(20000, seed=0)
    rng = np.random.default_rng(1)
    totals = np.zeros(3)
    for b in range(4):
        batch = data[rng.choice(len(data), 1000, replace=False)]
        _, terms = _terms(batch, 10 + b, "stratified", len(data))
        totals += [t.mean() for t in terms]
    mi, tc, dwkl = totals / 4
    expected = _closed_form()
    assert tc == pytest.approx(expected[1], abs=0.03)
    assert mi == pytest.approx(expected[0], abs=0.03)
    assert dwkl == pytest.approx(expected[2], abs=0.03)
    assert expected[1] > 0.2  # a correlated aggregate posterior: TC well away from 0


def test_minibatch_weighted_estimate_carries_the_documented_log_n_offsets():
    """The paper's MWS weights sum to 1/N: with M ≪ N its MI is the stratified
    one plus about log N, its TC plus about (D − 1) log N = log N and its
    dimension-wise KL minus about D log N (the three still sum to the KL)."""
    data = _dataset(20000, seed=0)
    batch = data[np.random.default_rng(2).choice(len(data), 1000, replace=False)]
    _, strat = _terms(batch, 3, "stratified", len(data))
    _, weighted = _terms(batch, 3, "weighted", len(data))
    log_n = np.log(len(data))
    assert weighted[0].mean() - strat[0].mean() == pytest.approx(log_n, abs=0.05)
    assert weighted[1].mean() - strat[1].mean() == pytest.approx(log_n, abs=0.05)
    assert weighted[2].mean() - strat[2].mean() == pytest.approx(-2 * log_n, abs=0.05)


@pytest.mark.parametrize("estimator", ["stratified", "weighted"])
def test_terms_sum_to_the_monte_carlo_kl_exactly(estimator):
    rng = np.random.default_rng(4)
    loc = rng.normal(size=(16, 3)).astype("float32")
    scale = rng.uniform(0.2, 1.5, size=(16, 3)).astype("float32")
    z = (loc + scale * rng.normal(size=(16, 3))).astype("float32")
    log_pz = standard_normal_log_prob(z)
    mi, tc, dwkl = kl_decomposition(z, loc, scale, log_pz, 500, estimator)
    log_q = -0.5 * np.square((z - loc) / scale) - np.log(scale) - 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose((mi + tc + dwkl).numpy(), log_q.sum(-1) - log_pz.numpy(), atol=2e-5)


def test_stratified_estimate_is_exact_when_the_batch_is_the_dataset():
    """M = N: every weight is 1/N, q̂ is the aggregate posterior itself
    (checked in float64 with scipy), and the weights of both estimators
    are as documented."""
    rng = np.random.default_rng(5)
    loc = rng.normal(size=(40, 2)).astype("float32")
    scale = rng.uniform(0.3, 1.0, size=(40, 2)).astype("float32")
    z = (loc + scale * rng.normal(size=(40, 2))).astype("float32")
    mi, tc, dwkl = kl_decomposition(z, loc, scale, standard_normal_log_prob(z), 40)
    dims = (-0.5 * np.square((z[:, None] - loc[None]) / scale[None]) - np.log(scale[None])
            - 0.5 * np.log(2 * np.pi)).astype("float64")                     # (i, j, d)
    log_qz = logsumexp(dims.sum(-1), axis=1) - np.log(40)
    log_prod = (logsumexp(dims, axis=1) - np.log(40)).sum(-1)
    np.testing.assert_allclose(tc.numpy(), log_qz - log_prod, atol=1e-4)
    np.testing.assert_allclose(mi.numpy(), np.diagonal(dims.sum(-1)) - log_qz, atol=1e-4)
    w = np.exp(log_weights(4, 10, "stratified").numpy())
    np.testing.assert_allclose(w, np.where(np.eye(4), 0.1, 0.9 / 3), rtol=1e-6)
    np.testing.assert_allclose(np.exp(log_weights(4, 10, "weighted").numpy()), np.full((4, 4), 1 / 40), rtol=1e-6)
    with pytest.raises(ValueError, match=r"Expected `estimator` to be one of"):
        log_weights(4, 10, "mss")
