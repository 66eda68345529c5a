"""`tfvae._replicas` off a strategy: the single-device computation.

Under MirroredStrategy (two logical CPUs, which must be configured before
TensorFlow starts, hence a fresh process) they are exercised by
tests/scale/test_distributed.py, where the VQ-VAE's codebook statistics and
restarts, and every model's gradient weighting, must equal one device's.
"""

import numpy as np
import tensorflow as tf

from tfvae import _replicas


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
