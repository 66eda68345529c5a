"""`export_saved_model`: a model's serving signatures as a SavedModel."""

import keras
import tensorflow as tf

from tfvae.nets._validate import positive_int

from tfvae.export import layout
from tfvae.export.registry import signatures_for


def export_saved_model(model, path, overwrite=False, max_num_samples=None, max_importance_samples=None):
    """Writes `model`'s serving signatures as a SavedModel for TF Serving.

    The SavedModel holds only TensorFlow graphs and variables: it loads with
    `tf.saved_model.load(path)` (or TF Serving, tag `serve`) in a process
    that never imports tfvae, Keras or TensorFlow Probability. Signatures
    come from `tfvae.export.signatures_for(model)`: see
    `tfvae/export/vae.py` (VAE) and `tfvae/export/flow_model.py`
    (FlowModel); every data input has a `None` batch dimension, and every
    input is checked in-graph (wrong shape, NaN/Inf, values outside the
    likelihood's support, bad scalars raise `InvalidArgumentError` naming
    the input). A signature's dtypes are fixed: the loader rejects others.

    The export is written to a hidden staging directory and renamed into
    place, so TF Serving, which polls `<base>`, never sees a partial
    version.

    Args:
        model: a built `tfvae.VAE`, `tfvae.FlowModel`, or any model with
            registered signatures (`tfvae.export.register_signatures`) or a
            `serving_signatures()` method.
        path: `<base>/<integer version>`, e.g. `"saved_models/digits_vae/1"`.
        overwrite: replace an existing non-empty version directory (the old
            export is removed only once the new one is complete).
        max_num_samples: cap on the `num_samples` input of the `sample`
            signatures (their output holds num_samples × prod(input_shape)
            floats); default `tfvae.export.vae.MAX_NUM_SAMPLES` = 4096.
        max_importance_samples: cap on the `num_samples` input S of the
            `log_likelihood` signatures (time grows as S × batch); default
            `tfvae.export.vae.MAX_IMPORTANCE_SAMPLES` = 10000.
            A request above a cap fails with `INVALID_ARGUMENT` naming the
            input and the cap; the caps are fixed in the SavedModel.
    Returns:
        The version directory written (str).
    Raises:
        ValueError: `path` does not end in an integer version directory, or
            the model is not built.
        FileExistsError: `path` holds an export and `overwrite` is False.
        TypeError: no signatures are known for the model's type.
    """
    path, _, _ = layout.check_version_dir(path)
    layout.refuse_existing(path, overwrite)  # before any work
    if not getattr(model, "built", False):
        raise ValueError(f"Expected a built model. Received: {type(model).__name__} that is not built; "
                         "call it on a batch (or fit it) before exporting.")
    limits = {name: _cap(value, name) for name, value in (
        ("max_num_samples", max_num_samples), ("max_importance_samples", max_importance_samples))
        if value is not None}
    signatures = signatures_for(model, **limits)

    def write(directory):
        archive = keras.export.ExportArchive()
        archive.track(model)
        # serving_default first: ExportArchive aliases the first endpoint.
        for name in sorted(signatures, key=lambda n: n != "serving_default"):
            sig = signatures[name]
            archive.add_endpoint(name, tf.function(sig.fn, autograph=False), input_signature=sig.input_signature)
        archive.write_out(directory, verbose=False)

    return layout.write_atomically(path, write, overwrite=overwrite)


def _cap(value, name):
    """A size cap: a positive int that fits the signatures' int32 inputs."""
    value = positive_int(value, name)
    if value > 2**31 - 1:
        raise ValueError(f"Expected `{name}` to be at most 2**31 - 1 (the size inputs are int32). "
                         f"Received: {name}={value}")
    return value
