"""The Wasserstein autoencoder with an MMD penalty (WAE-MMD)."""

import keras
import tensorflow as tf

from tfvae import likelihoods as likelihoods_lib
from tfvae import priors as priors_lib
from tfvae.models import _inputs
from tfvae.models import _steps
from tfvae.models._build import ReplicaSafeBuild
from tfvae.models._config import deserialize_layers
from tfvae.models._heads import DecoderHead, flatten_features
from tfvae.models._regularizers import finite_nonnegative
from tfvae.models._sampling import decoded_samples
from tfvae.models.vae import _layer
from tfvae.nets._validate import positive_int, positive_int_tuple
from tfvae.nets.mlp import MLP
from tfvae.objectives.mmd import check_kernel, check_scales, mmd
from tfvae.posteriors.gaussian import DiagonalGaussian

POSTERIORS = ("deterministic", "gaussian")


@keras.saving.register_keras_serializable(package="tfvae")
class WAE(_inputs.CheckedFit, ReplicaSafeBuild, keras.Model):
    """Wasserstein autoencoder, WAE-MMD (Tolstikhin et al., 2018).

    Encoder Q(z|x): deterministic z = f(x) (`posterior="deterministic"`) or
    Gaussian z = μ(x) + σ(x) ε (`"gaussian"`). Decoder: z -> the likelihood's
    parameters -> p(x|z). Per batch x_1..x_M, z_i ~ Q(z|x_i), z̃_1..z̃_M ~ p(z):

        reconstruction = (1/M) Σ_i log p(x_i | z_i)            (nats per example)
        mmd            = MMD²_u({z_i}, {z̃_i})                  (`tfvae.objectives.mmd`)
        loss           = −reconstruction + λ · mmd,            λ = `mmd_weight`

    i.e. the WAE objective with cost c(x, x̃) = −log p(x | z) (for a Gaussian
    likelihood of fixed scale σ, ‖x − μ(z)‖² / (2σ²) plus a constant; for
    Bernoulli data the cross-entropy), whose MMD term pushes the aggregate
    posterior Q(z) = E_x Q(z|x) towards the prior. A Gaussian encoder's σ gets
    no extra penalty (the paper's WAE-MMD uses a deterministic encoder).
    Under a strategy each replica computes the MMD on its share of the batch
    (an unbiased estimate of the same MMD², with the variance of a smaller
    batch). A WAE is not a density model: there is no ELBO or log p(x).

    Args:
        input_shape: shape of one example, `(H, W, C)` or `(D,)`.
        latent_dim: D_z.
        encoder: Keras layer `x -> h`; default `MLP([512, 256])`.
        decoder: Keras layer `z -> features`; default `MLP([256, 512])`.
        likelihood: as in `tfvae.VAE`; defines the reconstruction cost.
        prior: "normal" or a `tfvae.priors.Prior` (p(z), sampled for the MMD).
        kernel: "imq" (default, the paper's choice) or "rbf".
        mmd_weight: λ ≥ 0.
        scales: kernel scales s (bandwidths 2·D_z·s, see
            `tfvae.objectives.mmd`); None for the default seven.
        posterior: "deterministic" or "gaussian".
        seed: seed of the model's `SeedGenerator` (encoder and prior noise).

    Raises:
        ValueError: any argument out of its domain, e.g.
            "Expected `mmd_weight` to be a finite non-negative number.
            Received: mmd_weight=-1".

    References:
        Tolstikhin, Bousquet, Gelly, Schölkopf. Wasserstein Auto-Encoders.
        ICLR 2018. arXiv:1711.01558.
    """

    def __init__(self, input_shape, latent_dim, encoder=None, decoder=None, likelihood="bernoulli", prior="normal",
                 kernel="imq", mmd_weight=10.0, scales=None, posterior="deterministic", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.data_shape = positive_int_tuple(input_shape, "input_shape")
        if len(self.data_shape) not in (1, 3):
            raise ValueError("Expected `input_shape` to be (D,) or (H, W, C). "
                             f"Received: input_shape={input_shape!r}")
        self.latent_dim = positive_int(latent_dim, "latent_dim")
        self.kernel = check_kernel(kernel)
        self.mmd_weight = finite_nonnegative(mmd_weight, "mmd_weight")
        self.scales = check_scales(scales)
        if posterior not in POSTERIORS:
            raise ValueError(f"Expected `posterior` to be one of {POSTERIORS}. Received: posterior={posterior!r}")
        self.posterior_type = posterior
        self.seed = seed
        self.encoder = _layer(encoder, "encoder") if encoder is not None else MLP([512, 256], name="encoder")
        self.decoder = _layer(decoder, "decoder") if decoder is not None else MLP([256, 512], name="decoder")
        self.likelihood = likelihoods_lib.get(likelihood)
        self.likelihood.event_ndims = len(self.data_shape)
        self.prior = priors_lib.get(prior, self.latent_dim)
        if posterior == "gaussian":
            self.latent_head = DiagonalGaussian(self.latent_dim, name="posterior")
        else:
            self.latent_head = keras.layers.Dense(self.latent_dim, name="latent")
        self.decoder_head = DecoderHead(self.data_shape, self.likelihood.num_params, name="decoder_head")
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.trackers = {n: keras.metrics.Mean(name=n) for n in ("loss", "reconstruction", "mmd")}
        h = flatten_features(self.encoder(tf.zeros((1,) + self.data_shape)))
        self.latent_head.build(tuple(h.shape))
        if not self.prior.built:
            self.prior.build((None, self.latent_dim))
        self.decoder_head.build(tuple(self.decoder(tf.zeros((1, self.latent_dim))).shape))
        if not self.likelihood.built:
            self.likelihood.build(self.data_shape)
        self.built = True

    def build(self, input_shape=None):  # built in __init__
        self.built = True

    @property
    def metrics(self):
        return list(self.trackers.values())

    # -- the model's pieces ----------------------------------------------------
    def encoder_params(self, x, training=False):
        """`x -> (loc, scale)`, each `(batch, latent_dim)` float32; `scale` is
        None for a deterministic encoder."""
        h = flatten_features(self.encoder(x, training=training))
        if self.posterior_type == "gaussian":
            return self.latent_head(h)
        return tf.cast(self.latent_head(h), tf.float32), None

    def sample_latent(self, x, seed, training=False):
        """z ~ Q(z|x), `(batch, latent_dim)`: the code itself when deterministic."""
        loc, scale = self.encoder_params(x, training)
        return loc if scale is None else DiagonalGaussian.sample(loc, scale, 1, seed)[0]

    def decoder_params(self, z, training=False):
        """`z (N, D) -> (N, *input_shape, P)` likelihood parameters."""
        return self.decoder_head(self.decoder(z, training=training))

    def compute_loss_terms(self, x, seed, training=False):
        """The scalar loss and per-batch metric values (see the class docstring)."""
        seeds = tf.random.split(tf.cast(seed, tf.int64), 2)
        z = self.sample_latent(x, seeds[0], training)
        log_px = self.likelihood.log_prob(x, self.decoder_params(z, training))
        z_prior = self.prior.sample(tf.shape(x)[0], seeds[1])
        penalty = mmd(z, z_prior, self.kernel, self.scales)
        reconstruction = tf.reduce_mean(log_px)
        return -reconstruction + self.mmd_weight * penalty, {"reconstruction": log_px, "mmd": penalty}

    # -- fit / evaluate ----------------------------------------------------------
    def _update(self, loss, values, batch):
        self.trackers["loss"].update_state(loss, sample_weight=tf.cast(batch, loss.dtype))
        self.trackers["reconstruction"].update_state(values["reconstruction"])
        self.trackers["mmd"].update_state(values["mmd"], sample_weight=tf.cast(batch, loss.dtype))
        return _steps.step_logs({m.name: m.result() for m in self.metrics})

    def train_step(self, data):
        x = _features(data)
        seed = _steps.replica_seed(self.seed_generator.next())
        with tf.GradientTape() as tape:
            loss, values = self.compute_loss_terms(x, seed, training=True)
        _steps.minimize(self, tape, loss, tf.shape(x)[0])
        return self._update(loss, values, tf.shape(x)[0])

    def test_step(self, data):
        x = _features(data)
        loss, values = self.compute_loss_terms(x, _steps.replica_seed(self.seed_generator.next()))
        return self._update(loss, values, tf.shape(x)[0])

    def predict_step(self, data):
        return self(_features(data), training=False)

    # -- public methods ----------------------------------------------------------
    def call(self, x, training=False):
        """The mean reconstruction E[x | z = encode(x)], `(batch, *input_shape)`."""
        return self.likelihood.mean(self.decoder_params(self.encoder_params(x, training)[0], training))

    def encode(self, x):
        """The code (the encoder's mean when Gaussian), `(batch, latent_dim)`."""
        return self.encoder_params(self._check(x, check_support=False))[0]

    def decode(self, z):
        """Likelihood mean E[x | z], `(batch, *input_shape)`."""
        z = _inputs.check_input(z, (self.latent_dim,), None, name="z", owner=type(self).__name__)
        return self.likelihood.mean(self.decoder_params(z))

    def reconstruct(self, x):
        return self(self._check(x, check_support=False))

    def sample(self, num_samples, seed=None, mean=True, temperature=1.0):
        """Decoded prior draws z ~ p(z): the likelihood mean (default) or
        x ~ p(x|z) (`mean=False`). Same seed, same samples; `temperature`
        as in `tfvae.VAE.sample`."""
        return decoded_samples(self, num_samples, seed, mean, temperature,
                               lambda n, s, t: self.prior.sample(n, s, temperature=t))

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        config.update(
            input_shape=list(self.data_shape), latent_dim=self.latent_dim,
            encoder=keras.saving.serialize_keras_object(self.encoder),
            decoder=keras.saving.serialize_keras_object(self.decoder),
            likelihood=keras.saving.serialize_keras_object(self.likelihood),
            prior=keras.saving.serialize_keras_object(self.prior),
            kernel=self.kernel, mmd_weight=self.mmd_weight, scales=list(self.scales),
            posterior=self.posterior_type, seed=self.seed)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_layers(config, ("encoder", "decoder", "likelihood", "prior")))


def _features(data):
    if isinstance(data, (tuple, list)):
        data = data[0]
    return tf.cast(data, tf.float32)
