"""WAE-MMD: the objective, training, saving, export and argument checks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae


def _wae(**kwargs):
    kwargs.setdefault("input_shape", (8, 8, 1))
    kwargs.setdefault("latent_dim", 2)
    kwargs.setdefault("encoder", tfvae.nets.MLP([32]))
    kwargs.setdefault("decoder", tfvae.nets.MLP([32]))
    kwargs.setdefault("seed", 0)
    return tfvae.WAE(**kwargs)


@pytest.fixture(scope="module")
def binary():
    return (tfvae.data.load_numpy("digits", split="train") > 0.5).astype("float32")


def test_loss_is_reconstruction_cost_plus_weighted_mmd_of_codes_against_prior(binary):
    """The loss is rebuilt from public pieces: −mean log p(x | f(x)) + λ MMD²_u
    between the codes and prior draws made with the same seeds."""
    wae = _wae(mmd_weight=7.0, kernel="rbf", scales=(0.5, 1.0))
    x = tf.constant(binary[:32])
    seed = tf.constant([4, 5], tf.int64)
    loss, values = wae.compute_loss_terms(x, seed)
    z = wae.encode(x)
    log_px = wae.likelihood.log_prob(x, wae.decoder_params(z))
    z_prior = wae.prior.sample(32, tf.random.split(seed, 2)[1])
    expected_mmd = tfvae.objectives.mmd(z, z_prior, kernel="rbf", scales=(0.5, 1.0))
    np.testing.assert_allclose(values["reconstruction"], log_px, rtol=1e-6)
    assert float(values["mmd"]) == pytest.approx(float(expected_mmd), rel=1e-5)
    assert float(loss) == pytest.approx(-float(tf.reduce_mean(log_px)) + 7.0 * float(expected_mmd), rel=1e-5)


@pytest.mark.parametrize("posterior", ["deterministic", "gaussian"])
def test_training_matches_codes_to_the_prior_and_lowers_the_loss(binary, posterior):
    """The MMD between codes z ~ Q(z|x) of the data and prior draws falls
    with training (for a Gaussian encoder the sampled codes, not the means:
    the aggregate posterior is the mixture)."""
    keras.utils.set_random_seed(0)
    wae = _wae(posterior=posterior, mmd_weight=100.0)
    wae.compile(optimizer=keras.optimizers.Adam(3e-3))
    probe = tf.random.stateless_normal((512, 2), seed=[9, 9])
    codes = lambda: wae.sample_latent(tf.constant(binary[:512]), tf.constant([1, 1], tf.int64))
    before = float(tfvae.objectives.mmd(codes(), probe))
    history = wae.fit(binary, batch_size=64, epochs=4, verbose=0)
    after = float(tfvae.objectives.mmd(codes(), probe))
    assert set(history.history) == {"loss", "reconstruction", "mmd"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert after < before and after < 0.05, (before, after)
    m = wae.evaluate(binary[:256], batch_size=128, return_dict=True, verbose=0)
    assert np.isfinite(m["loss"]) and m["reconstruction"] < 0


def test_keras_round_trip_and_reproducible_samples(binary, tmp_path):
    wae = _wae(posterior="gaussian", kernel="rbf", likelihood=tfvae.likelihoods.Gaussian(scale=0.3))
    wae.compile(optimizer="adam")
    wae.fit(binary[:128], batch_size=64, epochs=1, verbose=0)
    wae.save(tmp_path / "wae.keras")
    loaded = keras.models.load_model(tmp_path / "wae.keras")
    assert isinstance(loaded, tfvae.WAE) and loaded.kernel == "rbf" and loaded.posterior_type == "gaussian"
    for n in (1, 6):
        np.testing.assert_array_equal(loaded.encode(binary[:n]), wae.encode(binary[:n]))
        np.testing.assert_array_equal(loaded.reconstruct(binary[:n]), wae.reconstruct(binary[:n]))
    np.testing.assert_array_equal(loaded.sample(5, seed=3), wae.sample(5, seed=3))
    assert not np.array_equal(wae.sample(5, seed=3), wae.sample(5, seed=4))
    assert wae.sample(3, seed=0, mean=False).shape == (3, 8, 8, 1)
    loaded.fit(binary[:64], batch_size=32, epochs=1, verbose=0)


def test_saved_model_signatures_match_the_keras_model(binary, tmp_path):
    wae = _wae(posterior="gaussian")
    path = tfvae.export.export_saved_model(wae, tmp_path / "wae" / "1")
    served = tf.saved_model.load(path)
    assert set(served.signatures) == {"serving_default", "encode", "decode", "sample"}
    for n in (1, 5):
        x = tf.constant(binary[:n])
        np.testing.assert_allclose(served.signatures["serving_default"](x=x)["reconstruction"],
                                   wae.reconstruct(x), atol=1e-6)
        out = served.signatures["encode"](x=x, seed=tf.constant(2, tf.int64))
        np.testing.assert_allclose(out["mean"], wae.encode(x), atol=1e-6)
        assert out["z"].shape == (n, 2) and not np.allclose(out["z"], out["mean"])
        np.testing.assert_allclose(served.signatures["decode"](z=out["mean"])["x_mean"], wae.decode(out["mean"]),
                                   atol=1e-6)
    s = served.signatures["sample"](num_samples=tf.constant(4), seed=tf.constant(7, tf.int64),
                                    temperature=tf.constant(0.5))["samples"]
    np.testing.assert_allclose(s, wae.sample(4, seed=7, temperature=0.5), atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN"):
        served.signatures["serving_default"](x=tf.fill((1, 8, 8, 1), np.nan))


@pytest.mark.parametrize("kwargs,message", [
    ({"mmd_weight": -1}, r"Expected `mmd_weight` to be a finite non-negative number. Received: mmd_weight=-1"),
    ({"mmd_weight": float("inf")}, r"Received: mmd_weight=inf"),
    ({"kernel": "laplace"}, r"Expected `kernel` to be one of \('imq', 'rbf'\)"),
    ({"scales": ()}, r"Expected `scales`"),
    ({"posterior": "flow"}, r"Expected `posterior` to be one of \('deterministic', 'gaussian'\)"),
    ({"latent_dim": 0}, r"Expected `latent_dim` to be a positive integer"),
])
def test_bad_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _wae(**kwargs)


def test_bad_inputs_are_caught_before_training(binary):
    wae = _wae()
    wae.compile(optimizer="adam")
    with pytest.raises(ValueError, match=r"outside the support of the Bernoulli"):
        wae.fit(binary[:8] * 0.5 + 0.2, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"`z` of shape \(batch, 2\)"):
        wae.decode(np.zeros((2, 3), "float32"))
