"""Neural spline flow: a coupling stack of rational-quadratic spline couplings."""

import keras

from tfvae.flows.coupling import NeuralSplineCoupling
from tfvae.flows.realnvp import RealNVP
from tfvae.nets._validate import positive_float, positive_int


@keras.saving.register_keras_serializable(package="tfvae")
class NSF(RealNVP):
    """RQ-NSF (coupling): `RealNVP`'s structure with spline couplings.

    Layer k is a `NeuralSplineCoupling` with an alternating mask of parity
    k % 2 (a monotone rational-quadratic spline of K = `num_bins` bins on
    [-B, B], B = `bound`, identity outside, applied to the transformed
    half); after every pair a fixed `Permute` mixes the halves. log-dets add
    up over layers, and every layer starts as the identity (zero last
    conditioner layer: equal bins, unit derivatives). Data far outside
    [-B, B] pass through unchanged, so standardise data to a few units.

    Args:
        num_layers: number of coupling layers.
        num_bins: K.
        bound: B > 0.
        hidden_units: widths of each conditioner MLP.
        activation: conditioner activation.
        context_size: width of an optional `(batch, c)` context given to
            every coupling; None infers it from the first call's context.
        permutation: "random", "reverse" or None.
        seed: seeds the random permutations.

    Example:
        >>> model = tfvae.FlowModel(tfvae.flows.NSF(num_layers=4), input_shape=(2,))
        >>> model.compile(optimizer=keras.optimizers.Adam(1e-3)); model.fit(x, epochs=50)
        >>> conditional = tfvae.FlowModel(tfvae.flows.NSF(context_size=1), input_shape=(2,))

    References:
        Durkan, Bekasov, Murray, Papamakarios, "Neural Spline Flows",
        NeurIPS 2019.
    """

    def __init__(self, num_layers=4, num_bins=8, bound=3.0, hidden_units=(64, 64), activation="relu",
                 context_size=None, permutation="random", seed=0, **kwargs):
        self.num_bins = positive_int(num_bins, "num_bins")
        self.bound = positive_float(bound, "bound")
        super().__init__(num_layers=num_layers, hidden_units=hidden_units, activation=activation,
                         context_size=context_size, log_scale_clamp=0.0, permutation=permutation,
                         seed=seed, **kwargs)

    def _coupling(self, k, dtype):
        return NeuralSplineCoupling("alternating", k % 2, hidden_units=self.hidden_units,
                                    activation=self.activation, context_size=self.context_size,
                                    num_bins=self.num_bins, bound=self.bound, name=f"coupling_{k}",
                                    dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["log_scale_clamp"]
        config.update(num_bins=self.num_bins, bound=self.bound)
        return config
