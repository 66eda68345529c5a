"""A VAE with L stochastic layers: top-down generation, bottom-up or ladder inference."""

import keras
import numpy as np
import tensorflow as tf

from tfvae import likelihoods as likelihoods_lib
from tfvae import priors as priors_lib
from tfvae.models import _hierarchy
from tfvae.models import _inputs
from tfvae.models._build import ReplicaSafeBuild
from tfvae.models._config import deserialize_layers
from tfvae.models._heads import DecoderHead, flatten_features
from tfvae.models._sampling import decoded_samples
from tfvae.models._training import BoundTrainer
from tfvae.models.vae import _layer
from tfvae.nets._validate import activation_name, nonnegative_float, positive_int, positive_int_tuple
from tfvae.nets.mlp import MLP
from tfvae.objectives.bounds import iwae_bound
from tfvae.objectives.gradients import GradientScale, dreg_factor, uses_dreg
from tfvae.posteriors.gaussian import DiagonalGaussian

INFERENCE = ("bottom_up", "ladder")


@keras.saving.register_keras_serializable(package="tfvae")
class HierarchicalVAE(BoundTrainer, _inputs.CheckedFit, ReplicaSafeBuild, keras.Model):
    """p(x, z_1..z_L) = p(z_L) Π_{l<L} p(z_l | z_{l+1}) p(x | z_1), layers bottom first.

    The passes are described in `tfvae/models/_hierarchy.py`. Per example,
    with K draws z^(k) ~ q(z_1..z_L | x) and log-ratios
    r_l = log p(z_l | z_{l+1}) − log q(z_l | ·) (r_L with the prior p(z_L)):

        reconstruction = (1/K) Σ_k log p(x | z_1^(k))
        kl_z<l>        = −(1/K) Σ_k r_l^(k)       (Monte Carlo KL of layer l)
        kl             = Σ_l kl_z<l>,  elbo = reconstruction − kl  (≤ log p(x))
        loss           = −(reconstruction − Σ_l β_l kl_z<l>)                         K = 1
                         −log (1/K) Σ_k p(x | z_1^(k)) exp(Σ_l β_l r_l^(k))        K > 1
    with β_l = `beta` × the layer's warm-up factor (`beta_weight` is annealed
    by `KLWarmup` / `CyclicalKLAnnealing`, `layer_beta_weight` (L,) by
    `LayerKLWarmup`). K > 1 trains the IWAE bound across all layers. With
    bottom-up inference the encoder's gradient is by default the path /
    doubly-reparameterised one (see `gradient_estimator`). All metrics are
    nats per example.

    Args:
        input_shape: shape of one example, `(H, W, C)` or `(D,)`.
        latent_dims: `(d_1, ..., d_L)`, bottom layer first, L ≥ 1.
        encoder: Keras layer `x -> h`; default `MLP([512, 256])`.
        decoder: Keras layer `z_1 -> features`; default `MLP([256, 512])`.
        likelihood: as in `tfvae.VAE`.
        prior: p(z_L): "normal" or a `tfvae.priors.Prior` (e.g. a FlowPrior).
        inference: "bottom_up" (Burda et al.) or "ladder" (Sønderby et al.).
        hidden_units, activation: the MLPs between stochastic layers (both
            the upward g_l and the top-down networks).
        beta: target KL weight β.
        num_importance_samples: K.
        gradient_estimator: "auto" (default) or "doubly_reparameterized":
            with bottom-up inference, the path gradient of log q through
            the samples alone ("sticking the landing" at K = 1, DReG with
            the factor w̃_k(1 − β + β w̃_k) at K > 1; see
            `tfvae.objectives.gradients`); "reparameterization": the plain
            gradient. Ladder inference shares the top-down networks between
            q and p, so "auto" is the plain gradient there and
            "doubly_reparameterized" is refused. At K > 1 DReG assumes one β
            for all layers, so `LayerKLWarmup` refuses such a model.
        seed: seed of the model's `SeedGenerator`.

    Raises:
        ValueError: an argument out of its domain.

    References:
        Burda, Grosse, Salakhutdinov. Importance Weighted Autoencoders.
        ICLR 2016. Sønderby, Raiko, Maaløe, Sønderby, Winther. Ladder
        Variational Autoencoders. NeurIPS 2016.
    """

    def __init__(self, input_shape, latent_dims=(32, 16), encoder=None, decoder=None, likelihood="bernoulli",
                 prior="normal", inference="bottom_up", hidden_units=(256, 256), activation="tanh", beta=1.0,
                 num_importance_samples=1, gradient_estimator="auto", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.data_shape = positive_int_tuple(input_shape, "input_shape")
        if len(self.data_shape) not in (1, 3):
            raise ValueError(f"Expected `input_shape` to be (D,) or (H, W, C). Received: input_shape={input_shape!r}")
        self.latent_dims = positive_int_tuple(latent_dims, "latent_dims")
        if inference not in INFERENCE:
            raise ValueError(f"Expected `inference` to be one of {INFERENCE}. Received: inference={inference!r}")
        self.inference = inference
        self.hidden_units = positive_int_tuple(hidden_units, "hidden_units", allow_empty=True)
        self.activation = activation_name(activation)
        self.beta = nonnegative_float(beta, "beta")
        self.num_importance_samples = positive_int(num_importance_samples, "num_importance_samples")
        self.seed = seed
        self.free_bits = 0.0  # BoundTrainer's attribute
        self.gradient_estimator = gradient_estimator
        if gradient_estimator == "doubly_reparameterized" and inference == "ladder":
            raise ValueError("gradient_estimator='doubly_reparameterized' needs the posterior's parameters apart "
                             "from the generative model's; ladder inference shares the top-down networks. Use "
                             "inference='bottom_up' or gradient_estimator='reparameterization'.")
        # log q is always a Monte Carlo term here (ladder: plain, see above).
        self.doubly_reparameterized = uses_dreg(gradient_estimator, self.num_importance_samples,
                                                True) and inference == "bottom_up"
        self.latent_dim = self.latent_dims[0]
        num_layers = len(self.latent_dims)
        self.encoder = _layer(encoder, "encoder") if encoder is not None else MLP([512, 256], name="encoder")
        self.decoder = _layer(decoder, "decoder") if decoder is not None else MLP([256, 512], name="decoder")
        self.likelihood = likelihoods_lib.get(likelihood)
        self.likelihood.event_ndims = len(self.data_shape)
        self.prior = priors_lib.get(prior, self.latent_dims[-1])
        mlp = lambda name: MLP(self.hidden_units, activation=self.activation, name=name)  # noqa: E731
        self.up_nets = [mlp(f"up_{l + 2}") for l in range(num_layers - 1)]
        self.down_nets = [mlp(f"down_{l + 1}") for l in range(num_layers - 1)]
        self.q_heads = [DiagonalGaussian(d, name=f"q_z{l + 1}") for l, d in enumerate(self.latent_dims)]
        self.p_heads = [DiagonalGaussian(d, name=f"p_z{l + 1}") for l, d in enumerate(self.latent_dims[:-1])]
        self.decoder_head = DecoderHead(self.data_shape, self.likelihood.num_params, name="decoder_head")
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.beta_weight = self.add_weight(name="beta", shape=(), trainable=False,
                                           initializer=keras.initializers.Constant(self.beta))
        self.layer_beta_weight = self.add_weight(name="layer_beta", shape=(num_layers,), trainable=False,
                                                 initializer="ones")
        self._build_networks()
        self.init_bound_metrics(self.num_importance_samples > 1, [f"kl_z{l + 1}" for l in range(num_layers)])

    def _build_networks(self):
        """Every weight now (`.keras` reload, `summary()`, strategy scopes)."""
        h = flatten_features(self.encoder(tf.zeros((1,) + self.data_shape)))
        d = [h]
        for l, net in enumerate(self.up_nets):  # ladder: g_l(d_{l-1}); bottom-up: g_l(z_{l-1})
            d.append(net(d[-1] if self.inference == "ladder" else tf.zeros((1, self.latent_dims[l]))))
        for head, features in zip(self.q_heads, d):
            head.build(tuple(features.shape))
        for l, (net, head) in enumerate(zip(self.down_nets, self.p_heads)):
            head.build(tuple(net(tf.zeros((1, self.latent_dims[l + 1]))).shape))
        if not self.prior.built:
            self.prior.build((None, self.latent_dims[-1]))
        self.decoder_head.build(tuple(self.decoder(tf.zeros((1, self.latent_dims[0]))).shape))
        if not self.likelihood.built:
            self.likelihood.build(self.data_shape)
        self.built = True

    def build(self, input_shape=None):  # built in __init__
        self.built = True

    # -- the bound ---------------------------------------------------------------
    def decoder_params(self, z1, training=False):
        """`z_1 (N, d_1) -> (N, *input_shape, P)` likelihood parameters."""
        return self.decoder_head(self.decoder(z1, training=training))

    def layer_terms(self, x, k, seed, training=False, gradient_scale=None):
        """log p(x|z_1) `(k, b)` and per-layer lists of log q, log p `(k, b)`;
        `gradient_scale`: see `_hierarchy.posterior`."""
        b = tf.shape(x)[0]
        zs, log_q, log_p = _hierarchy.posterior(self, x, k, seed, training, gradient_scale=gradient_scale)
        log_px = self.likelihood.log_prob_repeated(x, self.decoder_params(zs[0], training))
        shape = lambda t: tf.reshape(t, [k, b])  # noqa: E731
        return shape(log_px), [shape(t) for t in log_q], [shape(t) for t in log_p]

    def bound_terms(self, x, num_samples, seed, training=False):
        """log p(x|z_1), log p(z_1..z_L), log q(z_1..z_L|x), each `(k, b)`, and
        None (no analytic KL): the interface `tfvae.evaluation` and the
        SavedModel's in-graph importance sampler use."""
        log_px, log_q, log_p = self.layer_terms(x, num_samples, seed, training)
        return log_px, tf.add_n(log_p), tf.add_n(log_q), None

    def compute_bound(self, x, seed, training, condition=None):
        """The scalar loss and per-example metrics (see the class docstring)."""
        k = self.num_importance_samples
        scale = GradientScale() if training and self.doubly_reparameterized else None
        log_px, log_q, log_p = self.layer_terms(x, k, seed, training, gradient_scale=scale)
        ratios = [p - q for p, q in zip(log_p, log_q)]
        reconstruction = tf.reduce_mean(log_px, 0)
        kls = [-tf.reduce_mean(r, 0) for r in ratios]
        kl = tf.add_n(kls)
        values = {"elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl}
        values.update({f"kl_z{l + 1}": v for l, v in enumerate(kls)})
        betas = tf.cast(self.beta_weight, tf.float32) * tf.cast(self.layer_beta_weight, tf.float32)
        log_w = log_px + tf.add_n([betas[l] * r for l, r in enumerate(ratios)])   # β-weighted (k, b)
        if scale is not None:  # DReG (one β for all layers at K > 1); at K = 1 the path derivative
            scale.factor = tf.reshape(dreg_factor(log_w, tf.cast(self.beta_weight, tf.float32)), [-1, 1])
        if k == 1:
            loss = -tf.reduce_mean(reconstruction - tf.add_n([betas[l] * v for l, v in enumerate(kls)]))
        else:
            values["iwae"] = iwae_bound(log_px + tf.add_n(ratios))
            loss = -tf.reduce_mean(iwae_bound(log_w))
        return loss, values

    # -- public methods ----------------------------------------------------------
    def call(self, x, training=False):
        """The mean reconstruction from the posterior means, `(batch, *input_shape)`."""
        zs, _, _ = _hierarchy.posterior(self, x, 1, tf.zeros([2], tf.int64), training, deterministic=True)
        return self.likelihood.mean(self.decoder_params(zs[0], training))

    def encode(self, x):
        """Posterior means of every layer, bottom first: a list of
        `(batch, d_l)` (each layer's mean given the means below, or above
        for the ladder)."""
        x = self._check(x, check_support=False)
        return _hierarchy.posterior(self, x, 1, tf.zeros([2], tf.int64), deterministic=True)[0]

    def decode(self, z1):
        """Likelihood mean E[x | z_1], `(batch, *input_shape)`."""
        z1 = _inputs.check_input(z1, (self.latent_dims[0],), None, name="z", owner=type(self).__name__)
        return self.likelihood.mean(self.decoder_params(z1))

    def reconstruct(self, x):
        return self(self._check(x, check_support=False))

    def sample(self, num_samples, seed=None, mean=True, temperature=1.0):
        """Ancestral samples z_L -> ... -> z_1 -> x (the likelihood mean, or a
        draw with `mean=False`); same seed, same samples."""
        return decoded_samples(self, num_samples, seed, mean, temperature,
                               lambda n, s, t: _hierarchy.prior_sample(self, n, s, t))

    def log_likelihood(self, x, num_samples=1000, chunk_size=None, seed=0):
        """Importance-sampled log p(x) (nats per example, `(batch,)`) with the
        joint posterior over all layers as proposal; see `tfvae.VAE.log_likelihood`."""
        from tfvae.evaluation.loglik import importance_sampled_log_likelihood
        return importance_sampled_log_likelihood(self, self._check(x), num_samples, chunk_size, seed)

    def active_units(self, x, num_samples=100, threshold=0.01, seed=0):
        """Active units per layer (Burda et al., 2016): unit u of z_l is active
        when Cov_x(E_q[z_lu | x]) > `threshold`, the inner expectation over
        `num_samples` posterior draws. `x`: an array `(N, *input_shape)`.
        Returns a list of ints, bottom layer first."""
        means = []
        for i in range(0, len(x), 256):
            xb = self._check(np.asarray(x[i:i + 256]))
            zs, _, _ = _hierarchy.posterior(self, xb, num_samples, tf.constant([seed, i], tf.int64))
            means.append([tf.reduce_mean(tf.reshape(z, [num_samples, -1, z.shape[-1]]), 0).numpy() for z in zs])
        return [int((np.concatenate(m).var(axis=0) > threshold).sum()) for m in zip(*means)]

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        config.update(
            input_shape=list(self.data_shape), latent_dims=list(self.latent_dims),
            encoder=keras.saving.serialize_keras_object(self.encoder),
            decoder=keras.saving.serialize_keras_object(self.decoder),
            likelihood=keras.saving.serialize_keras_object(self.likelihood),
            prior=keras.saving.serialize_keras_object(self.prior), inference=self.inference,
            hidden_units=list(self.hidden_units), activation=self.activation, beta=self.beta,
            num_importance_samples=self.num_importance_samples, gradient_estimator=self.gradient_estimator,
            seed=self.seed)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_layers(config, ("encoder", "decoder", "likelihood", "prior")))
