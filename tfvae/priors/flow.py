"""A prior that is a normalizing flow on a standard-normal base."""

import keras
import tensorflow as tf

from tfvae.flows.base import Flow
from tfvae.objectives.gaussian import standard_normal_log_prob
from tfvae.priors.base import Prior


@keras.saving.register_keras_serializable(package="tfvae")
class FlowPrior(Prior):
    """p(z) = N(u; 0, I) |det ∂u/∂z|, with z = f(u) the flow's forward map.

    tfvae flows follow TFP's orientation: the forward map goes from the base
    to the modelled variable (generative direction), the inverse from the
    variable to the base. So
        log p(z) = log N(f⁻¹(z); 0, I) + log|det ∂f⁻¹/∂z|   (flow.inverse)
        z = f(u), u ~ N(0, I)                                 (flow forward)
    Cost: with `MAF` the density (training) is one MADE pass per layer and
    sampling is D sequential passes; with `IAF` the reverse; `RealNVP` and
    `LULinear`-based flows are one pass both ways.

    Conditional (in a `tfvae.ConditionalVAE`, `context_dim` set): when the
    flow takes a context (`flow.accepts_context`: coupling, autoregressive
    and spline flows, Glow, and chains holding one), the condition c is its
    context, p(z|c) = N(f⁻¹(z; c)) |det ∂f⁻¹(z; c)/∂z|; other flows
    (LULinear, ActNorm) ignore c and the prior is p(z).

    Args:
        flow: a vector `tfvae.flows` layer with an inverse (not `Planar` or
            `Sylvester`, which only go forward).

    Raises:
        ValueError: `flow` is not a flow layer, or has no inverse.
    """

    def __init__(self, flow, latent_dim=None, **kwargs):
        super().__init__(latent_dim=latent_dim, **kwargs)
        if isinstance(flow, dict):
            flow = keras.saving.deserialize_keras_object(flow)
        if not isinstance(flow, Flow) or not flow.has_inverse:
            raise ValueError("Expected `flow` to be a tfvae.flows layer with an inverse (the density "
                             f"direction). Received: flow={flow!r}")
        self.flow = flow

    @property
    def conditional(self):
        return self.context_dim is not None and self.flow.accepts_context

    def _context(self, context):
        return {"context": tf.cast(context, tf.float32)} if self.conditional and context is not None else {}

    def build(self, input_shape):
        context = tf.zeros((1, self.context_dim)) if self.conditional else None
        self.flow.inverse(tf.zeros((1, self.latent_dim)), **self._context(context))

    def log_prob(self, z, context=None):
        u, log_det = self.flow.inverse(z, **self._context(context))
        return standard_normal_log_prob(u) + log_det

    def sample(self, n, seed, context=None, temperature=1.0):
        u = temperature * tf.random.stateless_normal((n, self.latent_dim), seed=seed, alg="philox")
        return self.flow(u, **self._context(context))[0]

    def get_config(self):
        config = super().get_config()
        config["flow"] = keras.saving.serialize_keras_object(self.flow)
        return config
