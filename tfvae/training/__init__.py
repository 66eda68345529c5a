"""Callbacks, schedules and image grids for training."""

from tfvae.training import images
from tfvae.training.callbacks import KLWarmup
from tfvae.training.images import make_image_grid
from tfvae.training.images import save_image_grid
from tfvae.training.temperature import GumbelTemperature
