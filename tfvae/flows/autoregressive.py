"""Masked autoregressive flows: MAF and IAF, affine or rational-quadratic spline.

One structure, an element-wise transformer τ (`tfvae.flows.transformers`)
whose parameters for element i come from a MADE that sees only the
elements before i. One layer has two maps:

    generate:   y_i = τ(x_i; θ_i(y_<i))     D sequential MADE passes
    normalize:  x_i = τ⁻¹(y_i; θ_i(y_<i))   one MADE pass

MAF's forward generates and its inverse normalizes (one-pass densities);
IAF is the same layers the other way round (one-pass sampling). Layers
alternate the autoregressive order (left-to-right, right-to-left) so every
dimension is eventually conditioned on every other; alternating orders
needs no permutation, and a fresh flow is exactly the identity.
"""

import keras
import numpy as np
import tensorflow as tf

from tfvae.flows import transformers
from tfvae.flows._context import ContextMixin
from tfvae.flows._spline_options import SplineOptions
from tfvae.flows.base import Flow
from tfvae.nets._validate import activation_name, positive_float, positive_int, positive_int_tuple
from tfvae.nets.made import MADE

_ORDERS = ("left-to-right", "right-to-left")


class Autoregressive(ContextMixin, Flow):
    """A stack of masked autoregressive layers on vectors `(batch, D)`.

    Layer k (of K) has a `MADE` with order `_ORDERS[k % 2]`; the flow's
    forward applies layers 0..K-1, its inverse K-1..0. `generative = True`
    (MAF) makes each layer's forward the D-pass *generate* map and its
    inverse the one-pass *normalize* map; False (IAF) the reverse:

        MAF forward: y = g_{K-1} ∘ ... ∘ g_0(x),  inverse: n_0 ∘ ... ∘ n_{K-1}
        IAF forward: x = n_0 ∘ ... ∘ n_{K-1}(u),  inverse: g_{K-1} ∘ ... ∘ g_0
        log-dets add up; per layer Σ_i log|τ'| at the element's parameters.

    The Jacobian of one layer is lower triangular in the layer's order
    (`triangular_order` for K = 1). Subclasses give the transformer
    (`_make_transformer`) and its config. The MADE's last layer is zero,
    so θ = 0 and every layer starts as the identity.

    Args:
        num_layers: K.
        hidden_units: widths of each MADE's hidden layers.
        context_size: optional context width c; None infers it from the
            context at the first call (or builds an unconditional flow).
        activation: MADE hidden activation.
        seed: int or None; layer k's MADE gets seed + k.

    Call args:
        x: `(batch, D)`; context: optional `(batch, c)`, given to every
        MADE hidden layer.

    Returns:
        `(y, log_det)` with y `(batch, D)` and log_det `(batch,)`.

    Raises:
        ValueError: bad arguments, non-vector inputs, or a context given to
            a flow built without one (or missing from one built with one).
    """

    generative = True

    def __init__(self, num_layers=2, hidden_units=(64, 64), context_size=None, activation="relu",
                 seed=None, **kwargs):
        super().__init__(context_size=context_size, **kwargs)
        self.num_layers = positive_int(num_layers, "num_layers")
        self.hidden_units = positive_int_tuple(hidden_units, "hidden_units")
        self.activation = activation_name(activation)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        self.seed = seed

    def _make_transformer(self):
        raise NotImplementedError

    def build(self, x_shape, context_shape=None):
        if len(x_shape) != 2 or x_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} expects inputs of shape (batch, D). "
                             f"Received: x.shape={tuple(x_shape)}")
        context_dim = self.build_context(context_shape)
        self.event_size = int(x_shape[-1])
        self._transformer = self._make_transformer()
        self.mades = [
            MADE(self.event_size, self.hidden_units, params=self._transformer.num_params,
                 context_size=context_dim, input_order=_ORDERS[i % 2], activation=self.activation,
                 seed=None if self.seed is None else self.seed + i, name=f"made_{i}",
                 dtype=self.dtype_policy)
            for i in range(self.num_layers)
        ]
        for made in self.mades:
            made.build((None, self.event_size), None if context_dim is None else (None, context_dim))

    def _normalize(self, made, y, context):
        """x_i = τ⁻¹(y_i; θ_i(y_<i)) and Σ_i log|∂x_i/∂y_i|: one MADE pass."""
        x, log_det = self._transformer.inverse(y, tf.unstack(made(y, context), axis=-1))
        return x, tf.reduce_sum(log_det, axis=-1)

    def _generate(self, made, x, context):
        """y_i = τ(x_i; θ_i(y_<i)) and Σ_i log|∂y_i/∂x_i|: D MADE passes.

        Pass k fixes y at autoregressive degree k, so after D - 1 passes
        every θ_i is final and the D-th pass gives y and its log-det.
        """
        def step(y):
            return (self._transformer.forward(x, tf.unstack(made(y, context), axis=-1))[0],)

        y = tf.zeros_like(x)
        if self.event_size > 1:
            (y,) = tf.while_loop(lambda y: True, step, (y,), maximum_iterations=self.event_size - 1)
        y, log_det = self._transformer.forward(x, tf.unstack(made(y, context), axis=-1))
        return y, tf.reduce_sum(log_det, axis=-1)

    def _run(self, t, context, generate):
        self.check_context(context)
        layer_map = self._generate if generate else self._normalize
        # Generating runs the layers 0..K-1, normalizing K-1..0, in MAF and IAF alike.
        mades = self.mades if generate else self.mades[::-1]
        total = tf.zeros(tf.shape(t)[:1], t.dtype)
        for made in mades:
            t, log_det = layer_map(made, t, context)
            total += log_det
        return t, total

    def _forward_and_log_det(self, x, context):
        return self._run(x, context, generate=self.generative)

    def _inverse_and_log_det(self, y, context):
        return self._run(y, context, generate=not self.generative)

    @property
    def triangular_order(self):
        return np.arange(self.event_size) if self.num_layers == 1 else None

    def get_config(self):
        config = super().get_config()
        config.update(num_layers=self.num_layers, hidden_units=list(self.hidden_units),
                      activation=self.activation, seed=self.seed)
        return config


class _AffineAutoregressive(Autoregressive):
    """Affine transformer: τ(x) = x · exp(s) + μ, s = b · tanh(r / b)."""

    def __init__(self, num_layers=2, hidden_units=(64, 64), context_size=None, activation="relu",
                 log_scale_bound=3.0, seed=None, **kwargs):
        super().__init__(num_layers, hidden_units, context_size, activation, seed, **kwargs)
        self.log_scale_bound = positive_float(log_scale_bound, "log_scale_bound")

    def _make_transformer(self):
        return transformers.Affine(self.log_scale_bound)

    def get_config(self):
        config = super().get_config()
        config["log_scale_bound"] = self.log_scale_bound
        return config


class _SplineAutoregressive(SplineOptions, Autoregressive):
    """Rational-quadratic spline transformer, K bins on [-B, B]."""

    def __init__(self, num_layers=2, hidden_units=(64, 64), context_size=None, activation="relu",
                 num_bins=8, bound=3.0, seed=None, **kwargs):
        super().__init__(num_layers, hidden_units, context_size, activation, seed, **kwargs)
        self._set_spline(num_bins, bound)


@keras.saving.register_keras_serializable(package="tfvae")
class MAF(_AffineAutoregressive):
    """Masked autoregressive flow (Papamakarios et al., 2017): fast density.

    With (μ_i, r_i) = MADE(y_<i, c) per layer and s = b · tanh(r / b) (b =
    `log_scale_bound`: |s| < b, so no layer scales by more than e^b):

        forward (sampling):  y_i = x_i · exp(s_i) + μ_i       D MADE passes
        inverse (density):   x_i = (y_i - μ_i) · exp(-s_i)    one MADE pass
        log|det ∂y/∂x| = Σ_i s_i

    Use MAF where densities are evaluated (priors, `FlowModel`), IAF where
    samples are drawn. Structure, arguments and shapes: `Autoregressive`,
    plus `log_scale_bound` (b > 0).

    Example:
        >>> maf = tfvae.flows.MAF(num_layers=2, hidden_units=(32, 32))
        >>> u, log_det = maf.inverse(x)      # density direction, one pass per layer

    References:
        Papamakarios, Pavlakou, Murray. Masked Autoregressive Flow for
        Density Estimation. NeurIPS 2017. arXiv:1705.07057.
    """


@keras.saving.register_keras_serializable(package="tfvae")
class IAF(_AffineAutoregressive):
    """Inverse autoregressive flow (Kingma et al., 2016): fast sampling.

    MAF's layers run the other way round: with (μ_i, r_i) = MADE(x_<i, c)
    read from the layer's *input* and s = b · tanh(r / b):

        forward (sampling):  y_i = (x_i - μ_i) · exp(-s_i)   one MADE pass
        inverse (density):   x_i = y_i · exp(s_i) + μ_i      D MADE passes
        log|det ∂y/∂x| = -Σ_i s_i

    The forward is what a VAE posterior samples in, with the encoder's
    hidden features as `context`. Arguments and shapes: `Autoregressive`,
    plus `log_scale_bound`.

    Example:
        >>> vae = tfvae.VAE(..., posterior_flow=tfvae.flows.IAF(num_layers=2))

    References:
        Kingma, Salimans, Jozefowicz, Chen, Sutskever, Welling. Improved
        Variational Inference with Inverse Autoregressive Flow. NeurIPS
        2016. arXiv:1606.04934.
    """

    generative = False


@keras.saving.register_keras_serializable(package="tfvae")
class SplineMAF(_SplineAutoregressive):
    """Autoregressive neural spline flow, density direction in one pass.

    MAF's structure with the rational-quadratic spline transformer
    (`transformers.RationalQuadraticSpline`, K = `num_bins` on [-B, B],
    B = `bound`, identity outside): y_i = RQS(x_i; θ(y_<i)) forward (D
    passes), its closed-form inverse in one pass. Arguments: those of
    `Autoregressive`, plus `num_bins` and `bound`.

    Example:
        >>> flow = tfvae.flows.SplineMAF(num_layers=2, num_bins=8, bound=4.0)

    References:
        Durkan, Bekasov, Murray, Papamakarios, "Neural Spline Flows",
        NeurIPS 2019 (the autoregressive RQ-NSF).
    """


@keras.saving.register_keras_serializable(package="tfvae")
class SplineIAF(_SplineAutoregressive):
    """Autoregressive neural spline flow, sampling direction in one pass.

    `SplineMAF`'s layers the other way round, like IAF to MAF: forward
    x_i = RQS⁻¹(u_i; θ(u_<i)) in one pass (a VAE posterior flow), inverse
    in D passes. Arguments: those of `SplineMAF`.

    Example:
        >>> vae = tfvae.VAE(..., posterior_flow=tfvae.flows.SplineIAF(num_layers=2, num_bins=8))

    References:
        Durkan, Bekasov, Murray, Papamakarios, "Neural Spline Flows",
        NeurIPS 2019.
    """

    generative = False
