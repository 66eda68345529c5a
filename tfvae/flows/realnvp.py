"""Ready-made coupling stacks for vectors: RealNVP (affine) and NICE (additive)."""

import keras

from tfvae.flows.actnorm import ActNorm
from tfvae.flows.chain import Chain
from tfvae.flows.coupling import AdditiveCoupling, AffineCoupling
from tfvae.flows.permute import Permute
from tfvae.nets._validate import activation_name, nonnegative_float, positive_int, positive_int_tuple

_PERMUTATIONS = ("random", "reverse", None)


@keras.saving.register_keras_serializable(package="tfvae")
class RealNVP(Chain):
    """A stack of affine coupling layers for vectors `(batch, D)`.

    Layer k is an `AffineCoupling` with an alternating mask of parity k % 2,
    so consecutive layers transform complementary halves; after every pair a
    fixed `Permute` (seeded "random" by default) mixes which features meet
    in later couplings. The forward maps base u to data x (the orientation
    of every tfvae flow); log-dets add up:
        x = f_K ∘ ... ∘ f_1(u),  log|det ∂x/∂u| = -Σ_k Σ_i (1-m_k)_i s_k,i
    with each f_k an `AffineCoupling` (forward (u - t) exp(-s) on its
    transformed half). Every conditioner ends in a zero layer, so the stack
    starts as the identity map (up to the fixed permutations).

    Example:
        >>> flow = tfvae.flows.RealNVP(num_layers=6, hidden_units=(64, 64))
        >>> x, log_det = flow(tf.random.normal((16, 2)))      # base -> data
        >>> u, inverse_log_det = flow.inverse(x)               # data -> base

    Args:
        num_layers: number of coupling layers (positive int).
        hidden_units: hidden widths of each conditioner MLP.
        activation: conditioner activation.
        context_size: width of an optional `(batch, c)` context given to
            every coupling; if None, inferred from the first call's context
            (unconditional when it passes none).
        log_scale_clamp: soft bound on each layer's log-scale (0: none).
        permutation: "random", "reverse" or None (no permutations).
        seed: seeds the random permutations.

    Raises:
        ValueError: invalid arguments; inputs with D < 2 at build.

    References:
        Dinh, Sohl-Dickstein & Bengio, "Density estimation using Real NVP", ICLR 2017.
    """

    coupling = AffineCoupling

    def __init__(self, num_layers=4, hidden_units=(64, 64), activation="relu", context_size=None,
                 log_scale_clamp=3.0, permutation="random", seed=0, **kwargs):
        self.num_layers = positive_int(num_layers, "num_layers")
        self.hidden_units = positive_int_tuple(hidden_units, "hidden_units")
        self.activation = activation_name(activation)
        self.context_size = None if context_size is None else positive_int(context_size, "context_size")
        self.log_scale_clamp = nonnegative_float(log_scale_clamp, "log_scale_clamp")
        if permutation not in _PERMUTATIONS:
            raise ValueError(f"Expected `permutation` to be one of {_PERMUTATIONS}. "
                             f"Received: permutation={permutation!r}")
        self.permutation = permutation
        self.seed = int(seed)
        kwargs["dtype"] = dtype = kwargs.get("dtype") or "float32"  # see Flow.__init__
        flows = []
        for k in range(self.num_layers):
            flows.append(self._coupling(k, dtype))
            if permutation and k % 2 == 1 and k < self.num_layers - 1:
                flows.append(Permute(permutation, seed=self.seed + k, name=f"permute_{k}", dtype=dtype))
        flows += self._final_flows(dtype)
        super().__init__(flows, **kwargs)

    def _coupling(self, k, dtype):
        return self.coupling("alternating", k % 2, hidden_units=self.hidden_units, activation=self.activation,
                             context_size=self.context_size, log_scale_clamp=self.log_scale_clamp,
                             name=f"coupling_{k}", dtype=dtype)

    def _final_flows(self, dtype):
        return []

    def get_config(self):
        config = super().get_config()
        del config["flows"]  # rebuilt from the arguments below
        config.update(
            num_layers=self.num_layers, hidden_units=list(self.hidden_units),
            activation=self.activation, context_size=self.context_size,
            log_scale_clamp=self.log_scale_clamp, permutation=self.permutation, seed=self.seed)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="tfvae")
class NICE(RealNVP):
    """NICE: additive couplings (volume preserving) and a final diagonal scaling.

    Same arguments as `RealNVP` (`log_scale_clamp` is unused). The last layer
    is `ActNorm(event_ndims=1, data_init=False)`: y = (x + b) * exp(s), the
    only volume change, log|det| = Σ s; it starts as the identity.

    Example:
        >>> model = tfvae.FlowModel(tfvae.flows.NICE(num_layers=4), input_shape=(64,),
        ...                         dequantize="uniform", num_bins=17, logit_alpha=0.05)

    References:
        Dinh, Krueger & Bengio, "NICE: Non-linear Independent Components
        Estimation", ICLR 2015 workshop.
    """

    coupling = AdditiveCoupling

    def _final_flows(self, dtype):
        return [ActNorm(event_ndims=1, data_init=False, name="scaling", dtype=dtype)]
