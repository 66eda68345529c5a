"""Backbones and conditioner networks (Keras 3 layers)."""

from tfvae.nets.mlp import MLP
