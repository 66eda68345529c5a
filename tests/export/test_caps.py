"""Export guards: size inputs capped at export time, canonical versions, stale staging removed."""

import os

import numpy as np
import pytest
import tensorflow as tf

import tfvae.export
from tfvae.export import layout
from tests.export import _models


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    vae = _models.small_vae(posterior_flow=False)
    path = tfvae.export.export_saved_model(vae, str(tmp_path_factory.mktemp("caps") / "1"),
                                           max_num_samples=8, max_importance_samples=16)
    return vae, tf.saved_model.load(path)


def test_requests_up_to_the_caps_are_served(capped):
    vae, loaded = capped
    x = _models.binary_images(3)
    out = loaded.signatures["log_likelihood"](x=tf.constant(x), num_samples=tf.constant(16))
    np.testing.assert_allclose(out["log_likelihood"], vae.log_likelihood(x, 16, seed=0), rtol=1e-5, atol=1e-5)
    samples = loaded.signatures["sample"](num_samples=tf.constant(8), seed=tf.constant(0, tf.int64),
                                          temperature=tf.constant(1.0))["samples"]
    assert samples.shape[0] == 8


@pytest.mark.parametrize("signature, n, cap", [("log_likelihood", 17, 16), ("log_likelihood", 2**31 - 1, 16),
                                               ("sample", 9, 8)])
def test_requests_above_a_cap_are_refused_naming_the_input_and_cap(capped, signature, n, cap):
    _, loaded = capped
    args = ({"x": tf.constant(_models.binary_images(2))} if signature == "log_likelihood"
            else {"seed": tf.constant(0, tf.int64), "temperature": tf.constant(1.0)})
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"`num_samples`.*at most {cap}"):
        loaded.signatures[signature](num_samples=tf.constant(n), **args)


@pytest.mark.parametrize("caps", [{"max_num_samples": 0}, {"max_importance_samples": 2.5},
                                  {"max_importance_samples": 2**31}, {"max_num_samples": True}])
def test_bad_caps_are_refused_before_writing(tmp_path, caps):
    with pytest.raises(ValueError, match=next(iter(caps))):
        tfvae.export.export_saved_model(_models.small_vae(posterior_flow=False), str(tmp_path / "1"), **caps)
    assert not (tmp_path / "1").exists()


@pytest.mark.parametrize("version, message", [("01", "use '.*1'"), (str(2**63), "at most 9223372036854775807")])
def test_versions_tf_serving_would_misread_are_refused(tmp_path, version, message):
    with pytest.raises(ValueError, match=message):
        layout.check_version_dir(str(tmp_path / version))


def test_staging_folders_of_killed_exports_are_removed(tmp_path):
    import subprocess
    import sys
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".tmp-3-{dead}-abcd"
    running = tmp_path / f".tmp-4-{os.getpid()}-efgh"
    for folder in (stale, running):
        folder.mkdir()
        (folder / "saved_model.pb").write_bytes(b"partial")
    tfvae.export.export_saved_model(_models.small_vae(posterior_flow=False), str(tmp_path / "1"))
    assert not stale.exists() and running.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".tmp-4-")) == ["1"]


def test_flow_model_sample_cap(tmp_path):
    path = tfvae.export.export_saved_model(_models.small_flow_model(), str(tmp_path / "1"), max_num_samples=3)
    sample = tf.saved_model.load(path).signatures["sample"]
    args = dict(seed=tf.constant(0, tf.int64), temperature=tf.constant(1.0))
    assert sample(num_samples=tf.constant(3), **args)["samples"].shape[0] == 3
    with pytest.raises(tf.errors.InvalidArgumentError, match="`num_samples`.*at most 3"):
        sample(num_samples=tf.constant(4), **args)
