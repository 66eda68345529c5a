"""Sample quality of images under a featurizer: FID, KID, precision/recall, density/coverage.

    fid(featurizer, real_images, model_samples(vae, 10_000, seed=0))
    sample_quality(featurizer, real, fake, metrics=("fid", "kid", "precision_recall"))
"""

from tfvae import metrics as _metrics
from tfvae.evaluation.sharding import collect

METRICS = ("fid", "kid", "precision_recall", "density_coverage")


def fid(featurizer, real, fake, batch_size=256, strategy=None):
    """Fréchet distance between the features of two image sets, streamed.

    Only the running mean and covariance of each set are held (`d x d`
    float64), never the images or features, so 50k samples cost the same
    memory as 500. See `tfvae.metrics.frechet_distance` for the maths.

    Args:
      featurizer: as `tfvae.evaluation.extract_features` (a domain classifier's
        `domain_features`, `InceptionFeatures`, any Keras model).
      real, fake: image arrays, datasets or iterables of batches (e.g.
        `model_samples`), at least 2 images each.
      batch_size: rows per featurizer call for arrays.
      strategy: featurize each batch sharded over this `tf.distribute`
        strategy's replicas (default: the active one; see `sharding`).

    Returns:
      The Fréchet distance (a float).
    """
    real_stats, _ = collect(featurizer, real, batch_size, keep=False, strategy=strategy)
    fake_stats, _ = collect(featurizer, fake, batch_size, keep=False, strategy=strategy)
    return _metrics.frechet_distance(real_stats, fake_stats)


def sample_quality(featurizer, real, fake, metrics=("fid",), batch_size=256, kid_subset_size=1000,
                   precision_recall_k=3, density_coverage_k=5, seed=0, strategy=None):
    """Several sample-quality metrics from one pass over each image set.

    FID streams; KID, precision/recall and density/coverage need every
    feature vector, so they are kept (float32, `n x d`) only when asked.

    Args:
      featurizer: as in `fid`.
      real, fake: as in `fid`.
      metrics: any of "fid", "kid", "precision_recall", "density_coverage".
      batch_size: rows per featurizer call for arrays.
      kid_subset_size: KID block size (see `tfvae.metrics.kid`).
      precision_recall_k, density_coverage_k: their neighbourhood sizes.
      seed: seed of KID's permutation.
      strategy: as in `fid`.

    Returns:
      dict with `num_real`, `num_fake`, `num_features` and for each
      metric: `fid`; `kid`, `kid_standard_error`; `precision`, `recall`;
      `density`, `coverage`.

    Raises:
      ValueError: unknown metric names, or the metrics' own errors.
    """
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics:
        raise ValueError(f"Expected `metrics` from {METRICS}. Received: metrics={metrics!r}")
    keep = any(m != "fid" for m in metrics)
    real_stats, real_features = collect(featurizer, real, batch_size, keep, strategy)
    fake_stats, fake_features = collect(featurizer, fake, batch_size, keep, strategy)
    out = {"num_real": real_stats.count, "num_fake": fake_stats.count, "num_features": real_stats.num_features}
    if "fid" in metrics:
        out["fid"] = _metrics.frechet_distance(real_stats, fake_stats)
    if "kid" in metrics:
        out["kid"], out["kid_standard_error"] = _metrics.kid(real_features, fake_features,
                                                             subset_size=kid_subset_size, seed=seed)
    if "precision_recall" in metrics:
        out.update(_metrics.precision_recall(real_features, fake_features, k=precision_recall_k))
    if "density_coverage" in metrics:
        out.update(_metrics.density_coverage(real_features, fake_features, k=density_coverage_k))
    return out
