"""Callbacks and schedules for training."""

from tfvae.training.callbacks import KLWarmup
