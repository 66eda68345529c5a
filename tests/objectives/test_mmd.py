"""The unbiased MMD² U-statistic against closed forms and for unbiasedness."""

import numpy as np
import pytest
import tensorflow as tf

import tfvae
from tfvae.objectives.mmd import DEFAULT_SCALES

D = 3
MU = np.array([0.6, -0.3, 0.0])
B = 0.5  # y ~ N(MU, B² I), x ~ N(0, I)


def _rbf_expectation(delta, var, c):
    """E exp(−‖u‖²/c), u ~ N(delta, var·I): per dimension
    (c / (c + 2 var))^½ exp(−δ² / (c + 2 var))."""
    return float(np.prod(np.sqrt(c / (c + 2 * var)) * np.exp(-np.square(delta) / (c + 2 * var))))


def _rbf_mmd2(scales=DEFAULT_SCALES):
    """Closed-form MMD²(N(0, I), N(MU, B² I)) under Σ_s exp(−‖x−y‖²/(2 D s)):
    x − x' ~ N(0, 2I), y − y' ~ N(0, 2B²I), x − y ~ N(−MU, (1 + B²)I)."""
    total = 0.0
    for s in scales:
        c = 2 * D * s
        total += (_rbf_expectation(np.zeros(D), 2.0, c) + _rbf_expectation(np.zeros(D), 2 * B**2, c)
                  - 2 * _rbf_expectation(MU, 1 + B**2, c))
    return total


def _imq_mmd2_monte_carlo(n=2_000_000, seed=0):
    """E k over independent pairs (not a U-statistic), float64: the truth to
    within ~1e-4 for the IMQ kernel, which has no closed form here."""
    rng = np.random.default_rng(seed)
    def expect(a, b):
        d2 = np.sum(np.square(a - b), -1)
        return sum(np.mean(2 * D * s / (2 * D * s + d2)) for s in DEFAULT_SCALES)
    x1, x2 = rng.normal(size=(n, D)), rng.normal(size=(n, D))
    y1, y2 = MU + B * rng.normal(size=(n, D)), MU + B * rng.normal(size=(n, D))
    return expect(x1, x2) + expect(y1, y2) - 2 * expect(x1, y1)


def _samples(n, m, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, D)).astype("float32"), (MU + B * rng.normal(size=(m, D))).astype("float32")


def test_large_sample_rbf_estimates_match_the_closed_form():
    """Ten estimates from n = 2000, m = 1500: their mean lies within 4
    standard errors of the closed form, and that standard error is small
    (< 2% of MMD²), so the check is sharp."""
    truth = _rbf_mmd2()
    estimates = np.array([float(tfvae.objectives.mmd(*_samples(2000, 1500, seed=s), kernel="rbf"))
                          for s in range(10)])
    se = estimates.std(ddof=1) / np.sqrt(len(estimates))
    assert abs(estimates.mean() - truth) < 4 * se, (estimates.mean(), truth, se)
    assert se < 0.02 * truth and truth > 0.05  # distinguishable Gaussians, a precise estimate


@pytest.mark.parametrize("kernel", ["rbf", "imq"])
def test_small_sample_estimate_is_unbiased(kernel):
    """400 estimates from n = 6, m = 5 samples: their mean lies within 3.5
    standard errors of the truth, while the biased V-statistic (i = j terms
    kept) misses it by many."""
    truth = _rbf_mmd2() if kernel == "rbf" else _imq_mmd2_monte_carlo()
    fn = tf.function(lambda x, y: tfvae.objectives.mmd(x, y, kernel=kernel))
    estimates, biased = [], []
    for seed in range(400):
        x, y = _samples(6, 5, seed=100 + seed)
        estimates.append(float(fn(x, y)))
        k = lambda a, b: tfvae.objectives.mmd_kernel_matrix(a, b, kernel).numpy()
        biased.append(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())
    estimates, biased = np.array(estimates), np.array(biased)
    se = estimates.std(ddof=1) / np.sqrt(len(estimates))
    assert abs(estimates.mean() - truth) < 3.5 * se, (estimates.mean(), truth, se)
    assert abs(biased.mean() - truth) > 10 * se   # the bias the U-statistic removes
    assert (estimates < 0).any()                  # unbiased, hence not clipped at 0


def test_equal_distributions_give_zero_in_expectation_and_scales_add():
    x, _ = _samples(400, 2, seed=3)
    y, _ = _samples(400, 2, seed=4)
    assert abs(float(tfvae.objectives.mmd(x, y))) < 0.01
    x, y = _samples(50, 40, seed=5)
    parts = sum(float(tfvae.objectives.mmd(x, y, kernel="rbf", scales=s)) for s in (0.5, 2.0))
    assert float(tfvae.objectives.mmd(x, y, kernel="rbf", scales=(0.5, 2.0))) == pytest.approx(parts, rel=1e-5)


def test_bad_arguments_raise_keras_style_errors():
    x = np.zeros((4, 2), "float32")
    with pytest.raises(ValueError, match=r"Expected `kernel` to be one of \('imq', 'rbf'\). Received: kernel='cos'"):
        tfvae.objectives.mmd(x, x, kernel="cos")
    with pytest.raises(ValueError, match=r"Received: scales=-1"):
        tfvae.objectives.mmd(x, x, scales=-1)
    with pytest.raises(ValueError, match="at least 2 samples"):
        tfvae.objectives.mmd(x[:1], x)
    with pytest.raises(ValueError, match="same dimension"):
        tfvae.objectives.mmd(x, np.zeros((4, 3), "float32"))
