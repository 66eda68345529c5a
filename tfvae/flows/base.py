"""The one interface every flow layer shares, derived from one primitive pair.

Orientation (TFP's, for every tfvae flow). A flow is an invertible map
f from a *base* variable u to a *data* variable x:

    forward:  x = f(u),    log_det = log|det ∂f(u)/∂u|        (base -> data)
    inverse:  u = f⁻¹(x),  log_det = log|det ∂f⁻¹(x)/∂x| = -log|det ∂f/∂u|

so a density p_u on the base gives the data density through the inverse,

    log p(x) = log p_u(f⁻¹(x)) + log|det ∂f⁻¹(x)/∂x|          (`flow.inverse`)

and a sample through the forward map, x = f(u), u ~ p_u (`flow(u)`). A
flow used as a VAE posterior maps the Gaussian sample forward. Which
direction is cheap is each flow's business: `MAF` has one-pass densities
(inverse) and D-pass sampling, `IAF` the reverse, coupling flows are one
pass both ways, and `Planar` / `Sylvester` have no closed-form inverse.
"""

import inspect

import keras
import tensorflow as tf

from tfvae.flows._bijector import FlowBijector


class Flow(keras.layers.Layer):
    """Base class of flow layers: subclasses define the maths once.

    A subclass implements the primitive pair

        _forward_and_log_det(x, context)  -> (y, log|det ∂y/∂x|)
        _inverse_and_log_det(y, context)  -> (x, log|det ∂x/∂y|)

    (`has_inverse = False` flows implement only the first, and say so);
    everything else is derived from it: `call` (so `flow(x)`), the public
    `forward_and_log_det` / `inverse_and_log_det` / `inverse`, and
    `bijector`, a TFP bijector that runs the same two functions.

    Capabilities, declared by each flow (the shared test harness decides
    from them which checks apply):
        has_inverse:       class attribute; False for planar, Sylvester.
        identity_at_init:  whether a fresh (zero-initialised) flow is the
                           identity; False where a fixed permutation,
                           rotation or data-dependent init is part of it.
        triangular_order:  None, or a permutation of the flattened event
                           under which ∂y/∂x is lower triangular
                           (autoregressive and coupling layers).
        accepts_context:   whether a `(batch, c)` context can condition it
                           (`tfvae.flows._context.ContextMixin`).
        closed_form_jacobian: whether the flow implements the optional
                           primitive `_forward_jacobian(x, context) -> (y,
                           log_det, ∂y/∂x)` (vector flows whose Jacobian is
                           a cheap structured product: planar, Sylvester,
                           chains of them); `forward_and_jacobian` uses it,
                           and otherwise takes `batch_jacobian`.

    Call contract (tensors only, never distribution objects):
        y, log_det = flow(x, context=None)              # (batch, *event), (batch,)
        x, log_det = flow.inverse(y, context=None)      # same as inverse_and_log_det
        flow.bijector                                   # tfb.Bijector (context=None)

    Args of call:
        x: `(batch, *event_shape)` float tensor; `event_ndims` is 1 for
            vectors `(batch, D)` and 3 for images `(batch, H, W, C)`.
        context: optional `(batch, c)` tensor for conditional flows;
            unconditional flows ignore it (so `Chain` can pass it to all).
    """

    event_ndims = 1
    has_inverse = True
    accepts_context = False

    def __init__(self, **kwargs):
        # float32 whatever the global policy: TFP does no autocasting, and
        # log-determinants summed over many dimensions lose too much in 16
        # bits. A mixed-precision model keeps its flows as float32 islands
        # (pass `dtype=` explicitly to opt out).
        kwargs["dtype"] = kwargs.get("dtype") or "float32"
        super().__init__(**kwargs)

    # ----------------------------------------------------------- primitives

    def _forward_and_log_det(self, x, context):
        raise NotImplementedError(f"{type(self).__name__} does not define `_forward_and_log_det`.")

    def _inverse_and_log_det(self, y, context):
        raise NotImplementedError(no_inverse_message(type(self).__name__))

    # ------------------------------------------------------ derived interface

    def call(self, x, context=None):
        return self._forward_and_log_det(x, context)

    def forward_and_log_det(self, x, context=None):
        """`(y, log|det ∂y/∂x|)`, shapes `(batch, *event)` and `(batch,)`."""
        return self(x, context=context)

    def forward_and_jacobian(self, x, context=None):
        """`(y, log|det J|, J)` with J = ∂y/∂x, for vector flows.

        Shapes `(batch, D)`, `(batch,)`, `(batch, D, D)`. In closed form
        when the flow declares `closed_form_jacobian` (one forward pass
        carrying J along, O(D²) per example and layer); otherwise by
        `batch_jacobian`, D backward passes of the flow, vectorised. J is
        differentiable in both cases.

        Raises:
            ValueError: the flow's events are not vectors.
        """
        if self.event_ndims != 1:
            raise ValueError(f"{type(self).__name__}.forward_and_jacobian needs vector events "
                             f"(event_ndims=1). Received: event_ndims={self.event_ndims}")
        x = tf.convert_to_tensor(x)
        self.build_for(x, context)
        if x.dtype.is_floating and x.dtype != self.compute_dtype:
            x = tf.cast(x, self.compute_dtype)
        if self.closed_form_jacobian:
            return self._forward_jacobian(x, context)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y, log_det = self(x, context=context)
        return y, log_det, tape.batch_jacobian(y, x)

    def _forward_jacobian(self, x, context):
        raise NotImplementedError(f"{type(self).__name__} has no closed-form Jacobian.")

    def inverse_and_log_det(self, y, context=None):
        """`(x, log|det ∂x/∂y|)`, shapes `(batch, *event)` and `(batch,)`.

        Raises:
            NotImplementedError: the flow has no closed-form inverse.
        """
        if not self.has_inverse:
            raise NotImplementedError(no_inverse_message(type(self).__name__))
        y = tf.convert_to_tensor(y)
        self.build_for(y, context)
        if y.dtype.is_floating and y.dtype != self.compute_dtype:
            y = tf.cast(y, self.compute_dtype)
        return self._inverse_and_log_det(y, context)

    def inverse(self, y, context=None):
        """Same as `inverse_and_log_det`."""
        return self.inverse_and_log_det(y, context)

    def make_bijector(self, context=None):
        """A `tfb.Bijector` running this layer's maths with this `context`."""
        return FlowBijector(self, context)

    @property
    def bijector(self):
        """The flow as a TFP bijector (unconditional), e.g. for a
        `tfd.TransformedDistribution`; it reads the layer's current weights
        on every call."""
        return self.make_bijector(None)

    # --------------------------------------------------------- capabilities

    @property
    def identity_at_init(self):
        return True

    @property
    def triangular_order(self):
        return None

    @property
    def closed_form_jacobian(self):
        return False

    # ---------------------------------------------------------------- shapes

    def compute_output_shape(self, input_shape, context_shape=None):
        return input_shape, (input_shape[0],)

    def inverse_output_shape(self, output_shape):
        """The input shape that gives `output_shape` (shape-changing flows
        such as `Squeeze` override both this and `compute_output_shape`)."""
        return output_shape

    # -------------------------------------------------------------- building

    def build_for(self, x, context=None):
        """Builds (once) for tensors `x` and `context`, e.g. before an
        `inverse` that runs before any forward call."""
        if not self.built:
            self._build_with(tuple(x.shape), None if context is None else tuple(context.shape))

    def _build_with(self, x_shape, context_shape):
        # Flows whose weights depend on the context width declare
        # `build(self, x_shape, context_shape=None)`; others take one shape.
        if context_shape is not None and accepts_context_shape(self.build):
            self.build(x_shape, context_shape)
        else:
            self.build(x_shape)
        self.built = True

    def build_from_config(self, config):
        # A flow called with a context records both shapes ("shapes_dict");
        # Keras's default would call `build(**shapes_dict)`, which one-shape
        # builds do not accept.
        if not config or self.built:
            return
        shapes = config.get("shapes_dict") or {"x_shape": config.get("input_shape")}
        if shapes.get("x_shape") is not None:
            context_shape = shapes.get("context_shape")
            self._build_with(tuple(shapes["x_shape"]), None if context_shape is None else tuple(context_shape))


def accepts_context_shape(build):
    """Whether a `build` method takes a second `context_shape` argument."""
    return "context_shape" in inspect.signature(build).parameters


def no_inverse_message(name):
    return (f"{name} has no closed-form inverse (it is invertible, but inverting it means solving a "
            "nonlinear equation per example). Use it where only the forward direction is needed, "
            "e.g. as a VAE posterior flow; for densities of given points use MAF, IAF, RealNVP or NSF.")


def sum_event(t, event_ndims):
    """Sums `(batch, *event)` over its last `event_ndims` axes -> `(batch,)`."""
    return tf.reduce_sum(t, axis=list(range(-event_ndims, 0)))


def per_example(log_det, x):
    """Broadcasts a scalar log-det (volume-preserving or data-independent
    maps) to one value per example, `(batch,)`."""
    return tf.broadcast_to(tf.cast(log_det, x.dtype), tf.shape(x)[:1])
