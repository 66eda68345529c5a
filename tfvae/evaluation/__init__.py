"""Likelihood evaluation: importance sampling, bits/dim, ELBO surgery."""

from tfvae.evaluation.loglik import log_likelihood
from tfvae.evaluation.surgery import elbo_surgery

# Sample quality under a featurizer: FID, KID, precision/recall, density/coverage, CAS.
from tfvae.evaluation.cas import classification_accuracy_score
from tfvae.evaluation.classifier import build_domain_classifier
from tfvae.evaluation.classifier import domain_features
from tfvae.evaluation.classifier import train_domain_classifier
from tfvae.evaluation.features import extract_features
from tfvae.evaluation.features import model_samples
from tfvae.evaluation.inception import FeaturizerNotAvailableError
from tfvae.evaluation.inception import InceptionFeatures
from tfvae.evaluation.quality import fid
from tfvae.evaluation.quality import sample_quality

# Post-hoc latent samplers and latent image grids.
from tfvae.evaluation.latent_grids import interpolate
from tfvae.evaluation.latent_grids import save_interpolation_png
from tfvae.evaluation.latent_grids import save_traversal_png
from tfvae.evaluation.latent_grids import traverse
from tfvae.evaluation.posthoc import PostHocSampler
from tfvae.evaluation.posthoc import fit_flow
from tfvae.evaluation.posthoc import fit_mixture
