"""SavedModel signatures of a fitted `VariationalApproximation`.

| signature         | inputs                | outputs                  |
|-------------------|-----------------------|--------------------------|
| `serving_default` | as `log_prob` (invertible families) or `sample` |  |
| `log_prob`        | `z` `(n, d)`          | `log_prob` `(n,)`        |
| `sample`          | `num_samples`, `seed` | `samples`, `log_prob`    |

`sample(n, s)` equals `(q.sample_and_log_prob(n, seed=s))`: the noise is
stateless, keyed on `[s, 0]`, so a request is reproducible and a reload
does not replay a generator. `log_prob` is left out for forward-only flows
(planar, Sylvester), which only have the log-density of their own samples.
The target `log_prob_fn` is not exported: q is.

    tfvae.export.export_saved_model(q, "saved_models/q/1")
"""

import tensorflow as tf

from tfvae.export import checks
from tfvae.export.registry import Signature, register_signatures
from tfvae.export.vae import MAX_NUM_SAMPLES, checked_data
from tfvae.vi.families import seed_pair, stateless_noise
from tfvae.vi.model import VariationalApproximation


@register_signatures(VariationalApproximation)
def variational_signatures(model, max_num_samples=MAX_NUM_SAMPLES):
    """The `{name: Signature}` of a VariationalApproximation (see above)."""
    owner = type(model).__name__
    family = model.family
    dim = family.dim

    def sample(num_samples, seed):
        n = checks.positive_count(num_samples, "num_samples", owner, max_num_samples)
        eps = stateless_noise(n, dim, seed_pair(checks.scalar(seed, "seed")), family.compute_dtype)
        z, log_q = family.transform(eps)
        return {"samples": z, "log_prob": log_q}

    def log_prob(z):
        z = checked_data(z, (dim,), None, "z", owner)
        return {"log_prob": family.log_prob(z)}

    sample_sig = Signature(sample, [tf.TensorSpec((), tf.int32, name="num_samples"),
                                    tf.TensorSpec((), tf.int64, name="seed")])
    signatures = {"sample": sample_sig, "serving_default": sample_sig}
    if family.has_log_prob:
        log_prob_sig = Signature(log_prob, [tf.TensorSpec((None, dim), tf.float32, name="z")])
        signatures.update(log_prob=log_prob_sig, serving_default=log_prob_sig)
    return signatures
