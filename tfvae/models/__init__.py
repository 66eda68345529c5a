"""tfvae.models."""
