"""The one interface every flow layer shares.

A flow is a Keras 3 layer that owns weights (its conditioner networks) and
builds a TFP bijector from them on every call. Building per call is not a
style choice: TFP copies the *value* of a Keras 3 variable when a bijector is
constructed, so a bijector built once and kept would silently stop training.
"""

import inspect

import keras
import tensorflow as tf


class Flow(keras.layers.Layer):
    """Base class: an invertible map y = f(x) with a tractable log-det.

    Subclasses implement `make_bijector(context)` and set `event_ndims`
    (1 for vectors `(batch, D)`, 3 for images `(batch, H, W, C)`). Flows
    with no cheap inverse (planar, Sylvester) override `inverse` to raise.

    Call contract (all tensors, never distribution objects):
        y, log_det = flow(x, context=None)          # log|det dy/dx|, (batch,)
        x, log_det = flow.inverse(y, context=None)  # log|det dx/dy|, (batch,)
        flow.bijector                               # tfb.Bijector (context=None)

    Args of call:
        x: `(batch, *event_shape)` float tensor.
        context: optional `(batch, context_dim)` tensor for conditional flows.
    """

    event_ndims = 1

    def __init__(self, **kwargs):
        # float32 whatever the global policy: TFP does no autocasting, and
        # log-determinants summed over many dimensions lose too much in 16
        # bits. A mixed-precision model keeps its flows as float32 islands
        # (pass `dtype=` explicitly to opt out).
        kwargs["dtype"] = kwargs.get("dtype") or "float32"
        super().__init__(**kwargs)

    def make_bijector(self, context=None):
        """Returns a fresh `tfb.Bijector` built from the current weights."""
        raise NotImplementedError

    @property
    def bijector(self):
        return self.make_bijector(None)

    def call(self, x, context=None):
        # TFP keeps one global forward/inverse cache for all bijectors, keyed
        # on the input tensor and on parameter *values* (eager tensors read
        # from our variables have static values). Calling twice on the same
        # tensor with unchanged weights would return the first result, cut
        # off from the gradient tape; a fresh tensor handle avoids that.
        x = tf.identity(x)
        bijector = self.make_bijector(context)
        y = bijector.forward(x)
        log_det = bijector.forward_log_det_jacobian(x, event_ndims=self.event_ndims)
        return y, _per_example(log_det, x)

    def inverse(self, y, context=None):
        self.build_for(y, context)
        y = tf.identity(y)  # see `call`: no stale TFP cache hits
        bijector = self.make_bijector(context)
        x = bijector.inverse(y)
        log_det = bijector.inverse_log_det_jacobian(y, event_ndims=self.event_ndims)
        return x, _per_example(log_det, y)

    def compute_output_shape(self, input_shape, context_shape=None):
        return input_shape, (input_shape[0],)

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


def _per_example(log_det, x):
    """Broadcasts a scalar log-det (volume-preserving or data-independent
    maps) to one value per example, so every flow returns `(batch,)`."""
    return tf.broadcast_to(log_det, tf.shape(x)[:1]) + tf.zeros([], dtype=x.dtype)
