"""KID: the U-statistic against a brute-force sum, unbiasedness, a closed form, streaming."""

import itertools

import numpy as np
import pytest

from tfvae.metrics import kid
from tfvae.metrics.kid import mmd2_unbiased


def test_mmd2_matches_brute_force_u_statistic():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 3)), rng.normal(0.5, 1.0, size=(5, 3))

    def k(a, b):
        return (a @ b / 3 + 1.0) ** 3

    xx = np.mean([k(x[i], x[j]) for i, j in itertools.permutations(range(6), 2)])
    yy = np.mean([k(y[i], y[j]) for i, j in itertools.permutations(range(5), 2)])
    xy = np.mean([k(a, b) for a in x for b in y])
    assert mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-12)


def test_unbiased_on_equal_distributions():
    # 200 independent KIDs of two samples of one distribution: their mean is
    # within 2 standard errors (over the repeats) of 0.
    rng = np.random.default_rng(1)
    values = [kid(rng.normal(size=(200, 4)), rng.normal(size=(200, 4)), subset_size=50, seed=i)[0]
              for i in range(200)]
    assert abs(np.mean(values)) < 2 * np.std(values, ddof=1) / np.sqrt(len(values))


def test_matches_population_mmd_in_one_dimension():
    # d = 1: k(x, y) = (xy + 1)^3 = x³y³ + 3x²y² + 3xy + 1, so
    # MMD²(P, Q) = (m3_P - m3_Q)² + 3 (m2_P - m2_Q)² + 3 (m1_P - m1_Q)².
    # P = N(0, 1), Q = N(μ, 1): m1 = μ, m2 = 1 + μ², m3 = μ³ + 3μ.
    mu = 0.5
    expected = (mu ** 3 + 3 * mu) ** 2 + 3 * (mu ** 2) ** 2 + 3 * mu ** 2
    rng = np.random.default_rng(2)
    values = [kid(rng.normal(size=(400, 1)), rng.normal(mu, 1.0, size=(400, 1)), subset_size=100, seed=i)[0]
              for i in range(100)]
    assert abs(np.mean(values) - expected) < 3 * np.std(values, ddof=1) / np.sqrt(len(values))


def test_standard_error_tracks_the_spread_of_repeats():
    # The per-call standard error should match the spread of estimates across
    # independent calls (within a factor that a 50-repeat test can resolve).
    rng = np.random.default_rng(3)
    runs = [kid(rng.normal(size=(1000, 3)), rng.normal(0.3, 1.0, size=(1000, 3)), subset_size=100, seed=i)
            for i in range(50)]
    spread = np.std([r[0] for r in runs], ddof=1)
    mean_se = np.mean([r[1] for r in runs])
    assert 0.6 < mean_se / spread < 1.6


def test_streamed_equals_in_memory_without_shuffle():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(530, 8)), rng.normal(0.2, 1.0, size=(610, 8))
    in_memory = kid(a, b, subset_size=100, shuffle=False)
    streamed = kid(iter(np.array_split(a, 7)), (x for x in np.array_split(b, 13)), subset_size=100)
    assert streamed == pytest.approx(in_memory, rel=1e-12)
    shuffled = kid(a, b, subset_size=100, seed=0)
    assert shuffled != in_memory and shuffled == kid(a, b, subset_size=100, seed=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(subset_size=0), "Expected `subset_size` to be a positive integer. Received: subset_size=0"),
    (dict(subset_size=1), "at least 2"),
    (dict(subset_size=60), "at least 2 \\* subset_size = 120"),
])
def test_bad_arguments_raise(kwargs, match):
    x = np.zeros((100, 2))
    with pytest.raises(ValueError, match=match):
        kid(x, x, **kwargs)


def test_mismatched_features_raise():
    with pytest.raises(ValueError, match="same number of features|Expected `features_b` to have 2"):
        kid(np.zeros((100, 2)), np.zeros((100, 3)), subset_size=10)
