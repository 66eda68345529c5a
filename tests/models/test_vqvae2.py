"""VQVAE2: two-level training on digits, the conditioning of the bottom
codes on the top, the bound's accounting with uniform and fitted priors,
sampling, input and configuration checks, and `.keras` reload."""

import inspect
import math
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae

K = 16


def _priors(k=K, top=(2, 2), bottom=(4, 4)):
    return dict(top_prior=tfvae.nets.PixelCNN(k, top, filters=8, num_layers=1, first_kernel=3),
                bottom_prior=tfvae.nets.PixelCNN(k, bottom, filters=8, num_layers=1, first_kernel=3,
                                                 condition_shape=top + (k,)))


def _tiny(**kwargs):
    kwargs.setdefault("input_shape", (8, 8, 1))
    kwargs.setdefault("num_embeddings", K)
    kwargs.setdefault("embedding_dim", 4)
    kwargs.setdefault("filters", 8)
    kwargs.setdefault("num_residual_blocks", 1)
    for key, value in _priors(kwargs["num_embeddings"]).items():
        kwargs.setdefault(key, value)
    kwargs.setdefault("seed", 0)
    return tfvae.VQVAE2(**kwargs)


def _binary(n, seed=0):
    return (np.random.default_rng(seed).random((n, 8, 8, 1)) > 0.5).astype("float32")


@pytest.fixture(scope="module")
def trained():
    """A VQ-VAE-2 trained a few epochs on binarised digits, its priors fitted."""
    keras.utils.set_random_seed(0)
    train = tfvae.data.load("digits", split="train", batch_size=64, binarize=True)
    test = tfvae.data.load("digits", split="test", batch_size=256, binarize=True)
    vq = tfvae.VQVAE2(input_shape=(8, 8, 1), num_embeddings=32, embedding_dim=8, filters=32, num_residual_blocks=1,
                      seed=0, top_prior=tfvae.nets.PixelCNN(32, (2, 2), filters=16, num_layers=1, first_kernel=3),
                      bottom_prior=tfvae.nets.PixelCNN(32, (4, 4), filters=32, num_layers=2,
                                                       condition_shape=(2, 2, 32)))
    vq.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = vq.evaluate(test, return_dict=True, verbose=0)
    history = vq.fit(train, epochs=2, verbose=0)
    after = vq.evaluate(test, return_dict=True, verbose=0)
    prior_history = vq.fit_prior(train, epochs=2, verbose=0)
    with_prior = vq.evaluate(test, return_dict=True, verbose=0)
    return vq, before, after, with_prior, history, prior_history


def test_training_lowers_the_loss_and_reports_each_level(trained):
    vq, before, after, _, history, _ = trained
    per_level = {f"{m}_{l}" for m in ("kl", "commitment", "perplexity", "usage") for l in ("top", "bottom")}
    assert set(after) == {"loss", "elbo", "reconstruction", "kl"} | per_level
    assert after["loss"] < before["loss"] - 10.0, (before, after)
    assert history.history["loss"][-1] < history.history["loss"][0]
    # Both codebooks in use (restarts keep them from collapsing): measured
    # 9 and 25 of 32 codes (perplexity 4.7 and 10.1); a collapsed level uses 1-2.
    for level, floor in (("top", 4.0), ("bottom", 8.0)):
        assert after[f"perplexity_{level}"] > floor and after[f"usage_{level}"] > 0.25, after


def test_uniform_prior_bound_counts_both_grids(trained):
    _, _, after, _, _, _ = trained
    assert after["kl_top"] == pytest.approx(4 * math.log(32), rel=1e-5)
    assert after["kl_bottom"] == pytest.approx(16 * math.log(32), rel=1e-5)
    assert after["kl"] == pytest.approx(20 * math.log(32), rel=1e-5)
    assert after["elbo"] == pytest.approx(after["reconstruction"] - after["kl"], abs=1e-3)


def test_fitted_priors_tighten_the_bound_at_both_levels(trained):
    _, _, after, with_prior, _, prior_history = trained
    h = prior_history.history
    assert set(h) == {"loss", "nll_top", "nll_bottom"}
    assert h["loss"][-1] == pytest.approx(h["nll_top"][-1] + h["nll_bottom"][-1], rel=1e-5)
    assert with_prior["kl_top"] < after["kl_top"] - 1.0 and with_prior["kl_bottom"] < after["kl_bottom"] - 5.0
    assert with_prior["elbo"] > after["elbo"]
    assert with_prior["reconstruction"] == pytest.approx(after["reconstruction"], rel=1e-5)


def test_bound_is_log_p_x_given_codes_plus_log_prior(trained):
    vq = trained[0]
    x = (tfvae.data.load_numpy("digits", split="test")[:7] > 0.5).astype("float32")
    top, bottom = vq.encode(x)
    log_prior = vq.prior_log_prob(top, bottom)
    expected = vq.log_prob_given_codes(x, top, bottom) + log_prior["top"] + log_prior["bottom"]
    np.testing.assert_allclose(vq.log_likelihood_bound(x), expected, rtol=1e-5, atol=1e-4)
    # Other codes explain x worse than its own (the decoder was trained on them).
    shuffled = vq.log_prob_given_codes(x, tf.roll(top, 1, 0), tf.roll(bottom, 1, 0))
    assert float(tf.reduce_mean(shuffled)) < float(tf.reduce_mean(vq.log_prob_given_codes(x, top, bottom)))


def test_encode_decode_and_sample(trained):
    vq = trained[0]
    x = tfvae.data.load_numpy("digits", split="test")[:6]
    top, bottom = vq.encode(x)
    assert top.shape == (6, 2, 2) and bottom.shape == (6, 4, 4)
    assert top.dtype == bottom.dtype == tf.int32
    np.testing.assert_allclose(vq.decode(top, bottom), vq.reconstruct(x), atol=1e-6)
    # The decoder uses both levels.
    assert not np.allclose(vq.decode(top, bottom), vq.decode(top, (bottom + 1) % 32))
    assert not np.allclose(vq.decode(top, bottom), vq.decode((top + 1) % 32, bottom))
    samples = vq.sample(5, seed=1)
    assert samples.shape == (5, 8, 8, 1) and np.all((samples.numpy() >= 0) & (samples.numpy() <= 1))
    np.testing.assert_array_equal(samples, vq.sample(5, seed=1))
    assert not np.array_equal(samples, vq.sample(5, seed=2))
    t, b = vq.sample_codes(4, seed=3)
    assert t.shape == (4, 2, 2) and b.shape == (4, 4, 4)


def test_bottom_codes_are_conditioned_on_the_top():
    """The bottom quantiser's input depends on the top codes' vectors (via
    the top decoder), and the straight-through gradient reaches every net."""
    vq = _tiny()
    x = tf.constant(_binary(8))
    h_b = vq.bottom_encoder(x)
    top = vq.quantizer_outputs(x)["top"]
    e_top = tf.identity(top["quantized"])
    with tf.GradientTape() as tape:
        tape.watch(e_top)
        z_b = vq.pre_quantizer_bottom(tf.concat([h_b, vq.top_decoder(e_top)], -1))
        total = tf.reduce_sum(z_b ** 2)
    assert float(tf.reduce_max(tf.abs(tape.gradient(total, e_top)))) > 0
    with tf.GradientTape() as tape:
        q = vq.quantizer_outputs(x)
        rec = tf.reduce_mean(vq.likelihood.log_prob(x, vq.decoder_params(q["top"]["quantized"],
                                                                         q["bottom"]["quantized"])))
    nets = [vq.bottom_encoder, vq.top_encoder, vq.top_decoder, vq.pre_quantizer_top, vq.pre_quantizer_bottom,
            vq.top_upsampler, vq.decoder]
    weights = [w for n in nets for w in n.trainable_weights]
    for w, g in zip(weights, tape.gradient(rec, weights)):
        assert g is not None and np.any(np.asarray(g) != 0), w.path


@pytest.mark.parametrize("ema_decay", [0.99, None])
def test_both_codebook_updates_move_both_codebooks(ema_decay):
    vq = _tiny(ema_decay=ema_decay, dead_code_threshold=0.0)
    assert vq.quantizer_top.codebook.trainable == (ema_decay is None)
    before = [vq.quantizer_top.codebook.numpy(), vq.quantizer_bottom.codebook.numpy()]
    vq.compile(optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True)  # two steps: tracing would dominate
    history = vq.fit(_binary(32), epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    for b, q in zip(before, (vq.quantizer_top, vq.quantizer_bottom)):
        assert np.abs(q.codebook.numpy() - b).max() > 1e-4, q.name


@pytest.mark.parametrize("likelihood, x", [
    ("gaussian", lambda: np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")),
    (tfvae.likelihoods.DiscretizedLogistic(num_components=2, num_bins=17), lambda: np.round(
        np.random.default_rng(0).random((4, 8, 8, 1)) * 16).astype("float32") / 16),
    (tfvae.likelihoods.Categorical(num_bins=17), lambda: np.round(
        np.random.default_rng(0).random((4, 8, 8, 1)) * 16).astype("float32") / 16),
])
def test_likelihoods(likelihood, x):
    vq = _tiny(likelihood=likelihood)
    x = x()
    bound = vq.log_likelihood_bound(x).numpy()
    assert bound.shape == (4,) and np.isfinite(bound).all()
    assert vq(x).shape == (4, 8, 8, 1)


def test_sample_before_fit_prior_is_a_clear_error():
    with pytest.raises(ValueError, match="fit_prior"):
        _tiny().sample(2, seed=0)


def test_bad_inputs_are_rejected():
    vq = _tiny()
    with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\)"):
        vq.encode(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="NaN"):
        vq.encode(np.full((2, 8, 8, 1), np.nan, "float32"))
    ok_top, ok_bottom = np.zeros((2, 2, 2), "int32"), np.zeros((2, 4, 4), "int32")
    with pytest.raises(ValueError, match=r"`top_codes` has values outside \[0, 16\)"):
        vq.decode(np.full((2, 2, 2), 16), ok_bottom)
    with pytest.raises(ValueError, match=r"`bottom_codes` has values outside \[0, 16\)"):
        vq.decode(ok_top, np.full((2, 4, 4), -1))
    with pytest.raises(ValueError, match=r"`bottom_codes` of shape \(batch, 4, 4\)"):
        vq.decode(ok_top, np.zeros((2, 2, 2), "int32"))
    with pytest.raises(ValueError, match="integers"):
        vq.decode(ok_top.astype("float32"), ok_bottom)
    with pytest.raises(ValueError, match="one row of `bottom_codes` per row"):
        vq.decode(ok_top, ok_bottom[:1])
    vq.compile(optimizer="adam")
    with pytest.raises(ValueError, match="support of the Bernoulli"):
        vq.fit(np.full((4, 8, 8, 1), 0.5, "float32"), epochs=1, verbose=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_embeddings=1), "num_embeddings"),
    (dict(embedding_dim=0), "embedding_dim"),
    (dict(commitment_cost=-1.0), "commitment_cost"),
    (dict(ema_decay=1.5), "ema_decay"),
    (dict(filters=0), "filters"),
    (dict(num_residual_blocks=-1), "num_residual_blocks"),
    (dict(seed="a"), "seed"),
    (dict(input_shape=(64,)), "input_shape"),
    (dict(input_shape=(6, 6, 1)), "divisible by 4"),
    (dict(likelihood="poisson"), "likelihood"),
    (dict(top_encoder=tfvae.nets.MLP([8])), "spatial"),
    (dict(decoder="conv"), "decoder"),
    (dict(top_decoder=keras.layers.Conv2D(8, 1)), "onto the bottom grid"),
    (dict(top_prior=tfvae.nets.PixelCNN(8, (2, 2))), "top_prior"),
    (dict(bottom_prior=tfvae.nets.PixelCNN(K, (4, 4))), "bottom_prior"),  # unconditional: rejected
    (dict(top_prior=tfvae.nets.PixelCNN(K, (2, 2), condition_shape=(2, 2, K))), "top_prior"),
])
def test_bad_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _tiny(**kwargs)


@pytest.mark.parametrize("shape, top, bottom", [((28, 28, 1), (7, 7), (14, 14)), ((32, 32, 3), (8, 8), (16, 16))])
def test_default_nets_fit_the_common_image_sizes(shape, top, bottom):
    vq = tfvae.VQVAE2(input_shape=shape, num_embeddings=8, embedding_dim=4, filters=8, num_residual_blocks=0,
                      likelihood="gaussian")
    assert (vq.top_grid, vq.bottom_grid) == (top, bottom)
    assert vq.top_prior.grid_shape == top and vq.bottom_prior.condition_shape == top + (8,)
    x = np.random.default_rng(0).random((2, *shape)).astype("float32")
    t, b = vq.encode(x)
    assert t.shape == (2, *top) and b.shape == (2, *bottom) and vq(x).shape == (2, *shape)


def test_config_is_complete_and_round_trips():
    vq = _tiny(ema_decay=None, commitment_cost=0.5, dead_code_threshold=0.5, likelihood="gaussian")
    config = vq.get_config()
    params = set(inspect.signature(tfvae.VQVAE2.__init__).parameters) - {"self", "kwargs"}
    assert params <= set(config), params - set(config)
    clone = tfvae.VQVAE2.from_config(config)
    assert clone.get_config() == config
    assert clone.quantizer_top.ema_decay is None and clone.commitment_cost == 0.5
    assert clone.quantizer_bottom.seed == 1 and clone.quantizer_top.seed == 0


def test_keras_round_trip_is_exact(tmp_path, trained):
    vq, x = trained[0], _binary(5)
    path = tmp_path / "vq2.keras"
    vq.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Skipping variable loading for optimizer"
        loaded = keras.models.load_model(path)
    assert type(loaded) is tfvae.VQVAE2
    for a, b in zip(vq.weights, loaded.weights, strict=True):
        assert a.path == b.path
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    for b in (1, 5):
        for u, v in zip(vq.encode(x[:b]), loaded.encode(x[:b])):
            np.testing.assert_array_equal(u, v)
        np.testing.assert_array_equal(vq(x[:b]), loaded(x[:b]))
        np.testing.assert_array_equal(vq.log_likelihood_bound(x[:b]), loaded.log_likelihood_bound(x[:b]))
    np.testing.assert_array_equal(vq.sample(3, seed=4), loaded.sample(3, seed=4))
    assert float(loaded.prior_trained.numpy()) == 1.0


def test_refitting_after_fit_prior_warns():
    vq = _tiny()
    vq.prior_trained.assign(1.0)
    vq.compile(optimizer="adam", run_eagerly=True)
    with pytest.warns(UserWarning, match="stale"):
        vq.fit(_binary(8), epochs=1, verbose=0)
