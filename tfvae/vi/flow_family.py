"""A normalizing flow on a Gaussian base as a variational family."""

import keras
import tensorflow as tf

from tfvae.flows.base import Flow
from tfvae.flows.score import flow_sample_and_score, path_log_prob
from tfvae.vi.families import Family, standard_normal_log_prob
from tfvae.vi.gaussian import FullRankGaussian, MeanFieldGaussian

_BASES = ("standard", "mean_field", "full_rank")


@keras.saving.register_keras_serializable(package="tfvae")
class FlowFamily(Family):
    """q(z): a Gaussian base u ~ q₀ pushed forward through a flow, z = f(u).

    With the flow's forward (base -> data) direction, which is the one
    every tfvae flow has (planar and Sylvester have only that one):

        ε ~ N(0, I),  u = μ + L ε  (q₀; L = I for base="standard")
        z, log|det ∂f/∂u| = flow(u)
        log q(z) = log q₀(u) − log|det ∂f/∂u|

    Sampling with its log-density is all reverse-KL training needs, so
    forward-only flows work. `log_prob(z)` of arbitrary points runs
    u = f⁻¹(z), log q(z) = log q₀(u) + log|det ∂f⁻¹/∂z|: it needs an
    invertible flow (RealNVP, IAF -- D sequential passes -- MAF, ...).

    Every tfvae flow starts as the identity, so a fresh FlowFamily *is* its
    base; training can only bend it away from a Gaussian where that raises
    the ELBO.

    Path gradient ("sticking the landing", what `VariationalApproximation`
    trains with by default): `path_transform` needs ∇_z log q(z) at fixed
    weights, which it gets from the forward pass alone, for every flow
    including the forward-only ones: s = J⁻ᵀ ∇_u[log q₀(u) − log|det J|],
    J = ∂z/∂u by `batch_jacobian` and one d×d solve per draw
    (`tfvae.flows.score`).

    Args:
        flow: a `tfvae.flows` layer on vectors `(n, d)`, unconditional.
        dim: d.
        base: "mean_field" (learned μ, diagonal σ; default), "full_rank"
            (learned μ, Cholesky L) or "standard" (N(0, I), no weights).
        init_scale: initial base scale (ignored for "standard").
        seed: see `Family`.

    Raises:
        ValueError: `flow` is not a tfvae flow, bad `base`, or the flow does
            not accept `(n, d)` inputs.

    References:
        Rezende, Mohamed. Variational Inference with Normalizing Flows.
        ICML 2015. arXiv:1505.05770.
    """

    def __init__(self, flow, dim, base="mean_field", init_scale=1.0, seed=None, **kwargs):
        super().__init__(dim, seed=seed, **kwargs)
        if not isinstance(flow, Flow):
            raise ValueError(f"Expected `flow` to be a tfvae.flows layer. Received: flow={flow!r}")
        if base not in _BASES:
            raise ValueError(f"Expected `base` to be one of {_BASES}. Received: base={base!r}")
        self.flow = flow
        self.base = base
        self.init_scale = float(init_scale)
        if base == "standard":
            self.base_family = None
        else:
            cls = MeanFieldGaussian if base == "mean_field" else FullRankGaussian
            self.base_family = cls(self.dim, init_scale=init_scale, name="base", dtype=self.dtype_policy)
        if not flow.built:
            try:
                flow.build_for(tf.zeros((1, self.dim), self.compute_dtype))
            except ValueError as e:
                raise ValueError(f"FlowFamily: `flow` must accept vectors of shape (n, {self.dim}). {e}") from e
        self.built = True

    @property
    def has_log_prob(self):
        return self.flow.has_inverse

    def _base(self, eps):
        if self.base_family is None:
            return eps, standard_normal_log_prob(eps)
        return self.base_family.transform(eps)

    def transform(self, eps):
        u, log_q0 = self._base(eps)
        z, log_det = self.flow(u)
        return z, log_q0 - log_det

    @property
    def has_path_gradient(self):
        return True

    def path_log_prob(self, z):
        """Not available from z alone: raises. A flow's log q at fixed
        weights is found from the base draw, through the Jacobian of the
        forward pass (`path_transform(eps)`, which is what `fit` uses)."""
        raise NotImplementedError(
            "FlowFamily: the path log-density (log q with the weights held constant) is computed from the base "
            "draw, not from z: call `path_transform(eps)`, which returns (z, log q(z)) with that gradient.")

    def path_transform(self, eps):
        if self.base_family is None:
            u, base_log_prob = eps, standard_normal_log_prob
        else:
            u, _ = self.base_family.transform(eps)
            base_log_prob = self.base_family.path_log_prob
        z, log_q, score = flow_sample_and_score(self.flow, u, base_log_prob)
        return z, path_log_prob(z, log_q, score)

    def log_prob(self, z):
        z = self.check_points(z)
        if not self.has_log_prob:
            raise NotImplementedError(
                f"FlowFamily: log q(z) of given points needs the flow's inverse, and "
                f"{type(self.flow).__name__} is forward-only. Samples with their log-densities "
                "(`sample_and_log_prob`), the ELBO and the log Z estimate all work; for `log_prob` "
                "of arbitrary points use an invertible flow (RealNVP, IAF, MAF).")
        u, inverse_log_det = self.flow.inverse(z)
        log_q0 = standard_normal_log_prob(u) if self.base_family is None else self.base_family.log_prob(u)
        return log_q0 + inverse_log_det

    def get_config(self):
        config = super().get_config()
        config.update(flow=keras.saving.serialize_keras_object(self.flow), base=self.base,
                      init_scale=self.init_scale)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["flow"] = keras.saving.deserialize_keras_object(config["flow"])
        return cls(**config)
