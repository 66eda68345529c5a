"""tfvae.flows."""
