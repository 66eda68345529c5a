"""Posteriors q(z | x): the Gaussian encoder head, optionally followed by a flow."""

from tfvae.posteriors.gaussian import DiagonalGaussian
