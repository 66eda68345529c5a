"""VAE training, compilation modes, saving and input checks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae


def _small_vae(**kwargs):
    kwargs.setdefault("input_shape", (8, 8, 1))
    kwargs.setdefault("latent_dim", 4)
    kwargs.setdefault("encoder", tfvae.nets.MLP([32]))
    kwargs.setdefault("decoder", tfvae.nets.MLP([32]))
    kwargs.setdefault("seed", 0)
    return tfvae.VAE(**kwargs)


@pytest.fixture(scope="module")
def digits():
    return tfvae.data.load_numpy("digits", split="train")


@pytest.fixture(scope="module")
def binary(digits):
    return (digits > 0.5).astype("float32")


def _weights(model):
    return [w.numpy().copy() for w in model.weights]


def test_training_on_digits_lowers_negative_elbo():
    train = tfvae.data.load("digits", split="train", batch_size=64, binarize=True)
    test = tfvae.data.load("digits", split="test", batch_size=128, binarize=True)
    vae = _small_vae(encoder=tfvae.nets.MLP([64]), decoder=tfvae.nets.MLP([64]))
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = vae.evaluate(test, return_dict=True, verbose=0)
    history = vae.fit(train, epochs=4, verbose=0, callbacks=[tfvae.callbacks.KLWarmup(epochs=2)])
    after = vae.evaluate(test, return_dict=True, verbose=0)
    assert set(after) >= {"loss", "elbo", "reconstruction", "kl"}
    assert after["loss"] < before["loss"] - 10.0, (before, after)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert after["elbo"] == pytest.approx(after["reconstruction"] - after["kl"], abs=1e-3)
    assert after["kl"] > 0


def _deterministic_noise(loc, scale, k, seed):
    """Fixed ε for both compile modes: XLA's stateless RNG draws a different
    stream from TF's kernels for the same seed (even with alg="philox")."""
    shape = tf.concat([[k], tf.shape(loc)], 0)
    n = tf.reduce_prod(shape)
    eps = tf.reshape(tf.sin(tf.cast(tf.range(n), tf.float32) * 12.9898 + tf.cast(seed[1], tf.float32)), shape)
    return loc + scale * eps


def test_xla_and_non_xla_steps_agree(binary, monkeypatch):
    monkeypatch.setattr(tfvae.posteriors.DiagonalGaussian, "sample", staticmethod(_deterministic_noise))
    results = []
    for jit in (False, True):
        keras.utils.set_random_seed(1)
        vae = _small_vae()
        vae.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit)
        h = vae.fit(binary[:128], batch_size=32, epochs=1, shuffle=False, verbose=0)
        results.append((h.history, _weights(vae)))
    for name in ("loss", "elbo", "kl", "reconstruction"):
        assert results[0][0][name][0] == pytest.approx(results[1][0][name][0], rel=1e-5)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_xla_noise_is_standard_normal():
    loc, scale = tf.zeros((1, 4)), tf.ones((1, 4))
    draw = tf.function(lambda seed: tfvae.posteriors.DiagonalGaussian.sample(loc, scale, 50_000, seed),
                       jit_compile=True)
    eps = draw(tf.constant([3, 1], tf.int64)).numpy().ravel()
    assert abs(eps.mean()) < 0.02 and abs(eps.std() - 1) < 0.02


def test_steps_per_execution_gives_the_same_training(binary):
    weights = []
    for spe in (1, 4):
        keras.utils.set_random_seed(2)
        vae = _small_vae()
        vae.compile(optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=spe)
        vae.fit(binary[:256], batch_size=32, epochs=1, shuffle=False, verbose=0)
        weights.append(_weights(vae))
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_keras_round_trip_gives_equal_outputs_and_keeps_training(binary, tmp_path):
    vae = _small_vae(likelihood="bernoulli", num_importance_samples=2)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(binary[:128], batch_size=64, epochs=1, verbose=0)
    path = str(tmp_path / "vae.keras")
    vae.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, tfvae.VAE) and loaded.num_importance_samples == 2
    for n in (1, 7):
        x = binary[:n]
        np.testing.assert_array_equal(loaded.encode(x).numpy(), vae.encode(x).numpy())
        np.testing.assert_array_equal(loaded.decode(vae.encode(x)).numpy(), vae.decode(vae.encode(x)).numpy())
    np.testing.assert_array_equal(loaded.sample(3, seed=5).numpy(), vae.sample(3, seed=5).numpy())
    np.testing.assert_allclose(loaded.log_likelihood(binary[:4], 50, seed=1).numpy(),
                               vae.log_likelihood(binary[:4], 50, seed=1).numpy(), rtol=1e-6)
    loaded.fit(binary[:64], batch_size=64, epochs=1, verbose=0)  # optimizer state came back too


@pytest.mark.parametrize("likelihood,kind", [
    (tfvae.likelihoods.Categorical(num_bins=17), "levels"),
    (tfvae.likelihoods.DiscretizedLogistic(num_components=2, num_bins=17), "levels"),
    (tfvae.likelihoods.Gaussian(scale="predicted"), "dequantized"),
])
def test_grey_level_likelihoods_train(digits, likelihood, kind):
    x = digits[:256]
    if kind == "dequantized":
        x = (x * 16 + np.random.default_rng(0).uniform(size=x.shape)).astype("float32") / 17
    vae = _small_vae(likelihood=likelihood)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    h = vae.fit(x, batch_size=64, epochs=3, verbose=0)
    assert np.all(np.isfinite(h.history["loss"])) and h.history["loss"][-1] < h.history["loss"][0]
    assert vae.sample(2, seed=0, mean=False).shape == (2, 8, 8, 1)


def test_conv_networks_on_28x28():
    x = (np.random.default_rng(0).uniform(size=(32, 28, 28, 1)) < 0.3).astype("float32")
    vae = tfvae.VAE(input_shape=(28, 28, 1), latent_dim=4, encoder=tfvae.nets.ConvEncoder(filters=(8, 8), dense_units=16),
                    decoder=tfvae.nets.ConvDecoder((28, 28, 1), filters=(8, 8)), seed=0)
    vae.compile(optimizer="adam")
    vae.fit(x, batch_size=16, epochs=1, verbose=0)
    assert vae.decode(np.zeros((3, 4), "float32")).shape == (3, 28, 28, 1)


def test_iwae_bound_is_above_the_elbo(binary):
    vae = _small_vae(num_importance_samples=8)
    vae.compile(optimizer="adam")
    vae.fit(binary[:128], batch_size=64, epochs=1, verbose=0)
    m = vae.evaluate(binary[:256], batch_size=128, return_dict=True, verbose=0)
    assert m["iwae"] > m["elbo"]   # log-mean-exp ≥ mean-log, sample by sample
    assert m["loss"] == pytest.approx(-m["iwae"], rel=1e-5)


def test_beta_and_free_bits_enter_only_the_loss(binary):
    x = tf.constant(binary[:64])
    seed = tf.constant([1, 2], tf.int64)
    plain = _small_vae()
    loss, values = plain.compute_bound(x, seed, training=False)
    assert float(loss) == pytest.approx(-float(tf.reduce_mean(values["elbo"])), rel=1e-6)
    floored = _small_vae(free_bits=100.0)
    loss, values = floored.compute_bound(x, seed, training=False)
    # every dimension is below a 100-nat floor: the KL term is exactly 100 · D
    assert float(loss) == pytest.approx(-float(tf.reduce_mean(values["reconstruction"])) + 100.0 * 4, rel=1e-6)
    weighted = _small_vae(beta=0.25)
    loss, values = weighted.compute_bound(x, seed, training=False)
    expected = -float(tf.reduce_mean(values["reconstruction"])) + 0.25 * float(tf.reduce_mean(values["kl"]))
    assert float(loss) == pytest.approx(expected, rel=1e-6)


def test_kl_warmup_anneals_beta(binary):
    vae = _small_vae(beta=2.0)
    seen = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(float(vae.beta_weight)))
    vae.compile(optimizer="adam")
    vae.fit(binary[:128], batch_size=32, epochs=3, verbose=0,
            callbacks=[tfvae.callbacks.KLWarmup(epochs=2), record])
    assert seen[0] == 0.0
    assert seen[5] == pytest.approx(2.0 * 5 / 8)
    assert seen[-1] == 2.0 and np.all(np.diff(seen) >= 0)


def test_sampling_is_reproducible_by_seed():
    vae = _small_vae()
    np.testing.assert_array_equal(vae.sample(4, seed=3).numpy(), vae.sample(4, seed=3).numpy())
    assert not np.array_equal(vae.sample(4, seed=3).numpy(), vae.sample(4, seed=4).numpy())


def test_bad_inputs_raise_clear_errors_and_leave_the_model_untouched(binary, digits):
    vae = _small_vae()
    vae.compile(optimizer="adam")
    before = _weights(vae)
    with pytest.raises(ValueError, match=r"expected `x` of shape \(batch, 8, 8, 1\); received shape \(10, 64\)"):
        vae.fit(binary[:10].reshape(10, 64), epochs=1, verbose=0)
    nan = binary[:10].copy()
    nan[3, 2, 2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        vae.fit(nan, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"outside the support of the Bernoulli"):
        vae.fit(digits[:10], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="numeric"):
        vae.encode(np.array([["a"] * 8] * 8, dtype=object)[None, ..., None])
    with pytest.raises(ValueError, match=r"`z` of shape \(batch, 4\)"):
        vae.decode(np.zeros((2, 3), "float32"))
    for a, b in zip(before, _weights(vae)):
        np.testing.assert_array_equal(a, b)
    # a streamed dataset is checked batch by batch, inside the pipeline
    ds = tf.data.Dataset.from_tensor_slices(digits[:64]).batch(32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="outside the support of the Bernoulli"):
        vae.fit(ds, epochs=1, verbose=0)


@pytest.mark.parametrize("kwargs,pattern", [
    (dict(latent_dim=0), r"Expected `latent_dim` to be a positive integer. Received: latent_dim=0"),
    (dict(input_shape=(8, 8)), r"Expected `input_shape` to be \(D,\) or \(H, W, C\)"),
    (dict(beta=-1.0), r"`beta` to be a non-negative number"),
    (dict(free_bits=0.5, num_importance_samples=4), r"`free_bits`.*IWAE"),
    (dict(prior="laplace"), r"Expected `prior` to be one of"),
    (dict(likelihood="poisson"), r"Expected `likelihood` to be one of"),
    (dict(encoder="mlp"), r"Expected `encoder` to be a Keras layer"),
    (dict(num_importance_samples=1.5), r"`num_importance_samples` to be a positive integer"),
])
def test_bad_constructor_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        _small_vae(**kwargs)
