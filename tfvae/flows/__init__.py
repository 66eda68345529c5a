"""Normalizing flows as Keras 3 layers.

Every flow: `y, log_det = flow(x, context=None)`,
`x, log_det = flow.inverse(y, context=None)`, `flow.bijector`.
"""

from tfvae.flows.base import Flow

# Coupling flows, permutations, composition, Glow.
from tfvae.flows.actnorm import ActNorm
from tfvae.flows.chain import Chain, Invert
from tfvae.flows.conv1x1 import InvertibleConv1x1
from tfvae.flows.coupling import AdditiveCoupling, AffineCoupling
from tfvae.flows.glow import Glow
from tfvae.flows.permute import Permute
from tfvae.flows.realnvp import NICE, RealNVP
from tfvae.flows.squeeze import Squeeze

# --- Autoregressive, planar, Sylvester and linear flows (other engineer):
# --- append one import line per module below.
from tfvae.flows.autoregressive import IAF, MAF
from tfvae.flows.linear import LULinear
from tfvae.flows.planar import Planar
from tfvae.flows.sylvester import Sylvester
