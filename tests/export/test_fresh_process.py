"""The SavedModels in processes that never import tfvae: plain TensorFlow,
`saved_model_cli show` and `saved_model_cli run`. The three subprocesses
start together (each pays ~15 s of TensorFlow import)."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.export import _models

_SCRIPT = r"""
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
import tensorflow as tf

vae_dir, flow_dir, data, out = sys.argv[1:5]
d = np.load(data)
results, errors = {}, {}
vae = tf.saved_model.load(vae_dir)
flow = tf.saved_model.load(flow_dir)
i32 = lambda v: tf.constant(v, tf.int32)
i64 = lambda v: tf.constant(v, tf.int64)
for b in (1, 5):
    x, z, g = d[f"x{b}"], d[f"z{b}"], d[f"g{b}"]
    calls = {
        "vae/serving_default": (vae, "serving_default", dict(x=x)),
        "vae/encode": (vae, "encode", dict(x=x, seed=i64(11))),
        "vae/decode": (vae, "decode", dict(z=z)),
        "vae/log_likelihood": (vae, "log_likelihood", dict(x=x, num_samples=i32(7))),
        "vae/elbo": (vae, "elbo", dict(x=x)),
        "vae/sample": (vae, "sample", dict(num_samples=i32(b), seed=i64(3), temperature=tf.constant(1.0))),
        "flow/log_prob": (flow, "log_prob", dict(x=g)),
        "flow/sample": (flow, "sample", dict(num_samples=i32(b), seed=i64(3), temperature=tf.constant(0.8))),
    }
    for key, (m, sig, kw) in calls.items():
        for name, value in m.signatures[sig](**kw).items():
            results[f"{key}/{name}/{b}"] = value.numpy()
again = vae.signatures["sample"](num_samples=i32(5), seed=i64(3), temperature=tf.constant(1.0))["samples"]
results["vae/sample_again"] = again.numpy()
bad = {
    "nan": (vae, "serving_default", dict(x=tf.constant(np.full((2, 8, 8, 1), np.nan, np.float32)))),
    "support": (vae, "elbo", dict(x=tf.constant(np.full((2, 8, 8, 1), 0.5, np.float32)))),
    "shape": (vae, "decode", dict(z=tf.zeros((2, 3)))),
    "dtype": (vae, "decode", dict(z=tf.zeros((2, 4), tf.float64))),
    "range": (flow, "log_prob", dict(x=tf.constant(np.full((1, 4), 1.5, np.float32)))),
}
for key, (m, sig, kw) in bad.items():
    try:
        m.signatures[sig](**kw)
        errors[key] = "no error"
    except Exception as e:
        errors[key] = type(e).__name__ + ": " + str(e)
np.savez(out, **results)
modules = sorted(m for m in ("tfvae", "tensorflow_probability", "tf_keras") if m in sys.modules)
print(json.dumps({"modules": modules, "errors": errors, "vae": sorted(vae.signatures),
                  "flow": sorted(flow.signatures)}))
"""


def _cli():
    exe = shutil.which("saved_model_cli")
    return [exe] if exe else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]


@pytest.fixture(scope="module")
def runs(vae_export, flow_export, tmp_path_factory):
    """Starts the fresh-process load and both saved_model_cli commands at once."""
    tmp = tmp_path_factory.mktemp("fresh")
    data = {}
    for b in (1, 5):
        data[f"x{b}"] = _models.binary_images(b, seed=b)
        data[f"z{b}"] = np.random.default_rng(b).normal(size=(b, 4)).astype("float32")
        data[f"g{b}"] = _models.grid_vectors(b, seed=b)
    np.savez(tmp / "data.npz", **data)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    run_args = ["run", "--dir", vae_export[1], "--tag_set", "serve", "--signature_def", "sample",
                "--input_exprs", "num_samples=3;seed=1;temperature=1.0",
                "--outdir", str(tmp / "cli_out")]
    procs = {
        "python": [sys.executable, "-c", _SCRIPT, vae_export[1], flow_export[1], str(tmp / "data.npz"),
                   str(tmp / "out.npz")],
        "show": _cli() + ["show", "--all", "--dir", vae_export[1]],
        "run": _cli() + run_args,
    }
    started = {k: subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                   cwd=str(tmp)) for k, cmd in procs.items()}
    done = {}
    for key, proc in started.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{key} failed:\n{err[-3000:]}"
        done[key] = out
    return data, tmp, done


def test_loads_without_tfvae_and_matches_the_keras_models(runs, vae_export, flow_export):
    data, tmp, done = runs
    report = json.loads(done["python"].strip().splitlines()[-1])
    assert report["modules"] == [], "the SavedModel pulled in " + ", ".join(report["modules"])
    assert report["vae"] == ["decode", "elbo", "encode", "log_likelihood", "sample", "serving_default"]
    assert report["flow"] == ["log_prob", "sample", "serving_default"]
    out = np.load(tmp / "out.npz")
    vae, flow = vae_export[0], flow_export[0]
    close = dict(rtol=1e-5, atol=1e-5)
    for b in (1, 5):
        x, z, g = data[f"x{b}"], data[f"z{b}"], data[f"g{b}"]
        np.testing.assert_allclose(out[f"vae/serving_default/reconstruction/{b}"], vae.reconstruct(x), **close)
        np.testing.assert_allclose(out[f"vae/encode/mean/{b}"], vae.encode(x), **close)
        np.testing.assert_allclose(out[f"vae/decode/x_mean/{b}"], vae.decode(z), **close)
        np.testing.assert_allclose(out[f"vae/log_likelihood/log_likelihood/{b}"], vae.log_likelihood(x, 7), **close)
        _, ref = vae.compute_bound(tf.constant(x), tf.constant([0, 0], tf.int64), training=False)
        np.testing.assert_allclose(out[f"vae/elbo/elbo/{b}"], ref["elbo"], **close)
        np.testing.assert_allclose(out[f"vae/sample/samples/{b}"], vae.sample(b, seed=3), **close)
        lp = flow.log_prob(g, seed=0)
        np.testing.assert_allclose(out[f"flow/log_prob/log_prob/{b}"], lp, **close)
        np.testing.assert_allclose(out[f"flow/log_prob/bits_per_dim/{b}"], flow.bits_per_dim(g, seed=0), **close)
        np.testing.assert_allclose(out[f"flow/sample/samples/{b}"], flow.sample(b, temperature=0.8, seed=3), **close)
    # Same seed, same samples, in another process and another call.
    np.testing.assert_array_equal(out["vae/sample_again"], out["vae/sample/samples/5"])


def test_bad_inputs_in_a_fresh_process(runs):
    errors = json.loads(runs[2]["python"].strip().splitlines()[-1])["errors"]
    assert errors["nan"].startswith("InvalidArgumentError") and "`x` contains NaN" in errors["nan"]
    assert "outside the support of the Bernoulli likelihood" in errors["support"]
    assert "tensor z [2,3] is not compatible with expected shape [?,4]" in errors["shape"]
    assert "expected to be a float tensor but is a double tensor" in errors["dtype"]
    assert "expected `x` to lie in [0, 1]" in errors["range"]


def test_saved_model_cli_show_lists_every_signature(runs):
    shown = runs[2]["show"]
    for name in ("serving_default", "encode", "decode", "sample", "log_likelihood", "elbo"):
        assert f"signature_def['{name}']" in shown, name
    assert "inputs['temperature'] tensor_info:" in shown and "outputs['log_likelihood'] tensor_info:" in shown
    assert "shape: (-1, 8, 8, 1)" in shown


def test_saved_model_cli_run_samples(runs, vae_export):
    _, tmp, done = runs
    samples = np.load(tmp / "cli_out" / "samples.npy")
    np.testing.assert_allclose(samples, vae_export[0].sample(3, seed=1), rtol=1e-5, atol=1e-5)
