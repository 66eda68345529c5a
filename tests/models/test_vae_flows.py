"""Flow priors and flow posteriors inside the VAE.

The exact-likelihood check: a linear-Gaussian decoder has a closed-form
log p(x) for any Gaussian prior; with a posterior flow of random weights the
proposal is no longer Gaussian, so the importance-sampled estimate is only
right if log q_K(z_K|x) = log q_0(z_0|x) − Σ log|det| is computed right.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import tfvae

D, d, SIGMA = 4, 2, 0.7
F = tfvae.flows


def _perturb(layer, seed, scale=0.2):
    for i, w in enumerate(layer.trainable_weights):
        w.assign(w + tf.random.stateless_normal(w.shape, seed=[seed, i]) * scale)


def _linear_gaussian_vae(**kwargs):
    """Decoder x = Wz + σε. The encoder's Gaussian is the exact posterior of
    the N(0, I)-prior model, widened 1.5x so importance weights stay light-tailed
    once a flow distorts it."""
    vae = tfvae.VAE(input_shape=(D,), latent_dim=d, encoder=keras.layers.Identity(),
                    decoder=keras.layers.Identity(), likelihood=tfvae.likelihoods.Gaussian(scale=SIGMA),
                    seed=0, **kwargs)
    W = np.array([[1.0, 0.5], [-0.4, 1.2], [0.3, -0.8], [0.9, 0.1]])
    vae.decoder_head.proj.kernel.assign(W.T.astype("float32"))
    vae.decoder_head.proj.bias.assign(np.zeros(D, "float32"))
    sigma_post = np.linalg.inv(np.eye(d) + W.T @ W / SIGMA**2)
    raw = np.log(np.expm1(1.5 * np.sqrt(np.diag(sigma_post))))
    vae.posterior.dense.kernel.assign(np.concatenate([W @ sigma_post / SIGMA**2, np.zeros((D, d))], 1).astype("float32"))
    vae.posterior.dense.bias.assign(np.concatenate([np.zeros(d), raw]).astype("float32"))
    return vae, W


@pytest.mark.parametrize("name,make_flow", [
    ("iaf", lambda: F.IAF(num_layers=2, hidden_units=(8,))),
    ("planar", lambda: F.Planar(num_layers=2)),
    ("sylvester", lambda: F.Sylvester(num_layers=2, num_ortho_vectors=2)),
    ("realnvp", lambda: F.RealNVP(num_layers=2, hidden_units=(8,))),
    ("spline_iaf", lambda: F.SplineIAF(num_layers=1, hidden_units=(8,), num_bins=4, seed=0)),
    ("nsf", lambda: F.NSF(num_layers=2, hidden_units=(8,), num_bins=4)),
])
def test_flow_posterior_gives_the_exact_log_likelihood(name, make_flow):
    keras.utils.set_random_seed(0)
    vae, W = _linear_gaussian_vae(posterior_flow=make_flow())
    _perturb(vae.posterior_flow, 11, 0.12)
    x = np.random.default_rng(0).normal(size=(16, D)).astype("float32")
    _, log_det = vae.posterior_flow(tf.random.normal((64, d)), context=tf.constant(x[np.arange(64) % 16]))
    assert np.mean(np.abs(log_det.numpy())) > 0.05  # the flow really changes volume
    exact = stats.multivariate_normal(np.zeros(D), W @ W.T + SIGMA**2 * np.eye(D)).logpdf(x)
    est = vae.log_likelihood(x, num_samples=20000, seed=1).numpy()
    np.testing.assert_allclose(est, exact, atol=0.05)
    log_px, log_pz, log_q, _ = vae.bound_terms(tf.constant(x), 4000, tf.constant([1, 2], tf.int64))
    elbo = tf.reduce_mean(log_px + log_pz - log_q, 0).numpy()   # the ELBO, averaged over 4000 draws
    assert np.all(elbo < exact + 0.02) and np.mean(exact - elbo) > 0.01


def test_flow_prior_gives_the_exact_log_likelihood():
    """Prior z = A u: p(x) = N(0, W A Aᵀ Wᵀ + σ² I)."""
    keras.utils.set_random_seed(0)
    vae, W = _linear_gaussian_vae(prior=tfvae.priors.FlowPrior(F.LULinear(seed=2)))
    _perturb(vae.prior, 5, 0.3)
    A = vae.prior.flow(tf.eye(d))[0].numpy().T
    x = np.random.default_rng(1).normal(size=(16, D)).astype("float32")
    exact = stats.multivariate_normal(np.zeros(D), W @ A @ A.T @ W.T + SIGMA**2 * np.eye(D)).logpdf(x)
    np.testing.assert_allclose(vae.log_likelihood(x, num_samples=20000, seed=3).numpy(), exact, atol=0.05)


@pytest.mark.parametrize("kwargs", [
    dict(prior=tfvae.priors.FlowPrior(F.RealNVP(num_layers=2, hidden_units=(16,)))),
    dict(prior=tfvae.priors.FlowPrior(F.MAF(num_layers=2, hidden_units=(16,)))),
    dict(prior=tfvae.priors.MixtureOfGaussians(4)),
    dict(prior=tfvae.priors.VampPrior(16)),
    dict(posterior_flow=F.IAF(num_layers=2, hidden_units=(16,)),
         prior=tfvae.priors.FlowPrior(F.RealNVP(num_layers=2, hidden_units=(16,)))),
    dict(posterior_flow=F.Sylvester(num_layers=1, num_ortho_vectors=2, kind="householder")),
    dict(posterior_flow=F.SplineIAF(num_layers=1, hidden_units=(16,), num_bins=4),
         prior=tfvae.priors.FlowPrior(F.NSF(num_layers=2, hidden_units=(16,), num_bins=4))),
], ids=["realnvp-prior", "maf-prior", "mog-prior", "vamp-prior", "iaf+realnvp-prior", "sylvester-h",
        "spline-iaf+nsf-prior"])
def test_every_prior_and_posterior_trains_jointly_and_reloads(kwargs, tmp_path):
    x = (tfvae.data.load_numpy("digits", split="train")[:192] > 0.5).astype("float32")
    vae = tfvae.VAE(input_shape=(8, 8, 1), latent_dim=4, encoder=tfvae.nets.MLP([32]),
                    decoder=tfvae.nets.MLP([32]), seed=0, **kwargs)
    prior_weights = [w.numpy().copy() for w in vae.prior.trainable_weights]
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    h = vae.fit(x, batch_size=64, epochs=2, verbose=0).history
    assert np.all(np.isfinite(h["loss"]))
    # the prior's own weights were trained by the same fit
    assert all(not np.array_equal(a, b.numpy()) for a, b in zip(prior_weights, vae.prior.trainable_weights))
    path = str(tmp_path / "m.keras")
    vae.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.encode(x[:5]).numpy(), vae.encode(x[:5]).numpy())
    np.testing.assert_allclose(loaded.log_likelihood(x[:5], 32, seed=4).numpy(),
                               vae.log_likelihood(x[:5], 32, seed=4).numpy(), rtol=1e-5)
    np.testing.assert_array_equal(loaded.sample(3, seed=1).numpy(), vae.sample(3, seed=1).numpy())
