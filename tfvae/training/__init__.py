"""tfvae.training."""
