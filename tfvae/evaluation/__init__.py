"""Likelihood evaluation: importance sampling, bits/dim, ELBO surgery."""

from tfvae.evaluation.loglik import log_likelihood
from tfvae.evaluation.surgery import elbo_surgery
