"""ConditionalVAE signatures: the VAE's with a condition input, equal to the
Keras model after a reload, at two batch sizes, with in-graph checks."""

import numpy as np
import pytest
import tensorflow as tf

import tfvae
from tests.export import _models

SIGNATURES = {
    "serving_default": (["c", "x"], ["reconstruction"]),
    "encode": (["c", "seed", "x"], ["mean", "scale", "z"]),
    "decode": (["c", "z"], ["x_mean"]),
    "sample": (["c", "seed", "temperature"], ["samples"]),
    "log_likelihood": (["c", "num_samples", "x"], ["log_likelihood"]),
    "elbo": (["c", "x"], ["elbo", "kl", "reconstruction"]),
}
CLOSE = dict(rtol=1e-5, atol=1e-5)


def _labels_model():
    vae = tfvae.ConditionalVAE(input_shape=(8, 8, 1), latent_dim=4, num_classes=3, prior="conditional_normal",
                               encoder=tfvae.nets.MLP([16]), decoder=tfvae.nets.MLP([16]),
                               posterior_flow=tfvae.flows.IAF(num_layers=1, hidden_units=(8,)), seed=0)
    _models._perturb(vae.posterior_flow, 1)
    _models._perturb(vae.prior, 2)
    return vae


def _image_part_model():
    # The top half of the image is observed; a flow prior takes it as context.
    prior = tfvae.priors.FlowPrior(tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,), seed=0))
    vae = tfvae.ConditionalVAE(input_shape=(8, 8, 1), latent_dim=4, condition_shape=(4, 8, 1), prior=prior,
                               encoder=tfvae.nets.MLP([16]), decoder=tfvae.nets.MLP([16]), seed=0)
    _models._perturb(vae.prior, 3)
    return vae


@pytest.fixture(scope="module", params=["labels", "image_part"])
def exported(request, tmp_path_factory):
    vae = _labels_model() if request.param == "labels" else _image_part_model()
    path = tfvae.export.export_saved_model(vae, tmp_path_factory.mktemp("saved_models") / request.param / "1")
    return request.param, vae, tf.saved_model.load(path)


def _condition(kind, batch, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "labels":
        return rng.integers(0, 3, batch).astype("int64")
    return (rng.random((batch, 4, 8, 1)) > 0.5).astype("float32")


def test_signature_names_and_condition_spec(exported):
    kind, _, loaded = exported
    expected_c = (tf.int64, (None,)) if kind == "labels" else (tf.float32, (None, 4, 8, 1))

    def check_spec(name, key, spec):
        if key == "c":
            assert (spec.dtype, tuple(spec.shape)) == expected_c, name

    _models.check_signature_layout(loaded, SIGNATURES, check_spec)


@pytest.mark.parametrize("batch", [1, 5])
def test_reloaded_signatures_equal_the_keras_model(exported, batch):
    kind, vae, loaded = exported
    sig = loaded.signatures
    x, c = _models.binary_images(batch, seed=batch), _condition(kind, batch, seed=batch)
    z = np.random.default_rng(batch).standard_normal((batch, 4)).astype("float32")
    i64 = lambda v: tf.constant(v, tf.int64)  # noqa: E731

    np.testing.assert_allclose(sig["serving_default"](x=x, c=c)["reconstruction"], vae.reconstruct(x, c), **CLOSE)
    enc = sig["encode"](x=x, c=c, seed=i64(11))
    np.testing.assert_allclose(enc["mean"], vae.encode(x, c), **CLOSE)
    assert enc["z"].shape == enc["scale"].shape == (batch, 4)
    np.testing.assert_allclose(sig["decode"](z=z, c=c)["x_mean"], vae.decode(z, c), **CLOSE)
    np.testing.assert_allclose(sig["log_likelihood"](x=x, c=c, num_samples=tf.constant(7))["log_likelihood"],
                               vae.log_likelihood(x, c, num_samples=7), **CLOSE)
    elbo = sig["elbo"](x=x, c=c)
    _, ref = vae.compute_bound(tf.constant(x), tf.constant([0, 0], tf.int64), training=False,
                               condition=vae.condition_tensor(c))
    np.testing.assert_allclose(elbo["elbo"], ref["elbo"], **CLOSE)
    for t in (1.0, 0.5):
        got = sig["sample"](c=c, seed=i64(3), temperature=tf.constant(t))["samples"]
        np.testing.assert_allclose(got, vae.sample(batch, c, seed=3, temperature=t), **CLOSE)


def test_temperature_scales_the_conditional_prior_noise():
    vae = _labels_model()
    c = tf.constant(_condition("labels", 6))
    loc, scale = vae.prior.params(vae.condition_tensor(c))
    eps = tf.random.stateless_normal((6, 4), seed=tf.random.split(tf.constant([3, 0], tf.int64), 2)[0],
                                     alg="philox")
    np.testing.assert_allclose(vae.sample(6, c, seed=3, temperature=0.25), vae.decode(loc + 0.25 * scale * eps, c),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="`temperature`"):
        vae.sample(6, c, temperature=0.0)


def test_bad_condition_inputs_are_named(exported):
    kind, _, loaded = exported
    # Tensors, as TF Serving feeds them: the graph's own checks must fire.
    x = tf.constant(_models.binary_images(2))
    if kind == "labels":
        bad_c, message = np.array([0, 3], "int64"), r"labels in \[0, 3\)"
    else:
        bad_c, message = np.full((2, 4, 8, 1), np.nan, "float32"), "`c` contains NaN"
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        loaded.signatures["elbo"](x=x, c=tf.constant(bad_c))
    with pytest.raises(tf.errors.InvalidArgumentError, match="one row of `c` per example"):
        loaded.signatures["serving_default"](x=x, c=tf.constant(_condition(kind, 3)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Shape of tensor c"):
        loaded.signatures["decode"](z=tf.zeros((2, 4)), c=tf.constant(_condition(kind, 2)[..., None]))
