"""tfvae.priors."""
