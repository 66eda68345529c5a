"""HierarchicalVAE: training, per-layer metrics and warm-up, saving, export, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae


def _hvae(**kwargs):
    kwargs.setdefault("input_shape", (8, 8, 1))
    kwargs.setdefault("latent_dims", (6, 3))
    kwargs.setdefault("encoder", tfvae.nets.MLP([48]))
    kwargs.setdefault("decoder", tfvae.nets.MLP([48]))
    kwargs.setdefault("hidden_units", (24,))
    kwargs.setdefault("seed", 0)
    return tfvae.HierarchicalVAE(**kwargs)


@pytest.fixture(scope="module")
def binary():
    return (tfvae.data.load_numpy("digits", split="train") > 0.5).astype("float32")


@pytest.mark.parametrize("inference,k", [("bottom_up", 1), ("ladder", 1), ("bottom_up", 4), ("ladder", 4)])
def test_training_raises_the_bound_and_reports_every_layer(binary, inference, k):
    keras.utils.set_random_seed(0)
    model = _hvae(inference=inference, num_importance_samples=k)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = model.evaluate(binary[:256], batch_size=128, return_dict=True, verbose=0)
    history = model.fit(binary[:768], batch_size=64, epochs=3, verbose=0)
    after = model.evaluate(binary[:256], batch_size=128, return_dict=True, verbose=0)
    assert {"loss", "elbo", "reconstruction", "kl", "kl_z1", "kl_z2"} <= set(history.history)
    assert ("iwae" in after) == (k > 1)
    assert after["elbo"] > before["elbo"] + 5.0, (before, after)
    assert after["kl"] == pytest.approx(after["kl_z1"] + after["kl_z2"], rel=1e-4)
    assert after["elbo"] == pytest.approx(after["reconstruction"] - after["kl"], abs=1e-3)
    if k > 1:
        assert after["iwae"] > after["elbo"] and after["loss"] == pytest.approx(-after["iwae"], rel=1e-5)
    ll = model.log_likelihood(binary[:64], num_samples=200).numpy()
    assert np.mean(ll) > after["elbo"] - 1.0   # the estimate sits above the bound (up to noise)
    units = model.active_units(binary[:300], num_samples=20)
    assert len(units) == 2 and 0 < units[0] <= 6 and 0 <= units[1] <= 3


def test_layer_warmup_anneals_each_layer_and_scales_its_kl_in_the_loss(binary):
    model = _hvae(beta=1.0)
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: seen.append(model.layer_beta_weight.numpy().copy()))
    model.compile(optimizer="adam")
    model.fit(binary[:128], batch_size=32, epochs=4, verbose=0,
              callbacks=[tfvae.callbacks.LayerKLWarmup(epochs=(1, 2)), record])
    seen = np.array(seen)  # 16 steps, 4 per epoch
    np.testing.assert_allclose(seen[:5, 0], [0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(seen[:9, 1], np.arange(9) / 8)
    assert np.all(seen[9:] == 1.0)
    x = tf.constant(binary[:32])
    seed = tf.constant([1, 2], tf.int64)
    model.layer_beta_weight.assign([1.0, 0.25])
    loss, values = model.compute_bound(x, seed, training=False)
    expected = -np.mean(values["reconstruction"] - values["kl_z1"] - 0.25 * values["kl_z2"])
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    with pytest.raises(ValueError, match="non-empty sequence of non-negative integers"):
        tfvae.callbacks.LayerKLWarmup(epochs=(1, -1))
    iwae = _hvae(num_importance_samples=3)          # DReG assumes one β for all layers
    iwae.compile(optimizer="adam")
    with pytest.raises(ValueError, match="DReG gradient of an IWAE bound assumes one"):
        iwae.fit(binary[:64], batch_size=32, epochs=1, verbose=0, callbacks=[tfvae.callbacks.LayerKLWarmup((1, 2))])


def test_sampling_encoding_decoding_and_keras_round_trip(binary, tmp_path):
    model = _hvae(inference="ladder", latent_dims=(5, 4, 2), prior=tfvae.priors.FlowPrior(
        tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,))))
    model.compile(optimizer="adam")
    model.fit(binary[:128], batch_size=64, epochs=1, verbose=0)
    codes = model.encode(binary[:3])
    assert [tuple(c.shape) for c in codes] == [(3, 5), (3, 4), (3, 2)]
    assert model.decode(codes[0]).shape == (3, 8, 8, 1)
    assert model.sample(4, seed=1, mean=False).shape == (4, 8, 8, 1)
    np.testing.assert_array_equal(model.sample(4, seed=1), model.sample(4, seed=1))
    model.save(tmp_path / "h.keras")
    loaded = keras.models.load_model(tmp_path / "h.keras")
    assert isinstance(loaded, tfvae.HierarchicalVAE) and loaded.latent_dims == (5, 4, 2)
    for n in (1, 7):
        for a, b in zip(loaded.encode(binary[:n]), model.encode(binary[:n])):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.sample(3, seed=2), model.sample(3, seed=2))
    np.testing.assert_allclose(loaded.log_likelihood(binary[:4], 50, seed=1), model.log_likelihood(binary[:4], 50, seed=1),
                               rtol=1e-6)
    loaded.fit(binary[:64], batch_size=32, epochs=1, verbose=0)


def test_saved_model_signatures_match_the_keras_model(binary, tmp_path):
    model = _hvae()
    rng = np.random.default_rng(0)
    for w in model.trainable_weights:
        w.assign(w.numpy() + 0.2 * rng.standard_normal(w.shape).astype("float32"))
    served = tf.saved_model.load(tfvae.export.export_saved_model(model, tmp_path / "h" / "1"))
    assert set(served.signatures) == {"serving_default", "encode", "decode", "sample", "log_likelihood", "elbo"}
    for n in (1, 5):
        x = tf.constant(binary[:n])
        out = served.signatures["encode"](x=x)
        for l, z in enumerate(model.encode(x)):
            np.testing.assert_allclose(out[f"z{l + 1}_mean"], z, atol=1e-5)
        np.testing.assert_allclose(served.signatures["decode"](z=out["z1_mean"])["x_mean"],
                                   model.decode(out["z1_mean"]), atol=1e-5)
        np.testing.assert_allclose(served.signatures["serving_default"](x=x)["reconstruction"],
                                   model.reconstruct(x), atol=1e-5)
        np.testing.assert_allclose(served.signatures["log_likelihood"](x=x, num_samples=tf.constant(40))["log_likelihood"],
                                   model.log_likelihood(x, 40, seed=0), atol=1e-4)
        elbo = served.signatures["elbo"](x=x)
        _, values = model.compute_bound(x, tf.constant([0, 0], tf.int64), training=False)
        for key in ("elbo", "kl_z1", "kl_z2"):
            np.testing.assert_allclose(elbo[key], values[key], atol=1e-4)
    s = served.signatures["sample"](num_samples=tf.constant(3), seed=tf.constant(4, tf.int64),
                                    temperature=tf.constant(0.7))["samples"]
    np.testing.assert_allclose(s, model.sample(3, seed=4, temperature=0.7), atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="outside the support"):
        served.signatures["log_likelihood"](x=tf.fill((1, 8, 8, 1), 0.5), num_samples=tf.constant(2))


@pytest.mark.parametrize("kwargs,message", [
    ({"latent_dims": ()}, r"Expected `latent_dims` to be a non-empty sequence"),
    ({"latent_dims": (4, 0)}, r"Expected `latent_dims` to be a sequence of positive integers"),
    ({"inference": "top_down"}, r"Expected `inference` to be one of \('bottom_up', 'ladder'\)"),
    ({"num_importance_samples": 0}, r"Expected `num_importance_samples` to be a positive integer"),
    ({"beta": -1.0}, r"Expected `beta` to be a non-negative number"),
    ({"gradient_estimator": "dreg", "inference": "ladder"}, r"Expected `gradient_estimator` to be one of"),
])
def test_bad_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _hvae(**kwargs)
