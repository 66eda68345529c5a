"""Serving signatures of a `tfvae.ConditionalVAE`: the VAE's, each with the
condition `c` as an extra input.

| signature         | inputs                              | outputs                        |
|-------------------|-------------------------------------|--------------------------------|
| `serving_default` | `x`, `c`                            | `reconstruction`               |
| `encode`          | `x`, `c`, `seed`                    | `mean`, `scale`, `z`           |
| `decode`          | `z`, `c`                            | `x_mean`                       |
| `sample`          | `c`, `seed`, `temperature`          | `samples` (one per row of `c`) |
| `log_likelihood`  | `x`, `c`, `num_samples`             | `log_likelihood` (log p(x|c))  |
| `elbo`            | `x`, `c`                            | `elbo`, `reconstruction`, `kl` |

`c` is int64 labels `(batch,)` in [0, num_classes) for a label-conditioned
model, or float32 `(batch, *condition_shape)` for an observed part of the
image; it has one row per example of `x` (or `z`), which is checked. Every
output equals the Keras model's method with the same inputs and seeds, as
for `tfvae.export.vae`.
"""

import tensorflow as tf

from tfvae.export import checks, importance
from tfvae.export.registry import Signature, register_signatures
from tfvae.export.vae import MAX_IMPORTANCE_SAMPLES, MAX_NUM_SAMPLES, checked_data, prior_sample
from tfvae.models.conditional import ConditionalVAE


def _condition_spec(model):
    if model.num_classes is not None:
        return tf.TensorSpec((None,), tf.int64, name="c")
    return tf.TensorSpec((None, *model.condition_shape), tf.float32, name="c")


def checked_condition(model, c, batch, owner):
    """The raw condition `c` checked in-graph (shape, labels in range or
    finite values, one row per example) -> flat float32 `(batch, C)`."""
    if model.num_classes is not None:
        c = checks.shaped(c, (), "c")
        ok = tf.reduce_all((c >= 0) & (c < model.num_classes))
        message = f"{owner}: expected `c` to hold labels in [0, {model.num_classes})."
    else:
        c = checks.shaped(c, model.condition_shape, "c")
        ok = tf.reduce_all(tf.math.is_finite(c))
        message = f"{owner}: `c` contains NaN or infinite values."
    c = checks.same_rows(checks.with_checks(c, tf.debugging.Assert(ok, [message])), batch, "c", owner)
    return model.condition_tensor(c)


@register_signatures(ConditionalVAE)
def conditional_vae_signatures(model, max_num_samples=MAX_NUM_SAMPLES,
                               max_importance_samples=MAX_IMPORTANCE_SAMPLES):
    """The `{name: Signature}` of a ConditionalVAE (see the module docstring)."""
    owner = type(model).__name__
    data_shape, latent_dim = tuple(model.data_shape), model.latent_dim
    x_spec = tf.TensorSpec((None, *data_shape), tf.float32, name="x")
    c_spec = _condition_spec(model)

    def inputs(x, c, support):
        x = checked_data(x, data_shape, model.likelihood if support else None, "x", owner)
        return x, checked_condition(model, c, tf.shape(x)[0], owner)

    def reconstruct(x, c):
        x, c = inputs(x, c, support=False)
        return {"reconstruction": model((x, c))}

    def encode(x, c, seed):
        x, c = inputs(x, c, support=False)
        z, _, _, scale = model.sample_posterior(x, 1, checks.seed_pair(seed, owner), condition=c)
        return {"mean": model._latent_mean(x, condition=c), "scale": scale, "z": z[0]}

    def decode(z, c):
        z = checked_data(z, (latent_dim,), None, "z", owner)
        c = checked_condition(model, c, tf.shape(z)[0], owner)
        return {"x_mean": model.likelihood.mean(model.decoder_params(z, condition=c))}

    def sample(c, seed, temperature):
        n = checks.row_count(c, "c", owner, max_num_samples)
        c = checked_condition(model, c, n, owner)
        t = checks.positive_finite(temperature, "temperature", owner)
        seeds = tf.random.split(checks.seed_pair(seed, owner), 2)  # as ConditionalVAE.sample does
        z = prior_sample(model.prior, n, seeds[0], t, owner, context=c)
        return {"samples": model.likelihood.mean(model.decoder_params(z, condition=c))}

    def log_likelihood(x, c, num_samples):
        x, c = inputs(x, c, support=True)
        s = checks.positive_count(num_samples, "num_samples", owner, max_importance_samples)
        return {"log_likelihood": importance.log_likelihood(model, x, s, checks.seed_pair(0), condition=c)}

    def elbo(x, c):
        x, c = inputs(x, c, support=True)
        _, values = model.compute_bound(x, checks.seed_pair(0), training=False, condition=c)
        return {"elbo": values["elbo"], "reconstruction": values["reconstruction"], "kl": values["kl"]}

    seed = tf.TensorSpec((), tf.int64, name="seed")
    return {
        "serving_default": Signature(reconstruct, [x_spec, c_spec]),
        "encode": Signature(encode, [x_spec, c_spec, seed]),
        "decode": Signature(decode, [tf.TensorSpec((None, latent_dim), tf.float32, name="z"), c_spec]),
        "sample": Signature(sample, [c_spec, seed, tf.TensorSpec((), tf.float32, name="temperature")]),
        "log_likelihood": Signature(log_likelihood, [x_spec, c_spec, tf.TensorSpec((), tf.int32, name="num_samples")]),
        "elbo": Signature(elbo, [x_spec, c_spec]),
    }
