"""tfvae.flows."""
from tfvae.flows.autoregressive import IAF, MAF
from tfvae.flows.linear import LULinear
