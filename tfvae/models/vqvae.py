"""VQ-VAE: a deterministic, vector-quantised posterior and a learned prior over codes."""

import math
import warnings

import keras
import tensorflow as tf

from tfvae import likelihoods as likelihoods_lib
from tfvae.models import _code_prior
from tfvae.models import _codes
from tfvae.models import _inputs
from tfvae.models import _steps
from tfvae.models._build import ReplicaSafeBuild
from tfvae.models._config import deserialize_layers
from tfvae.models._heads import DecoderHead
from tfvae.models._sampling import seed_tensor as _seed_tensor
from tfvae.models.vae import _layer
from tfvae.nets._validate import positive_int
from tfvae.nets.pixelcnn import PixelCNN
from tfvae.nets.residual_conv import ResidualConvDecoder, ResidualConvEncoder
from tfvae.quantizers.metrics import CodebookPerplexity, CodebookUsage
from tfvae.quantizers.vector import VectorQuantizer


def default_filters(input_shape):
    """Down-sampling stages of the default nets: 28x28 -> 7x7, 32x32 -> 8x8
    (two stages), 8x8 -> 4x4 (one stage)."""
    h, w = input_shape[:2]
    if min(h, w) >= 16 and h % 4 == 0 and w % 4 == 0:
        return (64, 128)
    if h % 2 == 0 and w % 2 == 0:
        return (64,)
    raise ValueError(f"The default VQ-VAE nets halve H and W; input_shape={tuple(input_shape)} has an odd side. "
                     "Pass your own `encoder` and `decoder`.")


@keras.saving.register_keras_serializable(package="tfvae")
class VQVAE(_inputs.CheckedFit, ReplicaSafeBuild, keras.Model):
    """Vector-quantised VAE (van den Oord et al., 2017).

    x -> encoder -> 1x1 conv -> z_e `(batch, h, w, D)` -> `VectorQuantizer`
    -> z_q (straight-through) -> decoder -> the likelihood's parameters.

    Training minimises, per example (nats; the metrics are batch means):
        loss = −log p(x | z_q) + β · commitment [+ codebook, without EMA]
    `commitment` and `codebook` are Σ over the h·w positions of the squared
    distance between z_e and its code vector (see `VectorQuantizer`).

    ELBO accounting. The posterior is deterministic, q(c | x) = δ(c = c(x)),
    so H(q) = 0 and for any prior p(c)
        elbo = log p(x | c(x)) + log p(c(x))  ≤ log p(x),
    reported as `reconstruction` = log p(x | c(x)) and `kl` = −log p(c(x)):
    with the uniform prior of training, kl = h·w·log K exactly (a constant,
    kept); after `fit_prior` the PixelCNN's −log p(c(x)). Every term is a
    true log-probability, so `elbo` is an honest bound in nats per example.

    Metrics: loss, elbo, reconstruction, kl, commitment, and the codebook's
    `perplexity` (exp of the entropy of the code frequencies, K at best)
    and `usage` (fraction of codes used), both accumulated over the epoch
    (or the whole evaluation).

    Args:
        input_shape: `(H, W, C)`.
        num_embeddings: K ≥ 2 codes.
        embedding_dim: D.
        commitment_cost: β.
        ema_decay: γ of the EMA codebook updates, or None (codebook loss).
        encoder: Keras layer `x -> (batch, h, w, F)`; default
            `ResidualConvEncoder(default_filters(input_shape))`.
        decoder: Keras layer `(batch, h, w, D) -> (batch, H, W, F')` or
            `(batch, F')`; default the mirror `ResidualConvDecoder`.
        likelihood: as for `tfvae.VAE`.
        dead_code_threshold: see `VectorQuantizer` (0 disables restarts).
        prior: None (a default `PixelCNN` over the code grid) or a
            `tfvae.nets.PixelCNN` with the model's K and grid shape.
        seed: seed of the quantiser's restarts.
    """

    _check_support_by_default = False

    def __init__(self, input_shape, num_embeddings=256, embedding_dim=32, commitment_cost=0.25, ema_decay=0.99,
                 encoder=None, decoder=None, likelihood="bernoulli", dead_code_threshold=1.0, prior=None, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.data_shape, self.num_embeddings, self.embedding_dim, self.commitment_cost = _codes.codebook_args(
            input_shape, num_embeddings, embedding_dim, commitment_cost)
        self.seed = seed
        filters = default_filters(self.data_shape) if encoder is None or decoder is None else None
        self.encoder = (_layer(encoder, "encoder") if encoder is not None
                        else ResidualConvEncoder(filters, name="encoder"))
        self.decoder = (_layer(decoder, "decoder") if decoder is not None
                        else ResidualConvDecoder(filters[::-1], name="decoder"))
        self.pre_quantizer = keras.layers.Conv2D(self.embedding_dim, 1, name="pre_quantizer")
        self.quantizer = VectorQuantizer(self.num_embeddings, self.embedding_dim, ema_decay=ema_decay,
                                         dead_code_threshold=dead_code_threshold, seed=seed, name="quantizer",
                                         dtype="float32")  # EMA state and distances stay float32 under any policy
        self.likelihood = likelihoods_lib.get(likelihood)
        self.likelihood.event_ndims = 3
        self.decoder_head = DecoderHead(self.data_shape, self.likelihood.num_params, name="decoder_head")
        self._build_networks(prior)
        self.trackers = {n: keras.metrics.Mean(name=n)
                         for n in ("loss", "elbo", "reconstruction", "kl", "commitment")}
        self.trackers["perplexity"] = CodebookPerplexity(self.num_embeddings)
        self.trackers["usage"] = CodebookUsage(self.num_embeddings)

    def _build_networks(self, prior):
        features = self.encoder(tf.zeros((1,) + self.data_shape))
        if features.shape.rank != 4:
            raise ValueError("The VQ-VAE encoder must return spatial features (batch, h, w, F); "
                             f"it returned shape {tuple(features.shape)}.")
        self.grid_shape = tuple(int(d) for d in features.shape[1:3])
        self.pre_quantizer.build(tuple(features.shape))
        self.quantizer.build((None,) + self.grid_shape + (self.embedding_dim,))
        out = self.decoder(tf.zeros((1,) + self.grid_shape + (self.embedding_dim,)))
        self.decoder_head.build(tuple(out.shape))
        if not self.likelihood.built:
            self.likelihood.build(self.data_shape)
        if isinstance(prior, dict):
            prior = keras.saving.deserialize_keras_object(prior)
        if prior is None:
            prior = PixelCNN(self.num_embeddings, self.grid_shape, name="prior")
        if (not isinstance(prior, PixelCNN) or prior.num_embeddings != self.num_embeddings
                or tuple(prior.grid_shape) != self.grid_shape):
            raise ValueError(f"Expected `prior` to be None or a tfvae.nets.PixelCNN with num_embeddings="
                             f"{self.num_embeddings} and grid_shape={self.grid_shape}. Received: prior={prior!r}")
        self.prior = prior
        if not self.prior.built:
            self.prior.build()
        _code_prior.freeze(self.prior)  # trained only inside `fit_prior`
        # 1.0 once `fit_prior` has run: a weight, so it is saved with the model
        # and read inside compiled steps.
        self.prior_trained = self.add_weight(name="prior_trained", shape=(), trainable=False, initializer="zeros")
        self.built = True

    def build(self, input_shape=None):  # built in __init__
        self.built = True

    @property
    def metrics(self):
        return list(self.trackers.values())

    # -- the model's pieces -------------------------------------------------------
    def quantizer_outputs(self, x, training=False):
        """The quantiser's outputs (a dict, see `VectorQuantizer`) for `x`. (Not
        `quantize`: that name is Keras's weight quantisation.)"""
        return self.quantizer(self.pre_quantizer(self.encoder(x, training=training)), training=training)

    def decoder_params(self, z_q, training=False):
        return self.decoder_head(self.decoder(z_q, training=training))

    def code_kl(self, codes):
        """−log p(codes) per example: h·w·log K under the uniform prior, the
        PixelCNN's once it is trained (`prior_trained`)."""
        return _code_prior.code_nll(self.prior_trained, math.prod(self.grid_shape), self.num_embeddings, codes,
                                    lambda: -self.prior.log_prob(codes))

    def compute_terms(self, x, training=False):
        """Scalar loss, per-example metric values, and the batch's code counts."""
        q = self.quantizer_outputs(x, training)
        reconstruction = self.likelihood.log_prob(x, self.decoder_params(q["quantized"], training))
        kl = self.code_kl(tf.stop_gradient(q["codes"]))
        loss = -tf.reduce_mean(reconstruction) + self.commitment_cost * tf.reduce_mean(q["commitment"])
        if self.quantizer.ema_decay is None:
            loss += tf.reduce_mean(q["codebook"])
        values = {"elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl,
                  "commitment": q["commitment"]}
        return loss, values, self.quantizer.counts(q["codes"])

    def _update_metrics(self, loss, values, counts):
        # Weighted by the batch: a per-example mean also across replicas with unequal shares.
        self.trackers["loss"].update_state(loss, sample_weight=tf.cast(tf.shape(values["elbo"])[0], loss.dtype))
        for name, v in values.items():
            self.trackers[name].update_state(v)
        self.trackers["perplexity"].update_state(counts)
        self.trackers["usage"].update_state(counts)
        return _steps.step_logs({m.name: m.result() for m in self.metrics})

    def train_step(self, data):
        x = _features(data)
        variables = self.trainable_variables  # the prior is frozen (see _build_networks)
        with tf.GradientTape() as tape:
            loss, values, counts = self.compute_terms(x, training=True)
        _steps.minimize(self, tape, loss, tf.shape(x)[0], variables)
        return self._update_metrics(loss, values, counts)

    def test_step(self, data):
        loss, values, counts = self.compute_terms(_features(data), training=False)
        return self._update_metrics(loss, values, counts)

    def predict_step(self, data):
        return self(_features(data), training=False)

    # -- public methods ----------------------------------------------------------------
    def call(self, x, training=False):
        """The mean reconstruction E[x | z_q(x)], `(batch, H, W, C)`."""
        return self.likelihood.mean(self.decoder_params(self.quantizer_outputs(x)["quantized"]))

    def encode(self, x):
        """Integer codes `(batch, h, w)` int32 in [0, K)."""
        return self.quantizer_outputs(self._check(x))["codes"]

    def decode(self, codes):
        """Likelihood mean E[x | codes], `(batch, H, W, C)`; codes must be
        integers in [0, K) of shape `(batch, h, w)`."""
        codes = _codes.check_codes(codes, self.grid_shape, self.num_embeddings, owner=type(self).__name__)
        return self.likelihood.mean(self.decoder_params(self.quantizer.lookup(codes)))

    def reconstruct(self, x):
        return self(self._check(x))

    def sample_codes(self, num_samples, seed=None, temperature=1.0):
        """Codes `(num_samples, h, w)` drawn from the trained PixelCNN prior
        by ancestral sampling (h·w sequential network passes; stateless
        draws, so the same seed gives the same codes).

        Raises:
            ValueError: the prior is not trained (call `fit_prior` first).
        """
        num_samples = positive_int(num_samples, "num_samples")
        if float(self.prior_trained.numpy()) < 0.5:
            raise ValueError("VQVAE.sample needs the learned prior over codes: call `fit_prior(data)` after "
                             "`fit`. (Codes drawn uniformly decode to noise-like images.)")
        return self.prior.sample(num_samples, _seed_tensor(seed), temperature)

    def sample(self, num_samples, seed=None, temperature=1.0):
        """`num_samples` new images: codes from the prior, decoded to the
        likelihood mean. Same seed, same samples."""
        return self.decode(self.sample_codes(num_samples, seed, temperature))

    def log_likelihood_bound(self, x):
        """The per-example `elbo` (nats) of `x`, `(batch,)`."""
        return self.compute_terms(self._check(x, check_support=True))[1]["elbo"]

    # -- the learned prior ---------------------------------------------------------------
    def codes_of(self, data, batch_size=256):
        """Codes of every example of `data` (array or dataset), `(N, h, w)` int32 NumPy."""
        return _code_prior.codes_of(self, data, lambda x: (self.quantizer_outputs(x)["codes"],), batch_size)[0]

    def fit_prior(self, data, epochs=10, batch_size=64, learning_rate=1e-3, validation_data=None, jit_compile=False,
                  verbose="auto"):
        """Fits the PixelCNN prior to the codes of `data` by maximum likelihood.

        The codes are computed once (one pass over `data`, so one draw of
        any random binarisation); the autoencoder is not changed. Afterwards
        `sample` works and `evaluate` reports the ELBO under the learned
        prior. Retraining the autoencoder afterwards makes the prior stale:
        fit it again.

        Returns:
            The Keras `History`; its `loss` is −log p(codes) in nats per
            example (h·w·log K = that of the uniform prior).
        """
        codes = (self.codes_of(data),)
        val = None if validation_data is None else (self.codes_of(validation_data),)
        return _code_prior.fit_priors(self, [self.prior], lambda c: {"codes": self.prior.log_prob(c)}, ["codes"],
                                      codes, val, epochs=epochs, batch_size=batch_size,
                                      learning_rate=learning_rate, jit_compile=jit_compile, verbose=verbose)

    # -- fit hooks (fit/evaluate come from _inputs.CheckedFit) ---------------------------
    def _before_fit(self, x, y, fit_kwargs):
        if float(self.prior_trained.numpy()) > 0.5:
            warnings.warn("Training the VQ-VAE after `fit_prior` makes the code prior stale; call fit_prior "
                          "again before sampling.", stacklevel=3)

    def get_config(self):
        return {
            "name": self.name, "trainable": self.trainable,
            "input_shape": list(self.data_shape), "num_embeddings": self.num_embeddings,
            "embedding_dim": self.embedding_dim, "commitment_cost": self.commitment_cost,
            "ema_decay": self.quantizer.ema_decay,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "likelihood": keras.saving.serialize_keras_object(self.likelihood),
            "dead_code_threshold": self.quantizer.dead_code_threshold,
            "prior": keras.saving.serialize_keras_object(self.prior),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_layers(config, ("encoder", "decoder", "likelihood", "prior")))


_features = _code_prior.features
