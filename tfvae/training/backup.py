"""Crash-safe backups that resume a killed run exactly where it stood."""

import json
import os

import keras
import numpy as np
import tensorflow as tf

from tfvae.nets._validate import positive_int
from tfvae.training import distribute
from tfvae.training import files


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` that survives a kill at any
    instant, resumes *inside* an epoch, and restores the history.

    A backup is the model's and optimizer's weights in
    `backup_dir/state-<n>.weights.h5` plus `backup_dir/training_metadata.json`,
    which names that weights file and records where training stood: the
    epoch, the batches of it already trained, the `SeedGenerator` states,
    the metric accumulators of the running epoch, and the logs of every
    completed epoch. Both are written crash-safely
    (`tfvae.training.files.atomic_path`: temporary name, fsync, rename), the
    weights first; renaming the metadata into place is the commit. A kill
    before that rename leaves the previous backup (metadata and the weights
    file it names) untouched; older weights files are deleted only after the
    commit. So at every instant the backup folder holds one complete,
    consistent state.

    On restart (`fit` again with the same callback arguments) the state is
    restored and training continues where it stood, so the run ends as an
    uninterrupted one would:
    (1) weights and optimizer slots (as Keras does);
    (2) the `SeedGenerator` states (variables, not weights: Keras leaves
        them out, so the training noise would restart from the seed);
    (3) the position inside the epoch: on the first step the `b` batches
        the backup had already trained on are drawn from the epoch's
        iterator without training on them (Keras would restart the epoch);
    (4) the running epoch's metric accumulators, so its logged means cover
        all its batches, and the logs of the completed epochs, which are
        put in front of `fit`'s returned `History` (`history.epoch` counts
        from 0 as in an uninterrupted run);
    (5) with `dataset`, the input pipeline's per-epoch randomness: a
        reshuffling `tf.data` pipeline (seeded `shuffle(...,
        reshuffle_each_iteration=True)`, `Dataset.random(...,
        rerandomize_each_iteration=True)`, as `tfvae.data.load` builds)
        advances its seed stream once per iterator; creating and dropping
        as many iterators as `fit` had made before the resumed epoch makes
        the resumed epochs see the orders and noise of the uninterrupted
        run (`fit` without `steps_per_epoch`, a dataset of known length).

    Without `dataset`, exactness needs a pipeline that replays every epoch
    in the same order (no per-epoch reshuffling), or a crash in the first
    epoch. Integer `save_freq` backs up every `save_freq` batches and at
    the end of every epoch.

    Args:
        backup_dir: folder for the backup (a temporary folder on workers
            other than the chief, see `tfvae.training.distribute.write_dir`).
        save_freq: "epoch" or a positive number of batches.
        delete_checkpoint: remove the backup when training ends normally.
        double_checkpoint: also keep the previous backup
            (`training_metadata.prev.json` and its weights) and fall back to
            it when the newest cannot be read.
        dataset: optional, the training `tf.data.Dataset` passed to `fit`
            (see (5)).
    """

    METADATA = "training_metadata.json"
    PREVIOUS = "training_metadata.prev.json"

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True, double_checkpoint=False,
                 dataset=None):
        if save_freq != "epoch":
            positive_int(save_freq, "save_freq")
        super().__init__(distribute.write_dir(backup_dir), save_freq=save_freq,
                         delete_checkpoint=delete_checkpoint, double_checkpoint=double_checkpoint)
        self.dataset = dataset
        self.resumed_from = None  # (epoch, batches skipped) after a restore
        self._states_after_step = None
        self._real_train_function = None
        self._generation = 0
        self._history = {"epoch": [], "logs": []}
        self._restored_history = None
        self._batch_offset = 0

    # -- what a backup holds ---------------------------------------------------------
    def _seed_states(self):
        # `SeedGenerator` states are model variables but not weights, so
        # `save_weights` leaves them out. They are two integers each.
        return {v.path: v for v in self.model.variables if v.path.endswith("seed_generator_state")}

    def _step_free_state(self):
        """Variables a training call can change without a batch of data:
        seed states, the optimizer's step count, non-trainable weights."""
        state = dict(self._seed_states())
        state.update({f"weight/{i}": v for i, v in enumerate(self.model.non_trainable_weights)})
        iterations = getattr(self.model.optimizer, "iterations", None)
        if iterations is not None:
            state["optimizer/iterations"] = iterations
        return state

    def _metric_variables(self):
        return {f"{i}/{j}": v for i, m in enumerate(self.model.metrics) for j, v in enumerate(m.variables)}

    @staticmethod
    def _values(variables):
        return {k: np.asarray(keras.ops.convert_to_numpy(v)).tolist() for k, v in variables.items()}

    @staticmethod
    def _assign(variables, saved):
        for key, variable in variables.items():
            if key in saved:
                variable.assign(keras.ops.convert_to_tensor(np.asarray(saved[key]), variable.dtype))

    def read_metadata(self):
        """The newest committed metadata dict, or None if there is no backup."""
        path = os.path.join(self.backup_dir, self.METADATA)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    # -- saving ----------------------------------------------------------------------
    def _save_model(self, batches_done=None):
        """Writes a backup: weights (new file), then the metadata (commit)."""
        os.makedirs(self.backup_dir, exist_ok=True)
        files.remove_stale_temporaries(self.backup_dir)
        if batches_done is None:  # Keras' own callers: after batch `_last_batch_seen`
            batches_done = self._last_batch_seen + 1
        self._generation += 1
        weights = f"state-{self._generation:08d}.weights.h5"
        with files.atomic_path(os.path.join(self.backup_dir, weights)) as tmp:
            self.model.save_weights(tmp)
        meta = {"epoch": self._current_epoch, "batch": batches_done - 1, "batches_done": batches_done,
                "generation": self._generation, "weights": weights,
                "seed_generators": self._values(self._seed_states()),
                "metrics": self._values(self._metric_variables()) if batches_done else {},
                "history": self._history}
        meta_path = os.path.join(self.backup_dir, self.METADATA)
        if self.double_checkpoint and os.path.exists(meta_path):
            os.replace(meta_path, os.path.join(self.backup_dir, self.PREVIOUS))  # its weights are kept below
        files.write_json(meta_path, meta, indent=None)
        keep = {weights, self._referenced(self.PREVIOUS) if self.double_checkpoint else None}
        for name in os.listdir(self.backup_dir):
            if name.startswith("state-") and name.endswith(".weights.h5") and name not in keep:
                os.remove(os.path.join(self.backup_dir, name))
        # Keras 3.15's layout, written by the parent class and older tfvae.
        for name in ("latest.weights.h5", "latest.weights.h5.bkp", "training_metadata.json.bkp"):
            if os.path.exists(os.path.join(self.backup_dir, name)):
                os.remove(os.path.join(self.backup_dir, name))

    def _referenced(self, metadata_name):
        try:
            with open(os.path.join(self.backup_dir, metadata_name)) as f:
                return json.load(f).get("weights")
        except (OSError, ValueError):
            return None

    def on_train_batch_end(self, batch, logs=None):
        # In the resumed epoch Keras counts batches from 0 after the skipped
        # ones; the backup records the position in the whole epoch.
        batch += self._batch_offset
        if self._should_save_on_batch(batch):
            self._save_model(batches_done=batch + 1)
        if self.resumed_from is not None and self._current_epoch == self.resumed_from[0]:
            self._states_after_step = self._values(self._step_free_state())

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        if self.resumed_from is not None and epoch == self.resumed_from[0]:
            self.model.train_function = self._real_train_function
            self._real_train_function = None
            # It ended by running out of data, so Keras made no spare iterator.
            self._advance_dataset(self._ITERATORS_PER_EPOCH - 1)
            # Every batch skipped (backup after the epoch's last batch): the
            # aborted call returned no logs; the restored metrics have them.
            for name, value in self.model.get_metrics_result().items():
                logs.setdefault(name, value)
        self._history["epoch"].append(int(epoch))
        self._history["logs"].append({k: _float(v) for k, v in logs.items()})
        self._current_epoch = epoch + 1
        self._batch_offset = 0
        self.model._tfvae_batches_skipped = 0
        self._last_batch_seen = 0
        self._batches_seen_since_last_saving = 0
        self._save_model(batches_done=0)

    # -- restoring -------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._history = {"epoch": [], "logs": []}
        self.resumed_from = self._restored_history = None
        self._batch_offset = 0
        self.model._tfvae_batches_skipped = 0
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, the model must be built before `fit()`. "
                             f"Model {self.model.name} is not built: call it on a batch first.")
        files.remove_stale_temporaries(self.backup_dir)
        meta = self._load()
        if meta is None:
            return
        self._generation = int(meta.get("generation", 0))
        epoch = int(meta["epoch"])
        self.model._initial_epoch = epoch
        self._current_epoch = epoch
        self._assign(self._seed_states(), meta.get("seed_generators", {}))
        history = meta.get("history") or {"epoch": [], "logs": []}
        self._history = {"epoch": list(history["epoch"]), "logs": list(history["logs"])}
        self._restored_history = {"epoch": list(history["epoch"]), "logs": list(history["logs"])}
        self._advance_dataset(self._ITERATORS_PER_EPOCH * epoch)
        skip = int(meta["batches_done"]) if "batches_done" in meta else (
            0 if self.save_freq == "epoch" else int(meta.get("batch", -1)) + 1)
        if skip <= 0:
            return
        self.resumed_from = (epoch, skip)
        metric_states = meta.get("metrics", {})
        model, real = self.model, self.model.train_function
        self._real_train_function = real
        state = {"skip": skip}

        def resumed_epoch_step(iterator):
            if state.pop("skip", 0):
                self._assign(self._metric_variables(), metric_states)  # `fit` has just reset them
                for _ in range(skip):
                    next(iterator)
            try:
                return real(iterator)
            except (StopIteration, tf.errors.OutOfRangeError):
                # The resumed epoch has `skip` fewer batches than Keras
                # expects, so a last call runs out of data. That aborted call
                # still advances the optimizer's step count (and may advance
                # the seed generators; KLWarmup has set β for it): undo it
                # now, before the epoch's validation draws its noise.
                self._assign(self._step_free_state(), self._states_after_step)
                raise

        model.train_function = resumed_epoch_step
        self._batch_offset = skip
        self.model._tfvae_batches_skipped = skip  # read by KLWarmup: the step count inside the epoch
        self._last_batch_seen = skip - 1  # Keras' counter continues from the backup
        self._states_after_step = self._values(self._step_free_state())

    # Keras 3.15's epoch iterator, for a dataset of known length and no
    # `steps_per_epoch`, makes a new iterator at the start of every epoch and
    # one more, unused, when an epoch runs to its end: epoch e trains on
    # the (2e + 1)-th iterator made in `fit`.
    _ITERATORS_PER_EPOCH = 2

    def _advance_dataset(self, count):
        """Makes and drops `count` iterators of `dataset`: see (5)."""
        if self.dataset is not None:
            for _ in range(count):
                iter(self.dataset)

    def _load(self):
        """Loads the newest readable backup into the model; its metadata."""
        candidates = [self.METADATA] + ([self.PREVIOUS] if self.double_checkpoint else [])
        errors = []
        for name in candidates:
            path = os.path.join(self.backup_dir, name)
            if not os.path.exists(path):
                continue
            try:
                with open(path) as f:
                    meta = json.load(f)
                weights = os.path.join(self.backup_dir, meta.get("weights", "latest.weights.h5"))
                if self.model.optimizer is not None and not self.model.optimizer.built:
                    self.model.optimizer.build(self.model.trainable_variables)
                self.model.load_weights(weights)
                return meta
            except (OSError, ValueError, KeyError) as e:
                errors.append(f"{path}: {e}")
        if errors:
            raise ValueError(f"Cannot restore the backup in {self.backup_dir!r} ({'; '.join(errors)}). "
                             "Remove the folder to start training afresh.")
        return None

    def on_train_end(self, logs=None):
        if self._real_train_function is not None:  # stopped inside the resumed epoch
            self.model.train_function = self._real_train_function
            self._real_train_function = None
        if self._restored_history and self._restored_history["epoch"]:
            self._prepend_history()
        super().on_train_end(logs)

    def _prepend_history(self):
        """Puts the epochs trained before the restart in front of the
        `History` that `fit` returns (`fit` has made it and set it on the
        model; its `epoch` holds this process's epochs only)."""
        history = getattr(self.model, "history", None)
        if not isinstance(history, keras.callbacks.History):
            history = keras.callbacks.History()
            history.set_model(self.model)
            history.epoch = []
        restored = self._restored_history
        epochs = list(restored["epoch"])
        merged = {}
        keys = list(dict.fromkeys([k for logs in restored["logs"] for k in logs] + list(history.history)))
        for key in keys:
            merged[key] = [logs.get(key, float("nan")) for logs in restored["logs"]] + list(
                history.history.get(key, [float("nan")] * len(history.epoch)))
        history.epoch = epochs + list(history.epoch)
        history.history = merged
        self.model.history = history
        self._restored_history = None


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
