"""Flows that are invertible but have no closed-form inverse (planar, Sylvester)."""

import tensorflow_probability as tfp

from tfvae.flows._conditional import ConditionalFlow

tfb = tfp.bijectors


class ForwardOnlyBijector(tfb.Bijector):
    """A `tfb.Bijector` from a function `x -> (y, log|det dy/dx|)`.

    For flows that are invertible but have no closed-form inverse (planar,
    Sylvester): `forward` and `forward_log_det_jacobian` work, so the
    bijector can push samples through a `tfd.TransformedDistribution`;
    `inverse`, its log-det and hence `log_prob` of arbitrary points raise
    `NotImplementedError(inverse_error)`.
    """

    def __init__(self, forward_and_log_det, inverse_error, name="forward_only"):
        self._forward_and_log_det = forward_and_log_det
        self._inverse_error = inverse_error
        super().__init__(forward_min_event_ndims=1, validate_args=False,
                         parameters=dict(inverse_error=inverse_error), name=name)

    def _forward(self, x):
        return self._forward_and_log_det(x)[0]

    def _forward_log_det_jacobian(self, x):
        return self._forward_and_log_det(x)[1]

    def _inverse(self, y):
        raise NotImplementedError(self._inverse_error)

    def _inverse_log_det_jacobian(self, y):
        raise NotImplementedError(self._inverse_error)


def no_inverse_message(name):
    return (f"{name} has no closed-form inverse (it is invertible, but inverting it means solving a "
            "nonlinear equation per example). Use it where only the forward direction is needed, "
            "e.g. as a VAE posterior flow; for densities of given points use MAF, IAF or RealNVP.")


class ForwardOnlyFlow(ConditionalFlow):
    """Base of flows that only go forward.

    Subclasses implement `_forward_and_log_det(z, params)` with `params =
    self.parameters(context)` and set `flow_name`. `call` makes one pass for
    both outputs (the base class's bijector route would run the layers
    twice: once for y, once for the log-det); `inverse` and the bijector's
    inverse raise `NotImplementedError` with `no_inverse_message`.
    """

    flow_name = "forward_only"

    def call(self, x, context=None):
        return self._forward_and_log_det(x, self.parameters(context))

    def make_bijector(self, context=None):
        params = self.parameters(context)
        return ForwardOnlyBijector(lambda x: self._forward_and_log_det(x, params),
                                   no_inverse_message(type(self).__name__), name=self.flow_name)

    def inverse(self, y, context=None):
        raise NotImplementedError(no_inverse_message(type(self).__name__))
