"""Coupling layers: affine (RealNVP) and additive (NICE), vectors and images."""

import keras
import tensorflow as tf

from tfvae.flows.base import Flow
from tfvae.flows.masked_coupling import MASKS, MaskedCoupling, make_mask
from tfvae.nets._validate import activation_name, nonnegative_float, positive_int, positive_int_tuple
from tfvae.nets.coupling_nets import CouplingConvNet
from tfvae.nets.mlp import MLP


@keras.saving.register_keras_serializable(package="tfvae")
class AffineCoupling(Flow):
    """Affine coupling layer: half the entries condition a scale and shift of the rest.

    Maths, with binary mask `m` (1 = kept) and `(t, r) = NN(m*x [, context])`,
    `s = c * tanh(r / c)` (a soft clamp at `c = log_scale_clamp`, so one
    step can never scale by more than e^c: this keeps deep flows and
    extreme inputs finite):
        forward:  y = m*x + (1-m) * (x * exp(s) + t)
        inverse:  x = m*y + (1-m) * (y - t) * exp(-s)
        log|det dy/dx| = sum((1-m) * s)

    Masks: "alternating" for vectors `(batch, D)` (even/odd features);
    "checkerboard" or "channel" for images `(batch, H, W, C)`. `parity`
    flips which half is transformed, so stacking parities 0, 1, 0, ...
    transforms every entry. Vectors use an `MLP` conditioner, images a
    `CouplingConvNet`. Both start with a zero last layer, so the layer
    starts as the identity (t = s = 0).

    Args:
        mask: "alternating", "checkerboard" or "channel".
        parity: 0 or 1.
        hidden_units: hidden widths of the vector conditioner (MLP).
        hidden_channels: hidden width of the image conditioner (conv net).
        activation: Keras activation name of the conditioner.
        context_size: width `c` of an optional `(batch, c)` context that is
            concatenated to the conditioner's input (broadcast over pixels
            for images). If None, the layer is conditional exactly when its
            first call (which builds it) passes a context, whose width is
            then inferred; containers built from the input shape alone, and
            reloading, need it only when set here.
        log_scale_clamp: positive `c` above; 0 disables clamping.

    Call:
        x: `(batch, D)` or `(batch, H, W, C)`; context `(batch, c)` for a
        conditional layer, None otherwise. Returns `(y, log_det)`, `log_det` `(batch,)`.

    Raises:
        ValueError: bad arguments, an input that does not fit the mask, or a
            missing or unexpected context.

    References:
        Dinh, Sohl-Dickstein & Bengio, "Density estimation using Real NVP", ICLR 2017.
    """

    affine = True

    def __init__(self, mask="alternating", parity=0, hidden_units=(64, 64), hidden_channels=64,
                 activation="relu", context_size=None, log_scale_clamp=3.0, **kwargs):
        super().__init__(**kwargs)
        if mask not in MASKS:
            raise ValueError(f"Expected `mask` to be one of {MASKS}. Received: mask={mask!r}")
        if parity not in (0, 1):
            raise ValueError(f"Expected `parity` to be 0 or 1. Received: parity={parity!r}")
        self.mask = mask
        self.parity = int(parity)
        self.hidden_units = positive_int_tuple(hidden_units, "hidden_units")
        self.hidden_channels = positive_int(hidden_channels, "hidden_channels")
        self.activation = activation_name(activation)
        self.context_size = None if context_size is None else positive_int(context_size, "context_size")
        self.log_scale_clamp = nonnegative_float(log_scale_clamp, "log_scale_clamp")
        self.event_ndims = 1 if mask == "alternating" else 3

    def build(self, x_shape, context_shape=None):
        input_shape = tuple(x_shape)
        event_shape = tuple(input_shape[1:])
        if len(event_shape) != self.event_ndims or any(d is None for d in event_shape):
            raise ValueError(
                f"A {self.mask!r} coupling expects inputs of shape "
                f"{'(batch, D)' if self.event_ndims == 1 else '(batch, H, W, C)'} with known sizes. "
                f"Received input_shape={tuple(input_shape)}")
        self._mask_np = make_mask(self.mask, event_shape, self.parity)
        self._context_dim = self.context_size
        if context_shape is not None:
            if len(context_shape) != 2 or context_shape[-1] is None:
                raise ValueError(f"{self.name} expects a context of shape (batch, c). "
                                 f"Received: context.shape={tuple(context_shape)}")
            if self.context_size is not None and context_shape[-1] != self.context_size:
                raise ValueError(f"{self.name} was configured with context_size={self.context_size}. "
                                 f"Received: context.shape={tuple(context_shape)}")
            self._context_dim = int(context_shape[-1])
        context = self._context_dim or 0
        channels = event_shape[-1]
        outputs = 2 * channels if self.affine else channels
        if self.event_ndims == 1:
            # Zero last layer: t = s = 0, the layer starts as the identity.
            self.conditioner = MLP(self.hidden_units, self.activation, output_units=outputs,
                                   zero_init_output=True, name="conditioner", dtype=self.dtype_policy)
            self.conditioner.build((None, channels + context))
        else:
            self.conditioner = CouplingConvNet(self.hidden_channels, outputs, self.activation,
                                               name="conditioner", dtype=self.dtype_policy)
            self.conditioner.build((None, *event_shape[:2], channels + context))

    def _conditioner_fn(self, context):
        if self._context_dim is not None and context is None:
            raise ValueError(f"{self.name} was built with a context of size {self._context_dim}; "
                             "pass `context`.")
        if self._context_dim is None and context is not None:
            raise ValueError(f"{self.name} was built without a context; received a `context`. Pass "
                             "one at the first call (or set `context_size`) to use one.")

        def fn(kept):
            inputs = kept
            if self._context_dim is not None:
                c = tf.cast(context, kept.dtype)
                if self.event_ndims == 3:
                    shape = tf.concat([tf.shape(kept)[:3], [self._context_dim]], axis=0)
                    c = tf.broadcast_to(c[:, None, None, :], shape)
                inputs = tf.concat([kept, c], axis=-1)
            out = self.conditioner(inputs)
            if not self.affine:
                return out, None
            shift, raw = tf.split(out, 2, axis=-1)
            if self.log_scale_clamp > 0:
                raw = self.log_scale_clamp * tf.tanh(raw / self.log_scale_clamp)
            return shift, raw
        return fn

    def make_bijector(self, context=None):
        mask = tf.constant(self._mask_np, dtype=self.compute_dtype)
        return MaskedCoupling(mask, self._conditioner_fn(context), self.event_ndims, self.affine,
                              name=self.name)

    def call(self, x, context=None):
        return self.make_bijector(context).forward_and_log_det(x)

    def inverse(self, y, context=None):
        self.build_for(y, context)
        return self.make_bijector(context).inverse_and_log_det(y)

    def get_config(self):
        config = super().get_config()
        config.update(
            mask=self.mask, parity=self.parity, hidden_units=list(self.hidden_units),
            hidden_channels=self.hidden_channels, activation=self.activation,
            context_size=self.context_size, log_scale_clamp=self.log_scale_clamp)
        return config


@keras.saving.register_keras_serializable(package="tfvae")
class AdditiveCoupling(AffineCoupling):
    """Additive coupling (NICE): y = m*x + (1-m)*(x + t(m*x)), log-det 0.

    Same arguments as `AffineCoupling` (`log_scale_clamp` is unused).
    Volume preserving, so a NICE flow needs a final diagonal scaling (or a
    learned base) to change volume.

    References:
        Dinh, Krueger & Bengio, "NICE: Non-linear Independent Components
        Estimation", ICLR 2015 workshop.
    """

    affine = False
