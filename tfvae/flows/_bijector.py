"""The one adapter from a flow layer to a TFP bijector."""

import tensorflow as tf
import tensorflow_probability as tfp

tfb = tfp.bijectors


class FlowBijector(tfb.Bijector):
    """A `tfb.Bijector` whose maths is a tfvae flow layer's primitive pair.

        forward(x)                    = flow.forward_and_log_det(x, context)[0]
        forward_log_det_jacobian(x)   = flow.forward_and_log_det(x, context)[1]
        inverse(y)                    = flow.inverse_and_log_det(y, context)[0]
        inverse_log_det_jacobian(y)   = flow.inverse_and_log_det(y, context)[1]

    with `forward_min_event_ndims = flow.event_ndims` (the layer's log-det is
    already summed over one event), so `tfd.TransformedDistribution(base,
    flow.bijector)` has exactly the layer's density. The layer's current
    weights are read on every call: nothing is copied when the bijector is
    made. Flows without an inverse raise `NotImplementedError` from the
    inverse methods (forward sampling still works).

    TFP caches results per bijector object and input tensor; `parameters`
    is left unset so that two bijectors of one layer never share cache
    entries (TFP then keys on the object's identity).

    Args:
        flow: a `tfvae.flows.Flow`.
        context: `(batch, c)` tensor or None, passed to every call.
    """

    def __init__(self, flow, context=None):
        self._flow = flow
        self._context = context
        super().__init__(forward_min_event_ndims=flow.event_ndims, validate_args=False,
                         parameters=None, name=_scope_name(flow.name))

    @property
    def flow(self):
        return self._flow

    def _forward(self, x):
        return self._flow.forward_and_log_det(x, self._context)[0]

    def _forward_log_det_jacobian(self, x):
        return self._flow.forward_and_log_det(x, self._context)[1]

    def _inverse(self, y):
        return self._flow.inverse_and_log_det(y, self._context)[0]

    def _inverse_log_det_jacobian(self, y):
        return self._flow.inverse_and_log_det(y, self._context)[1]

    def _forward_event_shape(self, shape):
        return tf.TensorShape(self._flow.compute_output_shape((None, *shape))[0][1:])

    def _inverse_event_shape(self, shape):
        return tf.TensorShape(self._flow.inverse_output_shape((None, *shape))[1:])

    # Event shapes are static for every tfvae flow (they are fixed at build).
    def _forward_event_shape_tensor(self, shape):
        return tf.constant(self._forward_event_shape(_static(shape)).as_list(), tf.int32)

    def _inverse_event_shape_tensor(self, shape):
        return tf.constant(self._inverse_event_shape(_static(shape)).as_list(), tf.int32)


def _static(shape):
    value = tf.get_static_value(shape)
    if value is None:
        raise ValueError("A tfvae flow's bijector needs a statically known event shape.")
    return [int(d) for d in value]


def _scope_name(name):
    # TFP opens a name scope per bijector; Keras layer names are valid there
    # except for characters TF rejects in scopes.
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "flow"
