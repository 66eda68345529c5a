"""Discrete latents: vector quantisation and the Gumbel-softmax relaxation."""

from tfvae.quantizers.gumbel import GumbelSoftmax
from tfvae.quantizers.gumbel import gumbel_softmax_sample
from tfvae.quantizers.gumbel import kl_to_uniform
from tfvae.quantizers.vector import VectorQuantizer
