"""Density model p(x): a standard-normal base pushed through a flow."""

import math

import keras
import numpy as np
import tensorflow as tf

from tfvae.flows.base import Flow
from tfvae.models import _inputs
from tfvae.models import _steps
from tfvae.models._build import ReplicaSafeBuild
from tfvae.nets._validate import positive_int, positive_int_tuple

_LOG_2PI = math.log(2.0 * math.pi)


@keras.saving.register_keras_serializable(package="tfvae")
class FlowModel(ReplicaSafeBuild, keras.Model):
    """Normalizing-flow density trained by maximum likelihood.

    tfvae flows follow TFP's orientation: the forward map goes from the base
    to the data (generative), the inverse from the data to the base. Data x
    (shape `input_shape`) is mapped to s (dequantisation, logit), then
    z, L = flow.inverse(s) with L = log|det dz/ds|, and z ~ N(0, I). So a
    `MAF` evaluates densities in one pass (and samples in D), `RealNVP` and
    `Glow` are one pass both ways. Every term is kept, so `log_prob` is in
    nats per example:

        dequantize="uniform" (x in [0, 1] on the grid k/(B-1), B = num_bins):
            v = (x (B-1) + u) / B,  u ~ U[0, 1)^D
            log P(k) >= E_u[log p(v)] - D log B      (Jensen; the -D log B
            is the log-Jacobian of dividing by B, so `log_prob` is a
            one-sample lower bound on the *discrete* log-likelihood)
        logit_alpha=α:
            w = α + (1 - 2α) v,  s = log w - log(1 - w)
            log|ds/dv| = Σ [log(1 - 2α) - log w - log(1 - w)]
        log p(x) = log N(z; 0, I) + L + log|ds/dv| [- D log B]
        bits_per_dim = -log p(x) / (D ln 2)

    Training minimises the mean of -log p(x) (`loss`, nats per example) and
    also reports `bits_per_dim`. Sampling inverts every step:
    z ~ N(0, T² I), s = flow(z), v = (sigmoid(s) - α) / (1 - 2α), then
    (dequantized models) x = clip(floor(v B), 0, B-1) / (B-1).

    Args:
        flow: a `tfvae.flows` layer with an inverse, on `(batch, *input_shape)`;
            its inverse is the data -> base (density) direction.
        input_shape: shape of one example, e.g. `(2,)` or `(8, 8, 1)`.
        dequantize: None (continuous data) or "uniform".
        num_bins: B, number of discrete levels (>= 2), with "uniform".
        logit_alpha: None or α in (0, 0.5): the logit transform for data in
            [0, 1].
        base: "normal" (the only base for now).
        seed: seed of the model's SeedGenerator (dequantisation noise,
            samples without an explicit seed).

    Raises:
        ValueError: invalid arguments; inputs with a wrong shape or dtype,
            NaN/Inf, or (dequantize / logit) values outside [0, 1].

    References:
        Dinh et al., "Density estimation using Real NVP", ICLR 2017 (logit
        transform, bits/dim); Theis et al., "A note on the evaluation of
        generative models", ICLR 2016 (dequantisation bound).
    """

    def __init__(self, flow, input_shape, dequantize=None, num_bins=256, logit_alpha=None,
                 base="normal", seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(flow, Flow):
            raise ValueError(f"Expected `flow` to be a tfvae.flows layer. Received: flow={flow!r}")
        self.data_shape = positive_int_tuple(input_shape, "input_shape")
        if dequantize not in (None, "uniform"):
            raise ValueError(f"Expected `dequantize` to be None or 'uniform'. Received: dequantize={dequantize!r}")
        self.num_bins = positive_int(num_bins, "num_bins")
        if self.num_bins < 2:
            raise ValueError(f"Expected `num_bins` to be at least 2. Received: num_bins={num_bins!r}")
        if logit_alpha is not None and not (isinstance(logit_alpha, (int, float))
                                            and 0.0 < logit_alpha < 0.5):
            raise ValueError(f"Expected `logit_alpha` to be None or in (0, 0.5). Received: logit_alpha={logit_alpha!r}")
        if base != "normal":
            raise ValueError(f"Expected `base` to be 'normal'. Received: base={base!r}")
        self.flow = flow
        self.dequantize = dequantize
        self.logit_alpha = None if logit_alpha is None else float(logit_alpha)
        self.base = base
        self.seed = seed
        self.event_size = int(np.prod(self.data_shape))
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.bpd_tracker = keras.metrics.Mean(name="bits_per_dim")
        # Build every weight now: Keras would otherwise trace `call` on
        # symbolic KerasTensors before `fit`, which TFP cannot handle.
        if not flow.built:
            flow.build((None, *self.data_shape))
        self.built = True

    # --------------------------------------------------------------- maths

    def _reduce(self, t):
        return tf.reduce_sum(tf.reshape(t, (tf.shape(t)[0], -1)), axis=-1)

    def _log_prob(self, x, seed=None):
        """log p(x) per example for a validated float32 `x` (no checks)."""
        x = tf.cast(x, self.flow.compute_dtype)
        log_jac = tf.zeros(tf.shape(x)[:1], x.dtype)
        v = x
        if self.dequantize == "uniform":
            b = float(self.num_bins)
            if tf.is_tensor(seed):  # a (2,) stateless seed, e.g. per replica from train_step
                u = tf.random.stateless_uniform(tf.shape(x), seed=seed, dtype=x.dtype)
            else:
                u = keras.random.uniform(tf.shape(x), seed=self.seed_generator if seed is None else seed,
                                         dtype=x.dtype)
            v = (x * (b - 1.0) + u) / b
            log_jac -= self.event_size * math.log(b)
        if self.logit_alpha is not None:
            a = self.logit_alpha
            w = a + (1.0 - 2.0 * a) * v
            v = tf.math.log(w) - tf.math.log1p(-w)
            log_jac += self._reduce(math.log(1.0 - 2.0 * a) - tf.math.log(w) - tf.math.log1p(-w))
        z, log_det = self.flow.inverse(v)  # data -> base: the flow's inverse
        base = -0.5 * self._reduce(tf.square(z)) - 0.5 * self.event_size * _LOG_2PI
        return base + log_det + log_jac

    def call(self, x, training=None):
        return self._log_prob(x)

    # ----------------------------------------------------------- public API

    def _check(self, x, name="x"):
        x = _inputs.check_input(x, self.data_shape, None, name=name, owner="FlowModel")
        if (self.dequantize or self.logit_alpha is not None) and tf.executing_eagerly():
            lo, hi = float(tf.reduce_min(x)), float(tf.reduce_max(x))
            if lo < 0.0 or hi > 1.0:
                raise ValueError(f"FlowModel: `{name}` must lie in [0, 1] with dequantize/logit_alpha "
                                 f"set (received min {lo:.4g}, max {hi:.4g}).")
        return x

    def log_prob(self, x, seed=None):
        """log p(x) in nats, `(batch,)`. With dequantisation, a one-sample
        lower bound on the discrete log-likelihood (`seed` fixes the noise)."""
        return self._log_prob(self._check(x), seed=seed)

    def bits_per_dim(self, x, seed=None):
        """-log p(x) / (D ln 2), `(batch,)`."""
        return -self.log_prob(x, seed=seed) / (self.event_size * math.log(2.0))

    def sample(self, n, temperature=1.0, seed=None):
        """`n` samples `(n, *input_shape)`; stateless (reproducible) when
        `seed` is an int, else from the model's SeedGenerator."""
        n = positive_int(n, "n")
        if not isinstance(temperature, (int, float)) or not temperature > 0:
            raise ValueError(f"Expected `temperature` to be a positive number. Received: temperature={temperature!r}")
        dtype = self.flow.compute_dtype
        z = float(temperature) * keras.random.normal((n, *self.data_shape), dtype=dtype,
                                                     seed=self.seed_generator if seed is None else seed)
        return self.generate(z)

    def generate(self, z):
        """Maps base draws `z (n, *input_shape)` to data: the flow's forward
        (base -> data), then the logit and dequantisation steps undone (onto
        the grid of `num_bins` levels). Tensor-friendly: serving signatures
        call it with their own stateless noise."""
        v, _ = self.flow(tf.cast(z, self.flow.compute_dtype))
        if self.logit_alpha is not None:
            v = (tf.sigmoid(v) - self.logit_alpha) / (1.0 - 2.0 * self.logit_alpha)
        if self.dequantize == "uniform":
            b = self.num_bins
            v = tf.clip_by_value(tf.floor(v * b), 0.0, b - 1.0) / (b - 1.0)
        return v

    # ------------------------------------------------------------- training

    def fit(self, x=None, *args, **kwargs):
        # ActNorm's data init on the first global batch, before a strategy's
        # replicas split it (a no-op on one device: the first step does it).
        _steps.data_init_before_fit(self, x, kwargs.get("batch_size"),
                                    lambda b: self._log_prob(b[0] if isinstance(b, (tuple, list)) else b))
        return super().fit(x, *args, **kwargs)

    @property
    def metrics(self):
        return [self.loss_tracker, self.bpd_tracker]

    def _update(self, loss, batch_size):
        # Weighted by the batch: per-example means over the epoch, also across
        # replicas holding unequal shares of a partial batch.
        w = tf.cast(batch_size, loss.dtype)
        self.loss_tracker.update_state(loss, sample_weight=w)
        self.bpd_tracker.update_state(loss / (self.event_size * math.log(2.0)), sample_weight=w)
        return _steps.step_logs({"loss": self.loss_tracker.result(), "bits_per_dim": self.bpd_tracker.result()})

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(self._log_prob(x, seed=self._noise_seed()))
            total = loss + tf.add_n(self.losses) if self.losses else loss
        # Global-batch weighting under tf.distribute, loss scaling, clipping.
        _steps.minimize(self, tape, total, tf.shape(x)[0], self.trainable_weights)
        return self._update(loss, tf.shape(x)[0])

    def _noise_seed(self):
        """Dequantisation noise seed, distinct per replica (None: no noise)."""
        if self.dequantize is None:
            return None
        return _steps.replica_seed(self.seed_generator.next())

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        return self._update(-tf.reduce_mean(self._log_prob(x, seed=self._noise_seed())), tf.shape(x)[0])

    def get_config(self):
        config = super().get_config()
        config.update(flow=keras.saving.serialize_keras_object(self.flow),
                      input_shape=list(self.data_shape), dequantize=self.dequantize,
                      num_bins=self.num_bins, logit_alpha=self.logit_alpha, base=self.base,
                      seed=self.seed)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["flow"] = keras.saving.deserialize_keras_object(config["flow"])
        return cls(**config)
