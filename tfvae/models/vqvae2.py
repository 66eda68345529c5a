"""VQ-VAE-2: two levels of vector-quantised codes, the bottom conditioned on the top."""

import numbers
import warnings

import keras
import tensorflow as tf

from tfvae import likelihoods as likelihoods_lib
from tfvae.models import _code_prior
from tfvae.models import _codes
from tfvae.models import _inputs
from tfvae.models import _steps
from tfvae.models import _vq2_nets as nets
from tfvae.models._vq2_priors import LEVELS, TwoLevelPriors, checked_prior
from tfvae.models._build import ReplicaSafeBuild
from tfvae.models._config import deserialize_layers
from tfvae.models._heads import DecoderHead
from tfvae.models.vae import _layer
from tfvae.nets._validate import positive_int
from tfvae.quantizers.metrics import CodebookPerplexity, CodebookUsage
from tfvae.quantizers.vector import VectorQuantizer

_NETS = ("bottom_encoder", "top_encoder", "top_decoder", "decoder")


@keras.saving.register_keras_serializable(package="tfvae")
class VQVAE2(TwoLevelPriors, _inputs.CheckedFit, ReplicaSafeBuild, keras.Model):
    """Two-level VQ-VAE (Razavi et al., 2019), with PixelCNN priors.

    Encoding (shapes for the default nets, `tfvae.models._vq2_nets`):
        h_b = E_b(x)                        (batch, h_b, w_b, F)   bottom features
        c_t = VQ_t(P_t(E_t(h_b)))           (batch, h_t, w_t)      top codes
        c_b = VQ_b(P_b([h_b, D_t(e_t)]))    (batch, h_b, w_b)      bottom codes, given the top
    with P_· 1x1 convolutions to D channels, e_t = e(c_t) the top code
    vectors (straight-through) and D_t the top decoder, which upsamples
    them to the bottom grid: the bottom codes encode what the top ones miss.
    Decoding: x̂-parameters = head(Dec([up(e_t), e_b])).

    Training minimises, per example (nats; metrics are batch means):
        loss = −log p(x | c_t, c_b) + β Σ_l commitment_l [+ Σ_l codebook_l without EMA]
    (per level l, see `VectorQuantizer`; the codebook loss has the
    commitment's value, its gradient goes to the codebook instead).

    Priors, `sample_codes`, `fit_prior`: `tfvae.models._vq2_priors`.

    Bound. The posterior is deterministic, so for the prior
    p(c_t, c_b) = p(c_t) p(c_b | c_t)
        elbo = log p(x | c_t(x), c_b(x)) + log p(c_t) + log p(c_b | c_t) ≤ log p(x),
    reported as `reconstruction` and `kl` = `kl_top` + `kl_bottom` =
    −log p(c_t) − log p(c_b | c_t). Before `fit_prior` the prior is uniform
    and kl = (h_t w_t + h_b w_b) log K exactly; after it, a PixelCNN over
    the top codes and a conditional PixelCNN over the bottom codes given
    the one-hot top codes (van den Oord et al., 2016).

    Metrics: loss, elbo, reconstruction, kl, kl_top, kl_bottom,
    commitment_top, commitment_bottom, and per level the codebook's
    perplexity (exp of the entropy of the code frequencies, K at best) and
    usage (fraction of codes used), accumulated over the epoch.

    Args:
        input_shape: `(H, W, C)`.
        num_embeddings: K ≥ 2 codes per level.
        embedding_dim: D, both levels.
        commitment_cost: β.
        ema_decay: γ of the EMA codebook updates, or None (codebook loss).
        filters, num_residual_blocks: width and depth of the default nets.
        bottom_encoder, top_encoder, top_decoder, decoder: Keras layers
            replacing the default nets (shapes as in the table above).
        likelihood: as for `tfvae.VAE`.
        dead_code_threshold: see `VectorQuantizer` (0 disables restarts).
        top_prior: None or a `tfvae.nets.PixelCNN(K, (h_t, w_t))`.
        bottom_prior: None or a `tfvae.nets.PixelCNN(K, (h_b, w_b),
            condition_shape=(h_t, w_t, K))`.
        seed: seed of the quantisers' restarts.

    References:
        Razavi et al., "Generating Diverse High-Fidelity Images with
        VQ-VAE-2", NeurIPS 2019.
        van den Oord et al., "Neural Discrete Representation Learning", 2017.
    """

    _check_support_by_default = False

    def __init__(self, input_shape, num_embeddings=256, embedding_dim=32, commitment_cost=0.25, ema_decay=0.99,
                 filters=64, num_residual_blocks=2, bottom_encoder=None, top_encoder=None, top_decoder=None,
                 decoder=None, likelihood="bernoulli", dead_code_threshold=1.0, top_prior=None, bottom_prior=None,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.data_shape, self.num_embeddings, self.embedding_dim, self.commitment_cost = _codes.codebook_args(
            input_shape, num_embeddings, embedding_dim, commitment_cost)
        self.filters = positive_int(filters, "filters")
        if (isinstance(num_residual_blocks, bool) or not isinstance(num_residual_blocks, numbers.Integral)
                or num_residual_blocks < 0):
            raise ValueError("Expected `num_residual_blocks` to be a non-negative integer. "
                             f"Received: num_residual_blocks={num_residual_blocks!r}")
        self.num_residual_blocks = int(num_residual_blocks)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"Expected `seed` to be None or an integer. Received: seed={seed!r}")
        self.seed = seed
        given = dict(bottom_encoder=bottom_encoder, top_encoder=top_encoder, top_decoder=top_decoder,
                     decoder=decoder)
        for role in _NETS:
            layer = (_layer(given[role], role) if given[role] is not None
                     else nets.default_net(role, self.data_shape, self.filters, self.num_residual_blocks))
            setattr(self, role, layer)
        self.pre_quantizer_top = keras.layers.Conv2D(self.embedding_dim, 1, name="pre_quantizer_top")
        self.pre_quantizer_bottom = keras.layers.Conv2D(self.embedding_dim, 1, name="pre_quantizer_bottom")
        self.quantizer_top, self.quantizer_bottom = (
            VectorQuantizer(self.num_embeddings, self.embedding_dim, ema_decay=ema_decay,
                            dead_code_threshold=dead_code_threshold, seed=None if seed is None else seed + i,
                            name=f"quantizer_{level}", dtype="float32")  # EMA state and distances stay float32
            for i, level in enumerate(LEVELS))
        self.likelihood = likelihoods_lib.get(likelihood)
        self.likelihood.event_ndims = 3
        self.decoder_head = DecoderHead(self.data_shape, self.likelihood.num_params, name="decoder_head")
        self._build_networks(top_prior, bottom_prior)
        names = ["loss", "elbo", "reconstruction", "kl"] + [f"{t}_{l}" for t in ("kl", "commitment") for l in LEVELS]
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}
        for level in LEVELS:
            self.trackers[f"perplexity_{level}"] = CodebookPerplexity(self.num_embeddings, name=f"perplexity_{level}")
            self.trackers[f"usage_{level}"] = CodebookUsage(self.num_embeddings, name=f"usage_{level}")

    def _build_networks(self, top_prior, bottom_prior):
        d = self.embedding_dim
        h_b = self.bottom_encoder(tf.zeros((1,) + self.data_shape))
        self.bottom_grid = nets.spatial(h_b.shape, "bottom_encoder")
        h_t = self.top_encoder(h_b)
        self.top_grid = nets.spatial(h_t.shape, "top_encoder")
        ratio = nets.grid_ratio(self.bottom_grid, self.top_grid)
        self.pre_quantizer_top.build(tuple(h_t.shape))
        self.quantizer_top.build((None,) + self.top_grid + (d,))
        conditioning = self.top_decoder(tf.zeros((1,) + self.top_grid + (d,)))
        if nets.spatial(conditioning.shape, "top_decoder") != self.bottom_grid:
            raise ValueError(f"The VQ-VAE-2 top_decoder must map the top grid {self.top_grid} onto the bottom grid "
                             f"{self.bottom_grid}; it returned shape {tuple(conditioning.shape)}.")
        self.pre_quantizer_bottom.build((None,) + self.bottom_grid + (h_b.shape[-1] + conditioning.shape[-1],))
        self.quantizer_bottom.build((None,) + self.bottom_grid + (d,))
        self.top_upsampler = nets.upsampler(ratio, d)
        self.top_upsampler.build((None,) + self.top_grid + (d,))
        out = self.decoder(tf.zeros((1,) + self.bottom_grid + (2 * d,)))
        self.decoder_head.build(tuple(out.shape))
        if not self.likelihood.built:
            self.likelihood.build(self.data_shape)
        k = self.num_embeddings
        self.top_prior = checked_prior(top_prior, k, self.top_grid, None, "top_prior")
        self.bottom_prior = checked_prior(bottom_prior, k, self.bottom_grid, self.top_grid + (k,), "bottom_prior")
        for prior in (self.top_prior, self.bottom_prior):
            _code_prior.freeze(prior)  # trained only inside `fit_prior`
        # 1.0 once `fit_prior` has run: a weight, saved with the model, read in compiled steps.
        self.prior_trained = self.add_weight(name="prior_trained", shape=(), trainable=False, initializer="zeros")
        self.built = True

    def build(self, input_shape=None):  # built in __init__
        self.built = True

    @property
    def metrics(self):
        return list(self.trackers.values())

    @property
    def quantizers(self):
        return {"top": self.quantizer_top, "bottom": self.quantizer_bottom}

    # -- the model's pieces -------------------------------------------------------
    def quantizer_outputs(self, x, training=False):
        """`{"top": ..., "bottom": ...}`, each level's `VectorQuantizer` outputs for `x`."""
        h_b = self.bottom_encoder(x, training=training)
        top = self.quantizer_top(self.pre_quantizer_top(self.top_encoder(h_b, training=training)), training=training)
        conditioning = self.top_decoder(top["quantized"], training=training)
        joined = tf.concat([h_b, tf.cast(conditioning, h_b.dtype)], axis=-1)
        bottom = self.quantizer_bottom(self.pre_quantizer_bottom(joined), training=training)
        return {"top": top, "bottom": bottom}

    def decoder_params(self, e_top, e_bottom, training=False):
        """Likelihood parameters from the code vectors of both levels."""
        up = self.top_upsampler(e_top)
        joined = tf.concat([up, tf.cast(e_bottom, up.dtype)], axis=-1)
        return self.decoder_head(self.decoder(joined, training=training))

    def compute_terms(self, x, training=False):
        """Scalar loss, per-example metric values, and each level's code counts."""
        q = self.quantizer_outputs(x, training)
        reconstruction = self.likelihood.log_prob(
            x, self.decoder_params(q["top"]["quantized"], q["bottom"]["quantized"], training))
        kl_top, kl_bottom = self.code_kl(tf.stop_gradient(q["top"]["codes"]), tf.stop_gradient(q["bottom"]["codes"]))
        kl = kl_top + kl_bottom
        loss = -tf.reduce_mean(reconstruction)
        for level in LEVELS:
            loss += self.commitment_cost * tf.reduce_mean(q[level]["commitment"])
            if self.quantizer_top.ema_decay is None:
                loss += tf.reduce_mean(q[level]["codebook"])
        values = {"elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl,
                  "kl_top": kl_top, "kl_bottom": kl_bottom,
                  "commitment_top": q["top"]["commitment"], "commitment_bottom": q["bottom"]["commitment"]}
        counts = {level: self.quantizers[level].counts(q[level]["codes"]) for level in LEVELS}
        return loss, values, counts

    def _update_metrics(self, loss, values, counts):
        # Weighted by the batch: a per-example mean also across replicas with unequal shares.
        self.trackers["loss"].update_state(loss, sample_weight=tf.cast(tf.shape(values["elbo"])[0], loss.dtype))
        for name, v in values.items():
            self.trackers[name].update_state(v)
        for level in LEVELS:
            self.trackers[f"perplexity_{level}"].update_state(counts[level])
            self.trackers[f"usage_{level}"].update_state(counts[level])
        return _steps.step_logs({m.name: m.result() for m in self.metrics})

    def train_step(self, data):
        x = _code_prior.features(data)
        variables = self.trainable_variables  # the priors are frozen outside fit_prior
        with tf.GradientTape() as tape:
            loss, values, counts = self.compute_terms(x, training=True)
        _steps.minimize(self, tape, loss, tf.shape(x)[0], variables)
        return self._update_metrics(loss, values, counts)

    def test_step(self, data):
        return self._update_metrics(*self.compute_terms(_code_prior.features(data), training=False))

    def predict_step(self, data):
        return self(_code_prior.features(data), training=False)

    # -- public methods ----------------------------------------------------------------
    def call(self, x, training=False):
        """The mean reconstruction E[x | c_t(x), c_b(x)], `(batch, H, W, C)`."""
        q = self.quantizer_outputs(x)
        return self.likelihood.mean(self.decoder_params(q["top"]["quantized"], q["bottom"]["quantized"]))

    def reconstruct(self, x):
        return self(self._check(x))

    def encode(self, x):
        """`(top_codes (batch, h_t, w_t), bottom_codes (batch, h_b, w_b))`, int32 in [0, K)."""
        q = self.quantizer_outputs(self._check(x))
        return q["top"]["codes"], q["bottom"]["codes"]

    def _code_vectors(self, top_codes, bottom_codes):
        owner, k = type(self).__name__, self.num_embeddings
        top = _codes.check_codes(top_codes, self.top_grid, k, name="top_codes", owner=owner)
        bottom = _codes.check_codes(bottom_codes, self.bottom_grid, k, name="bottom_codes", owner=owner)
        if tf.executing_eagerly() and top.shape[0] != bottom.shape[0]:
            raise ValueError(f"{owner} expected one row of `bottom_codes` per row of `top_codes`; received "
                             f"{bottom.shape[0]} and {top.shape[0]} rows.")
        return self.quantizer_top.lookup(top), self.quantizer_bottom.lookup(bottom)

    def decode(self, top_codes, bottom_codes):
        """Likelihood mean E[x | c_t, c_b], `(batch, H, W, C)`; codes are
        integers in [0, K) of shapes `(batch, h_t, w_t)`, `(batch, h_b, w_b)`."""
        return self.likelihood.mean(self.decoder_params(*self._code_vectors(top_codes, bottom_codes)))

    def log_prob_given_codes(self, x, top_codes, bottom_codes):
        """log p(x | c_t, c_b) per example, `(batch,)` nats."""
        x = self._check(x, check_support=True)
        return self.likelihood.log_prob(x, self.decoder_params(*self._code_vectors(top_codes, bottom_codes)))

    def log_likelihood_bound(self, x):
        """The per-example `elbo` (nats) of `x`, `(batch,)`: log p(x | c(x)) + log p(c(x)) ≤ log p(x)."""
        return self.compute_terms(self._check(x, check_support=True))[1]["elbo"]

    def sample(self, num_samples, seed=None, temperature=1.0):
        """`num_samples` new images: codes from the priors, decoded to the likelihood mean."""
        return self.decode(*self.sample_codes(num_samples, seed, temperature))

    # -- fit hooks (fit/evaluate come from _inputs.CheckedFit; fit_prior from TwoLevelPriors) --
    def _before_fit(self, x, y, fit_kwargs):
        if float(self.prior_trained.numpy()) > 0.5:
            warnings.warn("Training the VQ-VAE-2 after `fit_prior` makes the code priors stale; call fit_prior "
                          "again before sampling.", stacklevel=3)

    def get_config(self):
        config = {
            "name": self.name, "trainable": self.trainable,
            "input_shape": list(self.data_shape), "num_embeddings": self.num_embeddings,
            "embedding_dim": self.embedding_dim, "commitment_cost": self.commitment_cost,
            "ema_decay": self.quantizer_top.ema_decay, "filters": self.filters,
            "num_residual_blocks": self.num_residual_blocks,
            "likelihood": keras.saving.serialize_keras_object(self.likelihood),
            "dead_code_threshold": self.quantizer_top.dead_code_threshold,
            "top_prior": keras.saving.serialize_keras_object(self.top_prior),
            "bottom_prior": keras.saving.serialize_keras_object(self.bottom_prior),
            "seed": self.seed,
        }
        config.update({role: keras.saving.serialize_keras_object(getattr(self, role)) for role in _NETS})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_layers(config, _NETS + ("likelihood", "top_prior", "bottom_prior")))
