"""The conditional VAE: encoder, decoder and prior all see a condition c."""

import math

import keras
import numpy as np
import tensorflow as tf

from tfvae.models import _inputs
from tfvae.models._sampling import decoded_samples
from tfvae.models.vae import VAE
from tfvae.nets._validate import positive_int, positive_int_tuple


@keras.saving.register_keras_serializable(package="tfvae")
class ConditionalVAE(VAE):
    """Conditional VAE p(x, z | c) = p(z | c) p(x | z, c), q(z | x, c).

    The condition c is a class label (`num_classes`: one-hot inside the
    model) or any observed array (`condition_shape`, e.g. the top half of an
    image for inpainting), flattened to c̃ of width C:
        q(z | x, c) = N(μ([h(x), c̃]), σ([h(x), c̃])²)   (+ posterior flow with
                      context [h(x), c̃])
        p(x | z, c) = likelihood(decoder([z, c̃]))
        p(z | c)    = N(0, I) ("normal"), N(μ(c̃), σ(c̃)²) ("conditional_normal"),
                      or any `tfvae.priors.Prior` (conditional flows take c̃).
    The bound is `VAE`'s, per example:
        elbo = E_q[log p(x|z,c)] − KL(q(z|x,c) || p(z|c))  ≤  log p(x | c).

    Data are `(x, c)` pairs: `fit(x, c)`, `fit((x, c))` or a dataset of
    `(x, c)` tuples (e.g. `tfvae.data.load(..., with_labels=True)`).

    Args:
        input_shape, latent_dim: as in `VAE`.
        condition_shape: shape of one condition, e.g. `(4, 8, 1)`; or
        num_classes: integer labels in [0, num_classes) (or one-hot rows).
            Exactly one of the two.
        prior: "normal", "conditional_normal" or a `tfvae.priors.Prior`
            (not `VampPrior`).
        **kwargs: every other `VAE` argument.

    Raises:
        ValueError: both or neither of `condition_shape`/`num_classes`, a bad
            value for either, a `VampPrior`, and (at call time) a missing
            condition, a condition of the wrong shape or batch, non-finite
            values, or labels outside [0, num_classes).

    References:
        Sohn, Lee & Yan, "Learning Structured Output Representation using
        Deep Conditional Generative Models", NeurIPS 2015.
    """

    def __init__(self, input_shape, latent_dim, condition_shape=None, num_classes=None, prior="normal", **kwargs):
        if (condition_shape is None) == (num_classes is None):
            raise ValueError("Expected exactly one of `condition_shape` or `num_classes`. Received: "
                             f"condition_shape={condition_shape!r}, num_classes={num_classes!r}")
        # Set before VAE.__init__, which sizes the networks and prior to it.
        if num_classes is not None:
            self.num_classes, self.condition_shape = positive_int(num_classes, "num_classes"), None
            self.condition_dim = self.num_classes
        else:
            self.num_classes = None
            self.condition_shape = positive_int_tuple(condition_shape, "condition_shape")
            self.condition_dim = math.prod(self.condition_shape)
        super().__init__(input_shape, latent_dim, prior=prior, **kwargs)

    # -- the condition ------------------------------------------------------------
    def condition_tensor(self, c):
        """Raw condition -> flat float32 `(batch, C)`: labels are one-hot
        encoded, arrays flattened. No checks (graph-safe)."""
        c = tf.convert_to_tensor(c)
        if self.num_classes is not None and c.shape.rank == 1:
            return tf.one_hot(tf.cast(c, tf.int32), self.num_classes, dtype=tf.float32)
        return tf.reshape(tf.cast(c, tf.float32), [-1, self.condition_dim])

    def _describe(self):
        if self.num_classes is not None:
            return (f"integer labels of shape (batch,) in [0, {self.num_classes}) or one-hot rows "
                    f"(batch, {self.num_classes})")
        return "an array of shape (batch, " + ", ".join(map(str, self.condition_shape)) + ")"

    def _check_condition(self, c, batch, method):
        """Eager checks with clear errors; returns the raw condition as a tensor."""
        owner = type(self).__name__
        if c is None:
            raise ValueError(f"{owner}.{method} needs the condition `c`: {self._describe()}.")
        if self.num_classes is not None:
            arr = c.numpy() if tf.is_tensor(c) else np.asarray(c)
            if arr.dtype == object or arr.dtype.kind not in "biuf":
                raise ValueError(f"{owner} expected `c` to be numeric labels; received dtype {arr.dtype}.")
            if arr.ndim == 2 and arr.shape[1] == self.num_classes:
                checked = _inputs.check_input(arr, (self.num_classes,), None, name="c", owner=owner)
            elif arr.ndim == 1:
                bad = ~np.isfinite(arr) | (arr != np.round(arr)) | (arr < 0) | (arr >= self.num_classes)
                if arr.size and bad.any():
                    raise ValueError(f"{owner} expected `c` to hold labels in [0, {self.num_classes}); received "
                                     f"{arr[bad][:5].tolist()} (min {arr.min()}, max {arr.max()}).")
                checked = tf.constant(arr.astype(np.int32))
            else:
                raise ValueError(f"{owner} expected `c` to be {self._describe()}; received shape {arr.shape}.")
        else:
            checked = _inputs.check_input(c, self.condition_shape, None, name="c", owner=owner)
        if batch is not None and int(checked.shape[0]) != batch:
            raise ValueError(f"{owner} expected one condition per example: `x` has batch {batch}, "
                             f"`c` has batch {int(checked.shape[0])}.")
        return checked

    def _checked(self, x, c, method, check_support=True):
        x = self._check(x, check_support=check_support)
        return x, self.condition_tensor(self._check_condition(c, int(x.shape[0]), method))

    # -- public methods -------------------------------------------------------------
    def call(self, inputs, training=False):
        """`(x, c)` -> the mean reconstruction E[x | z = encode(x, c), c]."""
        x, c = inputs
        c = self.condition_tensor(c)
        return self.likelihood.mean(self.decoder_params(self._latent_mean(x, training, c), training, c))

    def encode(self, x, c=None):
        """Posterior location `(batch, latent_dim)` of q(z | x, c)."""
        x, c = self._checked(x, c, "encode", check_support=False)
        return self._latent_mean(x, condition=c)

    def decode(self, z, c=None):
        """Likelihood mean E[x | z, c], `(batch, *input_shape)`."""
        z = _inputs.check_input(z, (self.latent_dim,), None, name="z", owner=type(self).__name__)
        c = self.condition_tensor(self._check_condition(c, int(z.shape[0]), "decode"))
        return self.likelihood.mean(self.decoder_params(z, condition=c))

    def reconstruct(self, x, c=None):
        x, c = self._checked(x, c, "reconstruct", check_support=False)
        return self((x, c))

    def sample(self, num_samples, c=None, seed=None, mean=True, temperature=1.0):
        """`num_samples` draws z ~ p(z | c), decoded with the same c: the
        likelihood mean (default) or x ~ p(x | z, c) (`mean=False`).

        Args:
            c: `(num_samples, *condition_shape)` or `(num_samples,)` labels.
            temperature: scales p(z | c)'s noise, as in `VAE.sample`.
        """
        num_samples = positive_int(num_samples, "num_samples")
        c = self.condition_tensor(self._check_condition(c, num_samples, "sample"))
        return decoded_samples(self, num_samples, seed, mean, temperature,
                               lambda n, s, t: self.prior.sample(n, s, context=c, temperature=t), condition=c)

    def log_likelihood(self, x, c=None, num_samples=1000, chunk_size=None, seed=0):
        """Importance-sampled log p(x | c), nats per example, `(batch,)`:
        log (1/S) Σ_s p(x|z_s,c) p(z_s|c) / q(z_s|x,c), z_s ~ q(z|x,c)."""
        from tfvae.evaluation.loglik import importance_sampled_log_likelihood
        x, c = self._checked(x, c, "log_likelihood")
        return importance_sampled_log_likelihood(self, x, num_samples, chunk_size, seed, condition=c)

    # -- fit / evaluate -----------------------------------------------------------------
    def unpack_data(self, data):
        if isinstance(data, (tuple, list)) and len(data) == 1 and isinstance(data[0], (tuple, list)):
            data = data[0]
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError(f"{type(self).__name__} trains on (x, c) pairs: pass fit(x, c), fit((x, c)) "
                             "or a dataset of (x, c) tuples.")
        return tf.cast(data[0], tf.float32), self.condition_tensor(data[1])

    def predict_step(self, data):
        x, c = self.unpack_data(data)
        return self((x, c), training=False)

    def _checked_xy(self, x, y):
        if isinstance(x, tf.data.Dataset):
            return self._checked_data(x), y
        if isinstance(x, (tuple, list)) and y is None:
            x, y = self._checked_data(tuple(x))
            return x, y
        return self._checked_data((x, y))

    def _checked_data(self, data):
        owner = type(self).__name__
        if isinstance(data, tf.data.Dataset):
            spec = data.element_spec
            if not isinstance(spec, tuple) or len(spec) < 2:
                raise ValueError(f"{owner} expected a dataset of (x, c) tuples (e.g. tfvae.data.load(..., "
                                 f"with_labels=True)); received element_spec {spec}.")
            checked = _inputs.validated_dataset(data, self.data_shape, self.likelihood, owner)
            return checked.map(self._graph_checked_pair).prefetch(tf.data.AUTOTUNE)  # see validated_dataset
        if not isinstance(data, tuple) or len(data) != 2 or data[1] is None:
            raise ValueError(f"{owner} needs the condition `c` with the data: pass fit(x, c), fit((x, c)), "
                             f"validation_data=(x, c) or a dataset of (x, c) tuples; c is {self._describe()}.")
        x = self._check(data[0])
        return x.numpy(), self._check_condition(data[1], int(x.shape[0]), "fit").numpy()

    def _graph_checked_pair(self, x, c, *rest):
        """Per-batch condition checks inside a tf.data pipeline."""
        owner = type(self).__name__
        if self.num_classes is not None and c.shape.rank == 1:
            ok = tf.reduce_all((c >= 0) & (c < self.num_classes) & (tf.round(tf.cast(c, tf.float32))
                                                                     == tf.cast(c, tf.float32)))
            msg = f"{owner}: `c` has labels outside [0, {self.num_classes})."
        else:
            shape = (self.num_classes,) if self.num_classes is not None else self.condition_shape
            _inputs.check_static(tf.zeros([1] + list(shape)) if c.shape.rank is None else
                                 tf.zeros([1] + [d or 1 for d in c.shape[1:]]), shape, "c", owner)
            ok = tf.reduce_all(tf.math.is_finite(tf.cast(c, tf.float32)))
            msg = f"{owner}: `c` contains NaN or infinite values."
        with tf.control_dependencies([tf.debugging.Assert(ok, [msg])]):
            return (x, tf.identity(c)) + rest

    def get_config(self):
        config = super().get_config()
        config.update(condition_shape=None if self.condition_shape is None else list(self.condition_shape),
                      num_classes=self.num_classes)
        return config
