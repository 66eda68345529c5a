"""Training callbacks."""

import keras

from tfvae.nets._validate import positive_int


class KLWarmup(keras.callbacks.Callback):
    """Linear KL warm-up (deterministic annealing) of β from 0 to its target.

    β_t = β · min(1, t / T), t counted in training batches, T = `epochs` ×
    steps per epoch (Bowman et al., 2016; Sønderby et al., 2016). When Keras
    does not know the steps per epoch (a dataset of unknown size), β moves
    once per epoch instead: β_e = β · min(1, e / epochs). The model's
    configured `beta` is the target; its reported `elbo` and `kl` metrics are
    always the un-annealed values.
    """

    def __init__(self, epochs=10):
        super().__init__()
        self.epochs = positive_int(epochs, "epochs")
        self._step = 0
        self._steps_per_epoch = None

    def _set(self, fraction):
        self.model.beta_weight.assign(self.model.beta * min(1.0, fraction))

    def on_train_begin(self, logs=None):
        self._steps_per_epoch = (self.params or {}).get("steps")
        self._set(0.0)

    def on_epoch_begin(self, epoch, logs=None):
        if not self._steps_per_epoch:
            self._set(epoch / self.epochs)
        else:
            # After a mid-epoch restore `tfvae.training.BackupAndRestore`
            # records the batches it skipped: Keras counts the rest from 0.
            self._step = epoch * self._steps_per_epoch + getattr(self.model, "_tfvae_batches_skipped", 0)

    def on_train_batch_begin(self, batch, logs=None):
        if self._steps_per_epoch:
            self._set((self._step + batch) / (self.epochs * self._steps_per_epoch))

