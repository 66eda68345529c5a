"""Each likelihood's log-probability against scipy or an explicit formula."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import special, stats

import tfvae
from tfvae.likelihoods import Bernoulli, Categorical, DiscretizedLogistic, Gaussian

rng = np.random.default_rng(0)


def test_bernoulli_matches_scipy_and_is_stable():
    logits = rng.normal(scale=3, size=(4, 6, 1)).astype("float32")
    x = (rng.uniform(size=(4, 6)) < 0.5).astype("float32")
    lik = Bernoulli(event_ndims=1)
    expected = stats.bernoulli(special.expit(logits[..., 0].astype("float64"))).logpmf(x).sum(-1)
    np.testing.assert_allclose(lik.log_prob(x, logits).numpy(), expected, rtol=1e-5)
    # saturated logits: exact, no log(0)
    big = np.full((1, 2, 1), 200.0, "float32")
    np.testing.assert_allclose(lik.log_prob(np.array([[1.0, 0.0]], "float32"), big).numpy(), [-200.0])


@pytest.mark.parametrize("scale", [0.3, "learned", "predicted"])
def test_gaussian_matches_scipy(scale):
    lik = Gaussian(scale=scale, event_ndims=1)
    lik.build((6,))
    params = rng.normal(size=(4, 6, lik.num_params)).astype("float32")
    x = rng.normal(size=(4, 6)).astype("float32")
    if scale == "predicted":
        sigma = np.log1p(np.exp(params[..., 1].astype("float64"))) + lik.min_scale
    elif scale == "learned":
        sigma = np.log1p(np.exp(0.5413)) + lik.min_scale
    else:
        sigma = scale
    expected = stats.norm(params[..., 0], sigma).logpdf(x).sum(-1)
    np.testing.assert_allclose(lik.log_prob(x, params).numpy(), expected, rtol=1e-4)


def test_categorical_matches_log_softmax():
    lik = Categorical(num_bins=17, event_ndims=1)
    logits = rng.normal(size=(3, 5, 17)).astype("float32")
    k = rng.integers(0, 17, size=(3, 5))
    expected = np.take_along_axis(special.log_softmax(logits, -1), k[..., None], -1)[..., 0].sum(-1)
    np.testing.assert_allclose(lik.log_prob((k / 16).astype("float32"), logits).numpy(), expected, rtol=1e-5)


def _logistic_reference(k, logits, loc, log_scale, bins):
    """PixelCNN++'s probabilities written with scipy's logistic CDF, float64."""
    c, h = 2 * k / (bins - 1) - 1, 1 / (bins - 1)
    s = np.exp(np.maximum(log_scale, -7))
    cdf = stats.logistic(loc, s).cdf
    upper = np.where(k[..., None] == bins - 1, 1.0, cdf(c[..., None] + h))
    lower = np.where(k[..., None] == 0, 0.0, cdf(c[..., None] - h))
    return np.log(np.sum(special.softmax(logits, -1) * (upper - lower), -1)).sum(-1)


def test_discretized_logistic_matches_reference_and_normalises():
    bins, comps = 17, 3
    lik = DiscretizedLogistic(num_components=comps, num_bins=bins, event_ndims=1)
    params = rng.normal(scale=0.7, size=(4, 5, 3 * comps))
    k = rng.integers(0, bins, size=(4, 5))
    k[0, :2] = [0, bins - 1]  # both edge bins
    expected = _logistic_reference(k, params[..., :comps], params[..., comps:2 * comps],
                                   params[..., 2 * comps:], bins)
    got = lik.log_prob((k / (bins - 1)).astype("float32"), params.astype("float32")).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    total = tf.reduce_logsumexp(lik.level_log_probs(params.astype("float32")), -1).numpy()
    np.testing.assert_allclose(total, 0.0, atol=1e-5)


def test_discretized_logistic_is_finite_in_the_tails():
    lik = DiscretizedLogistic(num_components=1, num_bins=256, event_ndims=1)
    # a narrow component far from the data: probability tiny but not log(0)
    params = np.array([[[0.0, 50.0, -7.0], [0.0, -50.0, -7.0], [0.0, 0.0, -7.0]]], "float32")
    lp = lik.log_prob(np.array([[0.5, 0.5, 0.5]], "float32"), params).numpy()
    assert np.all(np.isfinite(lp)), lp


@pytest.mark.parametrize("lik,bad,pattern", [
    (Bernoulli(), 0.5, r"Bernoulli likelihood, \{0, 1\}.*binarise"),
    (Categorical(num_bins=17), 0.01, r"grid k/16"),
    (DiscretizedLogistic(num_bins=256), 1.5, r"grid k/255"),
    (Gaussian(), np.nan, r"NaN"),
])
def test_values_outside_support_raise_clear_errors(lik, bad, pattern):
    vae = tfvae.VAE(input_shape=(4,), latent_dim=2, encoder=tfvae.nets.MLP([8]), decoder=tfvae.nets.MLP([8]),
                    likelihood=lik)
    x = np.zeros((3, 4), "float32")
    x[1, 2] = bad
    with pytest.raises(ValueError, match=pattern):
        vae.log_likelihood(x, num_samples=2)


def test_likelihood_names_and_bad_arguments():
    assert isinstance(tfvae.likelihoods.get("discretized_logistic"), DiscretizedLogistic)
    with pytest.raises(ValueError, match="Expected `likelihood` to be one of"):
        tfvae.likelihoods.get("poisson")
    with pytest.raises(ValueError, match="Expected `scale`"):
        Gaussian(scale=-1.0)
    with pytest.raises(ValueError, match="num_bins"):
        Categorical(num_bins=0)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(DiscretizedLogistic(num_components=2, num_bins=17)))
    assert (restored.num_components, restored.num_bins) == (2, 17)


@pytest.mark.parametrize("lik", [Bernoulli(event_ndims=2), Gaussian(scale="predicted", event_ndims=2),
                                 Categorical(num_bins=5, event_ndims=2),
                                 DiscretizedLogistic(num_bins=5, num_components=2, event_ndims=2)],
                         ids=lambda lik: type(lik).__name__)
def test_xla_fused_log_prob_equals_the_plain_one(lik):
    """Inside `xla_fused()` a traced `log_prob_repeated` runs as one XLA
    cluster (the importance sampler's); same values as `log_prob` on the
    repeated data, op by op."""
    from tfvae.likelihoods.base import xla_fused
    lik.build((3, 4))
    params = rng.normal(size=(5, 3, 4, lik.num_params)).astype("float32")
    x = (rng.integers(0, 5, size=(5, 3, 4)) / 4.0).astype("float32")
    if isinstance(lik, Bernoulli):
        x = np.round(x)
    params = np.concatenate([params, params[::-1] * 0.5])     # k = 2 draws per example
    plain = tf.function(lambda a, b: lik.log_prob(a, b))(np.concatenate([x, x]), params)
    with xla_fused():
        fused = tf.function(lambda a, b: lik.log_prob_repeated(a, b))(x, params)
    assert "_tfvae_xla_log_prob" in lik.__dict__            # the cluster was used
    np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-5, atol=1e-5)


def test_xla_fused_leaves_likelihoods_from_outside_tfvae_alone():
    from tfvae.likelihoods.base import xla_fused

    class Mine(Bernoulli):
        def log_prob_elementwise(self, x, params):
            return super().log_prob_elementwise(x, params)

    lik = Mine(event_ndims=1)
    with xla_fused():
        tf.function(lambda a, b: lik.log_prob_repeated(a, b))(np.ones((2, 3), "float32"),
                                                                np.zeros((2, 3, 1), "float32"))
    assert "_tfvae_xla_log_prob" not in lik.__dict__
