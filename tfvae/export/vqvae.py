"""Serving signatures of the discrete-latent models, `tfvae.VQVAE` and `tfvae.GumbelVAE`.

VQVAE (`h × w` code grid, K codes):

| signature         | inputs                  | outputs                        |
|-------------------|-------------------------|--------------------------------|
| `serving_default` | `x`                     | `reconstruction`               |
| `encode`          | `x`                     | `codes` int32 `(batch, h, w)`  |
| `decode`          | `codes` int32           | `x_mean`                       |
| `sample`          | `num_samples`, `seed`   | `samples`, `codes`             |
| `elbo`            | `x`                     | `elbo`, `reconstruction`, `kl` |

GumbelVAE (N latents of K classes): the same names, with `codes` of shape
`(batch, N)` and no `elbo` signature (its ELBO is a one-sample estimate).

`x`: float32 `(batch, H, W, C)`; `num_samples`: int32 scalar; `seed`:
int64 scalar. Each signature runs the model's own methods, so
`encode(x) == model.encode(x)`, `decode(c) == model.decode(c)` and
`sample(n, s) == model.sample(n, seed=s)` (codes included). The VQ-VAE's
`sample` runs the PixelCNN h·w times in a `tf.while_loop` with stateless
draws keyed on `seed`, so a request gives the same images after every
reload; it fails with `InvalidArgumentError` if the model was exported
before `fit_prior`. Codes outside [0, K), wrong shapes, NaN and (for
`elbo`) values outside the likelihood's support are rejected in-graph.
"""

import tensorflow as tf

from tfvae.export import checks
from tfvae.export.registry import Signature, register_signatures
from tfvae.export.vae import MAX_NUM_SAMPLES, checked_data
from tfvae.models import _codes
from tfvae.models.gumbel_vae import GumbelVAE
from tfvae.models.vqvae import VQVAE


def _spec(shape, dtype, name):
    return tf.TensorSpec(shape, dtype, name=name)


def _checked_codes(codes, grid_shape, num_embeddings, owner):
    codes = checks.shaped(codes, grid_shape, "codes")
    return _codes.check_codes(codes, grid_shape, num_embeddings, owner=owner)


@register_signatures(VQVAE)
def vqvae_signatures(model, max_num_samples=MAX_NUM_SAMPLES):
    owner = type(model).__name__
    data_shape, grid, k = tuple(model.data_shape), tuple(model.grid_shape), model.num_embeddings
    x_spec = _spec((None, *data_shape), tf.float32, "x")

    def x_checked(x, support=False):
        return checked_data(x, data_shape, model.likelihood if support else None, "x", owner)

    def reconstruct(x):
        return {"reconstruction": model(x_checked(x))}

    def encode(x):
        return {"codes": model.quantizer_outputs(x_checked(x))["codes"]}

    def decode(codes):
        return {"x_mean": model.decode(_checked_codes(codes, grid, k, owner))}

    def sample(num_samples, seed):
        n = checks.positive_count(num_samples, "num_samples", owner, max_num_samples)
        trained = tf.debugging.Assert(model.prior_trained > 0.5, [
            f"{owner}: the prior over codes was not trained before export; call fit_prior, then export again."])
        n = checks.with_checks(n, trained)
        codes = model.prior.sample(n, checks.seed_pair(seed, owner))
        return {"samples": model.decode(codes), "codes": codes}

    def elbo(x):
        _, values, _ = model.compute_terms(x_checked(x, support=True))
        return {"elbo": values["elbo"], "reconstruction": values["reconstruction"], "kl": values["kl"]}

    return {
        "serving_default": Signature(reconstruct, [x_spec]),
        "encode": Signature(encode, [x_spec]),
        "decode": Signature(decode, [_spec((None, *grid), tf.int32, "codes")]),
        "sample": Signature(sample, [_spec((), tf.int32, "num_samples"), _spec((), tf.int64, "seed")]),
        "elbo": Signature(elbo, [x_spec]),
    }


@register_signatures(GumbelVAE)
def gumbel_vae_signatures(model, max_num_samples=MAX_NUM_SAMPLES):
    owner = type(model).__name__
    data_shape, n_lat, k = tuple(model.data_shape), model.num_latents, model.num_categories
    x_spec = _spec((None, *data_shape), tf.float32, "x")

    def reconstruct(x):
        return {"reconstruction": model(checked_data(x, data_shape, None, "x", owner))}

    def encode(x):
        return {"codes": model.encode(checked_data(x, data_shape, None, "x", owner))}

    def decode(codes):
        return {"x_mean": model.decode(_checked_codes(codes, (n_lat,), k, owner))}

    def sample(num_samples, seed):
        n = checks.positive_count(num_samples, "num_samples", owner, max_num_samples)
        codes = model.sample_codes(n, checks.seed_pair(seed, owner))
        return {"samples": model.decode(codes, check=False), "codes": codes}

    return {
        "serving_default": Signature(reconstruct, [x_spec]),
        "encode": Signature(encode, [x_spec]),
        "decode": Signature(decode, [_spec((None, n_lat), tf.int32, "codes")]),
        "sample": Signature(sample, [_spec((), tf.int32, "num_samples"), _spec((), tf.int64, "seed")]),
    }
