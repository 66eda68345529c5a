"""Serving signatures of a `tfvae.FlowModel`.

Unconditional model:

| signature         | inputs                               | outputs                     |
|-------------------|--------------------------------------|-----------------------------|
| `serving_default` | `x`                                  | `log_prob`, `bits_per_dim`  |
| `log_prob`        | `x`                                  | `log_prob`, `bits_per_dim`  |
| `sample`          | `num_samples`, `seed`, `temperature` | `samples`                   |

Conditional model p(x | c): `log_prob` and `serving_default` also take the
condition `c` (float32 `(batch, context_size)`, one row per row of `x`),
and `sample` takes `c`, `seed`, `temperature` and draws one sample per
row of `c` (at most `max_num_samples` rows).

`log_prob(x [, c])` equals `model.log_prob(x [, c], seed=0)` (with
dequantisation the noise is keyed on seed 0, so the one-sample bound is
deterministic); `sample(n, s, T)` equals `model.sample(n, seed=s,
temperature=T)` and `sample(c, s, T)` equals `model.sample(len(c), c,
seed=s, temperature=T)`.
"""

import math

import tensorflow as tf

from tfvae.export import checks
from tfvae.export.registry import Signature, register_signatures
from tfvae.export.vae import MAX_NUM_SAMPLES, checked_data
from tfvae.models.flow_model import FlowModel


def flow_sample(model, n, seed, temperature, owner=None, context=None):
    """`FlowModel.sample` with tensor arguments: u ~ p_u at temperature T
    with the stateless seed `[seed, 0]`, then `model.generate(u [, c])`."""
    return model.generate(model.draw_base(n, checks.seed_pair(seed, owner), temperature), context)


@register_signatures(FlowModel)
def flow_model_signatures(model, max_num_samples=MAX_NUM_SAMPLES):
    """The `{name: Signature}` of a FlowModel (see the module docstring)."""
    owner = type(model).__name__
    data_shape = tuple(model.data_shape)
    nats_to_bits = 1.0 / (model.event_size * math.log(2.0))

    def checked_x(x):
        x = checked_data(x, data_shape, None, "x", owner)
        if model.dequantize or model.logit_alpha is not None:
            # FlowModel checks this range only eagerly; a signature must too.
            x = checks.in_unit_interval(x, "x", owner, "the model dequantizes or applies the logit transform")
        return x

    def checked_c(c):
        return checked_data(c, (model.context_size,), None, "c", owner)

    def scores(lp):
        return {"log_prob": lp, "bits_per_dim": -lp * nats_to_bits}

    x_spec = tf.TensorSpec((None, *data_shape), tf.float32, name="x")
    seed_spec, t_spec = tf.TensorSpec((), tf.int64, name="seed"), tf.TensorSpec((), tf.float32, name="temperature")
    if not model.conditional:
        def log_prob(x):
            return scores(model.log_prob(checked_x(x), seed=0))

        def sample(num_samples, seed, temperature):
            n = checks.positive_count(num_samples, "num_samples", owner, max_num_samples)
            t = checks.positive_finite(temperature, "temperature", owner)
            return {"samples": flow_sample(model, n, seed, t, owner)}

        sample_specs = [tf.TensorSpec((), tf.int32, name="num_samples"), seed_spec, t_spec]
        return {"serving_default": Signature(log_prob, [x_spec]), "log_prob": Signature(log_prob, [x_spec]),
                "sample": Signature(sample, sample_specs)}

    c_spec = tf.TensorSpec((None, model.context_size), tf.float32, name="c")

    def conditional_log_prob(x, c):
        x = checked_x(x)
        return scores(model.log_prob(x, checks.same_rows(checked_c(c), tf.shape(x)[0], "c", owner), seed=0))

    def conditional_sample(c, seed, temperature):
        c = checked_c(c)
        n = checks.row_count(c, "c", owner, max_num_samples)
        t = checks.positive_finite(temperature, "temperature", owner)
        return {"samples": flow_sample(model, n, seed, t, owner, context=c)}

    return {"serving_default": Signature(conditional_log_prob, [x_spec, c_spec]),
            "log_prob": Signature(conditional_log_prob, [x_spec, c_spec]),
            "sample": Signature(conditional_sample, [c_spec, seed_spec, t_spec])}
