"""Vector flows whose parameters are either their own weights or amortised
from the context (planar, Sylvester)."""

import keras
import tensorflow as tf

from tfvae.flows._context import ContextMixin
from tfvae.flows.base import Flow


class AmortisedFlow(ContextMixin, Flow):
    """A vector flow with named parameter groups, free or amortised.

    Built with a context (`(batch, c)`, the VAE encoder's features), each
    group is a `Dense` head on the context, one value per example;
    otherwise each group is one weight vector shared by all examples,
    initialised like the head's bias (what the head outputs for a zero
    context). Subclasses declare the groups in `_build_flow(event_size,
    context_dim)` with `add_parameters` and implement the maps as
    `_maps(x, params, jacobian=False)` with `params = {name: (batch or 1,
    size)}`, returning `(y, log_det)`, and with `jacobian=True` also
    ∂y/∂x `(batch, D, D)`, carried through the layers in closed form.
    """

    def build(self, x_shape, context_shape=None):
        if len(x_shape) != 2 or x_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} expects inputs of shape (batch, D). "
                             f"Received: x.shape={tuple(x_shape)}")
        self.event_size = int(x_shape[-1])
        self._build_flow(self.event_size, self.build_context(context_shape))

    def _build_flow(self, event_size, context_dim):
        raise NotImplementedError

    def add_parameters(self, groups):
        """Creates the parameter groups `{name: (size, kernel_init, bias_init)}`."""
        self.parameter_heads, self.parameter_weights = {}, {}
        for name, (size, kernel_init, bias_init) in groups.items():
            if self.context_dim is not None:
                head = keras.layers.Dense(size, kernel_initializer=kernel_init, bias_initializer=bias_init,
                                          name=f"{name}_head", dtype=self.dtype_policy)
                head.build((None, self.context_dim))
                self.parameter_heads[name] = head
            else:
                self.parameter_weights[name] = self.add_weight(shape=(size,), initializer=bias_init, name=name)

    def parameters(self, context):
        """Returns `{name: (batch or 1, size)}` for this context (or None)."""
        self.check_context(context)
        if context is None:
            return {name: keras.ops.expand_dims(w, 0) for name, w in self.parameter_weights.items()}
        return {name: head(context) for name, head in self.parameter_heads.items()}

    @property
    def closed_form_jacobian(self):
        return True

    def _forward_and_log_det(self, x, context):
        return self._maps(x, self.parameters(context))

    def _forward_jacobian(self, x, context):
        return self._maps(x, self.parameters(context), jacobian=True)

    def _maps(self, x, params, jacobian=False):
        raise NotImplementedError


def identity_jacobian(x):
    """I_D per example of `x (batch, D)`: `(batch, D, D)`, x's dtype."""
    return tf.eye(tf.shape(x)[-1], batch_shape=tf.shape(x)[:1], dtype=x.dtype)
