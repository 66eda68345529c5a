"""TF Serving REST `predict` request bodies, built from a signature's inputs.

TF Serving's REST API takes two JSON forms (POST
`/v1/models/<name>[/versions/<v>]:predict`):

* row ("instances"): a list with one entry per example; each entry maps
  every input name to that example's value. Every input must therefore
  share the batch dimension 0 — a signature with a scalar input
  (`num_samples`, `seed`, `temperature`) cannot use it.
* columnar ("inputs"): maps each input name to its whole value, batched
  or scalar. Works for every signature; needed for `sample`, `encode` and
  `log_likelihood`.

JSON has no float16/bfloat16, and int64 values are plain JSON integers.
These helpers only build and check bodies; they need TensorFlow but not
tfvae's models, and work on a loaded SavedModel's signature.
"""

import json

import numpy as np
import tensorflow as tf

from tfvae.export.registry import Signature


def input_specs(signature):
    """`{input name: tf.TensorSpec}` of a signature.

    Args:
        signature: a loaded SavedModel signature
            (`tf.saved_model.load(p).signatures[name]`), a
            `tfvae.export.Signature`, or a `{name: TensorSpec}` dict.
    """
    if isinstance(signature, dict):
        return dict(signature)
    if isinstance(signature, Signature):
        return {spec.name: spec for spec in signature.input_signature}
    structured = getattr(signature, "structured_input_signature", None)
    if structured is not None:
        return dict(structured[1])
    raise TypeError(f"Expected a signature or a dict of TensorSpecs. Received: {signature!r}")


def _as_checked_array(name, value, spec):
    dtype = spec.dtype.as_numpy_dtype
    if spec.dtype in (tf.float16, tf.bfloat16):
        raise ValueError(f"Input `{name}` is {spec.dtype.name}, which JSON cannot carry.")
    array = np.asarray(value)
    if spec.dtype.is_integer and array.dtype.kind == "f" and not np.all(array == np.round(array)):
        raise ValueError(f"Input `{name}` must hold integers ({spec.dtype.name}). Received: {value!r}")
    array = array.astype(dtype)
    if not spec.shape.is_compatible_with(array.shape):
        raise ValueError(f"Input `{name}` must have shape {tuple(spec.shape.as_list())} "
                         f"(None = any). Received shape {array.shape}.")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ValueError(f"Input `{name}` contains NaN or infinite values, which JSON cannot carry.")
    return array


def predict_request(signature_name, signature, inputs, format="columnar"):
    """A JSON-serialisable TF Serving `predict` body.

    Args:
        signature_name: e.g. `"sample"`.
        signature: what `input_specs` accepts.
        inputs: `{input name: array-like}`; exactly the signature's inputs.
        format: `"columnar"` (`{"signature_name", "inputs": {...}}`) or
            `"row"` (`{"signature_name", "instances": [{...}, ...]}`).
    Returns:
        a dict; `json.dumps` it for the request.
    Raises:
        ValueError: missing or unknown inputs, a shape or dtype that does not
            match the signature, or `"row"` with an input that has no batch
            dimension or batch sizes that differ.
    """
    specs = input_specs(signature)
    if set(inputs) != set(specs):
        raise ValueError(f"Signature {signature_name!r} takes inputs {sorted(specs)}. "
                         f"Received: {sorted(inputs)}")
    arrays = {name: _as_checked_array(name, inputs[name], specs[name]) for name in specs}
    if format == "columnar":
        body = {"signature_name": signature_name, "inputs": {n: a.tolist() for n, a in arrays.items()}}
    elif format == "row":
        scalars = [n for n, a in arrays.items() if a.ndim == 0]
        if scalars:
            raise ValueError(f"The row ('instances') format needs every input batched along dimension 0; "
                             f"{scalars} of signature {signature_name!r} are scalars: use format='columnar'.")
        sizes = {n: a.shape[0] for n, a in arrays.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"The row ('instances') format needs equal batch sizes. Received: {sizes}")
        batch = next(iter(sizes.values()))
        body = {"signature_name": signature_name,
                "instances": [{n: a[i].tolist() for n, a in arrays.items()} for i in range(batch)]}
    else:
        raise ValueError(f"Expected `format` to be 'columnar' or 'row'. Received: format={format!r}")
    json.dumps(body)  # fails here, not at the server, if anything is not JSON
    return body


def predict_url(model_name, host="localhost", port=8501, version=None):
    """`http://host:port/v1/models/<name>[/versions/<v>]:predict`."""
    path = f"/v1/models/{model_name}" + (f"/versions/{int(version)}" if version is not None else "")
    return f"http://{host}:{port}{path}:predict"
