"""Sharded feature statistics: under MirroredStrategy (two logical CPUs, in a
fresh process since devices are fixed once TensorFlow starts) they equal one
device's, including an uneven last batch and the kept features' order."""

import json
import subprocess
import sys

import numpy as np

from tests.scale import _procs
from tfvae.evaluation import sharding

_SHARDED = """
import json
from tfvae.training import distribute
distribute.set_logical_cpus(2)
import keras, numpy as np, tensorflow as tf
from tfvae.evaluation import sharding, sample_quality
keras.utils.set_random_seed(0)
featurizer = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(6, activation="tanh")])
x = np.random.default_rng(0).random((203, 4, 4, 1)).astype("float32")  # 203: uneven last batch
y = np.random.default_rng(1).random((150, 4, 4, 1)).astype("float32") ** 2
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
out = {}
for name, s in (("one", tf.distribute.get_strategy()), ("two", strategy)):
    stats, feats = sharding.collect(featurizer, x, batch_size=32, keep=True, strategy=s)
    q = sample_quality(featurizer, x, y, metrics=("fid", "kid", "precision_recall"), batch_size=32,
                       kid_subset_size=50, strategy=s)
    out[name] = {"replicas": s.num_replicas_in_sync, "count": stats.count, "mean": stats.mean.tolist(),
                 "cov": stats.covariance.tolist(), "features": feats.tolist(), "quality": q}
print(json.dumps(out))
"""


def test_mirrored_strategy_equals_one_device():
    out = subprocess.run([sys.executable, "-c", _SHARDED], env=_procs.env(), cwd=_procs.ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    one, two = got["one"], got["two"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    assert one["count"] == two["count"] == 203
    np.testing.assert_allclose(two["features"], one["features"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(two["mean"], one["mean"], rtol=1e-6)
    np.testing.assert_allclose(two["cov"], one["cov"], rtol=1e-5, atol=1e-9)
    for key, value in one["quality"].items():
        np.testing.assert_allclose(two["quality"][key], value, rtol=1e-4, err_msg=key)


def test_off_a_strategy_is_the_plain_stream():
    x = np.random.default_rng(2).random((50, 3, 3, 1)).astype("float32")
    stats, feats = sharding.collect(lambda b: np.asarray(b).reshape(len(b), -1), x, batch_size=7, keep=True)
    np.testing.assert_array_equal(feats, x.reshape(50, -1))
    np.testing.assert_allclose(stats.covariance, np.cov(x.reshape(50, -1), rowvar=False), rtol=1e-10)
