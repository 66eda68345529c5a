"""tfvae.metrics: sample-quality and disentanglement metrics on features and codes.

Pure NumPy (scikit-learn for the disentanglement predictors): they take
features or latent codes, never models; `tfvae.evaluation` turns models
and data into features.

    tfvae.metrics.frechet_distance(features_a, features_b)   # arrays, batches, or FeatureStatistics
    tfvae.metrics.kid(features_a, features_b)                # -> (estimate, standard error)
    tfvae.metrics.precision_recall(real, fake, k=3)
    tfvae.metrics.density_coverage(real, fake, k=5)
    tfvae.metrics.mig(codes, factors), .dci(...), .sap(...), .factorvae_score(...)
"""

from tfvae.metrics.dci import dci
from tfvae.metrics.factorvae import factorvae_score
from tfvae.metrics.frechet import frechet_distance
from tfvae.metrics.kid import kid
from tfvae.metrics.manifold import density_coverage
from tfvae.metrics.manifold import precision_recall
from tfvae.metrics.mig import mig
from tfvae.metrics.sap import sap
from tfvae.metrics.statistics import FeatureStatistics
