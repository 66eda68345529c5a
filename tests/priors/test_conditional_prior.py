"""The learned conditional Gaussian prior p(z|c) against closed forms."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import tfvae
from tfvae.priors import ConditionalNormal, FlowPrior

D, C = 3, 4


def _prior(seed=0):
    prior = ConditionalNormal(hidden_units=(8,), latent_dim=D, context_dim=C)
    prior.build((None, D))
    for i, w in enumerate(prior.trainable_weights):  # move off the N(0, I) start
        w.assign(w + tf.random.stateless_normal(w.shape, seed=[seed, i]) * 0.4)
    return prior


def _context(n, seed=1):
    return np.random.default_rng(seed).normal(size=(n, C)).astype("float32")


def test_starts_as_the_standard_normal_for_every_condition():
    prior = ConditionalNormal(hidden_units=(8,), latent_dim=D, context_dim=C)
    prior.build((None, D))
    z = np.random.default_rng(0).normal(size=(5, D)).astype("float32")
    expected = stats.multivariate_normal(np.zeros(D), np.eye(D)).logpdf(z)
    np.testing.assert_allclose(prior.log_prob(z, context=_context(5)).numpy(), expected, rtol=1e-3)


def test_log_prob_matches_scipy():
    prior = _prior()
    c = _context(6)
    loc, scale = (t.numpy() for t in prior.params(tf.constant(c)))
    assert np.ptp(loc, axis=0).min() > 1e-3  # the density really depends on c
    z = np.random.default_rng(2).normal(size=(6, D)).astype("float32")
    expected = [stats.multivariate_normal(loc[i], np.diag(scale[i] ** 2)).logpdf(z[i]) for i in range(6)]
    np.testing.assert_allclose(prior.log_prob(z, context=c).numpy(), expected, rtol=1e-5)


def test_kl_from_gaussian_matches_the_matrix_formula():
    """KL(N(m, S) || N(μ, Σ)) = ½[tr(Σ⁻¹S) + (μ−m)ᵀΣ⁻¹(μ−m) − D + log|Σ|/|S|]."""
    prior = _prior(seed=3)
    c = _context(4, seed=4)
    rng = np.random.default_rng(5)
    m, s = rng.normal(size=(4, D)).astype("float32"), rng.uniform(0.3, 2.0, size=(4, D)).astype("float32")
    kl = prior.kl_from_gaussian(tf.constant(m), tf.constant(s), context=c).numpy().sum(-1)
    mu, sig = (t.numpy().astype("float64") for t in prior.params(tf.constant(c)))
    for i in range(4):
        S, P = np.diag(s[i].astype("float64") ** 2), np.diag(1.0 / sig[i] ** 2)
        dm = mu[i] - m[i]
        exact = 0.5 * (np.trace(P @ S) + dm @ P @ dm - D + np.log(sig[i] ** 2).sum() - np.linalg.slogdet(S)[1])
        assert kl[i] == pytest.approx(exact, rel=1e-4, abs=1e-5)


def test_samples_follow_the_conditional_density():
    prior = _prior(seed=6)
    c = np.repeat(_context(1, seed=7), 20000, axis=0)
    samples = prior.sample(20000, tf.constant([1, 2], tf.int64), context=c).numpy()
    loc, scale = (t.numpy()[0] for t in prior.params(tf.constant(c[:1])))
    np.testing.assert_allclose(samples.mean(0), loc, atol=4 * scale.max() / np.sqrt(20000) + 1e-3)
    np.testing.assert_allclose(samples.std(0), scale, rtol=0.03)


def test_config_round_trip_and_clear_errors():
    prior = _prior()
    clone = ConditionalNormal.from_config(prior.get_config())
    clone.build((None, D))
    clone.set_weights(prior.get_weights())
    z, c = np.zeros((2, D), "float32"), _context(2)
    np.testing.assert_array_equal(clone.log_prob(z, context=c).numpy(), prior.log_prob(z, context=c).numpy())
    with pytest.raises(ValueError, match="pass `context`"):
        prior.log_prob(z)
    with pytest.raises(ValueError, match="context` of shape"):
        prior.log_prob(z, context=np.zeros((2, C + 1), "float32"))
    with pytest.raises(ValueError, match="hidden_units"):
        ConditionalNormal(hidden_units=(0,))
    with pytest.raises(ValueError, match="ConditionalVAE"):
        tfvae.VAE(input_shape=(4,), latent_dim=2, prior="conditional_normal")


def test_flow_prior_passes_the_context_to_a_conditional_flow():
    prior = FlowPrior(tfvae.flows.MAF(num_layers=2, hidden_units=(8,)), latent_dim=2, context_dim=C)
    prior.build((None, 2))
    for i, w in enumerate(prior.trainable_weights):
        w.assign(w + tf.random.stateless_normal(w.shape, seed=[9, i]) * 0.3)
    z = np.ones((3, 2), "float32")
    a = prior.log_prob(z, context=_context(3, seed=1)).numpy()
    b = prior.log_prob(z, context=_context(3, seed=2)).numpy()
    assert np.all(np.isfinite(a)) and np.abs(a - b).max() > 1e-3
    assert prior.sample(3, tf.constant([0, 1], tf.int64), context=_context(3)).shape == (3, 2)
