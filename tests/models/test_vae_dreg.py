"""The doubly-reparameterised (DReG) gradient of the IWAE bound.

Checked against the estimator written out term by term, for its mean
against the plain reparameterised gradient (the same expectation), and
for what it is for: a less noisy encoder gradient.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae
from tfvae.posteriors import DiagonalGaussian

SEED = tf.constant([5, 7], tf.int64)


def _vae(**kwargs):
    kwargs.setdefault("encoder", tfvae.nets.MLP([16]))
    kwargs.setdefault("decoder", tfvae.nets.MLP([16]))
    return tfvae.VAE(input_shape=(12,), latent_dim=3, seed=0, **kwargs)


def _x(n=6):
    return tf.constant((np.random.default_rng(0).random((n, 12)) < 0.4).astype("float32"))


def _is_encoder_side(vae):
    ids = {id(v) for v in vae.encoder.trainable_variables + vae.posterior.trainable_variables}
    return [id(v) in ids for v in vae.trainable_variables]


def _grads(vae, x, seed):
    with tf.GradientTape() as tape:
        loss, _ = vae.compute_bound(x, seed, training=True)
    return tape.gradient(loss, vae.trainable_variables)


def _reference(vae, x, seed, beta):
    """Tucker et al.'s estimator written out: decoder Σ w̃ ∇log w, encoder
    Σ w̃ (1 − β + β w̃) ∂log w/∂z ∂z/∂φ with q's parameters held fixed."""
    k = vae.num_importance_samples
    with tf.GradientTape(persistent=True) as tape:
        loc, scale, _ = vae.posterior_params(x, training=True)
        z = DiagonalGaussian.sample(loc, scale, k, seed)
        log_q = DiagonalGaussian.log_prob(z, tf.stop_gradient(loc), tf.stop_gradient(scale))
        flat = tf.reshape(z, [-1, 3])
        log_px = tf.reshape(vae.likelihood.log_prob(tf.tile(x, [k, 1]), vae.decoder_params(flat, True)), [k, -1])
        log_pz = tf.reshape(vae.prior.log_prob(flat), [k, -1])
        log_w = log_px + beta * (log_pz - log_q)
        w = tf.stop_gradient(tf.nn.softmax(log_w, axis=0))
        decoder_side = -tf.reduce_mean(tf.reduce_sum(w * log_w, 0))
        encoder_side = -tf.reduce_mean(tf.reduce_sum(w * (1 - beta + beta * w) * log_w, 0))
    return [tape.gradient(encoder_side if enc else decoder_side, v)
            for v, enc in zip(vae.trainable_variables, _is_encoder_side(vae))]


@pytest.mark.parametrize("k,beta", [(4, 1.0), (4, 0.3), (1, 1.0)])
def test_gradient_is_the_term_by_term_estimator(k, beta):
    extra = {} if k > 1 else dict(analytic_kl=False)
    vae = _vae(num_importance_samples=k, gradient_estimator="doubly_reparameterized", **extra)
    vae.beta_weight.assign(beta)
    x = _x()
    for got, want in zip(_grads(vae, x, SEED), _reference(vae, x, SEED, beta)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-6)
    # The loss and metrics are the bound itself, not a surrogate.
    loss, values = vae.compute_bound(x, SEED, training=True)
    plain_loss, plain_values = vae.compute_bound(x, SEED, training=False)
    assert float(loss) == pytest.approx(float(plain_loss), rel=1e-6)
    np.testing.assert_allclose(values["elbo"].numpy(), plain_values["elbo"].numpy(), rtol=1e-6)


def test_same_mean_as_the_reparameterised_gradient():
    """Over 300 draws, the encoder's gradient (the Gaussian head's bias) has
    the same mean under both estimators. (Less noise is not guaranteed at
    every point; `test_vae_linear_gaussian` shows it vanishing at the
    optimum, where the plain estimator's does not.)"""
    x = _x(4)
    dreg = _vae(num_importance_samples=8)          # "auto" picks DReG
    plain = _vae(num_importance_samples=8, gradient_estimator="reparameterization")
    plain.set_weights(dreg.get_weights())
    assert dreg.doubly_reparameterized and not plain.doubly_reparameterized

    def head_bias_grads(vae):
        bias = vae.posterior.dense.bias

        @tf.function
        def one(seed):
            with tf.GradientTape() as tape:
                loss, _ = vae.compute_bound(x, seed, training=True)
            return tape.gradient(loss, bias)
        return np.stack([one(tf.constant([i, 11], tf.int64)).numpy() for i in range(300)])

    g_dreg, g_plain = head_bias_grads(dreg), head_bias_grads(plain)
    se = np.sqrt(g_dreg.var(0, ddof=1) / len(g_dreg) + g_plain.var(0, ddof=1) / len(g_plain))
    z = np.abs(g_dreg.mean(0) - g_plain.mean(0)) / se
    assert z.max() < 4.5, (g_dreg.mean(0), g_plain.mean(0), se)


def test_auto_choice_and_round_trip(tmp_path):
    assert _vae(num_importance_samples=5).doubly_reparameterized
    assert not _vae().doubly_reparameterized
    assert not _vae(num_importance_samples=5, posterior_flow=tfvae.flows.Planar(num_layers=1)).doubly_reparameterized
    vae = _vae(num_importance_samples=2, gradient_estimator="reparameterization")
    path = str(tmp_path / "m.keras")
    vae.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.gradient_estimator == "reparameterization" and not loaded.doubly_reparameterized
    config = vae.get_config()
    del config["gradient_estimator"]   # saved before the option existed
    assert tfvae.VAE.from_config(config).doubly_reparameterized


def test_trains_under_fit_with_xla():
    vae = _vae(num_importance_samples=4)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=True)
    x = np.tile(_x(32).numpy(), (4, 1))
    before = vae.evaluate(x, batch_size=64, return_dict=True, verbose=0)["iwae"]
    history = vae.fit(x, batch_size=32, epochs=5, verbose=0)
    after = vae.evaluate(x, batch_size=64, return_dict=True, verbose=0)["iwae"]
    assert np.all(np.isfinite(history.history["loss"]))
    assert after > before + 1.0, (before, after)


@pytest.mark.parametrize("kwargs,pattern", [
    (dict(gradient_estimator="dreg"), r"`gradient_estimator` to be one of"),
    (dict(gradient_estimator="doubly_reparameterized", num_importance_samples=3,
          posterior_flow=tfvae.flows.Planar(num_layers=1)), r"posterior flow.*inverse"),
    (dict(gradient_estimator="doubly_reparameterized"), r"num_importance_samples=1.*analytic_kl=False"),
])
def test_bad_estimator_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        _vae(**kwargs)
