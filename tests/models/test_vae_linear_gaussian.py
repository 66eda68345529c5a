"""A linear-Gaussian VAE (probabilistic PCA) has an exact log p(x).

p(z) = N(0, I_d), p(x|z) = N(Wz + b, σ² I_D)  =>  p(x) = N(b, WWᵀ + σ² I).
The true posterior is N(μ(x), Σ) with Σ = (I + WᵀW/σ²)⁻¹ and
μ(x) = Σ Wᵀ(x − b)/σ², which a linear encoder with a diagonal Gaussian can
represent exactly when WᵀW is diagonal. We set the weights in closed form and
check every estimator against the exact log-density.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import tfvae

D, d, SIGMA = 5, 2, 0.5


def _ppca_vae(W, b, q_var, **kwargs):
    vae = tfvae.VAE(input_shape=(D,), latent_dim=d, encoder=keras.layers.Identity(),
                    decoder=keras.layers.Identity(), likelihood=tfvae.likelihoods.Gaussian(scale=SIGMA), seed=0,
                    **kwargs)
    vae.decoder_head.proj.kernel.assign(W.T.astype("float32"))
    vae.decoder_head.proj.bias.assign(b.astype("float32"))
    sigma_post = np.linalg.inv(np.eye(d) + W.T @ W / SIGMA**2)
    a = W @ sigma_post / SIGMA**2                     # loc = (x − b) a
    raw = np.log(np.expm1(np.sqrt(q_var) - vae.posterior.min_scale))
    kernel = np.concatenate([a, np.zeros((D, d))], 1)
    bias = np.concatenate([-b @ a, raw])
    vae.posterior.dense.kernel.assign(kernel.astype("float32"))
    vae.posterior.dense.bias.assign(bias.astype("float32"))
    return vae, sigma_post


def _data(W, b, n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) @ W.T + b + SIGMA * rng.normal(size=(n, D))
    exact = stats.multivariate_normal(b, W @ W.T + SIGMA**2 * np.eye(D)).logpdf(x)
    return x.astype("float32"), exact


def test_exact_posterior_makes_every_bound_tight():
    """Orthogonal W: q(z|x) is the true posterior, so ELBO = IWAE = log p(x)
    for every sample (the log weights have zero variance)."""
    W = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    W = np.linalg.qr(np.random.default_rng(1).normal(size=(D, D)))[0] @ W
    b = np.linspace(-1, 1, D)
    vae, sigma_post = _ppca_vae(W, b, np.diag(np.linalg.inv(np.eye(d) + W.T @ W / SIGMA**2)))
    x, exact = _data(W, b)
    log_px, log_pz, log_q, _ = vae.bound_terms(tf.constant(x), 8, tf.constant([3, 4], tf.int64))
    np.testing.assert_allclose((log_px + log_pz - log_q).numpy(), np.broadcast_to(exact, (8, 64)), atol=2e-3)
    np.testing.assert_allclose(vae.log_likelihood(x, num_samples=10).numpy(), exact, atol=2e-3)
    vae.compile()
    metrics = vae.evaluate(x, batch_size=64, return_dict=True, verbose=0)
    assert metrics["elbo"] == pytest.approx(exact.mean(), abs=0.05)


def test_dataset_evaluation_returns_exact_per_example_values_in_data_order():
    """`tfvae.evaluation.log_likelihood` over 300 examples (two internal
    batches of 256): at the exact posterior every estimate is exact, so
    `per_example` must equal the closed form example by example, in order,
    and the summary fields must be its mean and standard error."""
    W = np.linalg.qr(np.random.default_rng(2).normal(size=(D, D)))[0][:, :d] * np.array([1.5, 0.7])
    b = np.linspace(0, 1, D)
    vae, _ = _ppca_vae(W, b, np.diag(np.linalg.inv(np.eye(d) + W.T @ W / SIGMA**2)))
    x, exact = _data(W, b, n=300, seed=5)
    result = tfvae.evaluation.log_likelihood(vae, x, num_samples=3)
    assert result["per_example"].shape == (300,) and result["num_examples"] == 300
    np.testing.assert_allclose(result["per_example"], exact, atol=2e-3)
    assert result["log_likelihood"] == pytest.approx(result["per_example"].mean(), rel=1e-6)
    assert result["stderr"] == pytest.approx(exact.std(ddof=1) / np.sqrt(300), rel=1e-3)


@pytest.mark.parametrize("estimator,k", [("doubly_reparameterized", 6), ("doubly_reparameterized", 1),
                                         ("reparameterization", 6)])
def test_doubly_reparameterised_encoder_gradient_vanishes_at_the_exact_posterior(estimator, k):
    """q(z|x) = p(z|x) makes every log weight equal to log p(x), whatever z:
    the DReG (at K = 1 path-derivative) encoder gradient is then exactly
    zero on every draw, while the plain estimator keeps its zero-mean score
    term, noise that does not vanish at the optimum (Roeder et al., 2017)."""
    W = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    W = np.linalg.qr(np.random.default_rng(1).normal(size=(D, D)))[0] @ W
    b = np.linspace(-1, 1, D)
    vae, _ = _ppca_vae(W, b, np.diag(np.linalg.inv(np.eye(d) + W.T @ W / SIGMA**2)), num_importance_samples=k,
                       analytic_kl=False, gradient_estimator=estimator)
    x, _ = _data(W, b, n=16)
    with tf.GradientTape() as tape:
        loss, _ = vae.compute_bound(tf.constant(x), tf.constant([2, 9], tf.int64), training=True)
    grads = tape.gradient(loss, vae.posterior.trainable_variables)
    largest = max(float(tf.reduce_max(tf.abs(g))) for g in grads)
    if estimator == "doubly_reparameterized":
        assert largest < 2e-3
    else:
        assert largest > 0.05


def test_importance_sampling_converges_and_elbo_stays_below():
    """Correlated W: the diagonal q is wrong by KL(q || p(z|x)) in closed form.
    The ELBO sits exactly that far below log p(x); the importance-sampled
    estimate climbs to log p(x) as the number of samples grows."""
    W = np.array([[1.0, 0.8], [0.5, 1.5], [-0.3, 0.7], [0.9, -0.2], [0.1, 0.4]])
    b = np.linspace(-1, 1, D)
    precision = np.eye(d) + W.T @ W / SIGMA**2
    q_var = 1.0 / np.diag(precision)              # the optimal mean-field variances
    vae, sigma_post = _ppca_vae(W, b, q_var)
    x, exact = _data(W, b, n=32)
    s = np.diag(q_var)
    gap = 0.5 * (np.trace(precision @ s) - d - np.linalg.slogdet(s)[1] + np.linalg.slogdet(sigma_post)[1])
    assert gap > 0.05  # the test is only meaningful if the bound is loose

    log_px, log_pz, log_q, kl_dims = vae.bound_terms(tf.constant(x), 20000, tf.constant([5, 6], tf.int64))
    elbo = (tf.reduce_mean(log_px, 0) - tf.reduce_sum(kl_dims, -1)).numpy()
    se = (tf.math.reduce_std(log_px, 0) / np.sqrt(20000)).numpy()
    assert np.all(np.abs(elbo - (exact - gap)) < 5 * se + 1e-3)

    errors = []
    for s_count in (1, 10, 100, 3000):
        est = vae.log_likelihood(x, num_samples=s_count, seed=11).numpy()
        errors.append(np.mean(exact - est))
    assert errors[0] == pytest.approx(gap, abs=0.15)   # one sample: an unbiased ELBO estimate
    assert errors[0] > errors[1] > errors[2] > errors[3] >= -0.01
    assert errors[3] < 0.01


def test_chunking_does_not_change_the_estimate():
    W = np.array([[1.0, 0.8], [0.5, 1.5], [-0.3, 0.7], [0.9, -0.2], [0.1, 0.4]])
    b = np.zeros(D)
    vae, _ = _ppca_vae(W, b, np.full(d, 0.1))
    x, _ = _data(W, b, n=8)
    whole = vae.log_likelihood(x, num_samples=64, chunk_size=64, seed=3).numpy()
    chunked = vae.log_likelihood(x, num_samples=64, chunk_size=64, seed=3).numpy()
    np.testing.assert_array_equal(whole, chunked)  # same seed, same answer
    other = vae.log_likelihood(x, num_samples=64, chunk_size=7, seed=3).numpy()
    assert np.all(np.abs(other - whole) < 0.5)      # different draws, same quantity
