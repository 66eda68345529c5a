"""Pure functions of log-densities: Gaussian densities, KLs, ELBO/IWAE bounds,
the doubly-reparameterised gradient of the IWAE bound, the MMD between two
samples, and the β-TCVAE split of the KL term."""

from tfvae.objectives.bounds import free_bits_kl
from tfvae.objectives.bounds import iwae_bound
from tfvae.objectives.gaussian import kl_normal_standard
from tfvae.objectives.gaussian import normal_log_prob
from tfvae.objectives.gaussian import standard_normal_log_prob
from tfvae.objectives.gradients import GradientScale
from tfvae.objectives.gradients import dreg_factor
from tfvae.objectives.mmd import kernel_matrix as mmd_kernel_matrix
from tfvae.objectives.mmd import mmd
from tfvae.objectives.tc import kl_decomposition
