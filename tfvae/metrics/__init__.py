"""tfvae.metrics: sample-quality and disentanglement metrics on features.

Pure NumPy (and scikit-learn for the disentanglement regressors): they
take features or codes, never models; `tfvae.evaluation` turns models and
data into features.

    tfvae.metrics.frechet_distance(features_a, features_b)   # arrays, batches, or FeatureStatistics
    tfvae.metrics.kid(features_a, features_b)                # -> (estimate, standard error)
    tfvae.metrics.precision_recall(real, fake, k=3)
    tfvae.metrics.density_coverage(real, fake, k=5)
"""

from tfvae.metrics.frechet import frechet_distance
from tfvae.metrics.kid import kid
from tfvae.metrics.manifold import density_coverage
from tfvae.metrics.manifold import precision_recall
from tfvae.metrics.statistics import FeatureStatistics
