"""Annealing of the Gumbel-softmax temperature."""

import math

import keras

from tfvae.nets._validate import nonnegative_float


class GumbelTemperature(keras.callbacks.Callback):
    """τ_t = max(τ_min, τ_0 · exp(−r · t)), t counted in training batches
    (Jang et al., 2017), written to the model's `temperature_weight` before
    every batch. τ_0 is the model's configured `temperature` unless
    `initial` is given.

    Args:
        minimum: τ_min > 0.
        rate: r ≥ 0 per batch.
        initial: τ_0 > 0, or None for the model's `temperature`.
    """

    def __init__(self, minimum=0.5, rate=1e-3, initial=None):
        super().__init__()
        self.minimum = _positive(minimum, "minimum")
        self.rate = nonnegative_float(rate, "rate")
        self.initial = None if initial is None else _positive(initial, "initial")
        self._step = 0

    def value(self, step):
        start = self.initial if self.initial is not None else self.model.temperature
        return max(self.minimum, start * math.exp(-self.rate * step))

    def on_train_begin(self, logs=None):
        self._step = 0
        self.model.temperature_weight.assign(self.value(0))

    def on_train_batch_begin(self, batch, logs=None):
        self.model.temperature_weight.assign(self.value(self._step))
        self._step += 1


def _positive(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"Expected `{name}` to be a positive number. Received: {name}={value!r}")
    return float(value)
