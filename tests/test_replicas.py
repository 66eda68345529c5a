"""`tfvae._replicas` off a strategy: the single-device computation.

Under MirroredStrategy (two logical CPUs, which must be configured before
TensorFlow starts, hence a fresh process) they are exercised by
tests/scale/test_distributed.py, where the VQ-VAE's codebook statistics and
restarts, and every model's gradient weighting, must equal one device's;
`replica_seed`, which every model's noise goes through, is checked here in
a fresh process.
"""

import json
import subprocess
import sys

import numpy as np
import tensorflow as tf

from tests.scale import _procs
from tfvae import _replicas

_REPLICA_SEEDS = """
import json
from tfvae.training import distribute
distribute.set_logical_cpus(2)
import tensorflow as tf
from tfvae.models import _steps
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
seed = tf.constant([5, 7], tf.int64)
seeds = strategy.run(tf.function(lambda: _steps.replica_seed(seed)))
noise = strategy.run(tf.function(lambda: tf.random.stateless_normal([4], _steps.replica_seed(seed))))
print(json.dumps({"seeds": [v.numpy().tolist() for v in strategy.experimental_local_results(seeds)],
                  "noise": [v.numpy().tolist() for v in strategy.experimental_local_results(noise)],
                  "off": _steps.replica_seed(seed).numpy().tolist()}))
"""


def test_off_a_strategy_sums_are_the_value_and_rows_are_a_seeded_gather():
    x = tf.reshape(tf.range(30, dtype=tf.float32), [10, 3])
    assert _replicas.num_replicas() == 1
    assert _replicas.replica_sum(x) is x
    seed = tf.constant([3, 4])
    rows = _replicas.sample_rows(x, 7, seed).numpy()
    pick = tf.random.stateless_uniform([7], seed, 0, 10, tf.int32)
    np.testing.assert_array_equal(rows, tf.gather(x, pick).numpy())
    np.testing.assert_array_equal(rows, _replicas.sample_rows(x, 7, seed).numpy())  # stateless


def test_in_the_cross_replica_context_of_a_one_device_strategy():
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        assert _replicas.num_replicas() == 1
    out = strategy.run(lambda: _replicas.sample_rows(tf.ones([4, 2]), 3, tf.constant([0, 1])))
    assert out.shape == (3, 2)


def test_replica_seed_differs_between_replicas_and_is_the_seed_off_a_strategy():
    """The VAE's ε, the Gumbel-softmax VAE's Gumbel noise and FlowModel's
    dequantisation all draw from `replica_seed(seed)`: under MirroredStrategy
    (two logical CPUs) replica 0 keeps the seed and replica 1 gets another,
    so the replicas' noise is independent, not copied; off a strategy the
    seed is unchanged (one device draws what it always did)."""
    out = subprocess.run([sys.executable, "-c", _REPLICA_SEEDS], env=_procs.env(), cwd=_procs.ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["off"] == [5, 7]
    assert got["seeds"][0] == [5, 7] and got["seeds"][1] != [5, 7]
    assert not np.allclose(got["noise"][0], got["noise"][1])
