"""GumbelVAE: training with temperature annealing, the exact KL, codes and reload."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae


def _tiny(**kwargs):
    kwargs.setdefault("input_shape", (8, 8, 1))
    kwargs.setdefault("num_latents", 6)
    kwargs.setdefault("num_categories", 5)
    kwargs.setdefault("encoder", tfvae.nets.MLP([32]))
    kwargs.setdefault("decoder", tfvae.nets.MLP([32]))
    kwargs.setdefault("seed", 0)
    return tfvae.GumbelVAE(**kwargs)


def test_training_with_annealing_lowers_the_loss_and_reports_an_honest_elbo():
    keras.utils.set_random_seed(0)
    train = tfvae.data.load("digits", split="train", batch_size=64, binarize=True)
    test = tfvae.data.load("digits", split="test", batch_size=128, binarize=True)
    model = _tiny(temperature=1.0, hard=False)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = model.evaluate(test, return_dict=True, verbose=0)
    schedule = tfvae.callbacks.GumbelTemperature(minimum=0.5, rate=0.02)
    model.fit(train, epochs=3, verbose=0, callbacks=[schedule])
    after = model.evaluate(test, return_dict=True, verbose=0)
    assert after["loss"] < before["loss"] - 5.0, (before, after)
    assert after["elbo"] == pytest.approx(after["reconstruction"] - after["kl"], abs=1e-3)
    assert 0.0 <= after["kl"] <= 6 * math.log(5) + 1e-4
    steps = 3 * 23  # 1437 training digits in batches of 64
    assert float(model.temperature_weight.numpy()) == pytest.approx(max(0.5, math.exp(-0.02 * (steps - 1))))


def test_kl_is_the_closed_form_of_the_encoder_logits():
    model = _tiny()
    x = (np.random.default_rng(0).random((4, 8, 8, 1)) > 0.5).astype("float32")
    _, values = model.compute_terms(tf.constant(x), tf.constant([0, 1]), training=False)
    q = tf.nn.softmax(model.logits(x)).numpy()
    np.testing.assert_allclose(values["kl"], (q * np.log(q * 5)).sum(axis=(1, 2)), rtol=1e-4, atol=1e-5)


def test_codes_decode_and_sample():
    model = _tiny()
    x = (np.random.default_rng(0).random((3, 8, 8, 1)) > 0.5).astype("float32")
    codes = model.encode(x)
    assert codes.shape == (3, 6) and codes.dtype == tf.int32
    np.testing.assert_allclose(model.decode(codes), model.reconstruct(x), atol=1e-6)
    np.testing.assert_array_equal(model.sample(4, seed=2), model.sample(4, seed=2))
    with pytest.raises(ValueError, match=r"outside \[0, 5\)"):
        model.decode(np.full((1, 6), 5))
    with pytest.raises(ValueError, match="num_categories"):
        _tiny(num_categories=1)
    with pytest.raises(ValueError, match="temperature"):
        _tiny(temperature=0.0)


def test_keras_round_trip(tmp_path):
    model = _tiny(hard=True, temperature=0.7)
    model.temperature_weight.assign(0.6)
    path = tmp_path / "gumbel.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert float(loaded.temperature_weight.numpy()) == pytest.approx(0.6)
    for b in (1, 5):
        x = (np.random.default_rng(b).random((b, 8, 8, 1)) > 0.5).astype("float32")
        np.testing.assert_array_equal(model(x), loaded(x))
        np.testing.assert_array_equal(model.encode(x), loaded.encode(x))
