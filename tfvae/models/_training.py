"""The bound-maximising `train_step` / `test_step` shared by latent-variable models.

A model using this mixin provides `bound_terms(x, k, seed, training)`
returning `(log p(x|z), log p(z), log q(z|x))`, each `(k, batch)`, and an
optional per-dimension analytic KL `(batch, D)`; plus the attributes
`num_importance_samples`, `free_bits`, `latent_dim`, `beta_weight`,
`doubly_reparameterized` and `seed_generator`. A conditional model overrides `unpack_data(data) ->
(x, condition)`; the condition (or None) is passed on to `bound_terms`
as `condition=`. A model with `doubly_reparameterized = True` also
accepts `gradient_scale=` in `bound_terms` (see
`tfvae.objectives.gradients`): training then gets the DReG gradient of the
same loss. A model with `regularizes_latents = True` (a VAE with an
InfoVAE or β-TCVAE option) also accepts `return_latents=True` in
`bound_terms`, and `tfvae.models._regularizers.regularize` adds its terms
(K = 1); with `kl_per_dimension` the analytic KL of every latent dimension
is reported as `kl_0`, `kl_1`, .... The density maths lives in the model and in
`tfvae.objectives`; this module only turns it into a loss and metrics.
"""

import keras
import tensorflow as tf

from tfvae.models import _regularizers
from tfvae.models import _steps
from tfvae.objectives.bounds import free_bits_kl, iwae_bound
from tfvae.objectives.gradients import GradientScale, dreg_factor


class BoundTrainer:

    def init_bound_metrics(self, with_iwae, extra=()):
        names = ["loss", "elbo", "reconstruction", "kl"] + (["iwae"] if with_iwae else []) + list(extra)
        self.bound_trackers = {n: keras.metrics.Mean(name=n) for n in names}

    @property
    def metrics(self):
        return list(self.bound_trackers.values())

    def unpack_data(self, data):
        """A batch from `fit`/`evaluate` -> `(x, condition or None)`."""
        return _features(data), None

    def compute_bound(self, x, seed, training, condition=None):
        """Returns the scalar loss and the per-example metric values."""
        k = self.num_importance_samples
        extra = {} if condition is None else {"condition": condition}
        scale = None
        if training and self.doubly_reparameterized:
            extra["gradient_scale"] = scale = GradientScale()
        regularized = getattr(self, "regularizes_latents", False)  # a VAE's InfoVAE / β-TCVAE terms
        if regularized:
            extra["return_latents"] = True
        log_px, log_pz, log_q, kl_dims, *latents = self.bound_terms(x, k, seed, training, **extra)
        reconstruction = tf.reduce_mean(log_px, axis=0)
        kl = tf.reduce_sum(kl_dims, axis=-1) if kl_dims is not None else tf.reduce_mean(log_q - log_pz, axis=0)
        values = {"elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl}
        if getattr(self, "kl_per_dimension", False):
            values.update({f"kl_{d}": kl_dims[:, d] for d in range(self.latent_dim)})
        penalty = 0.0
        beta = tf.cast(self.beta_weight, tf.float32)
        if scale is not None:  # DReG; at K = 1 the path derivative (factor 1)
            scale.factor = dreg_factor(log_px + beta * (log_pz - log_q), beta)[..., None]
        if k == 1:
            kl_term = None  # β-TCVAE replaces the KL term; InfoVAE adds a penalty
            if regularized:
                kl_term, penalty = _regularizers.regularize(self, latents[0], log_pz, values, seed, condition)
            if kl_term is None and self.free_bits > 0:
                kl_term = free_bits_kl(kl_dims if kl_dims is not None else kl, self.free_bits, self.latent_dim)
            elif kl_term is None:
                kl_term = tf.reduce_mean(kl)
            loss = -(tf.reduce_mean(reconstruction) - beta * kl_term) + penalty
        else:
            values["iwae"] = iwae_bound(log_px + log_pz - log_q)
            loss = -tf.reduce_mean(iwae_bound(log_px + beta * (log_pz - log_q)))
        return loss, values

    def _update_metrics(self, loss, values):
        # Weighted by the batch, so the epoch's loss is a per-example mean like
        # the other metrics, also across replicas with unequal shares.
        self.bound_trackers["loss"].update_state(loss, sample_weight=tf.cast(tf.shape(values["elbo"])[0], loss.dtype))
        for name, v in values.items():
            self.bound_trackers[name].update_state(v)
        return _steps.step_logs({m.name: m.result() for m in self.metrics})

    def train_step(self, data):
        x, condition = self.unpack_data(data)
        seed = _steps.replica_seed(self.seed_generator.next())
        with tf.GradientTape() as tape:
            loss, values = self.compute_bound(x, seed, training=True, condition=condition)
        # Global-batch weighting under tf.distribute, loss scaling, clipping.
        _steps.minimize(self, tape, loss, tf.shape(x)[0])
        return self._update_metrics(loss, values)

    def test_step(self, data):
        x, condition = self.unpack_data(data)
        loss, values = self.compute_bound(x, _steps.replica_seed(self.seed_generator.next()), training=False,
                                          condition=condition)
        return self._update_metrics(loss, values)

    def predict_step(self, data):
        return self(_features(data), training=False)


def _features(data):
    if isinstance(data, (tuple, list)):
        data = data[0]
    return tf.cast(data, tf.float32)
