"""k-NN manifold metrics: precision/recall and density/coverage.

Each real (fake) point `x` owns the closed ball `B(x, r_k(x))` whose
radius is the distance to its k-th nearest other point of the same set;
the metrics count which points of the other set fall inside those balls.
Distances are Euclidean in float64, computed in row chunks so that memory
stays `O(chunk x n)` rather than `O(n²)`; the features themselves must be
held (k-NN needs every point).
"""

import numpy as np

from tfvae.metrics import _checks

_CHUNK_ELEMENTS = 4_000_000  # ~32 MB of float64 distances per chunk


def stack(source, name):
    """Stacks an array or an iterable of `(m, d)` batches into one array."""
    parts = [_checks.features(b, name) for b in _checks.batches(source, name)]
    if not parts:
        raise ValueError(f"Expected `{name}` to hold at least one example. Received: no batches")
    dims = {p.shape[1] for p in parts}
    if len(dims) > 1:
        raise ValueError(f"Expected every batch of `{name}` to have the same number of features. "
                         f"Received: {sorted(dims)}")
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _distance_chunks(x, y):
    """Yields `(start, D)` with `D[i, j] = ||x[start + i] - y[j]||`."""
    step = max(1, _CHUNK_ELEMENTS // max(1, y.shape[0]))
    y_sq = np.einsum("ij,ij->i", y, y)
    for start in range(0, x.shape[0], step):
        part = x[start:start + step]
        sq = np.einsum("ij,ij->i", part, part)[:, None] + y_sq[None, :] - 2.0 * part @ y.T
        yield start, np.sqrt(np.clip(sq, 0.0, None))


def knn_radii(x, k):
    """Distance from each row of `x` to its k-th nearest other row: `(n,)`."""
    radii = np.empty(x.shape[0])
    for start, d in _distance_chunks(x, x):
        # Each row's own distance (0) sorts first, so position k is the k-th other point.
        radii[start:start + d.shape[0]] = np.partition(d, k, axis=1)[:, k]
    return radii


def _inputs(real, fake, k):
    k = _checks.positive_int(k, "k")
    real = stack(real, "real")
    fake = stack(fake, "fake")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"Expected `real` and `fake` with the same number of features. "
                         f"Received: {real.shape[1]} and {fake.shape[1]}")
    for x, name in ((real, "real"), (fake, "fake")):
        if x.shape[0] <= k:
            raise ValueError(f"Expected more than k={k} examples in `{name}`. Received: {x.shape[0]}")
    return real, fake, k


def precision_recall(real, fake, k=3):
    """Improved precision and recall (Kynkäänniemi et al., 2019).

        precision = (1/M) Σ_j 1[∃ i: ||y_j - x_i|| <= r_k(x_i)]
        recall    = (1/N) Σ_i 1[∃ j: ||x_i - y_j|| <= r_k(y_j)]

    for real features `x_1..x_N`, fake features `y_1..y_M`, and `r_k` the
    distance to the k-th nearest neighbour within the point's own set.
    Precision is the share of samples on the real manifold; recall the
    share of real data on the samples' manifold.

    Args:
      real: `(N, d)` array or iterable of batches (stacked in memory).
      fake: `(M, d)` likewise, same `d`.
      k: positive int, neighbourhood size (3 in the paper).

    Returns:
      dict with `precision` and `recall` in [0, 1].

    Raises:
      ValueError: bad `k`, empty/non-finite/mismatched features, or no
        more than `k` points in a set.

    References:
      Kynkäänniemi, Karras, Laine, Lehtinen & Aila (2019), "Improved
      precision and recall metric for assessing generative models".
    """
    real, fake, k = _inputs(real, fake, k)
    r_real, r_fake = knn_radii(real, k), knn_radii(fake, k)
    in_real = np.zeros(fake.shape[0], bool)
    for start, d in _distance_chunks(fake, real):
        in_real[start:start + d.shape[0]] = np.any(d <= r_real[None, :], axis=1)
    in_fake = np.zeros(real.shape[0], bool)
    for start, d in _distance_chunks(real, fake):
        in_fake[start:start + d.shape[0]] = np.any(d <= r_fake[None, :], axis=1)
    return {"precision": float(in_real.mean()), "recall": float(in_fake.mean())}


def density_coverage(real, fake, k=5):
    """Density and coverage (Naeem et al., 2020).

        density  = 1/(k M) Σ_j Σ_i 1[||y_j - x_i|| <= r_k(x_i)]
        coverage = (1/N) Σ_i 1[min_j ||x_i - y_j|| <= r_k(x_i)]

    with `r_k(x_i)` the distance from real `x_i` to its k-th nearest real
    neighbour. Only real balls are used, so a few fake outliers cannot
    inflate the manifold as they do in recall; density is unbounded above
    (1 on average when fake and real come from one distribution).

    Args:
      real: `(N, d)` array or iterable of batches (stacked in memory).
      fake: `(M, d)` likewise, same `d`.
      k: positive int, neighbourhood size (5 in the paper).

    Returns:
      dict with `density` (>= 0) and `coverage` in [0, 1].

    Raises:
      ValueError: as `precision_recall`.

    References:
      Naeem, Oh, Uh, Choi & Yoo (2020), "Reliable fidelity and diversity
      metrics for generative models".
    """
    real, fake, k = _inputs(real, fake, k)
    r_real = knn_radii(real, k)
    hits = 0
    nearest_fake = np.full(real.shape[0], np.inf)
    for start, d in _distance_chunks(fake, real):
        hits += int(np.count_nonzero(d <= r_real[None, :]))
        nearest_fake = np.minimum(nearest_fake, d.min(axis=0))
    return {"density": hits / (k * fake.shape[0]), "coverage": float(np.mean(nearest_fake <= r_real))}
