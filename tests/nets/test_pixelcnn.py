"""Masked convolutions are causal in raster order; the PixelCNN is a
normalised distribution over code grids and samples reproducibly."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from tfvae.nets import MaskedConv2D, PixelCNN


def _input_dependence(layer, h=4, w=5, c=2):
    """`dep[i, j]`: does output position i (raster order) depend on input j?"""
    x = tf.constant(np.random.default_rng(0).normal(size=(1, h, w, c)).astype("float32"))
    layer(x)
    for v in layer.weights:  # non-zero everywhere, so no dependence hides behind a zero weight
        v.assign(np.random.default_rng(1).normal(size=v.shape).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reshape(layer(x), [h * w, -1])
    jac = tape.jacobian(y, x).numpy()  # (h*w, F, 1, h, w, c)
    return np.abs(jac).sum(axis=(1, 2, 5)).reshape(h * w, h * w) > 0


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_conv_sees_only_the_past(mask_type):
    dep = _input_dependence(MaskedConv2D(3, 5, mask_type))
    n = dep.shape[0]
    future = np.triu(np.ones((n, n), bool), k=1 if mask_type == "B" else 0)
    assert not np.any(dep & future), "an output depends on the present or future"
    assert dep[n - 1, n - 2] and dep[n - 1, 0 + 5 * 2 + 3]  # it does see the past
    assert dep[5, 5] == (mask_type == "B")


def test_pixelcnn_logits_at_i_ignore_codes_at_and_after_i():
    h, w, k = 3, 4, 5
    net = PixelCNN(k, (h, w), filters=8, num_layers=2, first_kernel=3)
    net.build()
    codes = np.random.default_rng(0).integers(0, k, (1, h, w))
    base = net(codes).numpy().reshape(h * w, k)
    for j in range(h * w):
        changed = codes.copy().reshape(-1)
        changed[j] = (changed[j] + 1) % k
        out = net(changed.reshape(1, h, w)).numpy().reshape(h * w, k)
        np.testing.assert_array_equal(out[: j + 1], base[: j + 1], err_msg=f"position {j} leaks")
        if j == 0:  # ... while later positions do see it
            assert not np.allclose(out[1:], base[1:])


def test_pixelcnn_log_prob_is_normalised_over_all_grids():
    net = PixelCNN(3, (2, 2), filters=8, num_layers=1, first_kernel=3)
    net.build()
    for v in net.trainable_weights:
        v.assign(v.numpy() + np.random.default_rng(2).normal(size=v.shape).astype("float32") * 0.5)
    grids = np.array(list(itertools.product(range(3), repeat=4))).reshape(-1, 2, 2)
    total = np.exp(net.log_prob(grids).numpy()).sum()
    assert total == pytest.approx(1.0, abs=1e-5)


def test_pixelcnn_sampling_is_seeded_and_in_range():
    net = PixelCNN(6, (3, 3), filters=8, num_layers=1, first_kernel=3)
    net.build()
    a = net.sample(4, tf.constant([1, 2]))
    assert a.shape == (4, 3, 3) and a.dtype == tf.int32
    assert np.all((a.numpy() >= 0) & (a.numpy() < 6))
    np.testing.assert_array_equal(a, net.sample(4, tf.constant([1, 2])))
    np.testing.assert_array_equal(a, tf.function(net.sample)(4, tf.constant([1, 2])))
    assert not np.array_equal(a, net.sample(4, tf.constant([1, 3])))


def test_bad_arguments():
    with pytest.raises(ValueError, match="kernel_size"):
        MaskedConv2D(4, 4)
    with pytest.raises(ValueError, match="mask_type"):
        MaskedConv2D(4, 3, "C")


# -- conditional PixelCNN (the bottom prior of VQ-VAE-2) -------------------------------------------

def _conditional(k=4, grid=(4, 4), cond=(2, 2, 3), **kwargs):
    net = PixelCNN(k, grid, filters=8, num_layers=2, first_kernel=3, condition_shape=cond, **kwargs)
    net.build()
    rng = np.random.default_rng(5)
    for v in net.weights:  # non-zero everywhere (biases too), so no dependence hides behind a zero weight
        v.assign(rng.normal(size=v.shape).astype("float32") * 0.5)
    return net


def _condition(batch=1, shape=(2, 2, 3), seed=0):
    return tf.constant(np.random.default_rng(seed).normal(size=(batch, *shape)).astype("float32"))


def test_conditional_logits_at_i_depend_only_on_inputs_before_i():
    """Autodiff: d logits_i / d (embedded input)_j = 0 for every j >= i,
    and != 0 for the neighbours on the left and above (it does see the past)."""
    h, w = 4, 4
    net = _conditional(grid=(h, w))
    x = tf.constant(np.random.default_rng(1).normal(size=(1, h, w, 8)).astype("float32"))
    biases = net.condition_biases(_condition())
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reshape(net.logits_from_embedded(x, biases), [h * w, -1])
    jac = tape.jacobian(y, x).numpy()  # (h*w, K, 1, h, w, F)
    dep = np.abs(jac).sum(axis=(1, 2, 5)).reshape(h * w, h * w) > 0
    assert not np.any(dep & np.triu(np.ones((h * w, h * w), bool))), "an output depends on the present or future"
    assert all(dep[i, i - 1] for i in range(1, h * w) if i % w)
    assert all(dep[i, i - w] for i in range(w, h * w))


def test_condition_changes_the_output_everywhere():
    net = _conditional()
    codes = np.random.default_rng(0).integers(0, 4, (1, 4, 4))
    a, b = net(codes, _condition(seed=0)).numpy(), net(codes, _condition(seed=1)).numpy()
    assert np.all(np.abs(a - b).max(axis=-1) > 1e-4), "some position ignores the condition"
    s = _condition()
    with tf.GradientTape() as tape:
        tape.watch(s)
        logits = net(codes, s)[0, 0, 0]  # the first position: it sees no codes, only s
        total = tf.reduce_sum(logits ** 2)
    grad = tape.gradient(total, s)
    assert float(tf.reduce_max(tf.abs(grad))) > 0


def test_zero_conditioning_gives_the_unconditional_network_bit_for_bit():
    """The unconditional path is untouched: with the conditioning layers
    zeroed, a conditional network with the same shared weights gives the
    unconditional one's logits exactly; the unconditional network has no
    extra weights and the same config as before."""
    cond = _conditional()
    plain = PixelCNN(4, (4, 4), filters=8, num_layers=2, first_kernel=3)
    plain.build()
    assert "condition_shape" not in plain.get_config()
    assert [v.path.split("/", 1)[1] for v in plain.weights] == [
        v.path.split("/", 1)[1] for v in cond.weights if "condition_" not in v.path]
    for v in plain.weights:
        v.assign(next(c for c in cond.weights if c.path.split("/", 1)[1] == v.path.split("/", 1)[1]))
    for v in cond.condition_proj.weights:
        v.assign(tf.zeros_like(v))
    codes = np.random.default_rng(0).integers(0, 4, (3, 4, 4))
    np.testing.assert_array_equal(plain(codes).numpy(), cond(codes, _condition(3)).numpy())


def test_conditional_log_prob_is_normalised_for_each_condition():
    net = _conditional(k=3, grid=(2, 2), cond=(1, 1, 2))
    grids = np.array(list(itertools.product(range(3), repeat=4))).reshape(-1, 2, 2)
    for seed in (0, 1):
        s = tf.repeat(_condition(1, (1, 1, 2), seed), len(grids), axis=0)
        assert np.exp(net.log_prob(grids, s).numpy()).sum() == pytest.approx(1.0, abs=1e-5)


def test_conditional_sampling_is_seeded_and_follows_the_condition():
    net = _conditional(k=6)
    s = _condition(4)
    a = net.sample(4, tf.constant([1, 2]), condition=s)
    assert a.shape == (4, 4, 4) and a.dtype == tf.int32
    np.testing.assert_array_equal(a, net.sample(4, tf.constant([1, 2]), condition=s))
    np.testing.assert_array_equal(a, tf.function(net.sample)(4, tf.constant([1, 2]), condition=s))
    assert not np.array_equal(a, net.sample(4, tf.constant([1, 2]), condition=_condition(4, seed=9)))


def test_conditional_config_round_trip_and_errors():
    net = _conditional()
    clone = PixelCNN.from_config(net.get_config())
    assert clone.condition_shape == (2, 2, 3) and clone.get_config() == net.get_config()
    with pytest.raises(ValueError, match="pass `condition`"):
        net(np.zeros((1, 4, 4), "int32"))
    plain = PixelCNN(4, (4, 4), filters=8, num_layers=1)
    plain.build()
    with pytest.raises(ValueError, match="unconditional"):
        plain(np.zeros((1, 4, 4), "int32"), _condition())
    for bad in [(3, 2, 1), (2, 2), (2, 2, 0), "abc"]:
        with pytest.raises(ValueError, match="condition_shape"):
            PixelCNN(4, (4, 4), condition_shape=bad)
