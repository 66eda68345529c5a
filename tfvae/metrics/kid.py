"""Kernel Inception distance: unbiased polynomial-kernel MMD² with a standard error."""

import numpy as np

from tfvae.metrics import _checks


def polynomial_kernel(x, y):
    """`k(x, y) = (x·y / d + 1)^3` for all pairs: `(n, d), (m, d) -> (n, m)`."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x, y):
    """Unbiased MMD² (a U-statistic) of two samples under `polynomial_kernel`.

        MMD²_u = 1/(n(n-1)) Σ_{i≠j} k(x_i, x_j) + 1/(m(m-1)) Σ_{i≠j} k(y_i, y_j)
                 - 2/(nm) Σ_{i,j} k(x_i, y_j)

    Its expectation is exactly `MMD²(P, Q)`, so it is zero on average
    (and can be negative) when both samples come from one distribution.

    Args:
      x: `(n, d)` float64, n >= 2.  y: `(m, d)` float64, m >= 2.
    """
    n, m = x.shape[0], y.shape[0]
    k_xx, k_yy = polynomial_kernel(x, x), polynomial_kernel(y, y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (n * (n - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within_x + within_y - 2.0 * polynomial_kernel(x, y).mean())


def _blocks(source, name, size, dim):
    """Yields consecutive `(size, d)` blocks of a stream of batches."""
    pending, held = [], 0
    for batch in _checks.batches(source, name):
        batch = _checks.features(batch, name, dim=dim)
        dim = batch.shape[1]
        pending.append(batch)
        held += batch.shape[0]
        while held >= size:
            stacked = np.concatenate(pending)
            yield stacked[:size]
            pending, held = [stacked[size:]], held - size


def kid(features_a, features_b, subset_size=1000, shuffle=True, seed=0):
    """Kernel Inception distance: mean block MMD² and its standard error.

    Both sets are cut into disjoint blocks of `subset_size` rows; block `b`
    of each gives an unbiased `MMD²_u` (see `mmd2_unbiased`) with kernel
    `k(x, y) = (x·y / d + 1)^3`. With `B` blocks (as many as the smaller
    set fills) the estimate and its standard error are

        KID = (1/B) Σ_b MMD²_u(b),   SE = std_b(MMD²_u(b)) / sqrt(B)

    (`std` with `B - 1` degrees of freedom). Because the blocks are
    disjoint, their estimates are independent and `SE` is an honest
    standard error of `KID` (overlapping random subsets, as in the
    original code, give a spread but not a standard error).

    Arrays are permuted first (`shuffle=True`, seeded), so that blocks are
    random subsets even of sorted data. Iterables of batches are streamed
    in their given order, holding one block at a time: they must already
    be in random order (generated samples, shuffled data sets); the result
    then equals the in-memory one with `shuffle=False`.

    Args:
      features_a: `(n_a, d)` array or an iterable of `(m, d)` batches.
      features_b: the same for the other set, same `d`.
      subset_size: rows per block, >= 2 (1000 is the usual choice).
      shuffle: permute arrays before cutting blocks (ignored for streams).
      seed: seed of that permutation.

    Returns:
      `(estimate, standard_error)` as Python floats.

    Raises:
      ValueError: bad `subset_size`, empty, non-finite or mismatched
        features, or fewer than two blocks' worth of rows in either set.

    References:
      Bińkowski, Sutherland, Arbel & Gretton (2018), "Demystifying MMD
      GANs"; Gretton et al. (2012), "A kernel two-sample test".
    """
    size = _checks.positive_int(subset_size, "subset_size")
    if size < 2:
        raise ValueError(f"Expected `subset_size` to be at least 2. Received: subset_size={subset_size}")
    is_array = [hasattr(s, "shape") and len(s.shape) == 2 for s in (features_a, features_b)]
    sources = []
    rng = np.random.default_rng(seed)
    for source, array, name in zip((features_a, features_b), is_array, ("features_a", "features_b")):
        if array:
            source = _checks.features(source, name)
            if shuffle:
                source = source[rng.permutation(source.shape[0])]
        sources.append(source)
    dim = sources[0].shape[1] if is_array[0] else (sources[1].shape[1] if is_array[1] else None)
    estimates = []
    for block_a, block_b in zip(_blocks(sources[0], "features_a", size, dim),
                                _blocks(sources[1], "features_b", size, dim)):
        if block_a.shape[1] != block_b.shape[1]:
            raise ValueError(f"Expected `features_a` and `features_b` with the same number of features. "
                             f"Received: {block_a.shape[1]} and {block_b.shape[1]}")
        estimates.append(mmd2_unbiased(block_a, block_b))
    if len(estimates) < 2:
        raise ValueError(f"Expected at least 2 * subset_size = {2 * size} examples in each feature set "
                         f"(two disjoint blocks give a standard error). Received: {len(estimates)} full "
                         f"block(s); pass a smaller `subset_size`")
    estimates = np.asarray(estimates)
    return float(estimates.mean()), float(estimates.std(ddof=1) / np.sqrt(estimates.size))
