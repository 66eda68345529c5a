"""Normalizing flows as Keras 3 layers.

Every flow maps base -> data forward (TFP's orientation; see
`tfvae.flows.base`) and defines its maths once, as the pair
`forward_and_log_det` / `inverse_and_log_det`, from which the rest is
derived: `y, log_det = flow(x, context=None)`, `flow.inverse(y,
context=None)`, and `flow.bijector` (a TFP bijector).
"""

from tfvae.flows.base import Flow

# Coupling flows and their element-wise transformers.
from tfvae.flows import transformers
from tfvae.flows.coupling import AdditiveCoupling, AffineCoupling, Coupling, NeuralSplineCoupling
from tfvae.flows.nsf import NSF
from tfvae.flows.realnvp import NICE, RealNVP

# Autoregressive flows.
from tfvae.flows.autoregressive import IAF, MAF, SplineIAF, SplineMAF

# Linear maps, permutations, normalisation, composition, Glow.
from tfvae.flows.actnorm import ActNorm
from tfvae.flows.chain import Chain, Invert
from tfvae.flows.conv1x1 import InvertibleConv1x1
from tfvae.flows.glow import Glow
from tfvae.flows.linear import LULinear
from tfvae.flows.permute import Permute
from tfvae.flows.squeeze import Squeeze

# Forward-only flows (no closed-form inverse).
from tfvae.flows.planar import Planar
from tfvae.flows.sylvester import Sylvester
