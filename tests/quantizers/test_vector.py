"""VectorQuantizer: nearest codes, straight-through gradients, EMA update,
dead-code restart, codebook statistics."""

import numpy as np
import pytest
import tensorflow as tf

import tfvae
from tfvae.quantizers import VectorQuantizer
from tfvae.quantizers.metrics import CodebookPerplexity, CodebookUsage


def _quantizer(codebook, **kwargs):
    kwargs.setdefault("dead_code_threshold", 0.0)
    vq = VectorQuantizer(len(codebook), codebook.shape[1], **kwargs)
    vq.build()
    vq.codebook.assign(codebook)
    vq.embed_sum.assign(codebook)
    return vq


def test_codes_are_the_nearest_code_vectors():
    rng = np.random.default_rng(0)
    codebook = rng.normal(size=(7, 3)).astype("float32")
    z = rng.normal(size=(4, 5, 5, 3)).astype("float32")
    out = _quantizer(codebook)(z)
    expected = np.argmin(((z[..., None, :] - codebook) ** 2).sum(-1), axis=-1)
    np.testing.assert_array_equal(out["codes"], expected)
    assert out["codes"].dtype == tf.int32 and out["codes"].shape == (4, 5, 5)
    np.testing.assert_allclose(out["quantized"], codebook[expected], atol=1e-6)
    sq = ((z - codebook[expected]) ** 2).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(out["commitment"], sq, rtol=1e-5)
    np.testing.assert_allclose(out["codebook"], sq, rtol=1e-5)


def test_straight_through_gradient_is_the_identity():
    codebook = np.eye(3, dtype="float32")
    vq = _quantizer(codebook, ema_decay=None)
    z = tf.constant([[[0.9, 0.2, 0.0]], [[0.1, 0.0, 1.2]]])
    w = tf.constant([[1.0, -2.0, 3.0]])
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = tf.reduce_sum(vq(z)["quantized"] * w)
    np.testing.assert_allclose(tape.gradient(loss, z), np.broadcast_to(w, (2, 1, 3)))


def test_codebook_loss_trains_the_codebook_only_without_ema():
    codebook = np.eye(3, dtype="float32")
    z = tf.constant([[0.5, 0.1, 0.0]])
    vq = _quantizer(codebook, ema_decay=None)
    assert vq.codebook.trainable
    with tf.GradientTape() as tape:
        out = vq(z)
    grad = tf.convert_to_tensor(tape.gradient(out["codebook"], vq.codebook)).numpy()
    np.testing.assert_allclose(grad[0], 2 * (codebook[0] - z.numpy()[0]), rtol=1e-6)
    np.testing.assert_array_equal(grad[1:], 0.0)
    assert not _quantizer(codebook, ema_decay=0.9).codebook.trainable


def test_ema_update_matches_the_formula_on_a_hand_made_case():
    codebook = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]], "float32")
    gamma, eps = 0.5, 0.1
    vq = _quantizer(codebook, ema_decay=gamma, epsilon=eps)
    z = np.array([[0.1, -0.1], [0.3, 0.1], [0.9, 1.2]], "float32")  # codes 0, 0, 1; code 2 unused
    vq(z, training=True)
    n = gamma * np.ones(3) + (1 - gamma) * np.array([2.0, 1.0, 0.0])       # [1.5, 1.0, 0.5]
    m = gamma * codebook + (1 - gamma) * np.array([[0.4, 0.0], [0.9, 1.2], [0.0, 0.0]])
    smoothed = (n + eps) / (n.sum() + 3 * eps) * n.sum()
    np.testing.assert_allclose(vq.cluster_size.numpy(), n, rtol=1e-6)
    np.testing.assert_allclose(vq.embed_sum.numpy(), m, rtol=1e-6)
    np.testing.assert_allclose(vq.codebook.numpy(), m / smoothed[:, None], rtol=1e-6)
    # Not in inference: the state is left alone.
    before = [w.numpy().copy() for w in vq.weights]
    vq(z, training=False)
    for a, b in zip(before, vq.weights):
        np.testing.assert_array_equal(a, b.numpy())


def test_dead_code_restart_moves_a_dead_code_onto_an_encoder_output():
    codebook = np.array([[0.0, 0.0], [1.0, 1.0], [50.0, 50.0]], "float32")
    vq = _quantizer(codebook, ema_decay=0.9, dead_code_threshold=1.0, seed=3)
    z = np.array([[0.1, 0.0], [0.9, 1.0], [0.0, 0.2], [1.1, 1.0]], "float32")
    vq(z, training=True)
    new = vq.codebook.numpy()
    # Code 2 was never used: it now sits on one of the batch's vectors and
    # its usage is reset to 1; codes 0 and 1 (used twice) are not restarted.
    assert np.any(np.all(np.isclose(new[2], z), axis=1)), new[2]
    assert vq.cluster_size.numpy()[2] == pytest.approx(1.0)
    assert np.all(np.linalg.norm(new[:2] - codebook[:2], axis=1) < 0.2)
    np.testing.assert_allclose(vq.embed_sum.numpy()[2], new[2])


@pytest.mark.parametrize("k", [4, 16])
def test_perplexity_is_k_for_a_uniform_assignment_and_1_for_a_single_code(k):
    codebook = np.eye(k, dtype="float32") * 3
    vq = _quantizer(codebook)
    uniform = vq(np.tile(codebook, (2, 1))[None])
    assert float(uniform["perplexity"]) == pytest.approx(k, rel=1e-5)
    assert float(uniform["usage"]) == 1.0
    single = vq(np.tile(codebook[:1], (5, 1))[None])
    assert float(single["perplexity"]) == pytest.approx(1.0)
    assert float(single["usage"]) == pytest.approx(1 / k)
    # The epoch-level metrics agree with the batch formula.
    perplexity, usage = CodebookPerplexity(k), CodebookUsage(k)
    for m in (perplexity, usage):
        m.update_state(vq.counts(uniform["codes"]))
    assert float(perplexity.result()) == pytest.approx(k, rel=1e-5) and float(usage.result()) == 1.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_embeddings=1, embedding_dim=2), "num_embeddings"),
    (dict(num_embeddings=4, embedding_dim=0), "embedding_dim"),
    (dict(num_embeddings=4, embedding_dim=2, ema_decay=1.0), "ema_decay"),
    (dict(num_embeddings=4, embedding_dim=2, dead_code_threshold=-1), "dead_code_threshold"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VectorQuantizer(**kwargs)


def test_config_round_trip():
    vq = VectorQuantizer(8, 4, ema_decay=None, dead_code_threshold=0.5, seed=1)
    assert VectorQuantizer.from_config(vq.get_config()).get_config() == vq.get_config()
    assert tfvae.quantizers.VectorQuantizer is VectorQuantizer
