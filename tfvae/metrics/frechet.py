"""Fréchet distance between Gaussians fitted to two feature sets (FID)."""

import numpy as np

from tfvae.metrics.statistics import statistics_of


def _sqrt_psd(matrix):
    """Symmetric square root of a symmetric positive semi-definite matrix."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def trace_sqrt_product(sigma_a, sigma_b):
    """`tr sqrt(Σ_a Σ_b)` through a symmetric product, stably.

    `Σ_a Σ_b` is not symmetric, but it is similar to the symmetric PSD
    matrix `M = Σ_a^{1/2} Σ_b Σ_a^{1/2}` (`Σ_a^{-1/2} (Σ_a Σ_b) Σ_a^{1/2}
    = M` when Σ_a is invertible, and by continuity otherwise), so both have
    the same eigenvalues `λ_i >= 0` and `tr sqrt(Σ_a Σ_b) = Σ_i sqrt(λ_i)`.
    Two symmetric eigendecompositions replace a general `sqrtm`, which
    returns complex parts and loses accuracy on singular covariances (more
    features than samples).
    """
    root = _sqrt_psd(sigma_a)
    values = np.linalg.eigvalsh(root @ sigma_b @ root)
    return float(np.sum(np.sqrt(np.clip(values, 0.0, None))))


def frechet_distance(features_a, features_b):
    """Fréchet (2-Wasserstein) distance between Gaussian fits of two feature sets.

        d² = ||μ_a - μ_b||² + tr Σ_a + tr Σ_b - 2 tr sqrt(Σ_a Σ_b),

    with μ, Σ the sample mean and unbiased covariance of each set, in
    float64, and the trace of the square root from `trace_sqrt_product`.
    With Inception pool features this is the FID of Heusel et al. (2017).

    Args:
      features_a: `(n_a, d)` array, an iterable of `(m, d)` batches
        (streamed: only `d x d` statistics are kept), or a
        `tfvae.metrics.FeatureStatistics`; at least 2 examples.
      features_b: the same for the other set, same `d`.

    Returns:
      The squared distance `d²` as a Python float (>= 0).

    Raises:
      ValueError: empty or non-finite features, fewer than 2 examples,
        different feature widths.

    References:
      Dowson & Landau (1982), "The Fréchet distance between multivariate
      normal distributions"; Heusel et al. (2017), "GANs trained by a two
      time-scale update rule converge to a local Nash equilibrium".
    """
    a = statistics_of(features_a, "features_a")
    b = statistics_of(features_b, "features_b")
    if a.num_features != b.num_features:
        raise ValueError(f"Expected `features_a` and `features_b` with the same number of features. "
                         f"Received: {a.num_features} and {b.num_features}")
    sigma_a, sigma_b = a.covariance, b.covariance
    diff = a.mean - b.mean
    value = diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * trace_sqrt_product(sigma_a, sigma_b)
    return float(max(value, 0.0))
