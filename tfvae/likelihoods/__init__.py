"""tfvae.likelihoods."""
