"""Serving signatures of a `tfvae.FlowModel`.

| signature         | inputs                               | outputs                     |
|-------------------|--------------------------------------|-----------------------------|
| `serving_default` | `x`                                  | `log_prob`, `bits_per_dim`  |
| `log_prob`        | `x`                                  | `log_prob`, `bits_per_dim`  |
| `sample`          | `num_samples`, `seed`, `temperature` | `samples`                   |

`log_prob(x)` equals `model.log_prob(x, seed=0)` (with dequantisation the
noise u is keyed on seed 0, so the one-sample bound is deterministic);
`sample(n, s, T)` equals `model.sample(n, temperature=T, seed=s)`.
"""

import math

import tensorflow as tf

from tfvae.export import checks
from tfvae.export.registry import Signature, register_signatures
from tfvae.export.vae import MAX_NUM_SAMPLES, checked_data
from tfvae.models.flow_model import FlowModel


def _keras_seed(seed, owner=None):
    """The int32 seed `keras.random.normal(..., seed=int)` derives from an
    int on the TensorFlow backend ([seed, 0] mod 2³¹ − 2), so a signature
    and `FlowModel.sample(seed=int)` draw the same noise."""
    return tf.cast(tf.math.floormod(checks.seed_pair(seed, owner), tf.int32.max - 1), tf.int32)


def flow_sample(model, n, seed, temperature, owner=None):
    """`FlowModel.sample` with tensor arguments: z ~ N(0, T² I) drawn as
    Keras draws it for an int seed, then `model.generate(z)`."""
    dtype = model.flow.compute_dtype
    z = tf.random.stateless_normal(tf.concat([[n], model.data_shape], 0), seed=_keras_seed(seed, owner),
                                 dtype=dtype)
    return model.generate(tf.cast(temperature, dtype) * z)


@register_signatures(FlowModel)
def flow_model_signatures(model, max_num_samples=MAX_NUM_SAMPLES):
    """The `{name: Signature}` of a FlowModel (see the module docstring)."""
    owner = type(model).__name__
    data_shape = tuple(model.data_shape)
    nats_to_bits = 1.0 / (model.event_size * math.log(2.0))

    def log_prob(x):
        x = checked_data(x, data_shape, None, "x", owner)
        if model.dequantize or model.logit_alpha is not None:
            # FlowModel checks this range only eagerly; a signature must too.
            x = checks.in_unit_interval(x, "x", owner, "the model dequantizes or applies the logit transform")
        lp = model.log_prob(x, seed=0)
        return {"log_prob": lp, "bits_per_dim": -lp * nats_to_bits}

    def sample(num_samples, seed, temperature):
        n = checks.positive_count(num_samples, "num_samples", owner, max_num_samples)
        t = checks.positive_finite(temperature, "temperature", owner)
        return {"samples": flow_sample(model, n, seed, t, owner)}

    x_spec = tf.TensorSpec((None, *data_shape), tf.float32, name="x")
    sample_specs = [tf.TensorSpec((), tf.int32, name="num_samples"), tf.TensorSpec((), tf.int64, name="seed"),
                    tf.TensorSpec((), tf.float32, name="temperature")]
    return {
        "serving_default": Signature(log_prob, [x_spec]),
        "log_prob": Signature(log_prob, [x_spec]),
        "sample": Signature(sample, sample_specs),
    }
