"""Callbacks, schedules, image grids, and running at scale."""

from tfvae.training import distribute
from tfvae.training import files
from tfvae.training import images
from tfvae.training.annealing import CyclicalKLAnnealing
from tfvae.training.annealing import LayerKLWarmup
from tfvae.training.backup import BackupAndRestore
from tfvae.training.callbacks import KLWarmup
from tfvae.training.distribute import make_strategy
from tfvae.training.distribute import set_precision
from tfvae.training.fault_tolerance import NaNGuard
from tfvae.training.fault_tolerance import checkpoint
from tfvae.training.fault_tolerance import latest_checkpoint
from tfvae.training.images import make_image_grid
from tfvae.training.images import save_image_grid
from tfvae.training.temperature import GumbelTemperature
from tfvae.training.tensorboard import TensorBoard
