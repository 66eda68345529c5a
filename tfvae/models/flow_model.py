"""Density model p(x) or p(x | c): a base distribution pushed through a flow."""

import math

import keras
import numpy as np
import tensorflow as tf

from tfvae import priors
from tfvae.flows.base import Flow
from tfvae.models import _inputs
from tfvae.models import _steps
from tfvae.models._build import ReplicaSafeBuild
from tfvae.models._execution import AutoStepsPerExecution
from tfvae.nets._validate import check_fits_in_memory, positive_float, positive_int, positive_int_tuple

_BASES = ("normal", "diagonal", "mixture")


@keras.saving.register_keras_serializable(package="tfvae")
class FlowModel(AutoStepsPerExecution, ReplicaSafeBuild, keras.Model):
    """Normalizing-flow density, unconditional or conditional, trained by
    maximum likelihood.

    The flow's forward maps base -> data and its inverse data -> base (the
    orientation of every tfvae flow). Data x (shape `input_shape`) is mapped
    to s (dequantisation, logit), then u, L = flow.inverse(s [, c]) with
    L = log|det ∂u/∂s|, and u (flattened to D numbers) is scored by the
    base p_u. Every term is kept, so `log_prob` is in nats per example:

        dequantize="uniform" (x in [0, 1] on the grid k/(B-1), B = num_bins):
            v = (x (B-1) + ε) / B,  ε ~ U[0, 1)^D
            log P(k) >= E_ε[log p(v)] - D log B      (Jensen; the -D log B
            is the log-Jacobian of dividing by B, so `log_prob` is a
            one-sample lower bound on the *discrete* log-likelihood)
        logit_alpha=α:
            w = α + (1 - 2α) v,  s = log w - log(1 - w)
            log|ds/dv| = Σ [log(1 - 2α) - log w - log(1 - w)]
        log p(x [| c]) = log p_u(u) + L + log|ds/dv| [- D log B]
        bits_per_dim = -log p(x) / (D ln 2)

    Conditional density p(x | c): when the flow is conditional (its
    `context_size` is set, e.g. `NSF(context_size=1)`; or pass
    `context_size=` here for a flow that infers it), c of shape `(batch,
    context_size)` is the flow's context everywhere: training data are
    `(x, c)` pairs, `log_prob(x, c)`, `sample(n, c)`.

    Base p_u ("normal": N(0, I), no weights; "diagonal": a learned
    `priors.DiagonalNormal`; "mixture": a learned
    `priors.MixtureOfGaussians`; or any `tfvae.priors.Prior` instance),
    trained in the same `fit` as the flow. Sampling inverts every step:
    u ~ p_u at temperature T (Gaussian noise scaled by T), s = flow(u [, c]),
    v = (sigmoid(s) - α) / (1 - 2α), then (dequantised models)
    x = clip(floor(v B), 0, B-1) / (B-1).

    Args:
        flow: a `tfvae.flows` layer with an inverse, on `(batch, *input_shape)`.
        input_shape: shape of one example, e.g. `(2,)` or `(8, 8, 1)`.
        dequantize: None (continuous data) or "uniform".
        num_bins: B, number of discrete levels (>= 2), with "uniform".
        logit_alpha: None or α in (0, 0.5): the logit transform for data in
            [0, 1].
        base: "normal", "diagonal", "mixture" or a `tfvae.priors.Prior`.
        context_size: width of the condition c; default: the flow's own
            `context_size` (None: an unconditional model).
        seed: seed of the model's SeedGenerator (dequantisation noise,
            samples without an explicit seed).

    Raises:
        ValueError: invalid arguments; inputs with a wrong shape or dtype,
            NaN/Inf, (dequantize / logit) values outside [0, 1], or a
            condition missing from a conditional model (or given to an
            unconditional one).

    Example:
        >>> model = tfvae.FlowModel(tfvae.flows.NSF(context_size=1), input_shape=(2,))
        >>> model.compile(optimizer=keras.optimizers.Adam(1e-3))
        >>> model.fit(tf.data.Dataset.from_tensor_slices((x, c)).batch(200), epochs=20)
        >>> model.log_prob(x, c); model.sample(16, c[:1], seed=0)

    References:
        Dinh et al., "Density estimation using Real NVP", ICLR 2017 (logit
        transform, bits/dim); Theis et al., "A note on the evaluation of
        generative models", ICLR 2016 (dequantisation bound);
        Papamakarios et al., "Normalizing Flows for Probabilistic Modeling
        and Inference", JMLR 2021 (conditional flows, learned bases).
    """

    def __init__(self, flow, input_shape, dequantize=None, num_bins=256, logit_alpha=None,
                 base="normal", context_size=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(flow, Flow) or not flow.has_inverse:
            raise ValueError("Expected `flow` to be a tfvae.flows layer with an inverse (the density "
                             f"direction). Received: flow={flow!r}")
        self.data_shape = positive_int_tuple(input_shape, "input_shape")
        if dequantize not in (None, "uniform"):
            raise ValueError(f"Expected `dequantize` to be None or 'uniform'. Received: dequantize={dequantize!r}")
        self.num_bins = positive_int(num_bins, "num_bins")
        if self.num_bins < 2:
            raise ValueError(f"Expected `num_bins` to be at least 2. Received: num_bins={num_bins!r}")
        if logit_alpha is not None and not (isinstance(logit_alpha, (int, float)) and not isinstance(logit_alpha, bool)
                                            and 0.0 < logit_alpha < 0.5):
            raise ValueError(f"Expected `logit_alpha` to be None or in (0, 0.5). Received: logit_alpha={logit_alpha!r}")
        if context_size is None:
            context_size = getattr(flow, "context_size", None)
        elif not flow.accepts_context:
            raise ValueError(f"Expected a conditional flow with `context_size`; {type(flow).__name__} takes no "
                             f"context. Received: context_size={context_size!r}")
        self.context_size = None if context_size is None else positive_int(context_size, "context_size")
        self.flow = flow
        self.dequantize = dequantize
        self.logit_alpha = None if logit_alpha is None else float(logit_alpha)
        self.seed = seed
        self.event_size = int(np.prod(self.data_shape))
        self.base_distribution = _make_base(base, self.event_size)
        # The config's form of `base`: its name, or the prior's own config.
        self.base = base if isinstance(base, str) else keras.saving.serialize_keras_object(self.base_distribution)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.bpd_tracker = keras.metrics.Mean(name="bits_per_dim")
        # Build every weight now: Keras would otherwise trace `call` on
        # symbolic KerasTensors before `fit`, which TFP cannot handle.
        if not flow.built:
            flow._build_with((None, *self.data_shape), None if self.context_size is None else (None, self.context_size))
        if not self.base_distribution.built:
            self.base_distribution.build((None, self.event_size))
        self.built = True

    @property
    def conditional(self):
        return self.context_size is not None

    # --------------------------------------------------------------- maths

    def _reduce(self, t):
        return tf.reduce_sum(tf.reshape(t, (tf.shape(t)[0], -1)), axis=-1)

    def _log_prob(self, x, context=None, seed=None):
        """log p(x [| c]) per example for validated float32 inputs (no checks)."""
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
        context = None if context is None else tf.cast(context, x.dtype)
        z, log_det = self.flow.inverse(v, context=context)  # data -> base: the flow's inverse
        base = tf.cast(self.base_distribution.log_prob(tf.reshape(z, (-1, self.event_size))), x.dtype)
        return base + log_det + log_jac

    def call(self, x, training=None):
        x, context = self._unpack(x)
        return self._log_prob(x, context)

    # ----------------------------------------------------------- public API

    def _check(self, x, context=None, name="x"):
        x = _inputs.check_input(x, self.data_shape, None, name=name, owner="FlowModel")
        if (self.dequantize or self.logit_alpha is not None) and tf.executing_eagerly():
            lo, hi = float(tf.reduce_min(x)), float(tf.reduce_max(x))
            if lo < 0.0 or hi > 1.0:
                raise ValueError(f"FlowModel: `{name}` must lie in [0, 1] with dequantize/logit_alpha "
                                 f"set (received min {lo:.4g}, max {hi:.4g}).")
        return x, self._check_context(context, rows=x.shape[0], broadcast=False)

    def _check_context(self, context, rows, broadcast):
        """The condition checked eagerly: given exactly when the model is
        conditional, `(rows, context_size)`, or `(1, context_size)` too when
        `broadcast` (one condition for every sample). Rows unknown while
        tracing are checked in-graph by the serving signatures."""
        if (context is None) != (self.context_size is None):
            raise ValueError(f"FlowModel: expected a condition `c` of shape (batch, {self.context_size})."
                             if context is None else
                             "FlowModel: received a condition `c`, but the model is unconditional "
                             "(its flow has no `context_size`).")
        if context is None:
            return None
        context = _inputs.check_input(context, (self.context_size,), None, name="c", owner="FlowModel")
        allowed = (1, rows) if broadcast else (rows,)
        if rows is not None and context.shape[0] is not None and context.shape[0] not in allowed:
            raise ValueError(f"FlowModel: expected `c` to have {' or '.join(map(str, sorted(set(allowed))))} rows. "
                             f"Received: c.shape={tuple(context.shape)}")
        return context

    def log_prob(self, x, context=None, seed=None):
        """log p(x [| c]) in nats, `(batch,)`. With dequantisation, a
        one-sample lower bound on the discrete log-likelihood (`seed` fixes
        the noise). `context`: `(batch, context_size)` for a conditional model."""
        x, context = self._check(x, context)
        return self._log_prob(x, context, seed=seed)

    def bits_per_dim(self, x, context=None, seed=None):
        """-log p(x [| c]) / (D ln 2), `(batch,)`."""
        return -self.log_prob(x, context, seed=seed) / (self.event_size * math.log(2.0))

    def sample(self, n, context=None, seed=None, temperature=1.0):
        """`n` samples `(n, *input_shape)`, drawn given `context` (`(1, c)` or
        `(n, c)`) for a conditional model; stateless (reproducible) when
        `seed` is an int, else from the model's SeedGenerator."""
        n = positive_int(n, "n")
        temperature = positive_float(temperature, "temperature")
        # float32 base draws for all n samples, and about as much again three
        # times over for the flow's intermediate tensors: 4 bytes × n × D × 4.
        check_fits_in_memory(4 * n * self.event_size * 4, f"sample({n})",
                             "draw fewer samples per call (e.g. a loop over calls of 1024 with seeds 0, 1, ...) "
                             "and concatenate them.")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        context = self._check_context(context, rows=n, broadcast=True)
        if context is not None:
            context = tf.broadcast_to(context, (n, self.context_size))
        pair = self.seed_generator.next() if seed is None else tf.constant([int(seed), 0], tf.int64)
        return self.generate(self.draw_base(n, pair, float(temperature)), context)

    def draw_base(self, n, seed, temperature=1.0):
        """u ~ p_u at temperature T, `(n, *input_shape)`; `seed` a `(2,)`
        stateless seed (`sample(seed=s)` uses `[s, 0]`)."""
        u = self.base_distribution.sample(n, seed, temperature=temperature)
        return tf.reshape(tf.cast(u, self.flow.compute_dtype), tf.concat([[n], self.data_shape], 0))

    def generate(self, z, context=None):
        """Maps base draws `z (n, *input_shape)` to data: the flow's forward
        (base -> data), then the logit and dequantisation steps undone (onto
        the grid of `num_bins` levels). Tensor-friendly: serving signatures
        call it with their own stateless noise."""
        v, _ = self.flow(tf.cast(z, self.flow.compute_dtype),
                         context=None if context is None else tf.cast(context, self.flow.compute_dtype))
        if self.logit_alpha is not None:
            v = (tf.sigmoid(v) - self.logit_alpha) / (1.0 - 2.0 * self.logit_alpha)
        if self.dequantize == "uniform":
            b = self.num_bins
            v = tf.clip_by_value(tf.floor(v * b), 0.0, b - 1.0) / (b - 1.0)
        return v

    # ------------------------------------------------------------- training

    def _unpack(self, data):
        """`(x, c)` from a batch: c is the second element of a conditional
        model's tuple; an unconditional model ignores anything after x."""
        if not isinstance(data, (tuple, list)):
            if self.conditional:
                raise ValueError("FlowModel: a conditional model trains on (x, c) pairs; received x alone.")
            return data, None
        return data[0], (data[1] if self.conditional else None)

    def fit(self, x=None, *args, **kwargs):
        if isinstance(x, tf.data.Dataset):
            # A dataset shuffles itself; Keras would warn that `shuffle` is ignored.
            kwargs.setdefault("shuffle", False)
        # ActNorm's data init on the first global batch, before a strategy's
        # replicas split it (a no-op on one device: the first step does it).
        y = args[0] if args else kwargs.get("y")
        first = (x, y) if self.conditional and y is not None and not isinstance(x, tf.data.Dataset) else x
        _steps.data_init_before_fit(self, first, kwargs.get("batch_size"), lambda b: self._log_prob(*self._unpack(b)))
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
        x, context = self._unpack(data)
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(self._log_prob(x, context, seed=self._noise_seed()))
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
        x, context = self._unpack(data)
        return self._update(-tf.reduce_mean(self._log_prob(x, context, seed=self._noise_seed())), tf.shape(x)[0])

    def get_config(self):
        config = super().get_config()
        config.update(flow=keras.saving.serialize_keras_object(self.flow),
                      input_shape=list(self.data_shape), dequantize=self.dequantize,
                      num_bins=self.num_bins, logit_alpha=self.logit_alpha, base=self.base,
                      seed=self.seed)
        if self.context_size is not None:  # unconditional configs stay as they were
            config["context_size"] = self.context_size
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["flow"] = keras.saving.deserialize_keras_object(config["flow"])
        if isinstance(config.get("base"), dict):
            config["base"] = keras.saving.deserialize_keras_object(config["base"])
        return cls(**config)


def _make_base(base, event_size):
    """The base distribution p_u over D = `event_size` numbers."""
    if isinstance(base, str) and base not in _BASES:
        raise ValueError(f"Expected `base` to be one of {_BASES} or a tfvae.priors.Prior. Received: base={base!r}")
    if not isinstance(base, (str, priors.Prior)):
        raise ValueError(f"Expected `base` to be one of {_BASES} or a tfvae.priors.Prior. Received: base={base!r}")
    if isinstance(base, priors.Prior) and getattr(base, "requires_context", False):
        raise ValueError(f"Expected an unconditional base distribution. Received: base={base!r}")
    return priors.get(base, latent_dim=event_size)
