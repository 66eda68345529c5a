"""Serving signatures of a `tfvae.HierarchicalVAE`.

| signature         | inputs                               | outputs                          |
|-------------------|--------------------------------------|----------------------------------|
| `serving_default` | `x`                                  | `reconstruction`                 |
| `encode`          | `x`                                  | `z1_mean`, ..., `z<L>_mean`      |
| `decode`          | `z` (the bottom layer z_1)           | `x_mean`                         |
| `sample`          | `num_samples`, `seed`, `temperature` | `samples`                        |
| `log_likelihood`  | `x`, `num_samples`                   | `log_likelihood`                 |
| `elbo`            | `x`                                  | `elbo`, `reconstruction`, `kl`, `kl_z1`, ..., `kl_z<L>` |

Shapes and dtypes as for the VAE (`tfvae/export/vae.py`); `z<l>_mean` is
`(batch, d_l)`. Outputs equal the Keras model's: `encode(x)` is
`model.encode(x)` layer by layer, `sample(n, s, T) == model.sample(n, seed=s,
temperature=T)`, `log_likelihood(x, S) == model.log_likelihood(x, S, seed=0)`
(the same in-graph chunked estimator as the VAE's), and `elbo(x)` is
`model.compute_bound(x, seed=[0, 0])`'s per-example values.
"""

import tensorflow as tf

from tfvae.export import checks, importance
from tfvae.export.registry import Signature, register_signatures
from tfvae.export.vae import MAX_NUM_SAMPLES, checked_data, decoded_prior_sample
from tfvae.models import _hierarchy
from tfvae.models.hierarchical import HierarchicalVAE


@register_signatures(HierarchicalVAE)
def hierarchical_signatures(model, max_num_samples=MAX_NUM_SAMPLES):
    """The `{name: Signature}` of a HierarchicalVAE (see the module docstring)."""
    owner = type(model).__name__
    data_shape = tuple(model.data_shape)
    x_spec = tf.TensorSpec((None, *data_shape), tf.float32, name="x")

    def x_checked(x, support):
        return checked_data(x, data_shape, model.likelihood if support else None, "x", owner)

    def reconstruct(x):
        return {"reconstruction": model.reconstruct(x_checked(x, support=False))}

    def encode(x):
        return {f"z{l + 1}_mean": z for l, z in enumerate(model.encode(x_checked(x, support=False)))}

    def decode(z):
        return {"x_mean": model.decode(checked_data(z, (model.latent_dims[0],), None, "z", owner))}

    def sample(num_samples, seed, temperature):
        return decoded_prior_sample(model, num_samples, seed, temperature, owner, max_num_samples,
                                    lambda n, s, t: _hierarchy.prior_sample(model, n, s, t))

    def log_likelihood(x, num_samples):
        x = x_checked(x, support=True)
        s = checks.positive_count(num_samples, "num_samples", owner)
        return {"log_likelihood": importance.log_likelihood(model, x, s, checks.seed_pair(0))}

    def elbo(x):
        _, values = model.compute_bound(x_checked(x, support=True), checks.seed_pair(0), training=False)
        return {k: v for k, v in values.items() if k != "iwae"}

    return {
        "serving_default": Signature(reconstruct, [x_spec]),
        "encode": Signature(encode, [x_spec]),
        "decode": Signature(decode, [tf.TensorSpec((None, model.latent_dims[0]), tf.float32, name="z")]),
        "sample": Signature(sample, [tf.TensorSpec((), tf.int32, name="num_samples"),
                                     tf.TensorSpec((), tf.int64, name="seed"),
                                     tf.TensorSpec((), tf.float32, name="temperature")]),
        "log_likelihood": Signature(log_likelihood, [x_spec, tf.TensorSpec((), tf.int32, name="num_samples")]),
        "elbo": Signature(elbo, [x_spec]),
    }
