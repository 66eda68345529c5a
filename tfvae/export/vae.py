"""Serving signatures of a `tfvae.VAE`.

| signature         | inputs                                   | outputs                      |
|-------------------|------------------------------------------|------------------------------|
| `serving_default` | `x`                                      | `reconstruction`             |
| `encode`          | `x`, `seed`                              | `mean`, `scale`, `z`         |
| `decode`          | `z`                                      | `x_mean`                     |
| `sample`          | `num_samples`, `seed`, `temperature`     | `samples`                    |
| `log_likelihood`  | `x`, `num_samples`                       | `log_likelihood`             |
| `elbo`            | `x`                                      | `elbo`, `reconstruction`, `kl` |

`x`: float32 `(batch, *input_shape)`; `z`: float32 `(batch, latent_dim)`;
`seed`: int64 scalar; `num_samples`: int32 scalar; `temperature`: float32
scalar. Every output has a leading batch (or sample) dimension; nats per
example for the log-densities.

Each signature runs the model's own public methods, so its outputs equal the
Keras model's: `serving_default(x) == vae.reconstruct(x)`,
`encode(x, s)["mean"] == vae.encode(x)`, `decode(z) == vae.decode(z)`,
`sample(n, s, T) == vae.sample(n, seed=s, temperature=T)`,
`log_likelihood(x, S) == vae.log_likelihood(x, S, seed=0)`, and `elbo(x)`
is `vae.compute_bound(x, seed=[0, 0])`'s per-example values. Randomness is
stateless and keyed on the `seed` input (fixed seed 0 where there is no
`seed` input), so a request gives the same answer after every reload, in
any process.
"""

import inspect

import tensorflow as tf

from tfvae.export import checks, importance
from tfvae.export.registry import Signature, register_signatures
from tfvae.models import _inputs
from tfvae.models.vae import VAE

#: Default cap on `num_samples` of the `sample` signature (its output holds
#: num_samples × prod(input_shape) floats).
MAX_NUM_SAMPLES = 4096
#: Default cap on `num_samples` (S) of the `log_likelihood` signature: its
#: memory is bounded by chunking, but its time grows as S × batch (S = 10^4
#: on a batch of 64 MNIST digits is ~10^6 decoder passes, seconds to minutes
#: on a CPU), so one request must not be able to hold a server for hours.
MAX_IMPORTANCE_SAMPLES = 10_000


def _spec(shape, dtype, name):
    return tf.TensorSpec(shape, dtype, name=name)


def checked_data(t, event_shape, likelihood, name, owner):
    """Shape, NaN/Inf and (with `likelihood`) support checks on a data input."""
    t = checks.shaped(t, event_shape, name)
    return _inputs.check_input(t, event_shape, likelihood, name=name, owner=owner)


def decoded_prior_sample(model, num_samples, seed, temperature, owner, max_num_samples, draw_latent):
    """A `sample` signature's outputs: `num_samples` (at most
    `max_num_samples`) latent draws `draw_latent(n, seed (2,), T)` at a
    finite positive temperature T, decoded to the likelihood mean, with the
    seed split as the models' `sample(..., seed=int)` splits it."""
    n = checks.positive_count(num_samples, "num_samples", owner, max_num_samples)
    t = checks.positive_finite(temperature, "temperature", owner)
    seeds = tf.random.split(checks.seed_pair(seed, owner), 2)
    return {"samples": model.likelihood.mean(model.decoder_params(draw_latent(n, seeds[0], t)))}


def prior_sample(prior, n, seed, temperature, owner, context=None):
    """z ~ p(z [| c]) at a temperature T, as `VAE.sample` draws it. Every
    tfvae prior's `sample` takes `temperature`; a user's prior whose
    `sample` doesn't only accepts T = 1 (checked at run time)."""
    extra = {} if context is None else {"context": context}
    if "temperature" in inspect.signature(prior.sample).parameters:
        return prior.sample(n, seed, temperature=temperature, **extra)
    z = prior.sample(n, seed, **extra)
    message = (f"{owner}: `temperature` must be 1.0 for a {type(prior).__name__} prior "
               "(its sample() takes no temperature).")
    return checks.with_checks(z, tf.debugging.Assert(tf.equal(temperature, 1.0), [message]))


@register_signatures(VAE)
def vae_signatures(model, max_num_samples=MAX_NUM_SAMPLES, max_importance_samples=MAX_IMPORTANCE_SAMPLES):
    """The `{name: Signature}` of a VAE (see the module docstring)."""
    owner = type(model).__name__
    if getattr(model, "condition_dim", None) is not None:
        # These signatures have no `condition` input: exporting them would
        # silently serve an unconditional model. A conditional model type
        # registers its own builder.
        raise TypeError(f"{owner} is conditional (condition_dim={model.condition_dim}); the VAE signatures "
                        "take no condition. Register its signatures with tfvae.export.register_signatures.")
    data_shape, latent_dim = tuple(model.data_shape), model.latent_dim
    x_spec = _spec((None, *data_shape), tf.float32, "x")

    def x_checked(x, support):
        return checked_data(x, data_shape, model.likelihood if support else None, "x", owner)

    def reconstruct(x):
        return {"reconstruction": model.reconstruct(x_checked(x, support=False))}

    def encode(x, seed):
        x = x_checked(x, support=False)
        z, _, _, scale = model.sample_posterior(x, 1, checks.seed_pair(seed, owner))
        return {"mean": model.encode(x), "scale": scale, "z": z[0]}

    def decode(z):
        return {"x_mean": model.decode(checked_data(z, (latent_dim,), None, "z", owner))}

    def sample(num_samples, seed, temperature):
        return decoded_prior_sample(model, num_samples, seed, temperature, owner, max_num_samples,
                                    lambda n, s, t: prior_sample(model.prior, n, s, t, owner))

    def log_likelihood(x, num_samples):
        x = x_checked(x, support=True)
        s = checks.positive_count(num_samples, "num_samples", owner, max_importance_samples)
        return {"log_likelihood": importance.log_likelihood(model, x, s, checks.seed_pair(0))}

    def elbo(x):
        _, values = model.compute_bound(x_checked(x, support=True), checks.seed_pair(0), training=False)
        return {"elbo": values["elbo"], "reconstruction": values["reconstruction"], "kl": values["kl"]}

    seed = _spec((), tf.int64, "seed")
    num_samples = _spec((), tf.int32, "num_samples")
    return {
        "serving_default": Signature(reconstruct, [x_spec]),
        "encode": Signature(encode, [x_spec, seed]),
        "decode": Signature(decode, [_spec((None, latent_dim), tf.float32, "z")]),
        "sample": Signature(sample, [num_samples, seed, _spec((), tf.float32, "temperature")]),
        "log_likelihood": Signature(log_likelihood, [x_spec, num_samples]),
        "elbo": Signature(elbo, [x_spec]),
    }
