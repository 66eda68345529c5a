"""Masked autoregressive (MAF) and inverse autoregressive (IAF) flows.

Both stack `tfb.MaskedAutoregressiveFlow` bijectors driven by our own Keras 3
`MADE`, reversing the autoregressive order between layers so every
dimension is eventually conditioned on every other. They differ only in
which direction is the cheap one:

    MAF: density (inverse) in one MADE pass per layer, sampling in D passes.
    IAF: sampling (forward) in one MADE pass per layer, density in D passes.
"""

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfvae.flows._conditional import ConditionalFlow
from tfvae.nets._validate import activation_name, positive_int, positive_int_tuple
from tfvae.nets.made import MADE

tfb = tfp.bijectors

# Alternating MADE orders is a reversing permutation between layers,
# conjugated so that the output keeps the input's order: P M P with
# P = reversal is M with the reversed order. It costs no gather, and a fresh
# flow is exactly the identity (an explicit tfb.Permute would leave an odd
# number of reversals in place).
_ORDERS = ("left-to-right", "right-to-left")


class _MaskedFlow(ConditionalFlow):
    """Shared weights and bijector construction of MAF and IAF."""

    def __init__(self, num_layers=2, hidden_units=(64, 64), context_size=None, activation="relu",
                 log_scale_bound=3.0, seed=None, **kwargs):
        super().__init__(context_size=context_size, **kwargs)
        self.num_layers = positive_int(num_layers, "num_layers")
        self.hidden_units = positive_int_tuple(hidden_units, "hidden_units")
        self.activation = activation_name(activation)
        if isinstance(log_scale_bound, bool) or not isinstance(log_scale_bound, (int, float)) \
                or not log_scale_bound > 0:
            raise ValueError("Expected `log_scale_bound` to be a positive number. "
                             f"Received: log_scale_bound={log_scale_bound!r}")
        self.log_scale_bound = float(log_scale_bound)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        self.seed = seed

    def _build_flow(self, event_size, context_dim):
        self.mades = [
            MADE(event_size, self.hidden_units, params=2, context_size=context_dim,
                 input_order=_ORDERS[i % 2], activation=self.activation,
                 seed=None if self.seed is None else self.seed + i, name=f"made_{i}",
                 dtype=self.dtype_policy)
            for i in range(self.num_layers)
        ]
        for made in self.mades:
            made.build((None, event_size), None if context_dim is None else (None, context_dim))

    def _conditioner(self, made, context):
        """`shift_and_log_scale_fn` for one layer.

        log_scale = b * tanh(raw / b): equal to `raw` near 0 (so the zero
        MADE output is the identity and gradients are undamped there) but
        bounded by b = `log_scale_bound`, so one layer can never scale by
        more than e^b -- an unbounded exp(raw) overflows early in training.

        The last (input, output) pair is memoised by identity: TFP asks
        for the same layer's parameters once for the value and again for
        the log-det, and the memo makes that a single MADE pass.
        """
        memo = []

        def shift_and_log_scale(y):
            if memo and memo[0] is y:
                return memo[1]
            params = made(y, context)
            shift = params[..., 0]
            log_scale = self.log_scale_bound * tf.tanh(params[..., 1] / self.log_scale_bound)
            memo[:] = [y, (shift, log_scale)]
            return shift, log_scale

        return shift_and_log_scale

    def _maf_chain(self, context):
        self.check_context(context)
        steps = []
        for made in self.mades:
            steps.append(tfb.MaskedAutoregressiveFlow(shift_and_log_scale_fn=self._conditioner(made, context)))
        # tfb.Chain applies its last element first.
        return tfb.Chain(steps[::-1])

    def get_config(self):
        config = super().get_config()
        config.update(num_layers=self.num_layers, hidden_units=list(self.hidden_units),
                      activation=self.activation, log_scale_bound=self.log_scale_bound,
                      seed=self.seed)
        return config


_ARGS_DOC = """
    Args:
        num_layers: number of autoregressive layers.
        hidden_units: widths of each MADE's hidden layers.
        context_size: optional context width c; None infers it from the
            context at the first call (or builds an unconditional flow).
        activation: MADE hidden activation.
        log_scale_bound: b > 0, each layer's |log-scale| < b (see below).
        seed: int or None; layer i's MADE gets seed + i.

    Call args:
        x: `(batch, D)`; context: optional `(batch, c)`, passed to every
        MADE hidden layer.

    Returns:
        `(y, log_det)` with y `(batch, D)` and log_det `(batch,)`.

    Raises:
        ValueError: bad arguments, non-vector inputs, or a context given to
            a flow built without one (or missing from one built with one).
"""


@keras.saving.register_keras_serializable(package="tfvae")
class MAF(_MaskedFlow):
    """Masked autoregressive flow (Papamakarios et al., 2017): fast density.

    With (mu_i, s_i) = MADE(y_{<i}, context) per layer, s = b tanh(raw/b):

        forward (sampling):  y_i = x_i exp(s_i(y_{<i})) + mu_i(y_{<i})
        inverse (density):   x_i = (y_i - mu_i(y_{<i})) exp(-s_i(y_{<i}))
        log|det dy/dx| = sum_i s_i(y_{<i})

    The inverse needs one MADE pass per layer; the forward is sequential:
    D MADE passes per layer (a `tf.while_loop`), so sampling is D times
    slower than evaluating a density. Use MAF for priors you evaluate, IAF
    where you sample. Odd layers use the reversed order (y_{>i} for y_{<i}).
    """ + _ARGS_DOC + """
    References:
        Papamakarios, Pavlakou, Murray. Masked Autoregressive Flow for
        Density Estimation. NeurIPS 2017. arXiv:1705.07057.
    """

    def make_bijector(self, context=None):
        return self._maf_chain(context)


@keras.saving.register_keras_serializable(package="tfvae")
class IAF(_MaskedFlow):
    """Inverse autoregressive flow (Kingma et al., 2016): fast sampling.

    The MAF parameterisation run backwards (`tfb.Invert` of MAF's chain),
    so with (mu_i, s_i) = MADE(x_{<i}, context), s = b tanh(raw/b):

        forward (sampling):  y_i = (x_i - mu_i(x_{<i})) exp(-s_i(x_{<i}))
        inverse (density):   x_i = y_i exp(s_i(x_{<i})) + mu_i(x_{<i})
        log|det dy/dx| = -sum_i s_i(x_{<i})

    The forward reads only x, so it is one MADE pass per layer -- the
    direction a VAE posterior samples in, with the encoder's hidden
    features as `context`. The inverse is sequential: D passes per layer.
    """ + _ARGS_DOC + """
    References:
        Kingma, Salimans, Jozefowicz, Chen, Sutskever, Welling. Improved
        Variational Inference with Inverse Autoregressive Flow. NeurIPS
        2016. arXiv:1606.04934.
    """

    def make_bijector(self, context=None):
        return tfb.Invert(self._maf_chain(context))
