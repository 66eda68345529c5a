"""A learned conditional Gaussian prior p(z | c)."""

import keras
import tensorflow as tf

from tfvae.nets._validate import positive_int_tuple
from tfvae.nets.mlp import MLP
from tfvae.objectives.gaussian import normal_log_prob
from tfvae.priors.base import Prior

# softplus(0.5413) ≈ 1: the prior starts as N(0, I) for every condition.
_UNIT_SCALE_RAW = 0.5413


@keras.saving.register_keras_serializable(package="tfvae")
class ConditionalNormal(Prior):
    """p(z | c) = N(z; μ(c), diag σ(c)²), with an MLP c -> h -> (μ, ρ).

        μ(c) = W_μ h(c) + b_μ,   σ(c) = softplus(W_ρ h(c) + b_ρ) + 1e-4
        log p(z|c) = Σ_d [−½((z_d − μ_d)/σ_d)² − log σ_d − ½ log 2π]
        KL(N(m, s²) || p(·|c))_d = log(σ_d/s_d) + (s_d² + (m_d − μ_d)²)/(2σ_d²) − ½
    The output layer starts at zero weights (biases giving σ = 1), so the
    prior starts as N(0, I), the unconditional VAE's prior, and learns how
    far to move from it. The KL from a diagonal Gaussian is analytic.

    Used by `tfvae.ConditionalVAE(prior="conditional_normal")`, which sets
    `latent_dim` and `context_dim` (the flat condition's width).

    Args:
        hidden_units: widths of the MLP on c; `()` makes μ, log σ affine in c.
        latent_dim, context_dim: D and C; set by the model if None.
    Shapes:
        `log_prob(z (N, D), context (N, C)) -> (N,)`;
        `sample(n, seed, context (n, C)) -> (n, D)`;
        `kl_from_gaussian(loc, scale (N, D), context (N, C)) -> (N, D)`.
    Raises:
        ValueError: a bad `hidden_units`, or a missing/mis-shaped context.

    References:
        Sohn, Lee & Yan, "Learning Structured Output Representation using
        Deep Conditional Generative Models", NeurIPS 2015 (the prior network).
    """

    requires_context = True
    has_analytic_kl = True

    def __init__(self, hidden_units=(64,), latent_dim=None, context_dim=None, **kwargs):
        super().__init__(latent_dim=latent_dim, context_dim=context_dim, **kwargs)
        self.hidden_units = positive_int_tuple(hidden_units, "hidden_units", allow_empty=True)

    def build(self, input_shape):
        if self.context_dim is None:
            raise ValueError("ConditionalNormal needs `context_dim` (the condition's width); use it in a "
                             "tfvae.ConditionalVAE or pass context_dim=...")
        self.net = MLP(self.hidden_units, name="net", dtype=self.dtype_policy)
        self.net.build((None, self.context_dim))
        features = self.hidden_units[-1] if self.hidden_units else self.context_dim
        self.head = keras.layers.Dense(
            2 * self.latent_dim, kernel_initializer="zeros", name="head", dtype=self.dtype_policy,
            bias_initializer=keras.initializers.Constant([0.0] * self.latent_dim
                                                         + [_UNIT_SCALE_RAW] * self.latent_dim))
        self.head.build((None, features))

    def params(self, context):
        """`context (N, C) -> (loc, scale)`, each `(N, D)` float32."""
        if context is None:
            raise ValueError("ConditionalNormal is p(z|c): pass `context` of shape "
                             f"(batch, {self.context_dim}).")
        context = tf.convert_to_tensor(context)
        if context.shape.rank != 2 or (context.shape[-1] is not None and context.shape[-1] != self.context_dim):
            raise ValueError(f"ConditionalNormal expected `context` of shape (batch, {self.context_dim}); "
                             f"received shape {tuple(context.shape)}.")
        out = tf.cast(self.head(self.net(tf.cast(context, self.compute_dtype))), tf.float32)
        loc, raw = tf.split(out, 2, axis=-1)
        return loc, tf.math.softplus(raw) + 1e-4

    def log_prob(self, z, context=None):
        loc, scale = self.params(context)
        return normal_log_prob(z, loc, scale)

    def sample(self, n, seed, context=None, temperature=1.0):
        loc, scale = self.params(context)
        return loc + temperature * scale * tf.random.stateless_normal((n, self.latent_dim), seed=seed, alg="philox")

    def kl_from_gaussian(self, loc, scale, context=None):
        p_loc, p_scale = self.params(context)
        return (tf.math.log(p_scale / scale)
                + (tf.square(scale) + tf.square(loc - p_loc)) / (2.0 * tf.square(p_scale)) - 0.5)

    def get_config(self):
        config = super().get_config()
        config["hidden_units"] = list(self.hidden_units)
        return config
