"""The path / doubly-reparameterised (DReG) gradient of the ELBO and IWAE bound.

Checked against the estimator written out term by term (for flow
posteriors with log q's score taken through the flow's inverse), and for
its mean against the plain reparameterised gradient (the same expectation).
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


def _flow_reference(vae, x, seed, beta):
    """The same estimator for a flow posterior, with ∇_z log q_K(z) at fixed
    parameters computed independently, through the flow's inverse."""
    k, b = vae.num_importance_samples, x.shape[0]
    enc_vars = vae.encoder.trainable_variables + vae.posterior.trainable_variables \
        + vae.posterior_flow.trainable_variables
    with tf.GradientTape() as path:
        loc, scale, h = vae.posterior_params(x, training=True)
        z0 = tf.reshape(DiagonalGaussian.sample(loc, scale, k, seed), [k * b, 3])
        context = tf.tile(h, [k, 1])
        zk, _ = vae.posterior_flow(z0, context=context)
    z = tf.stop_gradient(zk)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(z)
        log_p = vae.likelihood.log_prob(tf.tile(x, [k, 1]), vae.decoder_params(z, True))
        log_prior = vae.prior.log_prob(z)
        base, inverse_log_det = vae.posterior_flow.inverse(z, context=tf.stop_gradient(context))
        log_q = DiagonalGaussian.log_prob(base, tf.stop_gradient(tf.tile(loc, [k, 1])),
                                          tf.stop_gradient(tf.tile(scale, [k, 1]))) + inverse_log_det
        log_w = tf.reshape(log_p + beta * (log_prior - log_q), [k, b])
        w = tf.stop_gradient(tf.nn.softmax(log_w, axis=0))
        decoder_side = -tf.reduce_mean(tf.reduce_sum(w * log_w, 0))
        total = tf.reduce_sum(log_w)
    dlogw_dz = tape.gradient(total, z)
    c = tf.reshape(w * (1 - beta + beta * w), [k * b, 1])
    enc = dict(zip(map(id, enc_vars), path.gradient(zk, enc_vars, output_gradients=-c * dlogw_dz / b)))
    return [enc[id(v)] if id(v) in enc else tape.gradient(decoder_side, v) for v in vae.trainable_variables]


@pytest.mark.parametrize("flow,k,beta", [
    (lambda: tfvae.flows.IAF(num_layers=2, hidden_units=(8,)), 3, 1.0),
    (lambda: tfvae.flows.IAF(num_layers=1, hidden_units=(8,)), 1, 1.0),
    (lambda: tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,)), 3, 0.5),
])
def test_flow_posterior_gradient_matches_the_inverse_flow_reference(flow, k, beta):
    # Without a closed-form Jacobian the path gradient is opt-in ("auto" is plain).
    vae = _vae(num_importance_samples=k, posterior_flow=flow(), gradient_estimator="doubly_reparameterized")
    assert vae.doubly_reparameterized
    for v in vae.posterior_flow.trainable_variables:   # away from the identity
        v.assign(v + 0.3 * tf.random.stateless_normal(v.shape, [len(v.name), 1]))
    vae.beta_weight.assign(beta)
    x = _x()
    got, want = _grads(vae, x, SEED), _flow_reference(vae, x, SEED, beta)
    for v, g, r in zip(vae.trainable_variables, got, want):
        np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=2e-3, atol=2e-5, err_msg=v.path)


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


@pytest.mark.parametrize("k,flow", [(8, None), (1, lambda: tfvae.flows.Planar(num_layers=2))])
def test_same_mean_as_the_reparameterised_gradient(k, flow):
    """Over 300 draws, the encoder's gradient (the Gaussian head's bias) has
    the same mean under both estimators: DReG for an IWAE, the path
    gradient of a planar-flow posterior's ELBO. (Less noise is not
    guaranteed at every point; `test_vae_linear_gaussian` shows it vanishing
    at the optimum, where the plain estimator's does not.)"""
    x = _x(4)
    extra = lambda: {} if flow is None else dict(posterior_flow=flow())  # noqa: E731
    dreg = _vae(num_importance_samples=k, **extra())          # "auto" picks DReG
    plain = _vae(num_importance_samples=k, gradient_estimator="reparameterization", **extra())
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
    assert not _vae().doubly_reparameterized                           # analytic KL
    assert _vae(analytic_kl=False).doubly_reparameterized
    assert _vae(posterior_flow=tfvae.flows.Planar(num_layers=1)).doubly_reparameterized
    assert _vae(posterior_flow=tfvae.flows.Sylvester(num_layers=1)).doubly_reparameterized
    assert _vae(posterior_flow=tfvae.flows.Chain([tfvae.flows.Planar(), tfvae.flows.Sylvester()])
                ).doubly_reparameterized
    # A flow without a closed-form Jacobian: the path gradient would cost D
    # backward passes a step, so "auto" keeps the plain gradient.
    assert not _vae(posterior_flow=tfvae.flows.IAF(num_layers=1, hidden_units=(8,))).doubly_reparameterized
    assert not _vae(posterior_flow=tfvae.flows.IAF(num_layers=1, hidden_units=(8,)),
                    num_importance_samples=3).doubly_reparameterized
    assert _vae(posterior_flow=tfvae.flows.IAF(num_layers=1, hidden_units=(8,)),
                gradient_estimator="doubly_reparameterized").doubly_reparameterized
    assert _vae(prior=tfvae.priors.MixtureOfGaussians(num_components=2)).doubly_reparameterized
    vae = _vae(num_importance_samples=2, gradient_estimator="reparameterization")
    path = str(tmp_path / "m.keras")
    vae.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.gradient_estimator == "reparameterization" and not loaded.doubly_reparameterized
    config = vae.get_config()
    del config["gradient_estimator"]   # saved before the option existed
    assert tfvae.VAE.from_config(config).doubly_reparameterized


def test_trains_under_fit_with_xla():
    keras.utils.set_random_seed(0)  # the MLPs' initial weights
    vae = _vae(num_importance_samples=4)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=True)
    x = np.tile(_x(32).numpy(), (4, 1))
    before = vae.evaluate(x, batch_size=64, return_dict=True, verbose=0)["iwae"]
    history = vae.fit(x, batch_size=32, epochs=10, verbose=0)
    after = vae.evaluate(x, batch_size=64, return_dict=True, verbose=0)["iwae"]
    assert np.all(np.isfinite(history.history["loss"]))
    assert after > before + 0.5, (before, after)  # measured: +1.0


@pytest.mark.parametrize("kwargs,pattern", [
    (dict(gradient_estimator="dreg"), r"`gradient_estimator` to be one of"),
    (dict(gradient_estimator="doubly_reparameterized"), r"num_importance_samples=1.*KL is analytic"),
])
def test_bad_estimator_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        _vae(**kwargs)
