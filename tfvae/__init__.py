"""tfvae: VAEs with flow priors and posteriors, normalizing flows as Keras 3
layers, and SavedModel export for TF Serving."""

from tfvae import _env  # noqa: F401  (quiet TF/TFP before they are imported)

from tfvae import data
from tfvae import evaluation
from tfvae import export
from tfvae import flows
from tfvae import likelihoods
from tfvae import metrics
from tfvae import nets
from tfvae import objectives
from tfvae import posteriors
from tfvae import priors
from tfvae import quantizers
from tfvae import training
from tfvae import training as callbacks
from tfvae import vi
from tfvae.models import ConditionalVAE
from tfvae.models import FlowModel
from tfvae.models import GumbelVAE
from tfvae.models import HierarchicalVAE
from tfvae.models import VAE
from tfvae.models import VQVAE
from tfvae.models import VQVAE2
from tfvae.models import WAE

__version__ = "0.1.0"
