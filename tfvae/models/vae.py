"""The variational autoencoder trained by maximising the ELBO (or IWAE bound)."""


import keras
import tensorflow as tf

from tfvae import likelihoods as likelihoods_lib
from tfvae import priors as priors_lib
from tfvae._tensors import repeat_samples as _repeat
from tfvae.flows.score import flow_sample_and_score, path_log_prob
from tfvae.models import _inputs
from tfvae.models import _regularizers
from tfvae.models import _steps
from tfvae.models._build import ReplicaSafeBuild
from tfvae.models._config import deserialize_layers
from tfvae.models._heads import DecoderHead, flatten_features
from tfvae.models._sampling import decoded_samples
from tfvae.models._training import BoundTrainer
from tfvae.nets._validate import boolean, nonnegative_float, positive_int, positive_int_tuple
from tfvae.nets.mlp import MLP
from tfvae.objectives.gradients import uses_dreg
from tfvae.posteriors.gaussian import DiagonalGaussian


@keras.saving.register_keras_serializable(package="tfvae")
class VAE(BoundTrainer, _inputs.CheckedFit, ReplicaSafeBuild, keras.Model):
    """Variational autoencoder p(x, z) = p(z) p(x | z) with amortised q(z | x).

    Encoder: x -> h -> q_0(z|x) = N(μ(h), diag σ(h)²); optionally a flow
    z_K = g(z_0; h) with log q_K(z_K|x) = log q_0(z_0|x) − Σ log|det ∂g_k|.
    Decoder: z -> the likelihood's parameters -> p(x | z).

    Per example, with z_1..z_K ~ q(z|x) (K = `num_importance_samples`):
        reconstruction = (1/K) Σ_k log p(x | z_k)
        kl             = KL(q || p) analytically when the posterior is a plain
                         Gaussian and the prior has a closed form, else
                         (1/K) Σ_k [log q(z_k|x) − log p(z_k)]
        elbo           = reconstruction − kl                  (≤ log p(x))
        loss           = −(reconstruction − β · max-floor(kl))     K = 1
                         −log (1/K) Σ_k p(x|z_k) [p(z_k)/q(z_k|x)]^β   K > 1
    Wherever log q is a Monte Carlo term of that loss (K > 1, a posterior
    flow, a prior with no closed-form KL), the encoder's gradient is by
    default the path / doubly-reparameterised estimator of the same loss
    (see `gradient_estimator`).
    All metrics are nats per example with every constant kept.

    Args:
        input_shape: shape of one example, `(H, W, C)` or `(D,)`.
        latent_dim: D_z.
        encoder: Keras layer `x -> h`; default `MLP([512, 256])`.
        decoder: Keras layer `z -> features`, flat `(batch, F)` or spatial
            `(batch, H, W, F)`; default `MLP([256, 512])`. A head producing
            the likelihood's parameters is added after it.
        likelihood: "bernoulli", "gaussian", "discretized_logistic",
            "categorical" or a `tfvae.likelihoods.Likelihood`.
        prior: "normal" or a `tfvae.priors.Prior`.
        posterior_flow: None or a `tfvae.flows` layer taking `context=h`.
        beta: weight of the KL term (β-VAE); `KLWarmup` anneals it.
        free_bits: floor, in nats per latent dimension, on the batch-averaged
            KL (K = 1 only).
        num_importance_samples: K; K > 1 trains the IWAE bound.
        analytic_kl: use the closed-form KL when one exists.
        gradient_estimator: how the gradient of log q (and so the encoder's
            and posterior flow's gradient) is estimated.
            "reparameterization": the plain reparameterised gradient.
            "doubly_reparameterized": the path gradient through z alone
            (see `tfvae.objectives.gradients`), the same expectation
            without the zero-mean score term: DReG (Tucker et al., 2019)
            for K > 1, "sticking the landing" (Roeder et al., 2017) for
            K = 1, where it needs a Monte Carlo KL (a posterior flow, a
            prior without a closed-form KL, or `analytic_kl=False`).
            "auto" (default): "doubly_reparameterized" whenever log q enters
            the loss as a Monte Carlo term and its score ∇_z log q is cheap
            (no posterior flow, or one with a closed-form Jacobian:
            planar, Sylvester); else "reparameterization". A flow
            without one (IAF, RealNVP) would need its Jacobian by
            `batch_jacobian` every step, D backward passes: measured on
            Fashion-MNIST with IAF, +0.28 nats at 10 epochs and +0.03 at
            30 for a 1.6x slower fit (README), so it is opt-in there.
        seed: seed of the model's `SeedGenerator` (training noise).
        mmd_weight: λ_MMD ≥ 0 of the InfoVAE term, an MMD between the
            batch's posterior samples and prior draws added to the loss;
            Zhao et al.'s (α, λ) are `beta = 1 − α`, `mmd_weight = α + λ − 1`
            (see `tfvae/models/_regularizers.py`). K = 1 only.
        mmd_kernel, mmd_scales: the MMD's kernel ("imq" or "rbf") and scales
            (see `tfvae.objectives.mmd`).
        kl_decomposition: None, or "tc" for β-TCVAE: the loss's KL term
            becomes MI + `tc_weight` · TC + dimension-wise KL, each estimated
            from the minibatch (`tfvae.objectives.kl_decomposition`) and
            reported as the metrics `index_code_mi`, `total_correlation`,
            `dimension_wise_kl`. Needs a Gaussian posterior without flow,
            K = 1, no free bits, and `dataset_size`.
        tc_weight: the weight of the total correlation (Chen et al.'s β).
        dataset_size: N, the number of training examples ("tc" only).
        tc_estimator: "stratified" (default) or "weighted" (the paper's
            minibatch-weighted sampling, whose reported terms carry log N
            offsets; see `tfvae.objectives.tc`).
        kl_per_dimension: also report the closed-form KL of every latent
            dimension as metrics `kl_0`, `kl_1`, ... (nats per example), so
            collapsed dimensions (KL ≈ 0) show in the history / TensorBoard.

    Conditioning: the internal methods (`posterior_params`, `decoder_params`,
    `sample_posterior`, `bound_terms`) take an optional `condition`
    `(batch, condition_dim)` that joins the encoder features before the
    Gaussian head (and is part of the posterior flow's context), is
    concatenated to z before the decoder, and is the prior's context. A
    subclass that conditions (`tfvae.ConditionalVAE`) sets `condition_dim`
    before calling `VAE.__init__`; the bound is computed here, once.
    """

    condition_dim = None  # width of the flat condition; None: unconditional

    def __init__(self, input_shape, latent_dim, encoder=None, decoder=None, likelihood="bernoulli",
                 prior="normal", posterior_flow=None, beta=1.0, free_bits=0.0,
                 num_importance_samples=1, analytic_kl=True, gradient_estimator="auto", seed=None,
                 mmd_weight=0.0, mmd_kernel="imq", mmd_scales=None, kl_decomposition=None, tc_weight=1.0,
                 dataset_size=None, tc_estimator="stratified", kl_per_dimension=False, **kwargs):
        super().__init__(**kwargs)
        self.data_shape = positive_int_tuple(input_shape, "input_shape")
        if len(self.data_shape) not in (1, 3):
            raise ValueError("Expected `input_shape` to be (D,) or (H, W, C). "
                             f"Received: input_shape={input_shape!r}")
        self.latent_dim = positive_int(latent_dim, "latent_dim")
        self.beta = nonnegative_float(beta, "beta")
        self.free_bits = nonnegative_float(free_bits, "free_bits")
        self.num_importance_samples = positive_int(num_importance_samples, "num_importance_samples")
        if self.free_bits > 0 and self.num_importance_samples > 1:
            raise ValueError("`free_bits` floors the KL term of the ELBO and is undefined for the IWAE "
                             f"bound. Received: free_bits={free_bits}, "
                             f"num_importance_samples={num_importance_samples}")
        self.analytic_kl = boolean(analytic_kl, "analytic_kl")
        self.gradient_estimator = gradient_estimator
        self.seed = seed

        self.encoder = _layer(encoder, "encoder") if encoder is not None else MLP([512, 256], name="encoder")
        self.decoder = _layer(decoder, "decoder") if decoder is not None else MLP([256, 512], name="decoder")
        self.likelihood = likelihoods_lib.get(likelihood)
        self.likelihood.event_ndims = len(self.data_shape)
        self.prior = priors_lib.get(prior, self.latent_dim, context_dim=self.condition_dim)
        self.posterior_flow = _layer(posterior_flow, "posterior_flow") if posterior_flow is not None else None
        monte_carlo_kl = not (self.analytic_kl and self.posterior_flow is None and self.prior.has_analytic_kl)
        cheap_score = self.posterior_flow is None or bool(getattr(self.posterior_flow, "closed_form_jacobian", False))
        self.doubly_reparameterized = uses_dreg(gradient_estimator, self.num_importance_samples, monte_carlo_kl,
                                                cheap_score)
        self.posterior = DiagonalGaussian(self.latent_dim, name="posterior")
        self.decoder_head = DecoderHead(self.data_shape, self.likelihood.num_params, name="decoder_head")
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        # β lives in a weight so a callback can anneal it inside compiled steps.
        self.beta_weight = self.add_weight(name="beta", shape=(), trainable=False,
                                           initializer=keras.initializers.Constant(self.beta))
        extra_metrics = _regularizers.configure(self, mmd_weight, mmd_kernel, mmd_scales, kl_decomposition, tc_weight,
                                                dataset_size, tc_estimator, kl_per_dimension)
        self._build_networks()
        self.init_bound_metrics(self.num_importance_samples > 1, extra_metrics)

    # -- construction -------------------------------------------------------
    def _build_networks(self):
        """Creates every weight now, so `.keras` reload and `summary()` work
        without a first call and a strategy scope owns all variables."""
        c = None if self.condition_dim is None else tf.zeros((1, self.condition_dim))
        h = _join(flatten_features(self.encoder(tf.zeros((1,) + self.data_shape))), c)
        self.posterior.build(tuple(h.shape))
        if self.posterior_flow is not None:
            self.posterior_flow(tf.zeros((1, self.latent_dim)), context=h)
        if hasattr(self.prior, "attach"):
            if self.condition_dim is not None:
                raise ValueError(f"{type(self.prior).__name__} is a mixture of the unconditional posterior at "
                                 "pseudo-inputs; a conditional model needs an unconditional or conditional prior "
                                 "(\"normal\", \"conditional_normal\", FlowPrior, MixtureOfGaussians).")
            if self.posterior_flow is not None:
                raise ValueError(f"{type(self.prior).__name__} evaluates q(z|u) at pseudo-inputs and needs a "
                                 "Gaussian posterior; it cannot be combined with a `posterior_flow`.")
            self.prior.attach(self.posterior_params, self.data_shape)
        if not self.prior.built:  # a deserialised prior arrives built
            self.prior.build((None, self.latent_dim))
        features = self.decoder(_join(tf.zeros((1, self.latent_dim)), c))
        self.decoder_head.build(tuple(features.shape))
        if not self.likelihood.built:
            self.likelihood.build(self.data_shape)
        self.built = True

    def build(self, input_shape=None):  # already built in __init__
        self.built = True

    # -- the model's pieces ----------------------------------------------------
    def posterior_params(self, x, training=False, condition=None):
        """`x (batch, *input_shape) -> (loc, scale, h)`, q_0's parameters and
        the encoder features `h (batch, F)` (the flow's context), with the
        condition `(batch, C)` appended to h when there is one."""
        h = _join(flatten_features(self.encoder(x, training=training)), condition)
        loc, scale = self.posterior(h)
        return loc, scale, h

    def decoder_params(self, z, training=False, condition=None):
        """`z (N, D)` [and condition `(N, C)`] `-> (N, *input_shape, P)`
        likelihood parameters of p(x | z[, c])."""
        return self.decoder_head(self.decoder(_join(z, condition), training=training))

    def sample_posterior(self, x, num_samples, seed, training=False, condition=None, gradient_scale=None):
        """Draws z_K ~ q(z|x) by reparameterisation.

        With a `gradient_scale` (a `tfvae.objectives.GradientScale`) z_K
        passes through it and log q's gradient is that of log q(z; φ) at
        fixed parameters φ, so the encoder's (and flow's) gradient flows
        only through z, scaled: the path / doubly-reparameterised
        estimator. With a flow, ∇_z log q_K comes from the flow's Jacobian
        (`tfvae.flows.score`); the values returned are unchanged.

        Returns:
            z `(k, batch, D)`, log q(z|x) `(k, batch)`, loc, scale `(batch, D)`.
        """
        loc, scale, h = self.posterior_params(x, training, condition)
        z0 = DiagonalGaussian.sample(loc, scale, num_samples, seed)
        if self.posterior_flow is None:
            if gradient_scale is None:
                return z0, DiagonalGaussian.log_prob(z0, loc, scale), loc, scale
            z0 = gradient_scale(z0)
            return z0, DiagonalGaussian.log_prob(z0, tf.stop_gradient(loc), tf.stop_gradient(scale)), loc, scale
        k, b = tf.shape(z0)[0], tf.shape(z0)[1]
        context = _repeat(h, k)
        if gradient_scale is None:
            zk, log_det = self.posterior_flow(tf.reshape(z0, [k * b, self.latent_dim]), context=context)
            log_q = DiagonalGaussian.log_prob(z0, loc, scale) - tf.reshape(log_det, [k, b])
            return tf.reshape(zk, [k, b, self.latent_dim]), log_q, loc, scale
        fixed_loc, fixed_scale = tf.stop_gradient(_repeat(loc, k)), tf.stop_gradient(_repeat(scale, k))
        zk, log_q, score = flow_sample_and_score(
            self.posterior_flow, tf.reshape(z0, [k * b, self.latent_dim]),
            lambda u: DiagonalGaussian.log_prob(u, fixed_loc, fixed_scale), context)
        zk = gradient_scale(tf.reshape(zk, [k, b, self.latent_dim]))
        # log q_K's value, with the gradient sᵀ ∂z_K/∂φ: through z_K only.
        log_q = path_log_prob(zk, tf.reshape(log_q, [k, b]), tf.reshape(score, [k, b, self.latent_dim]))
        return zk, log_q, loc, scale

    def bound_terms(self, x, num_samples, seed, training=False, condition=None, gradient_scale=None,
                    return_latents=False):
        """log p(x|z[,c]), log p(z[|c]), log q(z|x[,c]) each `(k, batch)`, and
        the per-dimension analytic KL `(batch, D)` or None. `condition`:
        `(batch, C)` float32 or None (unconditional); `gradient_scale`: see
        `sample_posterior`. With `return_latents`, a fifth element
        `(z (k, batch, D), loc, scale (batch, D))`: the samples and q_0's
        parameters, for terms of the aggregate posterior."""
        z, log_q, loc, scale = self.sample_posterior(x, num_samples, seed, training, condition, gradient_scale)
        k, b = tf.shape(z)[0], tf.shape(z)[1]
        flat_z = tf.reshape(z, [k * b, self.latent_dim])
        flat_c = None if condition is None else _repeat(condition, k)
        params = self.decoder_params(flat_z, training, flat_c)
        log_px = tf.reshape(self.likelihood.log_prob_repeated(x, params), [k, b])
        # Unconditional models call priors exactly as before the context existed.
        context = {} if condition is None else {"context": flat_c}
        log_pz = tf.reshape(self.prior.log_prob(flat_z, **context), [k, b])
        kl_dims = None
        if self.analytic_kl and self.posterior_flow is None:
            kl_dims = self.prior.kl_from_gaussian(
                loc, scale, **({} if condition is None else {"context": condition}))
        if return_latents:
            return log_px, log_pz, log_q, kl_dims, (z, loc, scale)
        return log_px, log_pz, log_q, kl_dims

    # -- public methods ----------------------------------------------------------
    def call(self, x, training=False):
        """The mean reconstruction E[x | z = encode(x)], `(batch, *input_shape)`."""
        return self.likelihood.mean(self.decoder_params(self._latent_mean(x, training), training))

    def _latent_mean(self, x, training=False, condition=None):
        loc, _, h = self.posterior_params(x, training, condition)
        if self.posterior_flow is None:
            return loc
        return self.posterior_flow(loc, context=h)[0]

    def encode(self, x):
        """Posterior location, `(batch, latent_dim)`: μ(x), pushed through the
        posterior flow when there is one."""
        return self._latent_mean(self._check(x, check_support=False))

    def decode(self, z):
        """Likelihood mean E[x | z], `(batch, *input_shape)`."""
        z = _inputs.check_input(z, (self.latent_dim,), None, name="z", owner=type(self).__name__)
        return self.likelihood.mean(self.decoder_params(z))

    def reconstruct(self, x):
        return self(self._check(x, check_support=False))

    def sample(self, num_samples, seed=None, mean=True, temperature=1.0):
        """`num_samples` draws z ~ p(z), decoded: the likelihood mean (default)
        or a draw x ~ p(x|z) (`mean=False`). Same seed, same samples.
        `temperature` T scales the prior's noise (see `tfvae.priors.Prior`):
        T < 1 trades diversity for typical-looking samples."""
        return decoded_samples(self, num_samples, seed, mean, temperature,
                               lambda n, s, t: self.prior.sample(n, s, temperature=t))

    def log_likelihood(self, x, num_samples=1000, chunk_size=None, seed=0):
        """Importance-sampled log p(x) in nats per example (Burda et al., 2016):
        log (1/S) Σ_s p(x, z_s)/q(z_s|x), z_s ~ q(z|x), streamed over chunks of
        samples with a running logsumexp, so memory is bounded by the chunk
        (`chunk_size` samples × batch) and not by S. See
        `tfvae.evaluation.log_likelihood` for datasets.

        Returns: `(batch,)` float32 tensor.
        """
        from tfvae.evaluation.loglik import importance_sampled_log_likelihood
        return importance_sampled_log_likelihood(self, self._check(x), num_samples, chunk_size, seed)

    # -- fit/evaluate with input checks ---------------------------------------------
    def _before_fit(self, x, y, fit_kwargs):
        _steps.data_init_before_fit(self, x if y is None else (x, y), fit_kwargs.get("batch_size"),
                                    self._data_init_pass)

    def _data_init_pass(self, batch):
        """One forward pass of the bound on a batch (data-dependent inits)."""
        x, condition = self.unpack_data(batch)
        self.compute_bound(x, tf.constant([0, 0], tf.int64), training=True, condition=condition)

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        config.update(
            input_shape=list(self.data_shape),
            latent_dim=self.latent_dim,
            encoder=keras.saving.serialize_keras_object(self.encoder),
            decoder=keras.saving.serialize_keras_object(self.decoder),
            likelihood=keras.saving.serialize_keras_object(self.likelihood),
            prior=keras.saving.serialize_keras_object(self.prior),
            posterior_flow=(keras.saving.serialize_keras_object(self.posterior_flow)
                            if self.posterior_flow is not None else None),
            beta=self.beta, free_bits=self.free_bits,
            num_importance_samples=self.num_importance_samples,
            analytic_kl=self.analytic_kl, gradient_estimator=self.gradient_estimator, seed=self.seed,
        )
        config.update(_regularizers.get_config(self))
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_layers(config, ("encoder", "decoder", "likelihood", "prior", "posterior_flow")))


def _layer(obj, name):
    if isinstance(obj, dict):
        obj = keras.saving.deserialize_keras_object(obj)
    if not isinstance(obj, keras.layers.Layer):
        raise ValueError(f"Expected `{name}` to be a Keras layer. Received: {name}={obj!r}")
    return obj


def _join(t, condition):
    """`(N, F), (N, C) -> (N, F + C)`; `t` itself when there is no condition."""
    return t if condition is None else tf.concat([t, tf.cast(condition, t.dtype)], -1)


