"""SavedModels of VQVAE and GumbelVAE: the signatures reload (in this
process, and, slow-marked, in one that never imports tfvae) and match the
Keras models at two batch sizes."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import tfvae


def _binary(b, seed):
    return (np.random.default_rng(seed).random((b, 8, 8, 1)) > 0.5).astype("float32")


def _perturb(model, seed):
    rng = np.random.default_rng(seed)
    for w in model.trainable_weights:
        w.assign(w.numpy() + 0.3 * rng.standard_normal(w.shape).astype("float32"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("discrete")
    vq = tfvae.VQVAE(input_shape=(8, 8, 1), num_embeddings=16, embedding_dim=4,
                     encoder=tfvae.nets.ResidualConvEncoder((8,), num_residual_blocks=1),
                     decoder=tfvae.nets.ResidualConvDecoder((8,), num_residual_blocks=1),
                     prior=tfvae.nets.PixelCNN(16, (4, 4), filters=8, num_layers=1, first_kernel=3), seed=0)
    _perturb(vq, 1)
    vq.prior.trainable = True
    _perturb(vq.prior, 2)  # a "trained" prior: random but not uniform
    vq.prior.trainable = False
    vq.prior_trained.assign(1.0)
    gumbel = tfvae.GumbelVAE(input_shape=(8, 8, 1), num_latents=4, num_categories=5,
                             encoder=tfvae.nets.MLP([8]), decoder=tfvae.nets.MLP([8]), seed=0)
    _perturb(gumbel, 3)
    vq_path = tfvae.export.export_saved_model(vq, base / "vqvae" / "1")
    g_path = tfvae.export.export_saved_model(gumbel, base / "gumbel" / "1")
    return vq, gumbel, vq_path, g_path, base


_SCRIPT = r"""
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
import tensorflow as tf

vq_dir, g_dir, data, out = sys.argv[1:5]
d = np.load(data)
vq, g = tf.saved_model.load(vq_dir), tf.saved_model.load(g_dir)
res, errors = {}, {}
for b in (1, 5):
    x = tf.constant(d[f"x{b}"])
    for name, m in (("vq", vq), ("g", g)):
        codes = m.signatures["encode"](x=x)["codes"]
        res[f"{name}/codes/{b}"] = codes.numpy()
        res[f"{name}/x_mean/{b}"] = m.signatures["decode"](codes=codes)["x_mean"].numpy()
        res[f"{name}/reconstruction/{b}"] = m.signatures["serving_default"](x=x)["reconstruction"].numpy()
        s = m.signatures["sample"](num_samples=tf.constant(b), seed=tf.constant(3, tf.int64))
        res[f"{name}/samples/{b}"], res[f"{name}/sample_codes/{b}"] = s["samples"].numpy(), s["codes"].numpy()
    res[f"vq/elbo/{b}"] = vq.signatures["elbo"](x=x)["elbo"].numpy()
for key, fn in {"range": lambda: vq.signatures["decode"](codes=tf.fill([2, 4, 4], 16)),
                "shape": lambda: vq.signatures["decode"](codes=tf.zeros([2, 16], tf.int32)),
                "nan": lambda: vq.signatures["encode"](x=tf.fill([1, 8, 8, 1], float("nan")))}.items():
    try:
        fn()
        errors[key] = "no error"
    except Exception as e:
        errors[key] = type(e).__name__ + ": " + str(e)
np.savez(out, **res)
mods = sorted(m for m in ("tfvae", "tensorflow_probability", "tf_keras") if m in sys.modules)
print(json.dumps({"modules": mods, "errors": errors, "vq": sorted(vq.signatures), "g": sorted(g.signatures)}))
"""


def _check_outputs(out, vq, gumbel, data):
    close = dict(rtol=1e-5, atol=1e-5)
    for b in (1, 5):
        x = data[f"x{b}"]
        for name, m in (("vq", vq), ("g", gumbel)):
            np.testing.assert_array_equal(out[f"{name}/codes/{b}"], m.encode(x))
            np.testing.assert_allclose(out[f"{name}/x_mean/{b}"], m.decode(m.encode(x)), **close)
            np.testing.assert_allclose(out[f"{name}/reconstruction/{b}"], m.reconstruct(x), **close)
            np.testing.assert_array_equal(out[f"{name}/sample_codes/{b}"], m.sample_codes(b, seed=3))
            np.testing.assert_allclose(out[f"{name}/samples/{b}"], m.sample(b, seed=3), **close)
        np.testing.assert_allclose(out[f"vq/elbo/{b}"], vq.log_likelihood_bound(x), **close)


def test_reload_matches_the_keras_models_at_two_batch_sizes(exported):
    vq, gumbel, vq_path, g_path, _ = exported
    loaded = {"vq": tf.saved_model.load(vq_path), "g": tf.saved_model.load(g_path)}
    data, out = {f"x{b}": _binary(b, b) for b in (1, 5)}, {}
    for b in (1, 5):
        x = tf.constant(data[f"x{b}"])
        for name, m in loaded.items():
            codes = m.signatures["encode"](x=x)["codes"]
            out[f"{name}/codes/{b}"] = codes
            out[f"{name}/x_mean/{b}"] = m.signatures["decode"](codes=codes)["x_mean"]
            out[f"{name}/reconstruction/{b}"] = m.signatures["serving_default"](x=x)["reconstruction"]
            s = m.signatures["sample"](num_samples=tf.constant(b), seed=tf.constant(3, tf.int64))
            out[f"{name}/samples/{b}"], out[f"{name}/sample_codes/{b}"] = s["samples"], s["codes"]
        out[f"vq/elbo/{b}"] = loaded["vq"].signatures["elbo"](x=x)["elbo"]
    _check_outputs(out, vq, gumbel, data)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"outside \[0, 16\)"):
        loaded["vq"].signatures["decode"](codes=tf.fill([2, 4, 4], 16))


@pytest.mark.slow
def test_fresh_process_reload_matches_the_keras_models(exported, tmp_path):
    vq, gumbel, vq_path, g_path, _ = exported
    data = {f"x{b}": _binary(b, b) for b in (1, 5)}
    np.savez(tmp_path / "data.npz", **data)
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, vq_path, g_path, str(tmp_path / "data.npz"),
                           str(tmp_path / "out.npz")], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["modules"] == [], report["modules"]
    assert report["vq"] == ["decode", "elbo", "encode", "sample", "serving_default"]
    assert report["g"] == ["decode", "encode", "sample", "serving_default"]
    _check_outputs(np.load(tmp_path / "out.npz"), vq, gumbel, data)
    errors = report["errors"]
    assert "values outside [0, 16)" in errors["range"]
    assert "tensor codes [2,16] is not compatible with expected shape [?,4,4]" in errors["shape"]
    assert "`x` contains NaN" in errors["nan"]


def test_sample_signature_refuses_an_untrained_prior(exported):
    vq = exported[0]
    sample = tf.function(tfvae.export.signatures_for(vq)["sample"].fn, autograph=False)
    vq.prior_trained.assign(0.0)
    try:
        with pytest.raises(tf.errors.InvalidArgumentError, match="fit_prior"):
            sample(tf.constant(2), tf.constant(0, tf.int64))
    finally:
        vq.prior_trained.assign(1.0)
