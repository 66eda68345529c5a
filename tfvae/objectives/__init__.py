"""tfvae.objectives."""
