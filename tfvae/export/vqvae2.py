"""Serving signatures of a `tfvae.VQVAE2` (top grid h_t × w_t, bottom grid h_b × w_b, K codes).

| signature         | inputs                      | outputs                                      |
|-------------------|-----------------------------|----------------------------------------------|
| `serving_default` | `x`                         | `reconstruction`                             |
| `encode`          | `x`                         | `top_codes`, `bottom_codes`                  |
| `decode`          | `top_codes`, `bottom_codes` | `x_mean`                                     |
| `sample`          | `num_samples`, `seed`       | `samples`, `top_codes`, `bottom_codes`       |
| `elbo`            | `x`                         | `elbo`, `reconstruction`, `kl`, `kl_top`, `kl_bottom` |

`top_codes` int32 `(batch, h_t, w_t)`, `bottom_codes` int32 `(batch, h_b, w_b)`.
`x`: float32 `(batch, H, W, C)`; `num_samples`: int32 scalar
in [1, `max_num_samples`]; `seed`: int64 scalar. Outputs equal the Keras
model's: `encode(x) == model.encode(x)`, `decode(t, b) == model.decode(t, b)`,
`sample(n, s) == model.sample(n, seed=s)` (codes: `model.sample_codes`),
`elbo(x)` is `model.compute_terms(x)`'s per-example values (nats). `sample`
runs h_t·w_t + h_b·w_b PixelCNN passes with stateless draws keyed on
`seed` and fails with `InvalidArgumentError` if the priors were not fitted
before export. Codes outside [0, K), mismatched code batches, wrong
shapes, NaN and (for `elbo`) values outside the likelihood's support are
rejected in-graph.
"""

import tensorflow as tf

from tfvae.export import checks
from tfvae.export.registry import Signature, register_signatures
from tfvae.export.vae import MAX_NUM_SAMPLES, checked_data
from tfvae.models import _codes
from tfvae.models.vqvae2 import VQVAE2


@register_signatures(VQVAE2)
def vqvae2_signatures(model, max_num_samples=MAX_NUM_SAMPLES):
    """The `{name: Signature}` of a VQVAE2 (see the module docstring)."""
    owner = type(model).__name__
    data_shape, k = tuple(model.data_shape), model.num_embeddings
    x_spec = tf.TensorSpec((None, *data_shape), tf.float32, name="x")
    code_specs = [tf.TensorSpec((None, *model.top_grid), tf.int32, name="top_codes"),
                  tf.TensorSpec((None, *model.bottom_grid), tf.int32, name="bottom_codes")]

    def x_checked(x, support=False):
        return checked_data(x, data_shape, model.likelihood if support else None, "x", owner)

    def reconstruct(x):
        return {"reconstruction": model(x_checked(x))}

    def encode(x):
        q = model.quantizer_outputs(x_checked(x))
        return {"top_codes": q["top"]["codes"], "bottom_codes": q["bottom"]["codes"]}

    def decode(top_codes, bottom_codes):
        top = _checked_codes(top_codes, model.top_grid, k, "top_codes", owner)
        bottom = _checked_codes(bottom_codes, model.bottom_grid, k, "bottom_codes", owner)
        bottom = checks.same_rows(bottom, tf.shape(top)[0], "bottom_codes", owner)
        return {"x_mean": model.decode(top, bottom)}

    def sample(num_samples, seed):
        n = checks.positive_count(num_samples, "num_samples", owner, max_num_samples)
        trained = tf.debugging.Assert(model.prior_trained > 0.5, [
            f"{owner}: the priors over codes were not trained before export; call fit_prior, then export again."])
        top, bottom = model.draw_codes(checks.with_checks(n, trained), checks.seed_pair(seed, owner))
        return {"samples": model.decode(top, bottom), "top_codes": top, "bottom_codes": bottom}

    def elbo(x):
        _, values, _ = model.compute_terms(x_checked(x, support=True))
        return {key: values[key] for key in ("elbo", "reconstruction", "kl", "kl_top", "kl_bottom")}

    return {
        "serving_default": Signature(reconstruct, [x_spec]),
        "encode": Signature(encode, [x_spec]),
        "decode": Signature(decode, code_specs),
        "sample": Signature(sample, [tf.TensorSpec((), tf.int32, name="num_samples"),
                                     tf.TensorSpec((), tf.int64, name="seed")]),
        "elbo": Signature(elbo, [x_spec]),
    }


def _checked_codes(codes, grid_shape, num_embeddings, name, owner):
    codes = checks.shaped(codes, grid_shape, name)
    return _codes.check_codes(codes, grid_shape, num_embeddings, name=name, owner=owner)
