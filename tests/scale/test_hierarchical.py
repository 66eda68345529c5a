"""HierarchicalVAE under MirroredStrategy (step-exact, like the VAEs of
`test_distributed.py`: its bound is a sum of per-example terms) and under
mixed precision."""

import keras
import numpy as np
import pytest

from tests.scale import _train
from tests.scale.test_distributed import _mirrored
from tfvae.training import distribute


def test_mirrored_two_cpus_equals_one_device(tmp_path):
    """Ladder inference, IWAE (K = 2), ε = 0, an uneven last batch and
    global-norm clipping: 2 logical CPUs give one device's weights."""
    _mirrored(tmp_path, ["hvae"])


@pytest.fixture
def policy():
    yield
    distribute.set_precision("none")


def test_trains_under_mixed_float16(policy):
    distribute.set_precision("mixed_float16")
    keras.utils.set_random_seed(0)
    model = _train.build("hvae")
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    assert model.encoder.compute_dtype == "float16" and model.up_nets[0].compute_dtype == "float16"
    history = model.fit(_train.data("hvae", 128)[0], epochs=2, batch_size=16, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert {v.dtype for v in model.trainable_variables} == {"float32"}
    assert history.history["loss"][-1] < history.history["loss"][0]
