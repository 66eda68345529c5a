"""SavedModel of a VQVAE2: the signatures reload with `tf.saved_model.load`
and give the Keras model's numbers at two batch sizes; bad requests are
rejected in-graph; the sample cap holds."""

import numpy as np
import pytest
import tensorflow as tf

import tfvae


def _binary(b, seed):
    return (np.random.default_rng(seed).random((b, 8, 8, 1)) > 0.5).astype("float32")


def _perturb(layer, seed):
    rng = np.random.default_rng(seed)
    for w in layer.trainable_weights:
        w.assign(w.numpy() + 0.3 * rng.standard_normal(w.shape).astype("float32"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    vq = tfvae.VQVAE2(input_shape=(8, 8, 1), num_embeddings=8, embedding_dim=4, filters=8, num_residual_blocks=1,
                      top_prior=tfvae.nets.PixelCNN(8, (2, 2), filters=8, num_layers=1, first_kernel=3),
                      bottom_prior=tfvae.nets.PixelCNN(8, (4, 4), filters=8, num_layers=1, first_kernel=3,
                                                       condition_shape=(2, 2, 8)), seed=0)
    _perturb(vq, 1)
    for i, prior in enumerate((vq.top_prior, vq.bottom_prior)):
        prior.trainable = True
        _perturb(prior, 2 + i)  # "trained" priors: random but not uniform
        prior.trainable = False
    vq.prior_trained.assign(1.0)
    path = tfvae.export.export_saved_model(vq, tmp_path_factory.mktemp("vqvae2") / "1", max_num_samples=16)
    return vq, path, tf.saved_model.load(path)


def test_reload_matches_the_keras_model_at_two_batch_sizes(exported):
    vq, _, loaded = exported
    sig = loaded.signatures
    assert sorted(sig) == ["decode", "elbo", "encode", "sample", "serving_default"]
    close = dict(rtol=1e-5, atol=1e-5)
    for b in (1, 5):
        x = _binary(b, b)
        codes = sig["encode"](x=tf.constant(x))
        top, bottom = vq.encode(x)
        np.testing.assert_array_equal(codes["top_codes"], top)
        np.testing.assert_array_equal(codes["bottom_codes"], bottom)
        np.testing.assert_allclose(sig["decode"](top_codes=top, bottom_codes=bottom)["x_mean"],
                                   vq.decode(top, bottom), **close)
        np.testing.assert_allclose(sig["serving_default"](x=tf.constant(x))["reconstruction"], vq.reconstruct(x),
                                   **close)
        s = sig["sample"](num_samples=tf.constant(b), seed=tf.constant(3, tf.int64))
        t, u = vq.sample_codes(b, seed=3)
        np.testing.assert_array_equal(s["top_codes"], t)
        np.testing.assert_array_equal(s["bottom_codes"], u)
        np.testing.assert_allclose(s["samples"], vq.sample(b, seed=3), **close)
        bound = sig["elbo"](x=tf.constant(x))
        _, values, _ = vq.compute_terms(tf.constant(x))
        for key in ("elbo", "reconstruction", "kl", "kl_top", "kl_bottom"):
            np.testing.assert_allclose(bound[key], values[key], **close)
        np.testing.assert_allclose(bound["elbo"], vq.log_likelihood_bound(x), **close)
    # The learned priors are in use: the kl is not the uniform prior's constant.
    assert not np.allclose(bound["kl"], 20 * np.log(8))


def test_bad_requests_are_rejected_in_graph(exported):
    sig = exported[2].signatures
    top, bottom = tf.zeros([2, 2, 2], tf.int32), tf.zeros([2, 4, 4], tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"`bottom_codes` has values outside \[0, 8\)"):
        sig["decode"](top_codes=top, bottom_codes=tf.fill([2, 4, 4], 8))
    with pytest.raises(tf.errors.InvalidArgumentError, match="one row of `bottom_codes` per example"):
        sig["decode"](top_codes=top, bottom_codes=bottom[:1])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"top_codes \[2,4,4\] is not compatible"):
        sig["decode"](top_codes=bottom, bottom_codes=bottom)
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN"):
        sig["encode"](x=tf.fill([1, 8, 8, 1], float("nan")))
    with pytest.raises(tf.errors.InvalidArgumentError, match="support of the Bernoulli"):
        sig["elbo"](x=tf.fill([1, 8, 8, 1], 0.5))
    with pytest.raises(tf.errors.InvalidArgumentError, match="at most 16"):
        sig["sample"](num_samples=tf.constant(17), seed=tf.constant(0, tf.int64))


def test_sample_signature_refuses_untrained_priors(exported):
    vq = exported[0]
    sample = tf.function(tfvae.export.signatures_for(vq)["sample"].fn, autograph=False)
    vq.prior_trained.assign(0.0)
    try:
        with pytest.raises(tf.errors.InvalidArgumentError, match="fit_prior"):
            sample(tf.constant(2), tf.constant(0, tf.int64))
    finally:
        vq.prior_trained.assign(1.0)
