"""Choosing a `tf.distribute` strategy and a precision policy, and who writes.

    strategy = tfvae.training.make_strategy("mirrored")   # all local GPUs
    with strategy.scope():
        vae = tfvae.VAE(...); vae.compile(...)
    vae.fit(train_ds, ...)   # train_ds batches are *global* batches

Every tfvae model's `train_step` weights its loss by its share of the
global batch and folds the replica id into its noise seed
(`tfvae.models._steps`), so any strategy trains the same objective as one
device with the same global batch.

Multi-worker: each host runs the same program with its own `TF_CONFIG`
(see docs/gpu.md). Only the chief writes files that must exist once
(checkpoints, exports, TensorBoard logs); the other workers write to a
throw-away folder (`write_dir`), the pattern TensorFlow documents, because
a collective save must still run on every worker.
"""

import json
import os
import tempfile

import keras
import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")
PRECISIONS = ("none", "mixed_float16", "mixed_bfloat16")


def make_strategy(name="default"):
    """`"default"` (one device), `"mirrored"` (all local GPUs, else CPU),
    `"multi_worker"` (MultiWorkerMirroredStrategy from `TF_CONFIG`).

    Create it at the start of the program, before any other TensorFlow op:
    a multi-worker strategy must configure the runtime first.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("The multi_worker strategy needs the TF_CONFIG environment variable "
                             "(cluster and task); see docs/gpu.md.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"Expected `strategy` to be one of {list(STRATEGIES)}. Received: strategy={name!r}")


def set_precision(policy="none"):
    """Sets Keras' global dtype policy; call before building the model.

    Under "mixed_float16" / "mixed_bfloat16" the encoder, decoder and the
    parameter heads compute in low precision with float32 variables; flows,
    priors and likelihoods stay float32 (TFP does no autocasting, and
    log-determinants and log-densities lose too much in 16 bits), so every
    reported metric and the loss are float32. `compile` wraps the optimizer
    in a `LossScaleOptimizer` for "mixed_float16" (bfloat16 has float32's
    exponent range and needs no loss scaling).
    """
    if policy not in PRECISIONS:
        raise ValueError(f"Expected `mixed_precision` to be one of {list(PRECISIONS)}. "
                         f"Received: mixed_precision={policy!r}")
    keras.mixed_precision.set_global_policy("float32" if policy == "none" else policy)
    return keras.mixed_precision.global_policy()


def task():
    """`(task_type, task_index)` from `TF_CONFIG`, or `(None, None)`."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    t = config.get("task") or {}
    return t.get("type"), t.get("index")


def is_chief():
    """True on the chief (or worker 0 when the cluster has no chief), and
    always without `TF_CONFIG`."""
    task_type, task_index = task()
    if task_type is None:
        return True
    cluster = json.loads(os.environ["TF_CONFIG"]).get("cluster", {})
    if "chief" in cluster:
        return task_type == "chief"
    return task_type == "worker" and int(task_index or 0) == 0


def write_dir(path):
    """`path` on the chief; a worker-private temporary folder elsewhere."""
    if is_chief():
        return path
    task_type, task_index = task()
    return tempfile.mkdtemp(prefix=f"tfvae_{task_type}_{task_index}_")


def set_logical_cpus(n):
    """Splits the CPU into `n` logical devices (testing MirroredStrategy
    without GPUs). Must run before TensorFlow initialises its devices."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
    return tf.config.list_logical_devices("CPU")
