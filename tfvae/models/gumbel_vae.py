"""A VAE with categorical latents trained through the Gumbel-softmax relaxation."""

import keras
import tensorflow as tf

from tfvae import likelihoods as likelihoods_lib
from tfvae.models import _codes
from tfvae.models import _inputs
from tfvae.models import _steps
from tfvae.models._build import ReplicaSafeBuild
from tfvae.models._config import deserialize_layers
from tfvae.models._heads import DecoderHead, flatten_features
from tfvae.models._sampling import seed_tensor as _seed_tensor
from tfvae.models.vae import _layer
from tfvae.nets._validate import nonnegative_float, positive_int, positive_int_tuple
from tfvae.nets.mlp import MLP
from tfvae.quantizers.gumbel import GumbelSoftmax


@keras.saving.register_keras_serializable(package="tfvae")
class GumbelVAE(_inputs.CheckedFit, ReplicaSafeBuild, keras.Model):
    """VAE with N independent categorical latents of K classes each.

    p(c) = Π_n Uniform(K), q(c | x) = Π_n Cat(softmax(l_n(x))). Per example:
        kl             = Σ_n KL(q_n || Uniform) = Σ_n [−H(q_n) + log K]   (exact)
        reconstruction = log p(x | y), y a one-hot draw of c ~ q(c|x)
        elbo           = reconstruction − kl                       (≤ log p(x))
    In training, y is the Gumbel-softmax relaxation softmax((l + g)/τ) (or
    its straight-through one-hot with `hard=True`), so gradients reach the
    encoder; the training `reconstruction`/`elbo` are those of the relaxed
    model. `evaluate` uses exact one-hot categorical draws (Gumbel-max), so
    its `elbo` is an unbiased one-sample estimate of the true bound.
    loss = −(reconstruction − β · kl). τ lives in a weight that
    `tfvae.training.GumbelTemperature` anneals.

    Args:
        input_shape: `(H, W, C)` or `(D,)`.
        num_latents: N.
        num_categories: K ≥ 2.
        encoder: Keras layer `x -> features`; default `MLP([512, 256])`.
        decoder: Keras layer `(batch, N·K) -> features`; default `MLP([256, 512])`.
        likelihood: as for `tfvae.VAE`.
        temperature: initial τ > 0.
        hard: straight-through one-hot samples in training.
        beta: weight of the KL term.
        seed: seed of the Gumbel noise.

    References:
        Jang et al., "Categorical Reparameterization with Gumbel-Softmax", ICLR 2017.
    """

    _check_support_by_default = False

    def __init__(self, input_shape, num_latents=20, num_categories=10, encoder=None, decoder=None,
                 likelihood="bernoulli", temperature=1.0, hard=False, beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.data_shape = positive_int_tuple(input_shape, "input_shape")
        if len(self.data_shape) not in (1, 3):
            raise ValueError(f"Expected `input_shape` to be (D,) or (H, W, C). Received: input_shape={input_shape!r}")
        self.num_latents = positive_int(num_latents, "num_latents")
        self.num_categories = positive_int(num_categories, "num_categories")
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
            raise ValueError(f"Expected `temperature` to be a positive number. Received: temperature={temperature!r}")
        self.temperature = float(temperature)
        self.hard = bool(hard)
        self.beta = nonnegative_float(beta, "beta")
        self.seed = seed
        self.encoder = _layer(encoder, "encoder") if encoder is not None else MLP([512, 256], name="encoder")
        self.decoder = _layer(decoder, "decoder") if decoder is not None else MLP([256, 512], name="decoder")
        self.latent = GumbelSoftmax(self.num_latents, self.num_categories, hard=self.hard, name="latent")
        self.likelihood = likelihoods_lib.get(likelihood)
        self.likelihood.event_ndims = len(self.data_shape)
        self.decoder_head = DecoderHead(self.data_shape, self.likelihood.num_params, name="decoder_head")
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.temperature_weight = self.add_weight(name="temperature", shape=(), trainable=False,
                                                  initializer=keras.initializers.Constant(self.temperature))
        self.beta_weight = self.add_weight(name="beta", shape=(), trainable=False,
                                           initializer=keras.initializers.Constant(self.beta))
        h = flatten_features(self.encoder(tf.zeros((1,) + self.data_shape)))
        self.latent.build(tuple(h.shape))
        out = self.decoder(tf.zeros((1, self.num_latents * self.num_categories)))
        self.decoder_head.build(tuple(out.shape))
        if not self.likelihood.built:
            self.likelihood.build(self.data_shape)
        self.trackers = {n: keras.metrics.Mean(name=n) for n in ("loss", "elbo", "reconstruction", "kl")}
        self.built = True

    def build(self, input_shape=None):
        self.built = True

    @property
    def metrics(self):
        return list(self.trackers.values())

    # -- pieces -----------------------------------------------------------------------
    def logits(self, x, training=False):
        """`(batch, N, K)` logits of q(c | x)."""
        return self.latent.logits(flatten_features(self.encoder(x, training=training)))

    def decoder_params(self, y, training=False):
        """`y (batch, N, K)` one-hot (or relaxed) -> likelihood parameters."""
        flat = tf.reshape(y, [-1, self.num_latents * self.num_categories])
        return self.decoder_head(self.decoder(flat, training=training))

    def compute_terms(self, x, seed, training=False):
        """Scalar loss and per-example `elbo`, `reconstruction`, `kl`."""
        out = self.latent(flatten_features(self.encoder(x, training=training)),
                          temperature=self.temperature_weight, seed=seed, hard=True if not training else None)
        reconstruction = self.likelihood.log_prob(x, self.decoder_params(out["sample"], training))
        kl = out["kl"]
        loss = -(tf.reduce_mean(reconstruction) - tf.cast(self.beta_weight, tf.float32) * tf.reduce_mean(kl))
        return loss, {"elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl}

    def _update_metrics(self, loss, values):
        # Weighted by the batch: a per-example mean also across replicas with unequal shares.
        self.trackers["loss"].update_state(loss, sample_weight=tf.cast(tf.shape(values["elbo"])[0], loss.dtype))
        for name, v in values.items():
            self.trackers[name].update_state(v)
        return _steps.step_logs({m.name: m.result() for m in self.metrics})

    def train_step(self, data):
        x = _features(data)
        seed = _steps.replica_seed(self.seed_generator.next())  # replicas draw independent noise
        with tf.GradientTape() as tape:
            loss, values = self.compute_terms(x, seed, training=True)
        _steps.minimize(self, tape, loss, tf.shape(x)[0])
        return self._update_metrics(loss, values)

    def test_step(self, data):
        seed = _steps.replica_seed(self.seed_generator.next())
        return self._update_metrics(*self.compute_terms(_features(data), seed, training=False))

    def predict_step(self, data):
        return self(_features(data), training=False)

    # -- public methods ---------------------------------------------------------------
    def call(self, x, training=False):
        """Mean reconstruction from the most probable codes, `(batch, *input_shape)`."""
        return self.decode(tf.argmax(self.logits(x), axis=-1, output_type=tf.int32), check=False)

    def encode(self, x):
        """The most probable class of each latent, `(batch, N)` int32."""
        return tf.argmax(self.logits(self._check(x)), axis=-1, output_type=tf.int32)

    def decode(self, codes, check=True):
        """Likelihood mean E[x | codes] for codes `(batch, N)` in [0, K)."""
        if check:
            codes = _codes.check_codes(codes, (self.num_latents,), self.num_categories, owner=type(self).__name__)
        return self.likelihood.mean(self.decoder_params(tf.one_hot(codes, self.num_categories)))

    def reconstruct(self, x):
        return self(self._check(x))

    def sample_codes(self, num_samples, seed=None):
        """Codes `(num_samples, N)` int32 from the uniform prior (stateless)."""
        num_samples = positive_int(num_samples, "num_samples") if not tf.is_tensor(num_samples) else num_samples
        shape = tf.stack([num_samples, self.num_latents])
        return tf.random.stateless_uniform(shape, _seed_tensor(seed), 0, self.num_categories, tf.int32)

    def sample(self, num_samples, seed=None):
        """Images decoded from codes drawn from the prior, `(n, *input_shape)`."""
        return self.decode(self.sample_codes(num_samples, seed), check=False)

    def get_config(self):
        return {
            "name": self.name, "trainable": self.trainable, "input_shape": list(self.data_shape),
            "num_latents": self.num_latents, "num_categories": self.num_categories,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "likelihood": keras.saving.serialize_keras_object(self.likelihood),
            "temperature": self.temperature, "hard": self.hard, "beta": self.beta, "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_layers(config, ("encoder", "decoder", "likelihood")))


def _features(data):
    if isinstance(data, (tuple, list)):
        data = data[0]
    return tf.cast(data, tf.float32)

