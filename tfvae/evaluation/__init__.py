"""tfvae.evaluation."""
