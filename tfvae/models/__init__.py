"""Models composed from the layers below."""

from tfvae.models.vae import VAE
from tfvae.models.flow_model import FlowModel
