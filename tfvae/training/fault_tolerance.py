"""Surviving crashes and divergence: exact mid-epoch resume, checkpoints,
and a guard against non-finite losses."""

import json
import math
import os

import keras

from tfvae.training import distribute


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` that also resumes *inside* an epoch.

    Keras 3.15 backs up the weights (model and optimizer slots) every
    `save_freq` batches and records the epoch and batch, but (1) leaves out
    the `SeedGenerator` states (variables, not weights), so the training
    noise restarts from the seed, and (2) on restart resumes at the start of
    the interrupted epoch: the batches trained before the backup are trained
    again. Either makes the run differ from an uninterrupted one. This
    callback saves and restores the seed states beside the backup, and skips
    those batches: on the first step after a restore it draws the `batch + 1`
    batches the backup had already trained on from the epoch's iterator
    without training on them, then trains on as before.

    Exactness needs the input pipeline to replay the interrupted epoch's
    batches in the same order: true for datasets without per-epoch
    reshuffling (`tfvae.data.from_numpy(..., shuffle=False)`) and for any
    pipeline when the crash happens in the first epoch. A reshuffling
    `tf.data` pipeline restarts its shuffle sequence in a new process, so
    later epochs see other (equally valid) orders.

    Args:
        backup_dir: folder for the backup (a temporary folder on workers
            other than the chief, see `tfvae.training.distribute.write_dir`).
        save_freq: "epoch" or a number of batches.
        delete_checkpoint: remove the backup when training ends normally.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True, double_checkpoint=False):
        super().__init__(distribute.write_dir(backup_dir), save_freq=save_freq,
                         delete_checkpoint=delete_checkpoint, double_checkpoint=double_checkpoint)
        self.resumed_from = None  # (epoch, batches skipped) after a restore
        self._states_after_step = None

    def _seed_states(self):
        # `SeedGenerator` states are model variables but not weights, so
        # `save_weights` leaves them out: the noise after a restore would
        # restart from the seed. They are two integers each; keep them here.
        return {v.path: v for v in self.model.variables if v.path.endswith("seed_generator_state")}

    @property
    def _seed_path(self):
        return os.path.join(self.backup_dir, "seed_generators.json")

    def _save_model(self):
        super()._save_model()
        states = {k: [int(i) for i in keras.ops.convert_to_numpy(v)] for k, v in self._seed_states().items()}
        with open(self._seed_path, "w") as f:
            json.dump(states, f)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if os.path.exists(self._seed_path) and os.path.exists(self._weights_path):
            with open(self._seed_path) as f:
                saved = json.load(f)
            for path, variable in self._seed_states().items():
                if path in saved:
                    variable.assign(keras.ops.convert_to_tensor(saved[path], variable.dtype))
        if not os.path.exists(self._training_metadata_path) or self.save_freq == "epoch":
            return
        with open(self._training_metadata_path) as f:
            meta = json.load(f)
        # Saved after batch `batch` (0-based) of epoch `epoch`: skip batch + 1.
        skip = int(meta.get("batch", -1)) + 1
        if skip <= 0:
            return
        self.resumed_from = (int(meta["epoch"]), skip)
        self._current_epoch = int(meta["epoch"])  # Keras leaves it at 0 after a restore
        model, real = self.model, self.model.train_function

        def skip_then_train(iterator):
            model.train_function = real  # first, in case the epoch runs out here
            for _ in range(skip):
                next(iterator)
            return real(iterator)

        model.train_function = skip_then_train
        # Keras' own counter continues from the batch the backup was taken at.
        self._last_batch_seen = skip - 1
        # The resumed epoch has `skip` fewer batches than Keras expects: its
        # last call runs out of data (Keras warns and ends the epoch), and
        # that aborted step may already have advanced the seed generators.
        # Their states after the last real step are put back at epoch end.
        self._states_after_step = None

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        if self.resumed_from is not None and self._current_epoch == self.resumed_from[0]:
            self._states_after_step = {k: keras.ops.convert_to_numpy(v) for k, v in self._seed_states().items()}

    def on_epoch_end(self, epoch, logs=None):
        if self.resumed_from is not None and epoch == self.resumed_from[0] and self._states_after_step:
            for path, variable in self._seed_states().items():
                variable.assign(self._states_after_step[path])
            self._states_after_step = None
        super().on_epoch_end(epoch, logs)


def checkpoint(directory, save_freq="epoch", keep=None):
    """A `keras.callbacks.ModelCheckpoint` for long runs: weights (with the
    optimizer state) to `directory/ckpt-{epoch:04d}.weights.h5` every epoch
    (or `save_freq` batches), written by the chief only."""
    directory = distribute.write_dir(directory)
    os.makedirs(directory, exist_ok=True)
    return keras.callbacks.ModelCheckpoint(os.path.join(directory, "ckpt-{epoch:04d}.weights.h5"),
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
