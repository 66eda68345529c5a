"""Checks and helpers shared by the disentanglement metrics."""

import numpy as np
from sklearn import metrics as sk_metrics

from tfvae.metrics import _checks


def codes_and_factors(codes, factors, min_codes=1, min_factors=1):
    """Validates `codes (n, D)` floats and `factors (n, K)` discrete values.

    Returns:
      `(codes float64 (n, D), factors int64 (n, K))`, each factor relabelled
      to `0..V_k - 1`.

    Raises:
      ValueError: wrong rank, different row counts, non-finite codes,
        non-integer factors, too few columns, a constant factor.
    """
    codes = _checks.features(codes, "codes", min_rows=2)
    raw = np.asarray(factors)
    if raw.ndim == 1:
        raw = raw[:, None]
    if raw.ndim != 2 or raw.shape[0] != codes.shape[0]:
        raise ValueError(f"Expected `factors` of shape (num_examples, num_factors) with as many rows as "
                         f"`codes` ({codes.shape[0]}). Received: factors.shape={np.shape(factors)}")
    if not np.issubdtype(raw.dtype, np.integer) and not np.all(np.equal(np.mod(raw, 1), 0)):
        raise ValueError("Expected `factors` to hold discrete (integer) values. Received: non-integer values")
    if codes.shape[1] < min_codes:
        raise ValueError(f"Expected at least {min_codes} code dimensions. Received: codes.shape={codes.shape}")
    if raw.shape[1] < min_factors:
        raise ValueError(f"Expected at least {min_factors} factors. Received: factors.shape={raw.shape}")
    labels = np.empty(raw.shape, np.int64)
    for k in range(raw.shape[1]):
        values, labels[:, k] = np.unique(raw[:, k], return_inverse=True)
        if values.size < 2:
            raise ValueError(f"Expected every factor to vary. Received: factor {k} is constant")
    return codes, labels


def discretize(codes, num_bins):
    """Each code dimension binned into `num_bins` equal-width bins: int `(n, D)`."""
    out = np.empty(codes.shape, np.int64)
    for i in range(codes.shape[1]):
        edges = np.histogram(codes[:, i], bins=num_bins)[1]
        out[:, i] = np.digitize(codes[:, i], edges[:-1])
    return out


def mutual_information(discrete_codes, factors):
    """`I[i, k]` = mutual information (nats) of binned code `i` and factor `k`."""
    return np.array([[sk_metrics.mutual_info_score(factors[:, k], discrete_codes[:, i])
                      for k in range(factors.shape[1])] for i in range(discrete_codes.shape[1])])


def split(n, test_fraction, seed):
    """A seeded random split of `range(n)` into train and test indices."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"Expected `test_fraction` in (0, 1). Received: test_fraction={test_fraction!r}")
    order = np.random.default_rng(seed).permutation(n)
    cut = int(round(n * (1.0 - test_fraction)))
    if cut < 1 or cut >= n:
        raise ValueError(f"Expected enough examples for a train/test split. Received: {n} examples")
    return order[:cut], order[cut:]
