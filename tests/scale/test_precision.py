"""Mixed precision: low-precision nets, float32 flows and densities.

The ELBO of the *same weights* under each mixed policy is compared with
float32, per example, on 64 examples of a 12-pixel binary VAE with a RealNVP
prior and an IAF posterior (|ELBO| ~ 9 nats). Tolerances follow from the
formats' precision, 8 significand bits for bfloat16 (relative error ~4e-3
per rounding) and 11 for float16 (~5e-4), through two small nets:
bfloat16 within 0.15 nats per example (0.2 nats worst case seen 0.03) and
0.03 nats on the mean; float16 within 0.02 nats per example and 0.005 on
the mean. Flows, priors and likelihoods must stay float32 (TFP does no
autocasting), so log-dets and log-densities are float32 in every policy.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae
from tfvae.training import distribute

TOLERANCE = {"mixed_bfloat16": (0.15, 0.03), "mixed_float16": (0.02, 0.005)}


@pytest.fixture
def policy():
    yield
    distribute.set_precision("none")


def _data():
    return (np.random.default_rng(0).uniform(size=(64, 12)) < np.linspace(0.1, 0.9, 12)).astype(np.float32)


def _vae():
    keras.utils.set_random_seed(0)
    return tfvae.VAE(input_shape=(12,), latent_dim=3, encoder=tfvae.nets.MLP([32]), decoder=tfvae.nets.MLP([32]),
                     prior=tfvae.priors.FlowPrior(tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,))),
                     posterior_flow=tfvae.flows.IAF(num_layers=1, hidden_units=(8,)), seed=7)


def _elbo(model, x):
    return model.compute_bound(tf.constant(x), tf.constant([1, 2], tf.int64), training=False)[1]["elbo"]


@pytest.mark.parametrize("name", ["mixed_bfloat16", "mixed_float16"])
def test_elbo_under_policy_matches_float32(policy, name):
    x = _data()
    reference = _vae()
    weights = reference.get_weights()
    expected = _elbo(reference, x).numpy()
    distribute.set_precision(name)
    model = _vae()
    model.set_weights(weights)
    low = keras.mixed_precision.Policy(name).compute_dtype
    assert model.encoder.compute_dtype == low and model.decoder.compute_dtype == low
    for part in (model.prior, model.prior.flow, model.posterior_flow, model.likelihood):
        assert part.compute_dtype == "float32", part.name
    elbo = _elbo(model, x)
    assert elbo.dtype == tf.float32
    per_example, mean = TOLERANCE[name]
    diff = np.abs(elbo.numpy() - expected)
    assert diff.max() < per_example, diff.max()
    assert abs(elbo.numpy().mean() - expected.mean()) < mean
    assert diff.max() > 0  # the policy did change the computation


@pytest.mark.parametrize("name", [pytest.param("mixed_bfloat16", marks=pytest.mark.slow), "mixed_float16"])
def test_training_under_policy(policy, name):
    """A few steps of `fit`: finite float32 metrics, float32 variables, and
    a LossScaleOptimizer exactly for float16."""
    distribute.set_precision(name)
    model = _vae()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    assert (type(model.optimizer).__name__ == "LossScaleOptimizer") == (name == "mixed_float16")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(_data(), epochs=1, batch_size=16, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert {v.dtype for v in model.trainable_variables} == {"float32"}
    assert max(float(np.abs(a - b).max()) for a, b in zip(before, model.get_weights())) > 1e-3


def test_flow_model_under_policy(policy):
    """A FlowModel's flow is float32 under a mixed policy: log p(x) unchanged."""
    x = np.random.default_rng(1).normal(size=(32, 2)).astype(np.float32)
    keras.utils.set_random_seed(0)
    ref = tfvae.FlowModel(tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,)), input_shape=(2,))
    distribute.set_precision("mixed_bfloat16")
    keras.utils.set_random_seed(0)
    model = tfvae.FlowModel(tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,)), input_shape=(2,))
    model.set_weights(ref.get_weights())
    np.testing.assert_allclose(model.log_prob(x), ref.log_prob(x), rtol=1e-6)


def test_iwae_with_dreg_trains_under_mixed_float16(policy):
    """The doubly-reparameterised gradient's rescaling sits on the float32
    sample z, upstream of the float16 decoder and under loss scaling."""
    distribute.set_precision("mixed_float16")
    keras.utils.set_random_seed(0)
    model = tfvae.VAE(input_shape=(12,), latent_dim=3, encoder=tfvae.nets.MLP([32]), decoder=tfvae.nets.MLP([32]),
                      num_importance_samples=4, seed=7)
    assert model.doubly_reparameterized
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(_data(), epochs=3, batch_size=16, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert history.history["iwae"][-1] > history.history["iwae"][0]
