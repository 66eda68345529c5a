"""Backbones and conditioner networks (Keras 3 layers)."""

from tfvae.nets.conv import ConvDecoder
from tfvae.nets.conv import ConvEncoder
from tfvae.nets.mlp import MLP
from tfvae.nets.made import MADE
from tfvae.nets.pixelcnn import MaskedConv2D
from tfvae.nets.pixelcnn import PixelCNN
from tfvae.nets.residual_conv import ResidualBlock
from tfvae.nets.residual_conv import ResidualConvDecoder
from tfvae.nets.residual_conv import ResidualConvEncoder
