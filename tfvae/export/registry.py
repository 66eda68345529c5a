"""Which serving signatures a model type exports.

A model type plugs into `export_saved_model` in one of two ways:

1. it defines a method `serving_signatures(self) -> dict[str, Signature]`
   (the model knows best; nothing here needs to import it), or
2. a builder is registered for its class, which keeps the export code out
   of the model module:

       @tfvae.export.register_signatures(VQVAE)
       def vqvae_signatures(model):
           return {"serving_default": Signature(fn, [tf.TensorSpec(...)]), ...}

The builder of the most specific registered base class wins, so a subclass
of `VAE` exports the VAE's signatures unless it registers its own.
"""

import collections
import inspect

import tensorflow as tf

#: One serving signature: `fn(*tensors) -> dict[str, tf.Tensor]`, called
#: with tensors matching `input_signature`, a list of named `tf.TensorSpec`s
#: (the names become the signature's input keys; the returned dict's keys
#: its output keys).
Signature = collections.namedtuple("Signature", ["fn", "input_signature"])

_BUILDERS = {}


def register_signatures(model_type):
    """Decorator registering `builder(model) -> dict[str, Signature]` for
    `model_type` and its subclasses. Returns the builder unchanged."""
    if not isinstance(model_type, type):
        raise ValueError(f"Expected `model_type` to be a class. Received: model_type={model_type!r}")

    def decorator(builder):
        _BUILDERS[model_type] = builder
        return builder

    return decorator


def signatures_for(model, **limits):
    """The `{name: Signature}` to export for `model`.

    `limits` (e.g. `max_num_samples`, `max_importance_samples`) reach the
    builder's keyword arguments of those names; a builder without one keeps
    its own default.

    Raises:
        TypeError: no signatures are known for the model's type.
        ValueError: a signature is malformed (unnamed inputs, no
            `serving_default`).
    """
    if callable(getattr(model, "serving_signatures", None)):
        signatures = model.serving_signatures()
    else:
        builder = next((_BUILDERS[t] for t in type(model).__mro__ if t in _BUILDERS), None)
        if builder is None:
            known = ", ".join(sorted(t.__name__ for t in _BUILDERS)) or "none"
            raise TypeError(
                f"tfvae.export has no serving signatures for {type(model).__name__}. Define "
                "`serving_signatures()` on the model or register a builder with "
                f"`tfvae.export.register_signatures`. Registered types: {known}.")
        accepted = inspect.signature(builder).parameters
        signatures = builder(model, **{k: v for k, v in limits.items() if k in accepted and v is not None})
    _validate(signatures, type(model).__name__)
    return signatures


def _validate(signatures, owner):
    if "serving_default" not in signatures:
        raise ValueError(f"The serving signatures of {owner} must include 'serving_default' "
                         f"(TF Serving's default). Received: {sorted(signatures)}")
    for name, sig in signatures.items():
        names = [spec.name for spec in sig.input_signature]
        if not all(isinstance(s, tf.TensorSpec) for s in sig.input_signature) or None in names:
            raise ValueError(f"Signature {name!r} of {owner}: every input must be a named tf.TensorSpec. "
                             f"Received: {sig.input_signature}")
        if len(set(names)) != len(names):
            raise ValueError(f"Signature {name!r} of {owner} has duplicate input names: {names}")
