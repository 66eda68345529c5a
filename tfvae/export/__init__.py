"""tfvae.export."""
