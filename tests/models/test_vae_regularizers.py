"""InfoVAE (MMD term), β-TCVAE (KL decomposition) and per-dimension KL on `tfvae.VAE`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae
from tfvae.objectives import kl_decomposition, mmd


def _vae(**kwargs):
    kwargs.setdefault("input_shape", (8, 8, 1))
    kwargs.setdefault("latent_dim", 3)
    kwargs.setdefault("encoder", tfvae.nets.MLP([32]))
    kwargs.setdefault("decoder", tfvae.nets.MLP([32]))
    kwargs.setdefault("seed", 0)
    return tfvae.VAE(**kwargs)


@pytest.fixture(scope="module")
def binary():
    return (tfvae.data.load_numpy("digits", split="train") > 0.5).astype("float32")


SEED = tf.constant([3, 8], tf.int64)


def test_infovae_loss_is_the_weighted_elbo_plus_the_mmd_of_its_own_samples(binary):
    """Zhao et al.'s α = 0.5, λ = 3.5: beta = 1 − α = 0.5, mmd_weight = α + λ − 1 = 3."""
    vae = _vae(beta=0.5, mmd_weight=3.0, mmd_kernel="rbf")
    x = tf.constant(binary[:40])
    loss, values = vae.compute_bound(x, SEED, training=False)
    log_px, _, _, kl_dims, (z, _, _) = vae.bound_terms(x, 1, SEED, return_latents=True)
    z_prior = vae.prior.sample(40, tf.random.split(SEED, 2)[1])
    divergence = float(mmd(z[0], z_prior, kernel="rbf"))
    kl = tf.reduce_sum(kl_dims, -1)
    expected = -float(tf.reduce_mean(log_px[0])) + 0.5 * float(tf.reduce_mean(kl)) + 3.0 * divergence
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(values["mmd"], np.full(40, divergence), rtol=1e-5)
    np.testing.assert_allclose(values["elbo"], log_px[0] - kl, rtol=1e-5)   # the reported ELBO is unweighted


def test_infovae_trains_and_pulls_the_aggregate_posterior_to_the_prior(binary):
    """Same data, seeds and steps: with a large MMD weight and no KL term
    (α = 1, λ = 1001) the codes' MMD to the prior ends far below that of the
    same model without the MMD term and without the KL term (α = 1, λ = 0)."""
    probe = tf.random.stateless_normal((512, 3), seed=[1, 1])
    final = {}
    for weight in (0.0, 1000.0):
        keras.utils.set_random_seed(0)
        vae = _vae(beta=0.0, mmd_weight=weight)
        vae.compile(optimizer=keras.optimizers.Adam(3e-3))
        history = vae.fit(binary, batch_size=64, epochs=3, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        assert ("mmd" in history.history) == (weight > 0)
        z = vae.sample_posterior(tf.constant(binary[:512]), 1, tf.constant([2, 2], tf.int64))[0][0]
        final[weight] = float(mmd(z, probe))
    assert final[1000.0] < 0.05 and final[1000.0] < final[0.0] / 5, final


def test_tc_loss_uses_the_decomposition_whose_terms_sum_to_the_monte_carlo_kl(binary):
    vae = _vae(kl_decomposition="tc", tc_weight=6.0, beta=0.8, dataset_size=len(binary))
    x = tf.constant(binary[:50])
    loss, values = vae.compute_bound(x, SEED, training=False)
    log_px, log_pz, log_q, _, (z, loc, scale) = vae.bound_terms(x, 1, SEED, return_latents=True)
    mi, tc, dwkl = kl_decomposition(z[0], loc, scale, log_pz[0], len(binary))
    for name, t in zip(("index_code_mi", "total_correlation", "dimension_wise_kl"), (mi, tc, dwkl)):
        np.testing.assert_allclose(values[name], t, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(values["index_code_mi"] + values["total_correlation"] + values["dimension_wise_kl"],
                               (log_q - log_pz)[0], atol=1e-4)
    expected = -float(tf.reduce_mean(log_px)) + 0.8 * float(tf.reduce_mean(mi) + 6.0 * tf.reduce_mean(tc)
                                                          + tf.reduce_mean(dwkl))
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_total_correlation_falls_as_its_weight_rises(binary):
    """β-TCVAE on the digits (latent 6, 8 epochs, same seeds): the held-out
    total correlation at tc_weight = 20 is under half that at tc_weight = 1
    (seen: 0.03 vs 0.24 nats; at seed 1 0.007 vs 0.075)."""
    tcs = {}
    for weight in (1.0, 20.0):
        keras.utils.set_random_seed(0)
        vae = _vae(latent_dim=6, encoder=tfvae.nets.MLP([64]), decoder=tfvae.nets.MLP([64]),
                   kl_decomposition="tc", tc_weight=weight, dataset_size=1200)
        vae.compile(optimizer=keras.optimizers.Adam(3e-3))
        vae.fit(binary[:1200], batch_size=100, epochs=8, verbose=0)
        tcs[weight] = vae.evaluate(binary[1200:], batch_size=237, return_dict=True, verbose=0)["total_correlation"]
    assert tcs[1.0] > 0.05 and tcs[20.0] < 0.5 * tcs[1.0], tcs


def test_per_dimension_kl_metrics_add_up_and_show_collapse(binary):
    """With 6 latent dimensions on 8x8 digits the KL of every dimension is
    logged; they sum to `kl`, and after training some dimensions carry
    several times the KL of others (the collapse the metrics exist to show)."""
    keras.utils.set_random_seed(0)
    vae = _vae(latent_dim=6, kl_per_dimension=True)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = vae.fit(binary, batch_size=64, epochs=3, verbose=0)
    assert {f"kl_{d}" for d in range(6)} <= set(history.history)
    m = vae.evaluate(binary[:256], batch_size=128, return_dict=True, verbose=0)
    per_dim = np.array([m[f"kl_{d}"] for d in range(6)])
    assert per_dim.sum() == pytest.approx(m["kl"], rel=1e-4)
    assert np.all(per_dim >= 0) and per_dim.max() > 5 * per_dim.min()  # used and collapsed dimensions (seen: 0.42 vs 0.04)


def test_options_round_trip_through_keras(binary, tmp_path):
    vae = _vae(mmd_weight=2.0, mmd_kernel="rbf", mmd_scales=(1.0,), kl_decomposition="tc", tc_weight=3.0,
               dataset_size=1437, tc_estimator="weighted", kl_per_dimension=True)
    vae.compile(optimizer="adam")
    vae.fit(binary[:64], batch_size=32, epochs=1, verbose=0)
    vae.save(tmp_path / "v.keras")
    loaded = keras.models.load_model(tmp_path / "v.keras")
    for key in ("mmd_weight", "mmd_kernel", "mmd_scales", "kl_decomposition", "tc_weight", "dataset_size",
                "tc_estimator", "kl_per_dimension"):
        assert getattr(loaded, key) == getattr(vae, key), key
    a, b = (m.compute_bound(tf.constant(binary[:32]), SEED, training=False)[0] for m in (vae, loaded))
    assert float(a) == float(b)


@pytest.mark.parametrize("kwargs,message", [
    ({"mmd_weight": -1}, r"Expected `mmd_weight` to be a finite non-negative number. Received: mmd_weight=-1"),
    ({"mmd_weight": 1.0, "num_importance_samples": 4}, r"defined for the ELBO"),
    ({"mmd_kernel": "linear"}, r"Expected `mmd_kernel` to be one of"),
    ({"kl_decomposition": "factor"}, r"Expected `kl_decomposition` to be one of \(None, 'tc'\)"),
    ({"kl_decomposition": "tc"}, r"needs the number of training examples. Received: dataset_size=None"),
    ({"kl_decomposition": "tc", "dataset_size": 100, "posterior_flow": tfvae.flows.IAF(num_layers=1)},
     r"needs a diagonal Gaussian posterior"),
    ({"tc_weight": float("nan")}, r"Expected `tc_weight` to be a finite non-negative number"),
    ({"tc_estimator": "mss"}, r"Expected `tc_estimator` to be one of \('stratified', 'weighted'\)"),
    ({"kl_per_dimension": True, "analytic_kl": False}, r"kl_per_dimension=True reports the closed-form KL"),
])
def test_bad_options_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _vae(**kwargs)


def test_conditional_vae_takes_the_options_with_its_condition(binary):
    """The MMD's prior draws come from p(z | c) of each example's condition."""
    labels = tfvae.data.load_numpy("digits", split="train", with_labels=True)[1]
    cvae = tfvae.ConditionalVAE(input_shape=(8, 8, 1), latent_dim=3, num_classes=10, prior="conditional_normal",
                                encoder=tfvae.nets.MLP([32]), decoder=tfvae.nets.MLP([32]), seed=0,
                                mmd_weight=5.0, kl_decomposition="tc", dataset_size=len(binary),
                                kl_per_dimension=True)
    cvae.compile(optimizer="adam")
    history = cvae.fit(binary[:256], labels[:256], batch_size=64, epochs=1, verbose=0)
    assert {"mmd", "total_correlation", "kl_2"} <= set(history.history)
    assert all(np.isfinite(v[-1]) for v in history.history.values())
