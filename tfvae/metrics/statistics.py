"""Running float64 mean and covariance of feature batches (for FID).

    stats = tfvae.metrics.FeatureStatistics()
    for batch in batches:            # each (n_i, d)
        stats.update(batch)
    stats.mean, stats.covariance, stats.count
"""

import numpy as np

from tfvae.metrics import _checks


class FeatureStatistics:
    """Streaming mean and covariance, merged exactly batch by batch.

    For a batch `B` of `m` rows with mean `b` and scatter
    `S_B = sum_i (x_i - b)(x_i - b)^T`, merged into `n` rows with mean `a`
    and scatter `S_A` (Chan, Golub & LeVeque's pairwise update):

        n' = n + m,   a' = a + (m / n') (b - a),
        S' = S_A + S_B + (n m / n') (b - a)(b - a)^T,

    and `covariance = S / (n - 1)` (unbiased, like `np.cov`). Everything is
    float64, so 50k samples of 2048 features cost one `d x d` matrix, not
    the samples, and agree with `np.cov` of the stacked data to rounding.

    Attributes:
      count: rows seen, `n`.
      mean: `(d,)` float64.
      covariance: `(d, d)` float64, unbiased.

    References:
      Chan, Golub & LeVeque (1979), "Updating formulae and a pairwise
      algorithm for computing sample variances".
    """

    def __init__(self, num_features=None):
        self.num_features = None if num_features is None else _checks.positive_int(num_features, "num_features")
        self.count = 0
        self._mean = None
        self._scatter = None

    @classmethod
    def from_moments(cls, mean, covariance, count):
        """Statistics with a known mean `(d,)`, covariance `(d, d)` and count."""
        mean = np.asarray(mean, np.float64)
        covariance = np.asarray(covariance, np.float64)
        if mean.ndim != 1 or covariance.shape != (mean.size, mean.size):
            raise ValueError(f"Expected `mean` (d,) and `covariance` (d, d). Received: mean.shape={mean.shape}, "
                             f"covariance.shape={covariance.shape}")
        count = _checks.positive_int(count, "count")
        stats = cls(mean.size)
        stats.count, stats._mean = count, mean.copy()
        stats._scatter = covariance * max(count - 1, 1)
        return stats

    def update(self, batch):
        """Adds a batch `(m, d)` of features (array or tensor). Returns self."""
        x = _checks.features(batch, "batch", dim=self.num_features)
        self.num_features = x.shape[1]
        m = x.shape[0]
        b = x.mean(axis=0)
        centred = x - b
        scatter_b = centred.T @ centred
        if self.count == 0:
            self._mean, self._scatter = b, scatter_b
        else:
            n = self.count
            delta = b - self._mean
            total = n + m
            self._mean = self._mean + delta * (m / total)
            self._scatter = self._scatter + scatter_b + np.outer(delta, delta) * (n * m / total)
        self.count += m
        return self

    def merge(self, other):
        """Adds another `FeatureStatistics` (e.g. from another shard). Returns self."""
        if not isinstance(other, FeatureStatistics):
            raise ValueError(f"Expected a FeatureStatistics. Received: {type(other).__name__}")
        if other.count == 0:
            return self
        if self.count == 0:
            self.num_features, self.count = other.num_features, other.count
            self._mean, self._scatter = other._mean.copy(), other._scatter.copy()
            return self
        if other.num_features != self.num_features:
            raise ValueError(f"Expected statistics of {self.num_features} features. "
                             f"Received: {other.num_features}")
        n, m = self.count, other.count
        delta = other._mean - self._mean
        total = n + m
        self._mean = self._mean + delta * (m / total)
        self._scatter = self._scatter + other._scatter + np.outer(delta, delta) * (n * m / total)
        self.count = total
        return self

    def _require(self, rows):
        if self.count < rows:
            raise ValueError(f"Expected at least {rows} example(s) in the statistics. Received: count={self.count}")

    @property
    def mean(self):
        self._require(1)
        return self._mean

    @property
    def covariance(self):
        self._require(2)
        return self._scatter / (self.count - 1)

    def __repr__(self):
        return f"FeatureStatistics(count={self.count}, num_features={self.num_features})"


def statistics_of(source, name="features"):
    """`FeatureStatistics` of an array, an iterable of batches, or itself."""
    if isinstance(source, FeatureStatistics):
        return source
    stats = FeatureStatistics()
    for batch in _checks.batches(source, name):
        stats.update(batch)
    if stats.count == 0:
        raise ValueError(f"Expected `{name}` to hold at least one example. Received: no batches")
    return stats
