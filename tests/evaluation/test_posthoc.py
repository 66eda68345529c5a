"""Post-hoc latent samplers recover a known aggregate posterior; latent grids decode the right codes."""

import keras
import numpy as np
import pytest
from PIL import Image
from scipy import stats

import tfvae
from tfvae import metrics
from tfvae.evaluation import latent_grids
from tfvae.evaluation import posthoc

MEANS = np.array([[-4.0, 0.0], [4.0, 0.0], [0.0, 4.0]])


class CodeVAE:
    """A stand-in VAE whose 'images' (n, 1, 2, 1) are their own codes: the
    fitted density can then be compared with the known code distribution."""

    latent_dim = 2

    def encode(self, x):
        return np.asarray(x, np.float32).reshape(len(x), 2)

    def decode(self, z):
        return np.asarray(z, np.float32).reshape(len(z), 1, 2, 1)


def _codes(n, seed):
    rng = np.random.default_rng(seed)
    return MEANS[rng.integers(3, size=n)] + 0.5 * rng.standard_normal((n, 2))


def _images(z):
    return z.astype(np.float32).reshape(len(z), 1, 2, 1)


def test_mixture_recovers_the_code_distribution():
    sampler = tfvae.evaluation.fit_mixture(CodeVAE(), _images(_codes(3000, 0)), num_components=3)
    np.testing.assert_allclose(sorted(map(tuple, sampler.density.means_)), sorted(map(tuple, MEANS)), atol=0.1)
    z = sampler.sample(2000, seed=1).reshape(-1, 2)
    np.testing.assert_array_equal(z, sampler.sample(2000, seed=1).reshape(-1, 2))
    assert not np.array_equal(z, sampler.sample(2000, seed=2).reshape(-1, 2))
    fresh = _codes(2000, 3)
    estimate, se = metrics.kid(z, fresh, subset_size=250)
    assert abs(estimate) < 3 * se + 1e-3, (estimate, se)
    prior_kid, _ = metrics.kid(np.random.default_rng(4).standard_normal((2000, 2)), fresh, subset_size=250)
    assert prior_kid > 10 * (abs(estimate) + 3 * se)


def test_flow_beats_a_gaussian_on_held_out_codes():
    train, test = _codes(2000, 5), _codes(1000, 6)
    flow = tfvae.flows.RealNVP(num_layers=4, hidden_units=(32, 32), seed=0)
    sampler = tfvae.evaluation.fit_flow(CodeVAE(), _images(train), flow=flow, epochs=40, batch_size=200,
                                        learning_rate=3e-3)
    u = ((test - sampler.shift) / sampler.scale).astype(np.float32)
    flow_ll = np.mean(keras.ops.convert_to_numpy(sampler.density.log_prob(u))) - np.sum(np.log(sampler.scale))
    gauss_ll = np.mean(stats.multivariate_normal(train.mean(0), np.cov(train, rowvar=False)).logpdf(test))
    assert flow_ll > gauss_ll + 1.0, (flow_ll, gauss_ll)
    z = sampler.sample(1000, seed=0).reshape(-1, 2)
    near = np.min(np.linalg.norm(z[:, None] - MEANS[None], axis=-1), axis=1) < 1.5
    assert near.mean() > 0.85, near.mean()


def test_samples_decode_through_a_real_vae():
    vae = tfvae.VAE(input_shape=(8, 8, 1), latent_dim=3, encoder=tfvae.nets.MLP([16]),
                    decoder=tfvae.nets.MLP([16]), seed=0)
    x = (tfvae.data.load_numpy("digits", "train")[:200] > 0.5).astype("float32")
    sampler = tfvae.evaluation.fit_mixture(vae, x, num_components=2)
    means = np.asarray(sampler.sample(5, seed=0))
    draws = np.asarray(sampler.sample(5, seed=0, mean=False))
    assert means.shape == draws.shape == (5, 8, 8, 1)
    assert set(np.unique(draws)) <= {0.0, 1.0} and np.all((means > 0) & (means < 1))
    z = sampler.sample_latent(5, seed=0).astype("float32")
    np.testing.assert_allclose(means, np.asarray(vae.decode(z)), rtol=1e-6)
    with pytest.raises(ValueError, match="Received: num_samples=0"):
        sampler.sample(0)


class LinearDecoder(CodeVAE):
    """Codes of width 3; decode lays z out as a (1, 3) image."""

    def encode(self, x):
        return np.asarray(x, np.float32).reshape(len(x), 3)

    def decode(self, z):
        return np.asarray(z, np.float32).reshape(len(z), 1, 3, 1)


def test_interpolation_and_traversal_decode_the_right_codes(tmp_path):
    a = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], np.float32).reshape(2, 1, 3, 1)
    b = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]], np.float32).reshape(2, 1, 3, 1)
    out = latent_grids.interpolate(LinearDecoder(), a, b, steps=3).reshape(2, 3, 3)
    np.testing.assert_allclose(out[0], [[0, 0, 0], [0.5, 0, 0.25], [1, 0, 0.5]])
    np.testing.assert_allclose(out[1], [[1, 1, 1], [0.5, 1, 0.5], [0, 1, 0]])
    base = np.array([[0.1, 0.2, 0.3]], np.float32).reshape(1, 1, 3, 1)
    out = latent_grids.traverse(LinearDecoder(), base, dims=[2, 0], values=[-1.0, 1.0]).reshape(2, 2, 3)
    np.testing.assert_allclose(out[0], [[0.1, 0.2, -1.0], [0.1, 0.2, 1.0]], rtol=1e-6)
    np.testing.assert_allclose(out[1], [[-1.0, 0.2, 0.3], [1.0, 0.2, 0.3]], rtol=1e-6)
    path = latent_grids.save_traversal_png(LinearDecoder(), base, tmp_path / "t.png", values=[0.0, 0.5, 1.0])
    assert Image.open(path).size == (3 * (3 + 2) + 2, 3 * (1 + 2) + 2)  # 3 values x 3 dims
    with pytest.raises(ValueError, match="Expected `dims` in \\[0, 3\\)"):
        latent_grids.traverse(LinearDecoder(), base, dims=[3])
    with pytest.raises(ValueError, match="at least 2"):
        latent_grids.interpolate(LinearDecoder(), a, b, steps=1)


def test_log_likelihood_with_the_prior_as_density_is_the_vaes_estimate():
    # A "fitted" density equal to the VAE's N(0, I) prior: the post-hoc
    # estimator must reproduce vae.log_likelihood (same seed, same draws).
    vae = tfvae.VAE(input_shape=(8, 8, 1), latent_dim=3, encoder=tfvae.nets.MLP([16]),
                    decoder=tfvae.nets.MLP([16]), seed=0)
    x = (tfvae.data.load_numpy("digits", "test")[:20] > 0.5).astype("float32")

    def standard_normal(z):
        return stats.norm.logpdf(z).sum(axis=1)

    sampler = posthoc.PostHocSampler(vae, None, standard_normal, "prior")
    ours = sampler.log_likelihood(x, num_samples=64, seed=3)
    reference = np.asarray(vae.log_likelihood(x, num_samples=64, chunk_size=64, seed=3))
    np.testing.assert_allclose(ours, reference, rtol=1e-5)


def test_mixture_log_likelihood_uses_the_fitted_density():
    vae = tfvae.VAE(input_shape=(8, 8, 1), latent_dim=3, encoder=tfvae.nets.MLP([16]),
                    decoder=tfvae.nets.MLP([16]), seed=0)
    x = (tfvae.data.load_numpy("digits", "train")[:300] > 0.5).astype("float32")
    sampler = tfvae.evaluation.fit_mixture(vae, x, num_components=2)
    z = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(sampler.latent_log_prob(z), sampler.density.score_samples(z))
    assert np.all(np.isfinite(sampler.log_likelihood(x[:10], num_samples=8)))


def test_draws_sample_the_aggregate_posterior():
    # draws=k gives k z ~ q(z|x) per image: their mean over many draws is the
    # posterior location, and their spread is the posterior scale.
    vae = tfvae.VAE(input_shape=(8, 8, 1), latent_dim=3, encoder=tfvae.nets.MLP([16]),
                    decoder=tfvae.nets.MLP([16]), seed=0)
    x = (tfvae.data.load_numpy("digits", "train")[:4] > 0.5).astype("float32")
    z = posthoc.encodings(vae, x, draws=2000).reshape(2000, 4, 3)
    loc, scale = (np.asarray(t) for t in vae.posterior_params(x)[:2])
    np.testing.assert_allclose(z.mean(0), loc, atol=4 * scale.max() / np.sqrt(2000))
    np.testing.assert_allclose(z.std(0), scale, rtol=0.1)
    np.testing.assert_allclose(posthoc.encodings(vae, x), np.asarray(vae.encode(x)), rtol=1e-6)
    with pytest.raises(ValueError, match="Received: draws=-1"):
        posthoc.encodings(vae, x, draws=-1)
