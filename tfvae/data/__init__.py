"""tfvae.data."""
