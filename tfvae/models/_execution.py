"""`steps_per_execution="auto"`: several training steps per `tf.function` call
when nothing needs to see each batch.

Keras runs one `tf.function` call per `steps_per_execution` steps and, around
every call, its own Python loop: callbacks, progress bar, logs. On a small
model on CPU that loop costs a fifth of a step (see
`benchmarks/step_profile.py`). Keras's default, 1, is kept by every tfvae
model when the user asks for it; left unset (or "auto"), `fit`, `evaluate`
and `predict` run `AUTO_STEPS` steps per call unless a callback of that call
has a per-batch hook (`on_train_batch_end`, `on_batch_begin`, ...): then 1,
so schedules such as `KLWarmup` and per-batch backups see every step exactly
as before; and 1 under a strategy with several replicas (TF 2.21 fails to
run a step's cross-replica updates, e.g. the VQ-VAE's EMA codebook, inside
the multi-step `while_loop`: "You must feed a value for placeholder"). Keras's own progress bar and `History` need no per-batch call.
With `steps_per_epoch`, `validation_steps` or `steps` given, the count is
their largest common divisor up to `AUTO_STEPS` (Keras runs whole
executions, so a count that does not divide them would run extra steps).

The choice is made per call and costs a retrace only when it changes.
"""

import inspect
import math

import keras

from tfvae.nets._validate import positive_int

#: Steps per `tf.function` call under "auto" (with no per-batch callback).
AUTO_STEPS = 32

_BATCH_HOOKS = tuple(f"on_{phase}batch_{when}" for phase in ("", "train_", "test_", "predict_")
                     for when in ("begin", "end"))
# Keras's own callbacks that handle several steps per call themselves.
_STEP_AGNOSTIC = (keras.callbacks.ProgbarLogger, keras.callbacks.History)


def sees_every_batch(callback):
    """True if `callback` has a per-batch hook of its own: a method overriding
    `keras.callbacks.Callback`'s, or one set on the instance (`LambdaCallback`)."""
    if isinstance(callback, _STEP_AGNOSTIC):
        return False
    return any(hook in vars(callback) or getattr(type(callback), hook) is not getattr(keras.callbacks.Callback, hook)
               for hook in _BATCH_HOOKS)


class AutoStepsPerExecution:
    """`compile(steps_per_execution="auto")` as the default (mixin before
    `keras.Model`). An explicit integer behaves exactly as in Keras."""

    def compile(self, *args, steps_per_execution="auto", **kwargs):
        auto = steps_per_execution is None or steps_per_execution == "auto"
        if not auto:
            try:
                steps_per_execution = positive_int(steps_per_execution, "steps_per_execution")
            except ValueError:
                raise ValueError("Expected `steps_per_execution` to be a positive integer or 'auto'. "
                                 f"Received: steps_per_execution={steps_per_execution!r}") from None
        super().compile(*args, steps_per_execution=1 if auto else steps_per_execution, **kwargs)
        self._auto_steps_per_execution = auto
        self.__dict__.pop("_tfvae_xla_clusters", None)   # `_xla`'s, made for the old optimizer
        if auto:  # saved as "auto", so a reloaded model keeps choosing
            self._compile_config.config["steps_per_execution"] = "auto"

    def compile_from_config(self, config):
        # Keras skips a custom `compile` on load; this one takes Keras's config.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def fit(self, *args, **kwargs):
        self._choose_steps_per_execution("fit", args, kwargs)
        return super().fit(*args, **kwargs)

    def evaluate(self, *args, **kwargs):
        if not kwargs.get("_use_cached_eval_dataset"):   # inside `fit`, fit chose
            self._choose_steps_per_execution("evaluate", args, kwargs)
        return super().evaluate(*args, **kwargs)

    def predict(self, *args, **kwargs):
        self._choose_steps_per_execution("predict", args, kwargs)
        return super().predict(*args, **kwargs)

    def _choose_steps_per_execution(self, method, args, kwargs):
        if not getattr(self, "_auto_steps_per_execution", False):
            return
        call = inspect.signature(getattr(keras.Model, method)).bind_partial(self, *args, **kwargs)
        callbacks = call.arguments.get("callbacks") or ()
        several = self.distribute_strategy.num_replicas_in_sync == 1 and not any(map(sees_every_batch, callbacks))
        steps = AUTO_STEPS if several else 1
        # Keras 3.15 runs whole executions: with `steps_per_epoch` (or `steps`)
        # not a multiple of the count it runs past them. Use a divisor.
        counts = [call.arguments.get(k) for k in ("steps_per_epoch", "validation_steps", "steps")]
        counts = [int(c) for c in counts if c is not None and int(c) > 0]
        if counts:
            common = math.gcd(*counts)
            steps = max(d for d in range(1, steps + 1) if common % d == 0)
        if steps != self.steps_per_execution:
            self.steps_per_execution = steps
            # The step loop is traced with the count inside: trace again.
            self.train_function = self.test_function = self.predict_function = None
