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
