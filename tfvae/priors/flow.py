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

    Args:
        flow: a vector `tfvae.flows` layer with an inverse (not `Planar` or
            `Sylvester`, which only go forward).
    """

    def __init__(self, flow, latent_dim=None, **kwargs):
        super().__init__(latent_dim=latent_dim, **kwargs)
        if isinstance(flow, dict):
            flow = keras.saving.deserialize_keras_object(flow)
        if not isinstance(flow, Flow):
            raise ValueError(f"Expected `flow` to be a tfvae.flows layer. Received: flow={flow!r}")
        self.flow = flow

    def build(self, input_shape):
        self.flow.inverse(tf.zeros((1, self.latent_dim)))

    def log_prob(self, z):
        u, log_det = self.flow.inverse(z)
        return standard_normal_log_prob(u) + log_det

    def sample(self, n, seed):
        u = tf.random.stateless_normal((n, self.latent_dim), seed=seed, alg="philox")
        return self.flow(u)[0]

    def get_config(self):
        config = super().get_config()
        config["flow"] = keras.saving.serialize_keras_object(self.flow)
        return config
