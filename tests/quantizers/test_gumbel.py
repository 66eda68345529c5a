"""Gumbel-softmax relaxation: the KL to the uniform prior, the samples, and
the temperature schedule."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfvae.quantizers import GumbelSoftmax, gumbel_softmax_sample, kl_to_uniform
from tfvae.training import GumbelTemperature


def test_kl_to_uniform_matches_the_closed_form():
    logits = np.random.default_rng(0).normal(size=(3, 4, 6)).astype("float32") * 2
    q = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    expected = (q * np.log(q * 6)).sum(-1)  # KL(q || U) = Σ q log(q / (1/K))
    np.testing.assert_allclose(kl_to_uniform(logits), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kl_to_uniform(np.zeros((2, 5), "float32")), 0.0, atol=1e-6)
    near_one_hot = np.array([[50.0, 0.0, 0.0, 0.0]], "float32")
    np.testing.assert_allclose(kl_to_uniform(near_one_hot), math.log(4), rtol=1e-5)


def test_hard_samples_are_one_hot_categorical_draws_with_soft_gradients():
    logits = tf.constant([[1.0, 0.0, -1.0, 0.5]])
    batch = tf.tile(logits, [20000, 1])
    y = gumbel_softmax_sample(batch, 0.5, tf.constant([1, 2]), hard=True).numpy()
    assert set(np.unique(y)) == {0.0, 1.0} and np.all(y.sum(-1) == 1)
    # Gumbel-max: the one-hot frequencies are softmax(logits) (4σ binomial band).
    p = tf.nn.softmax(logits)[0].numpy()
    np.testing.assert_allclose(y.mean(0), p, atol=4 * np.sqrt(p * (1 - p) / 20000).max())
    with tf.GradientTape() as tape:
        tape.watch(logits)
        out = gumbel_softmax_sample(logits, 0.5, tf.constant([1, 2]), hard=True)
        loss = tf.reduce_sum(out * tf.constant([[1.0, 2.0, 3.0, 4.0]]))
    assert np.any(tape.gradient(loss, logits).numpy() != 0)


def test_soft_samples_lie_on_the_simplex_and_sharpen_as_temperature_falls():
    logits = tf.zeros((500, 5))
    seed = tf.constant([3, 4])
    hot = gumbel_softmax_sample(logits, 5.0, seed).numpy()
    cold = gumbel_softmax_sample(logits, 0.1, seed).numpy()
    np.testing.assert_allclose(hot.sum(-1), 1.0, rtol=1e-5)
    assert cold.max(-1).mean() > 0.9 > hot.max(-1).mean()


def test_layer_sums_the_kl_over_latents():
    layer = GumbelSoftmax(num_latents=3, num_categories=4)
    layer.build((None, 6))
    out = layer(tf.ones((2, 6)), temperature=1.0, seed=tf.constant([0, 1]))
    assert out["sample"].shape == (2, 3, 4) and out["logits"].shape == (2, 3, 4)
    np.testing.assert_allclose(out["kl"], kl_to_uniform(out["logits"]).numpy().sum(-1), rtol=1e-6)
    with pytest.raises(ValueError, match="num_categories"):
        GumbelSoftmax(3, 1)


class _Holder:
    temperature = 2.0

    def __init__(self):
        self.temperature_weight = tf.Variable(0.0)


def test_temperature_schedule_follows_its_formula():
    cb = GumbelTemperature(minimum=0.5, rate=0.1)
    cb.set_model(_Holder())
    cb.on_train_begin()
    seen = []
    for batch in range(30):
        cb.on_train_batch_begin(batch)
        seen.append(float(cb.model.temperature_weight.numpy()))
    expected = [max(0.5, 2.0 * math.exp(-0.1 * t)) for t in range(30)]
    np.testing.assert_allclose(seen, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="minimum"):
        GumbelTemperature(minimum=0.0)
