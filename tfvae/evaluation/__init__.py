"""Likelihood evaluation: importance sampling, bits/dim."""

from tfvae.evaluation.loglik import log_likelihood
