"""Priors: densities against closed forms, normalisation, sampling."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import special, stats

import tfvae
from tfvae.priors import FlowPrior, MixtureOfGaussians, StandardNormal, VampPrior


def test_mixture_log_prob_matches_scipy_and_samples_follow_it():
    prior = MixtureOfGaussians(num_components=3, latent_dim=2, seed=0)
    prior.build((None, 2))
    prior.logits.assign([0.0, 1.0, -1.0])
    means, scales, log_pi = (t.numpy() for t in prior._params())
    z = np.random.default_rng(0).normal(size=(6, 2)).astype("float32")
    comps = np.stack([stats.multivariate_normal(means[k], np.diag(scales[k] ** 2)).logpdf(z) for k in range(3)], -1)
    np.testing.assert_allclose(prior.log_prob(z).numpy(), special.logsumexp(comps + log_pi, -1), rtol=1e-5)
    samples = prior.sample(40000, tf.constant([1, 2], tf.int64)).numpy()
    expected_mean = (np.exp(log_pi)[:, None] * means).sum(0)
    np.testing.assert_allclose(samples.mean(0), expected_mean, atol=0.03)


def test_flow_prior_with_a_linear_flow_is_the_right_gaussian():
    """z = A u + 0 with u ~ N(0, I) has density N(0, A Aᵀ)."""
    flow = tfvae.flows.LULinear(seed=3)
    prior = FlowPrior(flow, latent_dim=3)
    prior.build((None, 3))
    for w in flow.trainable_weights:
        w.assign(w + tf.random.stateless_normal(w.shape, seed=[4, 5]) * 0.3)
    a = flow(tf.eye(3))[0].numpy().T   # columns = images of the basis vectors
    z = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    expected = stats.multivariate_normal(np.zeros(3), a @ a.T).logpdf(z)
    np.testing.assert_allclose(prior.log_prob(z).numpy(), expected, rtol=1e-4)


@pytest.mark.parametrize("make_flow", [
    lambda: tfvae.flows.RealNVP(num_layers=2, hidden_units=(16,)),
    lambda: tfvae.flows.MAF(num_layers=2, hidden_units=(16,)),
])
def test_flow_prior_normalises(make_flow):
    """∫ p(z) dz = E_{r}[p(z)/r(z)] = 1 with r = N(0, 9 I) in 2-D (a wide
    proposal keeps the weights light-tailed, so the standard error is honest)."""
    keras.utils.set_random_seed(0)
    prior = FlowPrior(make_flow(), latent_dim=2)
    prior.build((None, 2))
    for w in prior.trainable_weights:
        w.assign(w + tf.random.stateless_normal(w.shape, seed=[7, 8]) * 0.2)
    z = 3.0 * tf.random.stateless_normal((200_000, 2), seed=[1, 1])
    log_r = tf.reduce_sum(-0.5 * tf.square(z / 3.0) - tf.math.log(3.0) - 0.5 * np.log(2 * np.pi), -1)
    ratio = tf.exp(prior.log_prob(z) - log_r).numpy()
    assert abs(ratio.mean() - 1.0) < 4 * ratio.std() / np.sqrt(len(ratio)) + 0.01
    samples = prior.sample(5, tf.constant([0, 1], tf.int64))
    assert samples.shape == (5, 2) and np.all(np.isfinite(samples.numpy()))


def test_vamp_prior_is_the_mixture_of_posteriors_at_pseudo_inputs():
    vae = tfvae.VAE(input_shape=(4,), latent_dim=2, encoder=tfvae.nets.MLP([8]), decoder=tfvae.nets.MLP([8]),
                    likelihood="gaussian", prior=VampPrior(num_pseudo_inputs=3, seed=0))
    u = np.clip(vae.prior.pseudo_inputs.numpy(), 0, 1)
    loc, scale, _ = (t.numpy() for t in vae.posterior_params(u))
    z = np.random.default_rng(2).normal(size=(5, 2)).astype("float32")
    comps = np.stack([stats.norm(loc[k], scale[k]).logpdf(z).sum(-1) for k in range(3)], -1)
    np.testing.assert_allclose(vae.prior.log_prob(z).numpy(), special.logsumexp(comps, -1) - np.log(3), rtol=1e-5)
    assert vae.prior.sample(4, tf.constant([0, 2], tf.int64)).shape == (4, 2)
    with pytest.raises(ValueError, match="needs a Gaussian posterior"):
        tfvae.VAE(input_shape=(4,), latent_dim=2, prior=VampPrior(3), posterior_flow=tfvae.flows.Planar())


def test_vamp_pseudo_input_initializer_is_used_and_saved(tmp_path):
    """Without an initializer the pseudo-inputs start at U(−1/√K, 1/√K) (dark:
    about half the values below 0, held at 0 by the clipping); a chosen one
    (here grey images) sets the start and survives the config and a
    `.keras` round trip."""
    def vae(**kwargs):
        return tfvae.VAE(input_shape=(4, 4, 1), latent_dim=2, encoder=tfvae.nets.MLP([8]),
                         decoder=tfvae.nets.MLP([8]), prior=VampPrior(num_pseudo_inputs=50, seed=0, **kwargs))
    dark = vae().prior.pseudo_inputs.numpy()
    bound = 1 / np.sqrt(50)
    assert dark.min() >= -bound and dark.max() <= bound and 0.4 < (dark < 0).mean() < 0.6
    np.testing.assert_array_equal(vae().prior.pseudo_inputs.numpy(), dark)  # seeded by `seed`
    model = vae(pseudo_input_initializer=keras.initializers.RandomNormal(0.5, 0.05, seed=1))
    grey = model.prior.pseudo_inputs.numpy()
    assert abs(grey.mean() - 0.5) < 0.01 and abs(grey.std() - 0.05) < 0.01
    config = model.prior.get_config()
    assert config["pseudo_input_initializer"]["class_name"] == "RandomNormal"
    assert VampPrior.from_config(config).pseudo_input_initializer.mean == 0.5
    path = str(tmp_path / "vamp.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.prior.pseudo_inputs.numpy(), grey)
    assert loaded.prior.pseudo_input_initializer.stddev == 0.05
    assert VampPrior(3, pseudo_input_initializer="zeros").pseudo_input_initializer.__class__.__name__ == "Zeros"


def test_prior_arguments_are_checked():
    with pytest.raises(ValueError, match="Expected `num_components` to be a positive integer"):
        MixtureOfGaussians(num_components=0)
    with pytest.raises(ValueError, match="Expected `flow` to be a tfvae.flows layer"):
        FlowPrior(keras.layers.Dense(2))
    with pytest.raises(ValueError, match="latent_dim=3 does not match"):
        tfvae.VAE(input_shape=(4,), latent_dim=2, prior=StandardNormal(latent_dim=3))


def test_temperature_scales_each_priors_noise():
    """sample(T) − sample(T → 0) = T (sample(1) − sample(T → 0)) for the
    Gaussian and mixture priors (same seed, so same component and noise);
    a flow prior maps the scaled base noise T·u."""
    seed = tf.constant([3, 4], tf.int64)
    mixture = MixtureOfGaussians(num_components=3, latent_dim=2, seed=0)
    vae = tfvae.VAE(input_shape=(4,), latent_dim=2, encoder=tfvae.nets.MLP([8]), decoder=tfvae.nets.MLP([8]),
                    likelihood="gaussian", prior=VampPrior(num_pseudo_inputs=3, seed=0))
    mixture.build((None, 2))
    for prior in (StandardNormal(latent_dim=2), mixture, vae.prior):
        centre = prior.sample(50, seed, temperature=1e-12).numpy()
        np.testing.assert_allclose(prior.sample(50, seed, temperature=0.3) - centre,
                                   0.3 * (prior.sample(50, seed) - centre), rtol=1e-4, atol=1e-6)
    flow = tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,), seed=0)
    prior = FlowPrior(flow, latent_dim=2)
    prior.build((None, 2))
    u = tf.random.stateless_normal((50, 2), seed=seed, alg="philox")
    np.testing.assert_allclose(prior.sample(50, seed, temperature=0.3), flow(0.3 * u)[0], rtol=1e-5, atol=1e-6)
