"""tfvae.flows."""
from tfvae.flows.autoregressive import IAF, MAF
