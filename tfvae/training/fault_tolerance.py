"""Surviving crashes and divergence: exact mid-epoch resume (`backup`),
crash-safe checkpoints, and a guard against non-finite losses."""

import math
import os

import keras

from tfvae.training import distribute
from tfvae.training import files
from tfvae.training.backup import BackupAndRestore  # noqa: F401  (its home before it had its own module)


class _AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """`keras.callbacks.ModelCheckpoint` whose files are written crash-safely
    (`tfvae.training.files.atomic_path`): a kill mid-write leaves the
    previous checkpoints intact and no truncated file under the final name."""

    def _save_model(self, epoch, batch, logs):
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, batch, logs, filepath):
            return
        files.remove_stale_temporaries(os.path.dirname(os.path.abspath(filepath)))
        with files.atomic_path(filepath) as tmp:
            if self.save_weights_only:
                self.model.save_weights(tmp, overwrite=True)
            else:
                self.model.save(tmp, overwrite=True)


def checkpoint(directory, save_freq="epoch", keep=None):
    """A `keras.callbacks.ModelCheckpoint` for long runs: weights (with the
    optimizer state) to `directory/ckpt-{epoch:04d}.weights.h5` every epoch
    (or `save_freq` batches), written by the chief only, each file written
    crash-safely (temporary name, fsync, rename)."""
    directory = distribute.write_dir(directory)
    os.makedirs(directory, exist_ok=True)
    return _AtomicModelCheckpoint(os.path.join(directory, "ckpt-{epoch:04d}.weights.h5"),
                                  save_weights_only=True, save_freq=save_freq)


def latest_checkpoint(directory):
    """The newest `ckpt-*.weights.h5` in `directory`, or None."""
    if not os.path.isdir(directory):
        return None
    files = sorted(f for f in os.listdir(directory) if f.startswith("ckpt-") and f.endswith(".weights.h5"))
    return os.path.join(directory, files[-1]) if files else None


class NaNGuard(keras.callbacks.Callback):
    """Stops training at the first non-finite loss and restores the last good
    weights and optimizer state.

    After every batch the logged metrics (`loss` and, if `all_metrics`, every
    other) are checked; on NaN or ±Inf training stops, the model's weights
    and the optimizer's variables (step count, moments, ...) are replaced by
    the last snapshot taken at the end of an epoch whose metrics were finite
    (or at the start of training), and `self.failure` records where it
    happened: `{"epoch", "batch", "step", "metric", "value"}` (0-based epoch
    and batch, `step` counted over the run). Put it *first* in the callback
    list so checkpoints written later in the same batch or epoch see the
    restored state. The non-finite step has usually left NaN in the
    optimizer's moments as well as in the weights, so restoring both is what
    lets `fit` simply be called again (typically with a lower learning rate
    or `clipnorm`: the same step from the same state diverges the same way).

    Args:
        all_metrics: check every logged metric, not only `loss`.
        verbose: print a one-line report when it stops training.
    """

    def __init__(self, all_metrics=True, verbose=1):
        super().__init__()
        self.all_metrics = bool(all_metrics)
        self.verbose = verbose
        self.failure = None
        self._good = None
        self._epoch = 0
        self._step = 0

    def _state(self):
        """The variables a restore puts back: the model's weights and the
        optimizer's, except its learning rate (a schedule or the user sets
        that, and a non-finite step does not touch it)."""
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return list(self.model.weights)
        if not optimizer.built:
            # Without a distribution strategy Keras builds the optimizer at
            # the first step, after `on_train_begin`: build it now, the way
            # `fit` does under a strategy, so the snapshot has its slots.
            with self.model.distribute_strategy.scope():
                optimizer.build(self.model.trainable_variables)
        learning_rate = getattr(optimizer, "_learning_rate", None)
        return list(self.model.weights) + [v for v in optimizer.variables if v is not learning_rate]

    def _snapshot(self):
        self._good = [(v, keras.ops.convert_to_numpy(v)) for v in self._state()]

    def on_train_begin(self, logs=None):
        self.failure = None
        self._step = 0
        self._snapshot()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.failure is None and self._bad(logs) is None:
            self._snapshot()

    def _bad(self, logs):
        for name, value in (logs or {}).items():
            if not self.all_metrics and name != "loss":
                continue
            try:
                value = float(value)
            except (TypeError, ValueError):
                continue
            if not math.isfinite(value):
                return name, value
        return None

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self.failure is not None:
            return
        bad = self._bad(logs)
        if bad is None:
            return
        self.failure = {"epoch": self._epoch, "batch": batch, "step": self._step, "metric": bad[0],
                        "value": bad[1]}
        for v, good in self._good:
            v.assign(good)
        self.model.stop_training = True
        if self.verbose:
            print(f"NaNGuard: `{bad[0]}` became {bad[1]} at epoch {self._epoch + 1}, batch {batch + 1} "
                  f"(step {self._step}); training stopped and the weights and optimizer state from the end "
                  "of the last good epoch were restored.", flush=True)
