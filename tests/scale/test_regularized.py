"""WAE, InfoVAE and β-TCVAE under MirroredStrategy and mixed precision.

Their penalties are minibatch statistics (an MMD between the batch's codes
and prior draws; q(z) estimated from the batch), which each replica computes
on its share of the global batch: an estimate of the same quantity with a
smaller batch's variance, so N replicas do not reproduce one device's steps
exactly (unlike the ELBO models of `test_distributed.py`). What is checked:
they train under 2 logical CPUs as on one device (finite metrics, weights
moved, loss down), and under "mixed_float16" (loss scaling) with float32
variables and metrics.
"""

import keras
import numpy as np
import pytest

from tests.scale import _procs
from tests.scale import _train
from tfvae.training import distribute

MODELS = ["wae", "infovae", "tcvae"]


def test_mirrored_two_cpus_trains_like_one_device(tmp_path):
    cfg = {"models": MODELS, "strategy": "mirrored", "cpus": 2, "reference": True, "n": 105, "batch": 16,
           "epochs": 3, "out": str(tmp_path / "{model}-{strategy}.npz")}
    _procs.run(cfg, timeout=400)
    for kind in MODELS:
        one = _train.load(str(tmp_path / f"{kind}-default.npz"))
        two = _train.load(str(tmp_path / f"{kind}-mirrored.npz"))
        assert two["replicas"] == 2 and _procs.max_diff(one["initial"], two["initial"]) == 0.0
        for run in (one, two):
            assert _procs.max_diff(run["weights"], run["initial"]) > 1e-2, kind
            assert all(np.all(np.isfinite(v)) for v in run["history"].values()), kind
            assert run["history"]["loss"][-1] < run["history"]["loss"][0], (kind, run["history"]["loss"])
        # Same data and start: the mirrored run ends near the one-device run (seen: within 0.08 nats).
        assert abs(one["evaluate"]["reconstruction"] - two["evaluate"]["reconstruction"]) < 0.5, kind


@pytest.fixture
def policy():
    yield
    distribute.set_precision("none")


@pytest.mark.parametrize("kind", MODELS)
def test_trains_under_mixed_float16(policy, kind):
    distribute.set_precision("mixed_float16")
    keras.utils.set_random_seed(0)
    model = _train.build(kind)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    assert model.encoder.compute_dtype == "float16"
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(_train.data(kind, 128)[0], epochs=2, batch_size=16, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert {v.dtype for v in model.trainable_variables} == {"float32"}
    assert max(float(np.abs(a - b).max()) for a, b in zip(before, model.get_weights())) > 1e-3
