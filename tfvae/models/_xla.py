"""Parts of a training step run as XLA clusters inside a step that is not
XLA-compiled.

Without `jit_compile`, TensorFlow runs a step op by op: every element-wise
op is a pass over memory and every small op costs a kernel launch. Some
parts of a step are nothing but such ops (Adam's update: about ten passes
per variable; a posterior flow on `(batch, D)` latents and its Jacobian:
hundreds of small kernels), while its large matrix products run faster in
TensorFlow's own kernels than in XLA's on CPU. A cluster compiles just such
a part, `tf.function(jit_compile=True)`, so the step gets XLA's fusion
where it pays and keeps the rest.

Clusters are used only while training a model that is not already compiled
with XLA, in a graph (not eagerly), outside any `tf.distribute` strategy:
under one, the optimizer's update calls `merge_call`, which a nested
`tf.function` cannot hold, and with several replicas XLA cannot read their
variables (keras-team/keras#19005, stack notes). They never enter a SavedModel: TF Serving runs XLA:CPU only
behind an experimental flag, so export traces (`training=False`) keep plain
ops.
"""

import tensorflow as tf


def traced_without_strategy(model):
    """Whether `model`'s step is being traced into a graph (not run eagerly)
    outside any tf.distribute strategy."""
    return not (getattr(model, "run_eagerly", False) or tf.executing_eagerly() or tf.distribute.has_strategy())


def enabled(model):
    """Whether `model`'s step, being traced now, may use clusters."""
    # Under any tf.distribute strategy, even one replica, the optimizer's
    # update holds a `merge_call`, which a nested tf.function cannot hold.
    return not getattr(model, "jit_compile", False) and traced_without_strategy(model)


def cluster(model, key, fn):
    """`fn` as one XLA-compiled `tf.function`, made once per `key` and kept on
    `model` (in `model.__dict__`, so Keras does not track it). `compile`
    clears them (`_execution.AutoStepsPerExecution`)."""
    cache = model.__dict__.setdefault("_tfvae_xla_clusters", {})
    if key not in cache:
        cache[key] = tf.function(fn, jit_compile=True, autograph=False, reduce_retracing=True)
    return cache[key]
