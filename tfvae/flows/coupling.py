"""Masked coupling layers: one structure, element-wise transformers plugged in."""

import keras
import numpy as np
import tensorflow as tf

from tfvae.flows import transformers
from tfvae.flows._context import ContextMixin
from tfvae.flows._spline_options import SplineOptions
from tfvae.flows.base import Flow, sum_event
from tfvae.flows.masks import MASKS, make_mask
from tfvae.nets._validate import activation_name, nonnegative_float, positive_int, positive_int_tuple
from tfvae.nets.coupling_nets import CouplingConvNet
from tfvae.nets.mlp import MLP


class Coupling(ContextMixin, Flow):
    """Masked coupling: the kept half conditions a transformer of the rest.

    With binary mask m (1 = kept), a conditioner θ = NN(m ⊙ x [, c]) giving
    P raw numbers per element, and an element-wise transformer τ
    (`tfvae.flows.transformers`):

        forward:  y = m ⊙ x + (1 - m) ⊙ τ(x; θ(m ⊙ x))
        inverse:  x = m ⊙ y + (1 - m) ⊙ τ⁻¹(y; θ(m ⊙ y))
        log|det ∂y/∂x| = Σ_event (1 - m) ⊙ log|τ'(x; θ)|

    Both directions take one conditioner pass (m ⊙ y = m ⊙ x). The Jacobian
    is lower triangular with the kept entries ordered first
    (`triangular_order`). Vectors `(batch, D)` use an `MLP` conditioner and
    the "alternating" mask; images `(batch, H, W, C)` a `CouplingConvNet`
    and a "checkerboard" or "channel" mask. Both nets end in a zero layer,
    so θ = 0 and the layer starts as the identity. The net outputs P·C
    channels, parameter p of channel c at index p·C + c. A context `(batch,
    c)` is concatenated to the conditioner's input (broadcast over pixels).

    Subclasses choose the transformer (`_make_transformer`) and add its
    options to the config: `AffineCoupling`, `AdditiveCoupling`,
    `NeuralSplineCoupling`.

    Args:
        mask: "alternating", "checkerboard" or "channel".
        parity: 0 or 1, which half is kept (see `tfvae.flows.masks`).
        hidden_units: hidden widths of the vector conditioner (MLP).
        hidden_channels: hidden width of the image conditioner.
        activation: Keras activation name of the conditioner.
        context_size: width of an optional context; None infers it at the
            first call (see `tfvae.flows._context.ContextMixin`).

    Call args:
        x: `(batch, D)` or `(batch, H, W, C)`; context: `(batch, c)` or None.

    Returns:
        `(y, log_det)`, y shaped like x and log_det `(batch,)`.

    Raises:
        ValueError: bad arguments, an input that does not fit the mask, or a
            missing or unexpected context.

    References:
        Dinh, Sohl-Dickstein & Bengio, "Density estimation using Real NVP", ICLR 2017.
    """

    def __init__(self, mask="alternating", parity=0, hidden_units=(64, 64), hidden_channels=64,
                 activation="relu", context_size=None, **kwargs):
        super().__init__(context_size=context_size, **kwargs)
        if mask not in MASKS:
            raise ValueError(f"Expected `mask` to be one of {MASKS}. Received: mask={mask!r}")
        if parity not in (0, 1):
            raise ValueError(f"Expected `parity` to be 0 or 1. Received: parity={parity!r}")
        self.mask = mask
        self.parity = int(parity)
        self.hidden_units = positive_int_tuple(hidden_units, "hidden_units")
        self.hidden_channels = positive_int(hidden_channels, "hidden_channels")
        self.activation = activation_name(activation)
        self.event_ndims = 1 if mask == "alternating" else 3

    def _make_transformer(self):
        raise NotImplementedError

    def build(self, x_shape, context_shape=None):
        event_shape = tuple(x_shape[1:])
        if len(event_shape) != self.event_ndims or any(d is None for d in event_shape):
            raise ValueError(
                f"A {self.mask!r} coupling expects inputs of shape "
                f"{'(batch, D)' if self.event_ndims == 1 else '(batch, H, W, C)'} with known sizes. "
                f"Received input_shape={tuple(x_shape)}")
        self._mask_np = make_mask(self.mask, event_shape, self.parity)
        context = self.build_context(context_shape) or 0
        channels = event_shape[-1]
        self._transformer = self._make_transformer()
        outputs = self._transformer.num_params * channels
        if self.event_ndims == 1:
            # Zero last layer: θ = 0, the layer starts as the identity.
            self.conditioner = MLP(self.hidden_units, self.activation, output_units=outputs,
                                   zero_init_output=True, name="conditioner", dtype=self.dtype_policy)
            self.conditioner.build((None, channels + context))
        else:
            self.conditioner = CouplingConvNet(self.hidden_channels, outputs, self.activation,
                                               name="conditioner", dtype=self.dtype_policy)
            self.conditioner.build((None, *event_shape[:2], channels + context))

    def _params(self, kept, context):
        """θ, P tensors shaped like `kept`, from the kept entries (and the context)."""
        self.check_context(context)
        inputs = kept
        if context is not None:
            c = tf.cast(context, kept.dtype)
            if self.event_ndims == 3:
                shape = tf.concat([tf.shape(kept)[:3], [self.context_dim]], axis=0)
                c = tf.broadcast_to(c[:, None, None, :], shape)
            inputs = tf.concat([kept, c], axis=-1)
        out = self.conditioner(inputs)
        num_params = self._transformer.num_params
        return tf.split(out, num_params, axis=-1) if num_params > 1 else [out]

    def _couple(self, t, context, inverse):
        mask = tf.constant(self._mask_np, dtype=t.dtype)
        kept = mask * t
        params = self._params(kept, context)
        out, log_det = (self._transformer.inverse if inverse else self._transformer.forward)(t, params)
        return kept + (1.0 - mask) * out, sum_event((1.0 - mask) * log_det, self.event_ndims)

    def _forward_and_log_det(self, x, context):
        return self._couple(x, context, inverse=False)

    def _inverse_and_log_det(self, y, context):
        return self._couple(y, context, inverse=True)

    @property
    def triangular_order(self):
        # Kept entries first: they map to themselves, and each transformed
        # entry depends on the kept ones and itself only.
        return np.argsort(-self._mask_np.ravel(), kind="stable")

    def get_config(self):
        config = super().get_config()
        config.update(mask=self.mask, parity=self.parity, hidden_units=list(self.hidden_units),
                      hidden_channels=self.hidden_channels, activation=self.activation)
        return config


@keras.saving.register_keras_serializable(package="tfvae")
class AffineCoupling(Coupling):
    """Affine coupling (Real NVP): a scale and shift of the transformed half.

    With (t, r) = NN(m ⊙ x [, c]) and s = a · tanh(r / a), a soft clamp at
    a = `log_scale_clamp` (0: none) so one step never scales by more than
    e^a:

        forward:  y = m ⊙ x + (1 - m) ⊙ (x - t) · exp(-s)
        inverse:  x = m ⊙ y + (1 - m) ⊙ (y · exp(s) + t)
        log|det ∂y/∂x| = -Σ_event (1 - m) ⊙ s

    i.e. the transformer `Inverse(Affine(a))`: the density (inverse)
    direction is Dinh et al.'s "scale, then shift", which trained better
    than the reverse for density estimation. All other arguments, shapes
    and behaviour are those of `Coupling`.

    Args:
        log_scale_clamp: a >= 0 above.

    Example:
        >>> layer = tfvae.flows.AffineCoupling("alternating", parity=0, hidden_units=(32,))
        >>> y, log_det = layer(tf.random.normal((8, 4)))
        >>> x, inverse_log_det = layer.inverse(y)   # x == input, log-dets opposite
    """

    def __init__(self, mask="alternating", parity=0, hidden_units=(64, 64), hidden_channels=64,
                 activation="relu", context_size=None, log_scale_clamp=3.0, **kwargs):
        super().__init__(mask, parity, hidden_units, hidden_channels, activation, context_size, **kwargs)
        self.log_scale_clamp = nonnegative_float(log_scale_clamp, "log_scale_clamp")

    def _make_transformer(self):
        return transformers.Inverse(transformers.Affine(self.log_scale_clamp))

    def get_config(self):
        config = super().get_config()
        config["log_scale_clamp"] = self.log_scale_clamp
        return config


@keras.saving.register_keras_serializable(package="tfvae")
class AdditiveCoupling(AffineCoupling):
    """Additive coupling (NICE): y = m ⊙ x + (1 - m) ⊙ (x - t(m ⊙ x)), log-det 0.

    Inverse x = m ⊙ y + (1 - m) ⊙ (y + t(m ⊙ y)): the transformer
    `Inverse(Additive())`. Volume preserving, so a NICE flow needs a final
    diagonal scaling (or a learned base) to change volume. Arguments are
    those of `AffineCoupling` (`log_scale_clamp` is unused).

    Example:
        >>> layer = tfvae.flows.AdditiveCoupling("checkerboard", parity=1, hidden_channels=32)
        >>> y, log_det = layer(tf.random.normal((4, 8, 8, 1)))   # log_det == 0

    References:
        Dinh, Krueger & Bengio, "NICE: Non-linear Independent Components
        Estimation", ICLR 2015 workshop.
    """

    def _make_transformer(self):
        return transformers.Inverse(transformers.Additive())


@keras.saving.register_keras_serializable(package="tfvae")
class NeuralSplineCoupling(SplineOptions, Coupling):
    """Rational-quadratic spline coupling (Durkan et al., 2019).

    forward:  y = m ⊙ x + (1 - m) ⊙ RQS(x; θ(m ⊙ x)), inverse by the
    spline's closed-form inverse, log|det ∂y/∂x| = Σ_event (1 - m) ⊙
    log RQS'(x; θ): `transformers.RationalQuadraticSpline` with K =
    `num_bins` bins on [-B, B], B = `bound`, identity outside (linear
    tails). θ has 3K - 1 numbers per transformed element. Other arguments,
    shapes and behaviour are those of `Coupling`.

    Args:
        num_bins: K, positive int.
        bound: B > 0.

    Example:
        >>> layer = tfvae.flows.NeuralSplineCoupling(num_bins=8, bound=3.0, hidden_units=(32,))
        >>> y, log_det = layer(tf.random.normal((8, 4)))

    References:
        Durkan, Bekasov, Murray, Papamakarios, "Neural Spline Flows",
        NeurIPS 2019.
    """

    def __init__(self, mask="alternating", parity=0, hidden_units=(64, 64), hidden_channels=64,
                 activation="relu", context_size=None, num_bins=8, bound=3.0, **kwargs):
        super().__init__(mask, parity, hidden_units, hidden_channels, activation, context_size, **kwargs)
        self._set_spline(num_bins, bound)
