"""VQVAE: training on digits, codes, the ELBO accounting, the learned
prior, input checks and `.keras` reload."""

import math
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae


def _tiny(**kwargs):
    kwargs.setdefault("input_shape", (8, 8, 1))
    kwargs.setdefault("num_embeddings", 16)
    kwargs.setdefault("embedding_dim", 4)
    kwargs.setdefault("encoder", tfvae.nets.ResidualConvEncoder((16,), num_residual_blocks=1))
    kwargs.setdefault("decoder", tfvae.nets.ResidualConvDecoder((16,), num_residual_blocks=1))
    kwargs.setdefault("prior", tfvae.nets.PixelCNN(kwargs["num_embeddings"], (4, 4), filters=8, num_layers=1,
                                                   first_kernel=3))
    kwargs.setdefault("seed", 0)
    return tfvae.VQVAE(**kwargs)


def _binary(n, seed=0):
    return (np.random.default_rng(seed).random((n, 8, 8, 1)) > 0.5).astype("float32")


@pytest.fixture(scope="module")
def trained():
    """A VQ-VAE trained a few epochs on binarised digits, its prior fitted."""
    keras.utils.set_random_seed(0)
    train = tfvae.data.load("digits", split="train", batch_size=64, binarize=True)
    test = tfvae.data.load("digits", split="test", batch_size=128, binarize=True)
    vq = tfvae.VQVAE(input_shape=(8, 8, 1), num_embeddings=32, embedding_dim=8,
                     encoder=tfvae.nets.ResidualConvEncoder((32,), num_residual_blocks=1),
                     decoder=tfvae.nets.ResidualConvDecoder((32,), num_residual_blocks=1),
                     prior=tfvae.nets.PixelCNN(32, (4, 4), filters=32, num_layers=2), seed=0)
    vq.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = vq.evaluate(test, return_dict=True, verbose=0)
    history = vq.fit(train, epochs=2, verbose=0)
    after = vq.evaluate(test, return_dict=True, verbose=0)
    prior_history = vq.fit_prior(train, epochs=2, verbose=0)
    with_prior = vq.evaluate(test, return_dict=True, verbose=0)
    return vq, before, after, with_prior, history, prior_history


def test_training_lowers_the_loss_and_uses_many_codes(trained):
    vq, before, after, _, history, _ = trained
    assert set(after) >= {"loss", "elbo", "reconstruction", "kl", "commitment", "perplexity", "usage"}
    assert after["loss"] < before["loss"] - 10.0, (before, after)
    assert history.history["loss"][-1] < history.history["loss"][0]
    # No collapse onto a few codes: restarts keep the codebook in use.
    assert after["perplexity"] > 8.0 and after["usage"] > 0.5, after


def test_elbo_accounts_for_log_k_under_the_uniform_prior(trained):
    vq, _, after, _, _, _ = trained
    assert after["kl"] == pytest.approx(16 * math.log(32), rel=1e-5)
    assert after["elbo"] == pytest.approx(after["reconstruction"] - after["kl"], abs=1e-3)


def test_fitted_prior_tightens_the_elbo(trained):
    vq, _, after, with_prior, _, prior_history = trained
    assert prior_history.history["loss"][-1] < 16 * math.log(32)
    assert with_prior["kl"] < after["kl"] - 5.0, (after, with_prior)
    assert with_prior["elbo"] > after["elbo"]
    assert with_prior["reconstruction"] == pytest.approx(after["reconstruction"], rel=1e-5)


def test_encode_decode_and_sample(trained):
    vq = trained[0]
    x = tfvae.data.load_numpy("digits", split="test")[:6]
    codes = vq.encode(x)
    assert codes.shape == (6, 4, 4) and codes.dtype == tf.int32
    np.testing.assert_allclose(vq.decode(codes), vq.reconstruct(x), atol=1e-6)
    samples = vq.sample(5, seed=1)
    assert samples.shape == (5, 8, 8, 1)
    assert np.all((samples.numpy() >= 0) & (samples.numpy() <= 1))
    np.testing.assert_array_equal(samples, vq.sample(5, seed=1))
    assert not np.array_equal(samples, vq.sample(5, seed=2))


def test_straight_through_gradient_reaches_the_encoder():
    vq = _tiny(ema_decay=0.99)
    x = tf.constant(_binary(8))
    with tf.GradientTape() as tape:
        q = vq.quantizer_outputs(x, training=False)
        reconstruction = tf.reduce_mean(vq.likelihood.log_prob(x, vq.decoder_params(q["quantized"])))
    weights = vq.encoder.trainable_weights + vq.pre_quantizer.trainable_weights
    grads = tape.gradient(reconstruction, weights)
    for w, g in zip(weights, grads):
        assert g is not None and np.any(np.asarray(g) != 0), w.path


def test_sample_before_fit_prior_is_a_clear_error():
    with pytest.raises(ValueError, match="fit_prior"):
        _tiny().sample(2, seed=0)


def test_bad_inputs_are_rejected():
    vq = _tiny()
    with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\)"):
        vq.encode(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="NaN"):
        vq.encode(np.full((2, 8, 8, 1), np.nan, "float32"))
    with pytest.raises(ValueError, match=r"outside \[0, 16\)"):
        vq.decode(np.full((2, 4, 4), 16))
    with pytest.raises(ValueError, match=r"outside \[0, 16\)"):
        vq.decode(np.full((2, 4, 4), -1))
    with pytest.raises(ValueError, match="integers"):
        vq.decode(np.zeros((2, 4, 4), "float32"))
    with pytest.raises(ValueError, match=r"shape \(batch, 4, 4\)"):
        vq.decode(np.zeros((2, 16), "int32"))
    vq.compile(optimizer="adam")
    with pytest.raises(ValueError, match="support of the Bernoulli"):
        vq.fit(np.full((4, 8, 8, 1), 0.5, "float32"), epochs=1, verbose=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_embeddings=1), "num_embeddings"),
    (dict(embedding_dim=0), "embedding_dim"),
    (dict(commitment_cost=-1.0), "commitment_cost"),
    (dict(ema_decay=1.5), "ema_decay"),
    (dict(input_shape=(64,)), "input_shape"),
    (dict(encoder=tfvae.nets.MLP([8])), "spatial"),
    (dict(prior=tfvae.nets.PixelCNN(8, (4, 4))), "prior"),
])
def test_bad_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _tiny(**kwargs)


@pytest.mark.parametrize("shape, grid", [((28, 28, 1), (7, 7)), ((32, 32, 3), (8, 8)), ((8, 8, 1), (4, 4))])
def test_default_nets_fit_the_common_image_sizes(shape, grid):
    vq = tfvae.VQVAE(input_shape=shape, num_embeddings=8, embedding_dim=4, likelihood="gaussian")
    assert vq.grid_shape == grid
    x = np.random.default_rng(0).random((2, *shape)).astype("float32")
    assert vq.encode(x).shape == (2, *grid) and vq(x).shape == (2, *shape)


def test_keras_round_trip_keeps_codebook_ema_state_and_prior(tmp_path, trained):
    vq, x = trained[0], _binary(5)
    path = tmp_path / "vq.keras"
    vq.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Skipping variable loading for optimizer"
        loaded = keras.models.load_model(path)
    for a, b in zip(vq.weights, loaded.weights):
        assert a.path == b.path
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    for b in (1, 5):
        np.testing.assert_array_equal(vq.encode(x[:b]), loaded.encode(x[:b]))
        np.testing.assert_array_equal(vq(x[:b]), loaded(x[:b]))
    np.testing.assert_array_equal(vq.sample(3, seed=4), loaded.sample(3, seed=4))
    assert float(loaded.prior_trained.numpy()) == 1.0
