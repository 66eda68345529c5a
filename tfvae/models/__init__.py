"""Models composed from the layers below."""

from tfvae.models.vae import VAE
