"""Composition of flows, and a flow with its directions swapped."""

import keras
import tensorflow as tf

from tfvae.flows.base import Flow


@keras.saving.register_keras_serializable(package="tfvae")
class Chain(Flow):
    """Composition `f_K ∘ ... ∘ f_1` of flows, applied in list order.

    Maths, with h_0 = x and h_k = f_k(h_{k-1}):
        forward:  y = h_K,  log|det dy/dx| = Σ_k log|det df_k/dh_{k-1}|
        Jacobian: dy/dx = J_K ⋯ J_1 (closed form when every flow has one)
        inverse:  applies f_K^{-1}, ..., f_1^{-1} (reverse order), log-dets sum.
    Each flow may change the shape (e.g. `Squeeze`); its
    `compute_output_shape` tells the next one what it will receive.

    Args:
        flows: non-empty list of `Flow` layers. The same `context` is passed
            to each (flows without conditioners ignore it).

    Call:
        x: `(batch, *event_shape)`; returns `(y, log_det)` with `log_det`
        `(batch,)`.

    Example:
        >>> flow = tfvae.flows.Chain([tfvae.flows.ActNorm(event_ndims=1), tfvae.flows.LULinear(seed=0),
        ...                           tfvae.flows.NeuralSplineCoupling(hidden_units=(64,))])
        >>> x, log_det = flow(u)                       # f_3(f_2(f_1(u)))

    Raises:
        ValueError: an empty list or an element that is not a `Flow`.
    """

    def __init__(self, flows, **kwargs):
        super().__init__(**kwargs)
        flows = list(flows) if isinstance(flows, (list, tuple)) else flows
        if not isinstance(flows, list) or not flows or not all(isinstance(f, Flow) for f in flows):
            raise ValueError(f"Expected `flows` to be a non-empty list of tfvae Flow layers. Received: flows={flows!r}")
        self.flows = flows

    @property
    def event_ndims(self):
        return max(f.event_ndims for f in self.flows)

    def build(self, x_shape, context_shape=None):
        shape = tuple(x_shape)
        for flow in self.flows:
            if not flow.built:
                flow._build_with(shape, context_shape)
            shape = tuple(flow.compute_output_shape(shape)[0])

    def compute_output_shape(self, input_shape, context_shape=None):
        shape = tuple(input_shape)
        for flow in self.flows:
            shape = tuple(flow.compute_output_shape(shape)[0])
        return shape, (input_shape[0],)

    def inverse_output_shape(self, output_shape):
        shape = tuple(output_shape)
        for flow in reversed(self.flows):
            shape = tuple(flow.inverse_output_shape(shape))
        return shape

    @property
    def has_inverse(self):
        return all(f.has_inverse for f in self.flows)

    @property
    def accepts_context(self):
        return any(f.accepts_context for f in self.flows)

    @property
    def identity_at_init(self):
        return all(f.identity_at_init for f in self.flows)

    @property
    def closed_form_jacobian(self):
        return all(f.closed_form_jacobian for f in self.flows)

    def _forward_jacobian(self, x, context):
        # J = J_K ⋯ J_1, accumulated left to right.
        total, jacobian = tf.zeros(tf.shape(x)[:1], dtype=x.dtype), None
        for flow in self.flows:
            x, log_det, layer_jacobian = flow.forward_and_jacobian(x, context=context)
            total += log_det
            jacobian = layer_jacobian if jacobian is None else tf.matmul(layer_jacobian, jacobian)
        return x, total, jacobian

    def _forward_and_log_det(self, x, context):
        total = tf.zeros(tf.shape(x)[:1], dtype=x.dtype)
        for flow in self.flows:
            x, log_det = flow(x, context=context)
            total += log_det
        return x, total

    def _inverse_and_log_det(self, y, context):
        total = tf.zeros(tf.shape(y)[:1], dtype=y.dtype)
        for flow in reversed(self.flows):
            y, log_det = flow.inverse(y, context=context)
            total += log_det
        return y, total

    def get_config(self):
        config = super().get_config()
        config["flows"] = [keras.saving.serialize_keras_object(f) for f in self.flows]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["flows"] = [keras.saving.deserialize_keras_object(f) for f in config["flows"]]
        return cls(**config)


@keras.saving.register_keras_serializable(package="tfvae")
class Invert(Flow):
    """Swaps a flow's directions: forward = `flow.inverse`, inverse = `flow`.

    Maths: y = f⁻¹(x), log|det dy/dx| = log|det df⁻¹/dx| (the wrapped
    flow's inverse log-det), and the inverse is f with its forward log-det.

    Useful because flows differ in which direction is cheap: `FlowModel` and
    `FlowPrior` evaluate densities with `flow.inverse`, so a bare `MAF` there
    has one-pass densities and `Invert(MAF(...))` (which is an IAF) one-pass
    sampling; a posterior flow runs forward, where `IAF` is the cheap one.

    Args:
        flow: a `Flow` with an inverse.

    Example:
        >>> prior = tfvae.priors.FlowPrior(tfvae.flows.Invert(tfvae.flows.IAF(num_layers=2)))

    Raises:
        ValueError: `flow` is not a `Flow` with an inverse.
    """

    def __init__(self, flow, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(flow, Flow) or not flow.has_inverse:
            raise ValueError("Expected `flow` to be a tfvae Flow layer with an inverse (its inverse "
                             f"becomes the forward). Received: flow={flow!r}")
        self.flow = flow

    @property
    def event_ndims(self):
        return self.flow.event_ndims

    def build(self, x_shape, context_shape=None):
        if not self.flow.built:
            self.flow._build_with(tuple(x_shape), context_shape)

    @property
    def accepts_context(self):
        return self.flow.accepts_context

    @property
    def identity_at_init(self):
        return self.flow.identity_at_init

    @property
    def triangular_order(self):
        # The inverse of a lower-triangular map is lower triangular.
        return self.flow.triangular_order

    def compute_output_shape(self, input_shape, context_shape=None):
        return self.flow.inverse_output_shape(input_shape), (input_shape[0],)

    def inverse_output_shape(self, output_shape):
        return self.flow.compute_output_shape(output_shape)[0]

    def _forward_and_log_det(self, x, context):
        return self.flow.inverse(x, context=context)

    def _inverse_and_log_det(self, y, context):
        return self.flow(y, context=context)

    def get_config(self):
        config = super().get_config()
        config["flow"] = keras.saving.serialize_keras_object(self.flow)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["flow"] = keras.saving.deserialize_keras_object(config["flow"])
        return cls(**config)
