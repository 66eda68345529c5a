"""Fréchet distance against closed forms, and streamed == in-memory statistics."""

import numpy as np
import pytest
import scipy.linalg

from tfvae.metrics import FeatureStatistics
from tfvae.metrics import frechet_distance
from tfvae.metrics.frechet import trace_sqrt_product


def _random_covariance(rng, d, scale=1.0):
    a = rng.normal(size=(d, d))
    return scale * (a @ a.T / d + 0.1 * np.eye(d))


def test_diagonal_gaussians_match_closed_form():
    # Commuting covariances: d² = |Δμ|² + Σ_i (σ_a,i - σ_b,i)².
    mu_a, mu_b = np.array([0.0, 1.0, -2.0]), np.array([0.5, -1.0, 0.0])
    sd_a, sd_b = np.array([1.0, 2.0, 0.5]), np.array([3.0, 0.1, 0.5])
    expected = np.sum((mu_a - mu_b) ** 2) + np.sum((sd_a - sd_b) ** 2)
    a = FeatureStatistics.from_moments(mu_a, np.diag(sd_a ** 2), count=100)
    b = FeatureStatistics.from_moments(mu_b, np.diag(sd_b ** 2), count=100)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)


def test_non_commuting_gaussians_match_closed_form():
    # Σ_a = I and a rotated, ill-conditioned Σ_b (eigenvalues 0.01..9):
    # tr sqrt(Σ_a Σ_b) = Σ_i sqrt(λ_i(Σ_b)), and the distance is symmetric.
    rng = np.random.default_rng(0)
    d = 6
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    eigenvalues = np.array([0.01, 0.5, 1.0, 2.0, 4.0, 9.0])
    sigma_b = q @ np.diag(eigenvalues) @ q.T
    mu_b = rng.normal(size=d)
    expected = mu_b @ mu_b + d + eigenvalues.sum() - 2 * np.sqrt(eigenvalues).sum()
    a = FeatureStatistics.from_moments(np.zeros(d), np.eye(d), count=10)
    b = FeatureStatistics.from_moments(mu_b, sigma_b, count=10)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(b, a) == pytest.approx(expected, rel=1e-6)


def test_trace_sqrt_product_matches_sqrtm_on_general_covariances():
    rng = np.random.default_rng(1)
    s_a, s_b = _random_covariance(rng, 8), _random_covariance(rng, 8, scale=3.0)
    reference = np.trace(scipy.linalg.sqrtm(s_a @ s_b)).real
    assert trace_sqrt_product(s_a, s_b) == pytest.approx(reference, rel=1e-9)


def test_singular_covariances_stay_finite_and_zero_for_equal_sets():
    # 10 samples of 50 features: rank-deficient covariances, where sqrtm struggles.
    x = np.random.default_rng(2).normal(size=(10, 50))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)


def test_sample_features_against_numpy_moments():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(500, 5)), rng.normal(1.0, 2.0, size=(400, 5))
    mean_diff = x.mean(0) - y.mean(0)
    s_x, s_y = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    expected = mean_diff @ mean_diff + np.trace(s_x + s_y) - 2 * np.trace(scipy.linalg.sqrtm(s_x @ s_y)).real
    assert frechet_distance(x, y) == pytest.approx(expected, rel=1e-9)


def test_streamed_statistics_equal_in_memory():
    rng = np.random.default_rng(4)
    x = rng.normal(3.0, 2.0, size=(1000, 7))
    stats = FeatureStatistics()
    for batch in np.array_split(x, [1, 2, 100, 377, 900]):  # uneven, one-row batches included
        stats.update(batch)
    assert stats.count == 1000
    np.testing.assert_allclose(stats.mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.covariance, np.cov(x, rowvar=False), rtol=1e-10)
    merged = FeatureStatistics().update(x[:300]).merge(FeatureStatistics().update(x[300:]))
    np.testing.assert_allclose(merged.covariance, np.cov(x, rowvar=False), rtol=1e-10)
    y = rng.normal(size=(800, 7))
    in_memory = frechet_distance(x, y)
    assert frechet_distance(stats, y) == pytest.approx(in_memory, rel=1e-10)
    assert frechet_distance(iter(np.array_split(x, 9)), (b for b in np.array_split(y, 4))) == \
        pytest.approx(in_memory, rel=1e-10)


@pytest.mark.parametrize("a, b, match", [
    (np.zeros((0, 3)), np.zeros((5, 3)), "at least 1 example"),
    (np.zeros((1, 3)), np.zeros((5, 3)), "at least 2 example"),
    (np.zeros((5, 3)), np.zeros((5, 4)), "same number of features"),
    (np.zeros(5), np.zeros((5, 1)), "shape \\(num_examples, num_features\\)"),
    (np.full((5, 2), np.nan), np.zeros((5, 2)), "finite"),
    ([], np.zeros((5, 2)), "no batches"),
])
def test_bad_features_raise(a, b, match):
    with pytest.raises(ValueError, match=match):
        frechet_distance(a, b)


def test_update_rejects_a_batch_of_another_width():
    stats = FeatureStatistics().update(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="Expected `batch` to have 2 features"):
        stats.update(np.zeros((3, 5)))
