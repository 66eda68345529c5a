"""VQVAE2 under MirroredStrategy (step-exact, like the VQ-VAE of
`test_distributed.py`: both codebooks' EMA statistics and restarts use the
global batch) and under mixed precision (with VQVAE, which shares its
quantiser)."""

import keras
import numpy as np
import pytest

from tests.scale import _train
from tests.scale.test_distributed import _mirrored
from tfvae.training import distribute


@pytest.mark.slow  # ~40 s on the shared 2-core machine: traces two 2-level models and their priors twice
def test_mirrored_two_cpus_equals_one_device(tmp_path):
    """Two levels of EMA codebooks with dead-code restarts, an uneven last
    batch and global-norm clipping, then `fit_prior` of the top and the
    conditional bottom PixelCNN: 2 logical CPUs give one device's weights
    and metrics (per-level perplexity and usage included)."""
    _mirrored(tmp_path, ["vqvae2"])


@pytest.fixture
def policy():
    yield
    distribute.set_precision("none")


def test_trains_under_mixed_float16(policy):
    """Loss scaling, float16 nets, float32 quantisers, variables and
    densities. Eager steps: tracing this model under the policy costs ~9 s,
    sixteen eager steps ~3 s, and the ops (and dtypes) are the same."""
    distribute.set_precision("mixed_float16")
    keras.utils.set_random_seed(0)
    model = _train.build("vqvae2")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True)
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    assert model.bottom_encoder.compute_dtype == "float16" and model.decoder.compute_dtype == "float16"
    assert model.quantizer_top.compute_dtype == model.quantizer_bottom.compute_dtype == "float32"
    x = _train.data("vqvae2", 128)[0]
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, epochs=2, batch_size=16, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert {v.dtype for v in model.trainable_variables} == {"float32"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert max(float(np.abs(a - b).max()) for a, b in zip(before, model.get_weights())) > 1e-3
    # The float16 PixelCNNs give float32 log-probabilities; the bound stays float32.
    assert model.bottom_prior.compute_dtype == "float16"
    model.prior_trained.assign(1.0)
    bound = model.log_likelihood_bound(x[:4])
    assert bound.dtype == "float32" and np.isfinite(bound.numpy()).all()
    assert np.isfinite(model.sample(2, seed=0).numpy()).all()


def test_vqvae_trains_under_mixed_float16(policy):
    """The one-level VQVAE shares the fix: its quantiser's float32 EMA state
    was autocast to float16 and the update failed ("expected to be a half
    tensor") before the quantiser was pinned to float32."""
    distribute.set_precision("mixed_float16")
    keras.utils.set_random_seed(0)
    model = _train.build("vqvae")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True)
    assert model.encoder.compute_dtype == "float16" and model.quantizer.compute_dtype == "float32"
    history = model.fit(_train.data("vqvae", 64)[0], epochs=2, batch_size=16, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert history.history["loss"][-1] < history.history["loss"][0]
