"""`VariationalApproximation`: fit q to an unnormalised density with `fit`."""

import keras
import tensorflow as tf

from tfvae.nets._validate import positive_int
from tfvae.vi import estimates
from tfvae.vi.families import Family


@keras.saving.register_keras_serializable(package="tfvae")
class VariationalApproximation(keras.Model):
    """q(z) ≈ p(z) = p̃(z) / Z, fitted by reverse KL (variational inference).

    Minimising KL(q || p) = E_q[log q − log p̃] + log Z over q's weights φ
    is maximising the evidence lower bound

        ELBO(φ) = E_q[log p̃(z) − log q(z)] = E_q[log p̃(z)] + H[q] ≤ log Z,

    with equality iff q = p. Each training step draws K = `num_samples`
    reparameterised z_k = T_φ(ε_k), ε_k ~ N(0, I), and follows the gradient
    of −(1/K) Σ_k [log p̃(z_k) − log q(z_k)] (metrics: `loss` = −ELBO and
    `elbo`, running means over the epoch). Reverse KL is mode-seeking: q
    puts little mass where p has none, and may under-cover p.

    The target `log_prob_fn` is any TensorFlow callable `(n, d) -> (n,)` of
    float32 points; it need not be normalised. It is not saved with the
    model (`.keras` keeps the family and its weights): pass it again
    (`model.log_prob_fn = fn`) to continue training or to estimate the
    ELBO of a reloaded model. `sample` and `log_prob` need no target.

    Training guards: a step whose loss or gradients are NaN/±inf applies
    zero gradients, and `fit` then stops with a `FloatingPointError`
    naming the step (typically q put mass where `log_prob_fn` is −inf or
    NaN, or the learning rate is too high).

    Args:
        family: a `tfvae.vi` family layer (`MeanFieldGaussian`,
            `FullRankGaussian`, `FlowFamily`).
        log_prob_fn: the target's log p̃, or None (set it before `fit`).
        num_samples: K, Monte Carlo samples per training step.
        seed: seed of the training noise's `SeedGenerator`.
        stick_the_landing: drop the score term of the gradient (Roeder et
            al., 2017; see `Family.path_log_prob`); None: where the family
            supports it (every built-in family: Gaussian ones in closed
            form, flows through their Jacobian), else the plain
            reparameterised gradient.

    Raises:
        ValueError: a bad family, target or `num_samples`.
    """

    def __init__(self, family, log_prob_fn=None, num_samples=64, seed=None, stick_the_landing=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(family, Family):
            raise ValueError("Expected `family` to be a tfvae.vi family layer (MeanFieldGaussian, "
                             f"FullRankGaussian, FlowFamily). Received: family={family!r}")
        self.family = family
        self.log_prob_fn = log_prob_fn
        self.num_samples = positive_int(num_samples, "num_samples")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        self.seed = seed
        supported = family.has_path_gradient
        if stick_the_landing is None:
            stick_the_landing = supported
        if stick_the_landing and not supported:
            raise ValueError(f"`stick_the_landing=True` needs a family with a path gradient "
                             f"(`has_path_gradient`). Received: family={type(family).__name__}")
        self.stick_the_landing = bool(stick_the_landing)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.elbo_tracker = keras.metrics.Mean(name="elbo")
        self.built = True  # the family built its weights already

    @property
    def log_prob_fn(self):
        return self._log_prob_fn

    @log_prob_fn.setter
    def log_prob_fn(self, fn):
        if fn is not None and not callable(fn):
            raise ValueError("Expected `log_prob_fn` to be a callable mapping points (n, d) to "
                             f"log-densities (n,). Received: log_prob_fn={fn!r}")
        # Not a tracked attribute: a plain function is no Keras state.
        object.__setattr__(self, "_log_prob_fn", fn)

    @property
    def dim(self):
        return self.family.dim

    # ------------------------------------------------------------- q itself

    def call(self, z):
        """log q(z), `(n, d) -> (n,)`."""
        return self.family.log_prob(z)

    def log_prob(self, z):
        """log q(z), `(n, d) -> (n,)`; needs an invertible family."""
        return self.family.log_prob(z)

    def sample(self, n, seed=None):
        """`(n, d)` draws from q (stateless and reproducible for an int seed)."""
        return self.family.sample(n, seed)

    def sample_and_log_prob(self, n, seed=None):
        """`(z, log q(z))`, `(n, d)` and `(n,)`: works for forward-only flows."""
        return self.family.sample_and_log_prob(n, seed)

    # --------------------------------------------------------- the estimates

    def _target(self, log_prob_fn):
        fn = self.log_prob_fn if log_prob_fn is None else log_prob_fn
        if fn is None:
            raise ValueError("This VariationalApproximation has no target (`log_prob_fn` is not saved with "
                             "the model). Set `model.log_prob_fn = fn` or pass `log_prob_fn=`.")
        if not callable(fn):
            raise ValueError(f"Expected `log_prob_fn` to be callable. Received: log_prob_fn={fn!r}")
        return fn

    def elbo(self, num_samples=5000, seed=0, log_prob_fn=None, chunk_size=estimates.DEFAULT_CHUNK_SIZE):
        """E_q[log p̃ − log q] ≤ log Z from S draws: an `Estimate` (value,
        std_error, num_samples); `float(...)` gives the value."""
        return estimates.elbo(self.family, self._target(log_prob_fn), num_samples, seed, chunk_size)

    def log_normalizer(self, num_samples=5000, seed=0, log_prob_fn=None,
                       chunk_size=estimates.DEFAULT_CHUNK_SIZE):
        """Importance-sampled log Z = log (1/S) Σ p̃(z_s)/q(z_s), z_s ~ q: an
        `Estimate` with std error and ESS. Biased low (Jensen), less than
        the ELBO's gap; see `tfvae.vi.estimates`."""
        return estimates.log_normalizer(self.family, self._target(log_prob_fn), num_samples, seed, chunk_size)

    # ------------------------------------------------------------- training

    @property
    def metrics(self):
        return [self.loss_tracker, self.elbo_tracker]

    def train_step(self, data):
        fn = self._target(None)
        with tf.GradientTape() as tape:
            eps = self.family.noise(self.num_samples, self.seed_generator)
            # Same values; with the path gradient the score term's gradient
            # (mean zero) is dropped.
            transform = self.family.path_transform if self.stick_the_landing else self.family.transform
            z, log_q = transform(eps)
            elbo = tf.reduce_mean(estimates.checked_log_prob(fn, z) - log_q)
            loss = -elbo
        weights = self.trainable_variables
        grads = tape.gradient(loss, weights)
        grads = [tf.zeros_like(w) if g is None else g for g, w in zip(grads, weights)]
        # A non-finite step must not poison the weights: apply zeros, and
        # let `StopOnNonFinite` end `fit` with a clear error.
        finite = tf.math.is_finite(loss)
        for g in grads:
            finite = tf.logical_and(finite, tf.reduce_all(tf.math.is_finite(g)))
        grads = [tf.where(finite, g, tf.zeros_like(g)) for g in grads]
        self.optimizer.apply(grads, weights)
        self.loss_tracker.update_state(loss)
        self.elbo_tracker.update_state(elbo)
        return {"loss": self.loss_tracker.result(), "elbo": self.elbo_tracker.result()}

    def check_target(self):
        """Calls the target eagerly on 2 draws from q; raises a ValueError
        if it is not a callable `(n, d) -> (n,)` of float log-densities."""
        fn = self._target(None)
        z = self.family.sample(2, seed=0)
        estimates.checked_log_prob(fn, z)

    def fit(self, x=None, y=None, steps_per_epoch=None, callbacks=None, **kwargs):
        """Keras `fit`; with no data (`x=None`) it runs `steps_per_epoch`
        optimisation steps per epoch (the data would be ignored anyway).

        Raises:
            ValueError: no target, a bad target, or `x=None` without
                `steps_per_epoch`.
            FloatingPointError: the ELBO became NaN/±inf (see the class doc).
        """
        self.check_target()
        if x is None:
            if steps_per_epoch is None:
                raise ValueError("VariationalApproximation.fit needs `steps_per_epoch` (optimisation steps "
                                 "per epoch) when called without data.")
            x = tf.data.Dataset.from_tensors(tf.zeros((1,))).repeat()
        callbacks = list(callbacks or []) + [StopOnNonFinite()]
        kwargs.setdefault("shuffle", False)  # nothing to shuffle (and Keras warns on datasets)
        return super().fit(x, y, steps_per_epoch=steps_per_epoch, callbacks=callbacks, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(family=keras.saving.serialize_keras_object(self.family),
                      num_samples=self.num_samples, seed=self.seed, stick_the_landing=self.stick_the_landing)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["family"] = keras.saving.deserialize_keras_object(config["family"])
        return cls(**config)


class StopOnNonFinite(keras.callbacks.Callback):
    """Ends `fit` with a `FloatingPointError` at the first NaN/inf loss."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not tf.math.is_finite(tf.convert_to_tensor(loss)):
            self.model.stop_training = True
            raise FloatingPointError(
                f"The ELBO became {-float(loss)} at step {batch + 1} of this epoch. The weights keep their "
                "last finite values (non-finite gradients were not applied). Usual causes: q put mass "
                "where `log_prob_fn` is -inf or NaN (outside its support), or the learning rate is too "
                "high.")
