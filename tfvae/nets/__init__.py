"""Backbones and conditioner networks (Keras 3 layers)."""

from tfvae.nets.conv import ConvDecoder
from tfvae.nets.conv import ConvEncoder
from tfvae.nets.mlp import MLP
from tfvae.nets.made import MADE
