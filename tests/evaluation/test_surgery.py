"""ELBO surgery: the average KL splits into mutual information + marginal KL."""

import keras
import numpy as np
import pytest

import tfvae


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    x = (tfvae.data.load_numpy("digits", split="train")[:400] > 0.5).astype("float32")
    vae = tfvae.VAE(input_shape=(8, 8, 1), latent_dim=6, encoder=tfvae.nets.MLP([64]),
                    decoder=tfvae.nets.MLP([64]), seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    vae.fit(x, batch_size=50, epochs=6, verbose=0)
    return vae, x


def test_kl_equals_mutual_information_plus_marginal_kl(trained):
    vae, x = trained
    s = tfvae.evaluation.elbo_surgery(vae, x, seed=1)
    assert s["num_examples"] == 400
    # the analytic average KL against the Monte Carlo decomposition
    assert s["kl"] == pytest.approx(s["mutual_information"] + s["marginal_kl"], abs=0.15)  # seen: |gap| ≤ 0.05
    assert 0 < s["mutual_information"] <= s["max_mutual_information"] + 1e-6
    assert s["marginal_kl"] > -0.1  # a KL, up to the O(1/N) bias of the aggregate estimate
    assert 1 <= s["active_units"] <= 6
    assert s["elbo"] == pytest.approx(s["reconstruction"] - s["kl"])


def test_a_collapsed_posterior_has_no_information_and_no_active_units():
    vae = tfvae.VAE(input_shape=(8, 8, 1), latent_dim=3, encoder=tfvae.nets.MLP([8]), decoder=tfvae.nets.MLP([8]))
    # q(z|x) = N(0, I) for every x: the posterior equals the prior
    vae.posterior.dense.kernel.assign(np.zeros_like(vae.posterior.dense.kernel.numpy()))
    vae.posterior.dense.bias.assign(np.concatenate([np.zeros(3), np.full(3, np.log(np.e - 1))]).astype("float32"))
    x = (tfvae.data.load_numpy("digits", split="test")[:100] > 0.5).astype("float32")
    s = tfvae.evaluation.elbo_surgery(vae, x)
    assert s["active_units"] == 0
    assert abs(s["kl"]) < 1e-3 and abs(s["mutual_information"]) < 1e-3 and abs(s["marginal_kl"]) < 1e-3


def test_surgery_with_an_invertible_posterior_flow_and_error_without_one():
    x = (tfvae.data.load_numpy("digits", split="test")[:60] > 0.5).astype("float32")
    vae = tfvae.VAE(input_shape=(8, 8, 1), latent_dim=2, encoder=tfvae.nets.MLP([8]), decoder=tfvae.nets.MLP([8]),
                    posterior_flow=tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,)))
    s = tfvae.evaluation.elbo_surgery(vae, x)
    assert s["kl_monte_carlo"] == pytest.approx(s["mutual_information"] + s["marginal_kl"])
    planar = tfvae.VAE(input_shape=(8, 8, 1), latent_dim=2, encoder=tfvae.nets.MLP([8]),
                       decoder=tfvae.nets.MLP([8]), posterior_flow=tfvae.flows.Planar())
    with pytest.raises(ValueError, match="has no inverse"):
        tfvae.evaluation.elbo_surgery(planar, x)


def test_conditional_models_get_a_clear_error():
    cvae = tfvae.ConditionalVAE(input_shape=(8, 8, 1), latent_dim=2, num_classes=10,
                                encoder=tfvae.nets.MLP([8]), decoder=tfvae.nets.MLP([8]))
    x = (tfvae.data.load_numpy("digits", split="test")[:10] > 0.5).astype("float32")
    with pytest.raises(ValueError, match="ConditionalVAE"):
        tfvae.evaluation.elbo_surgery(cvae, x)
