"""TF Serving REST `predict` bodies built from the exported signatures.

No TF Serving binary exists on this machine: the bodies are checked for
format, then decoded the way TF Serving decodes JSON (each value into a
tensor of the signature's dtype) and fed to the loaded signature."""

import json

import numpy as np
import pytest
import tensorflow as tf

from tests.export import _models
from tfvae.export import rest


def _decode_columnar(body, specs):
    return {k: tf.constant(np.asarray(v, specs[k].dtype.as_numpy_dtype)) for k, v in body["inputs"].items()}


def _decode_rows(body, specs):
    rows = body["instances"]
    return {k: tf.constant(np.asarray([r[k] for r in rows], specs[k].dtype.as_numpy_dtype)) for k in specs}


def test_columnar_body_for_sample_round_trips(vae_export):
    _, _, loaded = vae_export
    sig = loaded.signatures["sample"]
    specs = rest.input_specs(sig)
    body = rest.predict_request("sample", sig, {"num_samples": 4, "seed": 0, "temperature": 1.0})
    assert json.loads(json.dumps(body)) == body
    assert body == {"signature_name": "sample", "inputs": {"num_samples": 4, "seed": 0, "temperature": 1.0}}
    out = sig(**_decode_columnar(body, specs))["samples"]
    direct = sig(num_samples=tf.constant(4), seed=tf.constant(0, tf.int64), temperature=tf.constant(1.0))
    np.testing.assert_array_equal(out, direct["samples"])


def test_row_body_for_serving_default_round_trips(vae_export):
    _, _, loaded = vae_export
    sig = loaded.signatures["serving_default"]
    x = _models.binary_images(3)
    body = rest.predict_request("serving_default", sig, {"x": x}, format="row")
    text = json.dumps(body)
    assert set(json.loads(text)) == {"signature_name", "instances"}
    assert len(body["instances"]) == 3 and all(set(row) == {"x"} for row in body["instances"])
    assert np.asarray(body["instances"][0]["x"]).shape == (8, 8, 1)
    out = sig(**_decode_rows(body, rest.input_specs(sig)))["reconstruction"]
    np.testing.assert_allclose(out, sig(x=x)["reconstruction"])


def test_columnar_body_for_log_likelihood_and_encode(vae_export):
    _, _, loaded = vae_export
    x = _models.binary_images(2)
    for name, inputs in [("log_likelihood", {"x": x, "num_samples": 5}), ("encode", {"x": x, "seed": 7})]:
        body = rest.predict_request(name, loaded.signatures[name], inputs)
        assert set(body["inputs"]) == set(inputs)
        assert np.asarray(body["inputs"]["x"]).shape == (2, 8, 8, 1)
        json.dumps(body)


@pytest.mark.parametrize("signature,inputs,fmt,match", [
    ("sample", {"num_samples": 4, "seed": 0, "temperature": 1.0}, "row", "use format='columnar'"),
    ("sample", {"num_samples": 4, "seed": 0}, "columnar", r"takes inputs \['num_samples', 'seed', 'temperature'\]"),
    ("sample", {"num_samples": [4], "seed": 0, "temperature": 1.0}, "columnar", r"`num_samples` must have shape \(\)"),
    ("sample", {"num_samples": 2.5, "seed": 0, "temperature": 1.0}, "columnar", "must hold integers"),
    ("decode", {"z": np.zeros((2, 3))}, "columnar", r"`z` must have shape \(None, 4\)"),
    ("decode", {"z": np.full((1, 4), np.nan)}, "row", "NaN"),
    ("decode", {"z": np.zeros((1, 4))}, "json", "'columnar' or 'row'"),
])
def test_bad_bodies_are_refused_before_sending(vae_export, signature, inputs, fmt, match):
    with pytest.raises(ValueError, match=match):
        rest.predict_request(signature, vae_export[2].signatures[signature], inputs, format=fmt)


def test_predict_url():
    assert rest.predict_url("digits_vae") == "http://localhost:8501/v1/models/digits_vae:predict"
    assert rest.predict_url("m", host="h", port=1, version=3) == "http://h:1/v1/models/m/versions/3:predict"
