"""Variational inference for unnormalised densities, reusing tfvae's flows.

    q = tfvae.vi.fit(log_prob_fn, dim=2, family="full_rank", steps=3000, seed=0)
    q.sample(1000, seed=1); q.log_prob(z)
    q.elbo(num_samples=5000)            # E_q[log p̃ − log q] ≤ log Z
    q.log_normalizer(num_samples=5000)  # importance-sampled log Z

Families: `MeanFieldGaussian`, `FullRankGaussian`, `FlowFamily(flow, dim)`
(any `tfvae.flows` layer on a Gaussian base; forward-only flows such as
Planar and Sylvester train and sample but have no `log_prob` of given points).
"""

from tfvae.vi.estimates import Estimate
from tfvae.vi.families import Family
from tfvae.vi.gaussian import FullRankGaussian
from tfvae.vi.gaussian import MeanFieldGaussian
from tfvae.vi.fit import fit
from tfvae.vi.fit import make_family
from tfvae.vi.flow_family import FlowFamily
from tfvae.vi.model import VariationalApproximation
from tfvae.vi import estimates
from tfvae.vi import targets
from tfvae.vi import serving  # noqa: F401  (registers the SavedModel signatures)
