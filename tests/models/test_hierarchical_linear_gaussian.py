"""A two-layer linear-Gaussian hierarchy has an exact log p(x).

p(z_2) = N(0, I), p(z_1 | z_2) = N(A z_2, s² I), p(x | z_1) = N(W z_1 + b, σ² I)
=> p(x) = N(b, W (A Aᵀ + s² I) Wᵀ + σ² I). With A diagonal and W's columns
orthogonal, every exact conditional posterior is a diagonal Gaussian whose
mean is linear in its input, so both inference networks can be set in closed
form to the exact posterior:
  bottom-up: q(z_1 | x) = p(z_1 | x), q(z_2 | z_1) = p(z_2 | z_1)
             (z_2 ⊥ x | z_1, so q = p(z_1, z_2 | x));
  ladder:    q(z_2 | x) = p(z_2 | x), and the bottom-up Gaussian of layer 1 is
             the likelihood term N(Λ⁻¹Wᵀ(x − b)/σ², Λ⁻¹), Λ = WᵀW/σ², whose
             precision-weighted merge with p(z_1 | z_2) is p(z_1 | z_2, x).
Then every log weight equals log p(x): the estimators must return it exactly.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import tfvae

D, D1, D2, SIGMA, S = 4, 2, 2, 0.4, 0.5
A = np.diag([1.2, 0.6])
W = np.linalg.qr(np.random.default_rng(0).normal(size=(D, D)))[0][:, :D1] * np.array([1.5, 0.7])
B = np.linspace(-0.5, 0.5, D)


def _raw(scale, head):
    return np.log(np.expm1(np.asarray(scale) - head.min_scale))


def _set(head, kernel, bias, scale):
    """A DiagonalGaussian head with loc = input @ kernel + bias and a constant scale."""
    k = np.concatenate([kernel, np.zeros_like(kernel)], 1)
    head.dense.kernel.assign(k.astype("float32"))
    head.dense.bias.assign(np.concatenate([bias, _raw(scale, head)]).astype("float32"))


def _model(inference, q_scale_factor=1.0, **kwargs):
    m = tfvae.HierarchicalVAE(input_shape=(D,), latent_dims=(D1, D2), encoder=keras.layers.Identity(),
                              decoder=keras.layers.Identity(), likelihood=tfvae.likelihoods.Gaussian(scale=SIGMA),
                              inference=inference, hidden_units=(), seed=0, **kwargs)
    m.decoder_head.proj.kernel.assign(W.T.astype("float32"))
    m.decoder_head.proj.bias.assign(B.astype("float32"))
    _set(m.p_heads[0], A.T, np.zeros(D1), np.full(D1, S))
    if inference == "bottom_up":
        sigma1 = np.linalg.inv(np.linalg.inv(A @ A.T + S**2 * np.eye(D1)) + W.T @ W / SIGMA**2)
        k1 = W @ sigma1 / SIGMA**2
        _set(m.q_heads[0], k1, -B @ k1, q_scale_factor * np.sqrt(np.diag(sigma1)))
        sigma2 = np.linalg.inv(np.eye(D2) + A.T @ A / S**2)
        _set(m.q_heads[1], A @ sigma2 / S**2, np.zeros(D2), q_scale_factor * np.sqrt(np.diag(sigma2)))
        covs = (sigma1, sigma2)
    else:
        lam = W.T @ W / SIGMA**2
        k1 = W @ np.linalg.inv(lam) / SIGMA**2
        _set(m.q_heads[0], k1, -B @ k1, q_scale_factor / np.sqrt(np.diag(lam)))
        cx_inv = np.linalg.inv(S**2 * W @ W.T + SIGMA**2 * np.eye(D))
        sigma2 = np.linalg.inv(np.eye(D2) + A.T @ W.T @ cx_inv @ W @ A)
        k2 = cx_inv @ W @ A @ sigma2
        _set(m.q_heads[1], k2, -B @ k2, q_scale_factor * np.sqrt(np.diag(sigma2)))
        covs = (lam, sigma2)
    for c in covs:  # the construction needs diagonal posteriors
        assert np.abs(c - np.diag(np.diag(c))).max() < 1e-10
    return m


def _data(n=48, seed=1):
    rng = np.random.default_rng(seed)
    z2 = rng.normal(size=(n, D2))
    z1 = z2 @ A.T + S * rng.normal(size=(n, D1))
    x = z1 @ W.T + B + SIGMA * rng.normal(size=(n, D))
    cov = W @ (A @ A.T + S**2 * np.eye(D1)) @ W.T + SIGMA**2 * np.eye(D)
    return x.astype("float32"), stats.multivariate_normal(B, cov).logpdf(x)


@pytest.mark.parametrize("inference", ["bottom_up", "ladder"])
def test_exact_posterior_makes_every_log_weight_equal_log_px(inference):
    m = _model(inference)
    x, exact = _data()
    log_px, log_pz, log_q, _ = m.bound_terms(tf.constant(x), 16, tf.constant([3, 4], tf.int64))
    np.testing.assert_allclose((log_px + log_pz - log_q).numpy(), np.broadcast_to(exact, (16, 48)), atol=2e-3)
    np.testing.assert_allclose(m.log_likelihood(x, num_samples=10).numpy(), exact, atol=2e-3)
    _, values = m.compute_bound(tf.constant(x), tf.constant([1, 1], tf.int64), training=False)
    np.testing.assert_allclose(values["elbo"], exact, atol=2e-3)
    np.testing.assert_allclose(values["kl"], values["kl_z1"] + values["kl_z2"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("inference", ["bottom_up", "ladder"])
def test_importance_sampling_converges_to_log_px_and_the_elbo_stays_below(inference):
    """Posterior scales inflated ×1.6: the ELBO (averaged over 4000 draws)
    sits clearly below log p(x); the importance-sampled estimate at S = 1 is
    off by that gap on average (20 seeds; the log weights' standard
    deviation is ~2.2 nats, so the mean's standard error is ~0.1), and at
    S = 30 and S = 5000 within 0.05 and 0.01 nats per example (an
    over-dispersed proposal converges fast)."""
    m = _model(inference, q_scale_factor=1.6)
    x, exact = _data(n=24, seed=2)
    log_px, log_pz, log_q, _ = m.bound_terms(tf.constant(x), 4000, tf.constant([5, 6], tf.int64))
    elbo = tf.reduce_mean(log_px + log_pz - log_q, 0).numpy()
    assert np.all(elbo < exact) and np.mean(exact - elbo) > 0.2
    one_sample = np.mean([np.mean(exact - m.log_likelihood(x, num_samples=1, seed=s).numpy()) for s in range(20)])
    assert one_sample == pytest.approx(np.mean(exact - elbo), abs=0.35)
    errors = [np.mean(exact - m.log_likelihood(x, num_samples=s, seed=7).numpy()) for s in (30, 5000)]
    assert abs(errors[0]) < 0.05 and abs(errors[1]) < 0.01, errors


def _encoder_grads(m, x, seed):
    """The loss's gradient on q's heads, flattened `(P,)`."""
    with tf.GradientTape() as tape:
        loss, _ = m.compute_bound(x, seed, training=True)
    variables = [v for head in m.q_heads for v in head.trainable_variables]
    return tf.concat([tf.reshape(g, [-1]) for g in tape.gradient(loss, variables)], 0)


@pytest.mark.parametrize("k", [1, 3])
def test_path_gradient_is_zero_at_the_exact_posterior(k):
    """Bottom-up, q = p(z_1, z_2 | x): every log weight is log p(x) whatever
    z is, so the path / DReG gradient of the encoder is exactly zero on
    every draw; the plain gradient keeps the score term and is not."""
    x, _ = _data(n=16)
    path = _model("bottom_up", num_importance_samples=k)
    plain = _model("bottom_up", num_importance_samples=k, gradient_estimator="reparameterization")
    assert path.doubly_reparameterized and not plain.doubly_reparameterized
    seed = tf.constant([2, 3], tf.int64)
    np.testing.assert_allclose(_encoder_grads(path, tf.constant(x), seed).numpy(), 0.0, atol=2e-5)
    assert np.abs(_encoder_grads(plain, tf.constant(x), seed).numpy()).max() > 1e-2


def test_path_gradient_has_the_plain_gradients_mean():
    """Away from the exact posterior (scales ×1.3), DReG at K = 3 and the
    plain IWAE gradient agree in expectation: 300 draws each, every
    coordinate within 4.5 standard errors."""
    x, _ = _data(n=8, seed=4)
    path = _model("bottom_up", q_scale_factor=1.3, num_importance_samples=3)
    plain = _model("bottom_up", q_scale_factor=1.3, num_importance_samples=3, gradient_estimator="reparameterization")
    step = {}
    for name, m in (("path", path), ("plain", plain)):
        fn = tf.function(lambda s, m=m: _encoder_grads(m, tf.constant(x), s))
        step[name] = np.stack([fn(tf.constant([i, 11], tf.int64)).numpy() for i in range(300)])
    se = np.sqrt(step["path"].var(0, ddof=1) / 300 + step["plain"].var(0, ddof=1) / 300)
    z = np.abs(step["path"].mean(0) - step["plain"].mean(0)) / np.maximum(se, 1e-8)
    assert z.max() < 4.5, z
    assert step["path"].var(0).sum() < step["plain"].var(0).sum()   # and it is the less noisy one


def test_ladder_refuses_the_path_gradient():
    assert not _model("ladder").doubly_reparameterized   # "auto": plain
    with pytest.raises(ValueError, match="ladder inference shares the top-down networks"):
        _model("ladder", gradient_estimator="doubly_reparameterized")
