"""Serving signatures of a `tfvae.WAE`.

| signature         | inputs                               | outputs          |
|-------------------|--------------------------------------|------------------|
| `serving_default` | `x`                                  | `reconstruction` |
| `encode`          | `x`, `seed`                          | `mean`, `z`      |
| `decode`          | `z`                                  | `x_mean`         |
| `sample`          | `num_samples`, `seed`, `temperature` | `samples`        |

`x`: float32 `(batch, *input_shape)`; `z`: float32 `(batch, latent_dim)`;
`seed`: int64 scalar; `num_samples`: int32 scalar; `temperature`: float32
scalar. `encode`'s `mean` is `wae.encode(x)`, its `z` a draw from the
encoder (equal to `mean` for a deterministic one). A WAE has no likelihood
signature: it is not a density model. Outputs equal the Keras model's
(`sample(n, s, T) == wae.sample(n, seed=s, temperature=T)`), and
randomness is stateless and keyed on `seed`, as for the VAE.
"""

import tensorflow as tf

from tfvae.export import checks
from tfvae.export.registry import Signature, register_signatures
from tfvae.export.vae import MAX_NUM_SAMPLES, checked_data, decoded_prior_sample, prior_sample
from tfvae.models.wae import WAE


@register_signatures(WAE)
def wae_signatures(model, max_num_samples=MAX_NUM_SAMPLES):
    """The `{name: Signature}` of a WAE (see the module docstring)."""
    owner = type(model).__name__
    data_shape, latent_dim = tuple(model.data_shape), model.latent_dim
    x_spec = tf.TensorSpec((None, *data_shape), tf.float32, name="x")

    def x_checked(x):
        return checked_data(x, data_shape, None, "x", owner)

    def reconstruct(x):
        return {"reconstruction": model.reconstruct(x_checked(x))}

    def encode(x, seed):
        x = x_checked(x)
        return {"mean": model.encode(x), "z": model.sample_latent(x, checks.seed_pair(seed, owner))}

    def decode(z):
        return {"x_mean": model.decode(checked_data(z, (latent_dim,), None, "z", owner))}

    def sample(num_samples, seed, temperature):
        return decoded_prior_sample(model, num_samples, seed, temperature, owner, max_num_samples,
                                    lambda n, s, t: prior_sample(model.prior, n, s, t, owner))

    seed = tf.TensorSpec((), tf.int64, name="seed")
    return {
        "serving_default": Signature(reconstruct, [x_spec]),
        "encode": Signature(encode, [x_spec, seed]),
        "decode": Signature(decode, [tf.TensorSpec((None, latent_dim), tf.float32, name="z")]),
        "sample": Signature(sample, [tf.TensorSpec((), tf.int32, name="num_samples"), seed,
                                     tf.TensorSpec((), tf.float32, name="temperature")]),
    }
