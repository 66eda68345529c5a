"""Models composed from the layers below."""

from tfvae.models.conditional import ConditionalVAE
from tfvae.models.flow_model import FlowModel
from tfvae.models.gumbel_vae import GumbelVAE
from tfvae.models.vae import VAE
from tfvae.models.vqvae import VQVAE
from tfvae.models.vqvae2 import VQVAE2
from tfvae.models.wae import WAE
from tfvae.models.hierarchical import HierarchicalVAE
