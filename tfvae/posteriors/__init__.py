"""tfvae.posteriors."""
