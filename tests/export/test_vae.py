"""VAE signatures, in-process: equal to the Keras model, seeded, checked."""

import numpy as np
import pytest
import tensorflow as tf

from tests.export import _models
from tfvae.export import importance
from tfvae.evaluation import loglik
from tfvae.evaluation.loglik import importance_sampled_log_likelihood

SIGNATURES = {
    "serving_default": (["x"], ["reconstruction"]),
    "encode": (["seed", "x"], ["mean", "scale", "z"]),
    "decode": (["z"], ["x_mean"]),
    "sample": (["num_samples", "seed", "temperature"], ["samples"]),
    "log_likelihood": (["num_samples", "x"], ["log_likelihood"]),
    "elbo": (["x"], ["elbo", "kl", "reconstruction"]),
}


def _i32(v):
    return tf.constant(v, tf.int32)


def _i64(v):
    return tf.constant(v, tf.int64)


def test_signature_names_specs_and_outputs(vae_export):
    _, _, loaded = vae_export

    def check_spec(name, key, spec):
        assert tuple(spec.shape) == {"x": (None, 8, 8, 1), "z": (None, 4)}.get(key, ()), (name, key)

    _models.check_signature_layout(loaded, SIGNATURES, check_spec)


@pytest.mark.parametrize("batch", [1, 5])
def test_outputs_equal_the_keras_model(vae_export, batch):
    vae, _, loaded = vae_export
    sig = loaded.signatures
    x = _models.binary_images(batch, seed=batch)
    close = dict(rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sig["serving_default"](x=x)["reconstruction"], vae.reconstruct(x), **close)

    enc = sig["encode"](x=x, seed=_i64(11))
    z_ref, _, _, scale_ref = vae.sample_posterior(tf.constant(x), 1, tf.constant([11, 0], tf.int64))
    np.testing.assert_allclose(enc["mean"], vae.encode(x), **close)
    np.testing.assert_allclose(enc["scale"], scale_ref, **close)
    np.testing.assert_allclose(enc["z"], z_ref[0], **close)
    assert enc["z"].shape == (batch, 4)

    z = np.random.default_rng(batch).normal(size=(batch, 4)).astype("float32")
    np.testing.assert_allclose(sig["decode"](z=z)["x_mean"], vae.decode(z), **close)

    np.testing.assert_allclose(sig["log_likelihood"](x=x, num_samples=_i32(7))["log_likelihood"],
                               vae.log_likelihood(x, 7), **close)
    elbo = sig["elbo"](x=x)
    _, ref = vae.compute_bound(tf.constant(x), tf.constant([0, 0], tf.int64), training=False)
    for key in ("elbo", "reconstruction", "kl"):
        np.testing.assert_allclose(elbo[key], ref[key], **close)
        assert elbo[key].shape == (batch,)

    samples = sig["sample"](num_samples=_i32(batch), seed=_i64(3), temperature=tf.constant(1.0))["samples"]
    np.testing.assert_allclose(samples, vae.sample(batch, seed=3), **close)


def test_sample_is_keyed_on_the_seed_and_temperature_scales_the_prior(vae_export):
    vae, _, loaded = vae_export

    def sample(seed, temperature=1.0):
        return loaded.signatures["sample"](num_samples=_i32(4), seed=_i64(seed),
                                           temperature=tf.constant(temperature))["samples"].numpy()

    np.testing.assert_array_equal(sample(5), sample(5))
    assert not np.allclose(sample(5), sample(6))
    # N(0, I) prior: temperature T draws z ~ N(0, T² I), decoded to the likelihood mean.
    z = tf.random.stateless_normal((4, 4), seed=tf.random.split(tf.constant([5, 0], tf.int64), 2)[0], alg="philox")
    np.testing.assert_allclose(sample(5, 0.5), vae.decode(0.5 * z), rtol=1e-5, atol=1e-6)


def test_in_graph_log_likelihood_streams_chunks_like_the_eager_estimator(monkeypatch):
    vae = _models.small_vae()
    x = tf.constant(_models.binary_images(3))
    # A budget of 3 samples per chunk for this batch: S = 10 takes 4 chunks.
    monkeypatch.setattr(loglik, "_TERMS_PER_CHUNK", 3 * 3 * 64)
    graph = tf.function(lambda x, s: importance.log_likelihood(vae, x, s, tf.constant([0, 0], tf.int64)))
    assert int(loglik.default_chunk_size(3, 10, (8, 8, 1), 1)) == 3
    np.testing.assert_allclose(graph(x, tf.constant(10)), importance_sampled_log_likelihood(vae, x, 10, chunk_size=3),
                               rtol=1e-5)


SHAPE_X, EXPECTED_X = "Shape of tensor x ", r" is not compatible with expected shape \[\?,8,8,1\]"
BAD_INPUTS = [
    ("serving_default", dict(x=np.zeros((2, 8, 8), "float32")), SHAPE_X + r"\[2,8,8\]" + EXPECTED_X),
    ("serving_default", dict(x=np.zeros((2, 64), "float32")), SHAPE_X + r"\[2,64\]" + EXPECTED_X),
    ("encode", dict(x=np.zeros((2, 8, 4, 1), "float32"), seed=_i64(0)), SHAPE_X + r"\[2,8,4,1\]" + EXPECTED_X),
    ("decode", dict(z=np.zeros((2, 3), "float32")), r"tensor z \[2,3\] is not compatible with expected shape \[\?,4\]"),
    ("serving_default", dict(x=np.full((2, 8, 8, 1), np.nan, "float32")), "`x` contains NaN or infinite"),
    ("decode", dict(z=np.array([[0, np.inf, 0, 0]], "float32")), "`z` contains NaN or infinite"),
    ("log_likelihood", dict(x=np.full((2, 8, 8, 1), 0.5, "float32"), num_samples=_i32(2)),
     r"`x` has values outside the support of the Bernoulli likelihood, \{0, 1\}"),
    ("elbo", dict(x=np.full((1, 8, 8, 1), 2.0, "float32")), "outside the support of the Bernoulli"),
    ("log_likelihood", dict(x=np.zeros((1, 8, 8, 1), "float32"), num_samples=_i32(0)),
     "expected `num_samples` to be a positive integer"),
    ("sample", dict(num_samples=_i32(-1), seed=_i64(0), temperature=tf.constant(1.0)),
     "expected `num_samples` to be a positive integer and at most 4096"),
    ("sample", dict(num_samples=_i32(5000), seed=_i64(0), temperature=tf.constant(1.0)), "at most 4096"),
    ("sample", dict(num_samples=_i32(2), seed=_i64(0), temperature=tf.constant(0.0)),
     "expected `temperature` to be a positive finite number"),
    ("sample", dict(num_samples=_i32(2), seed=_i64(0), temperature=tf.constant(np.nan)), "`temperature`"),
    ("sample", dict(num_samples=tf.constant([2]), seed=_i64(0), temperature=tf.constant(1.0)),
     r"tensor num_samples \[1\] is not compatible with expected shape \[\]"),
    ("encode", dict(x=np.zeros((1, 8, 8, 1), "float32"), seed=tf.constant([1, 2], tf.int64)),
     r"tensor seed \[2\] is not compatible with expected shape \[\]"),
]


@pytest.mark.parametrize("name,inputs,match", BAD_INPUTS)
def test_bad_inputs_raise_invalid_argument_naming_the_input(vae_export, name, inputs, match):
    _, _, loaded = vae_export
    # Tensors, as TF Serving feeds them: the graph's own checks must fire.
    inputs = {k: tf.constant(v) for k, v in inputs.items()}
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        loaded.signatures[name](**inputs)


def test_python_loader_rejects_a_numpy_array_of_the_wrong_shape(vae_export):
    # tf.saved_model.load's wrapper converts NumPy inputs against the spec
    # first, and names the input and its expected spec.
    _, _, loaded = vae_export
    with pytest.raises(TypeError, match=r"x: TensorSpec\(shape=\(None, 8, 8, 1\)"):
        loaded.signatures["serving_default"](x=np.zeros((2, 64), "float32"))


def test_wrong_dtype_is_rejected_by_the_loader(vae_export):
    _, _, loaded = vae_export
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected to be a float tensor but is a double"):
        loaded.signatures["serving_default"](x=tf.zeros((1, 8, 8, 1), tf.float64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected to be a int32 tensor but is a float"):
        loaded.signatures["sample"](num_samples=tf.constant(2.0), seed=_i64(0), temperature=tf.constant(1.0))


def test_empty_batch_and_grey_input_to_encode(vae_export):
    vae, _, loaded = vae_export
    assert loaded.signatures["serving_default"](x=tf.zeros((0, 8, 8, 1)))["reconstruction"].shape == (0, 8, 8, 1)
    # Encoding needs no likelihood, so (like VAE.encode) grey levels are accepted.
    x = np.full((1, 8, 8, 1), 0.5, "float32")
    np.testing.assert_allclose(loaded.signatures["encode"](x=x, seed=_i64(0))["mean"], vae.encode(x), rtol=1e-5)
