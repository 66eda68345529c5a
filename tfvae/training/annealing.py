"""Cyclical KL annealing (Fu et al., 2019), beside the linear `KLWarmup`."""

import keras

from tfvae.nets._validate import positive_int


class _StepSchedule(keras.callbacks.Callback):
    """Calls `self._set(t)` with t the training step since `fit` began
    (batches; epochs when Keras does not know the steps per epoch)."""

    def __init__(self):
        super().__init__()
        self._steps_per_epoch = None
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self._steps_per_epoch = (self.params or {}).get("steps")
        self._set(0)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if not self._steps_per_epoch:
            self._set(epoch)

    def on_train_batch_begin(self, batch, logs=None):
        if self._steps_per_epoch:
            self._set(self._epoch * self._steps_per_epoch + batch)

    def _set(self, t):
        raise NotImplementedError


class CyclicalKLAnnealing(_StepSchedule):
    """Anneals β over `num_cycles` cycles, each a linear ramp then a plateau.

    With T the training steps of the whole `fit` (epochs × steps per epoch)
    split into `num_cycles` cycles of length C = T / num_cycles, step t has
    τ = (t mod C) / C ∈ [0, 1) and

        β_t = β · min(1, τ / R),          R = `ratio`,

    so each cycle starts at β = 0, ramps linearly over its first R·C steps
    and holds the target β for the rest (Fu et al., 2019, eq. 7 with their
    linear f and R = 0.5 by default). Restarting from β = 0 lets the
    decoder learn to use the codes encoded while the KL weight was small,
    a remedy for posterior collapse beside `KLWarmup`'s single ramp. When
    Keras does not know the steps per epoch, t counts epochs instead
    (T = epochs). The model's `beta` is the target; its reported `elbo` and
    `kl` are always un-annealed.

    Args:
        num_cycles: M ≥ 1.
        ratio: R ∈ (0, 1], the fraction of each cycle spent ramping.

    Raises:
        ValueError: `num_cycles` not a positive integer, `ratio` outside (0, 1].

    References:
        Fu, Li, Liu, Gao, Celikyilmaz, Carin. Cyclical Annealing Schedule:
        A Simple Approach to Mitigating KL Vanishing. NAACL 2019.
        arXiv:1903.10145.
    """

    def __init__(self, num_cycles=4, ratio=0.5):
        super().__init__()
        self.num_cycles = positive_int(num_cycles, "num_cycles")
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
            raise ValueError(f"Expected `ratio` to be a number in (0, 1]. Received: ratio={ratio!r}")
        self.ratio = float(ratio)
        self._total = None

    def fraction(self, t):
        """min(1, τ/R) at step (or epoch) t of the schedule."""
        cycle = self._total / self.num_cycles
        tau = (t % cycle) / cycle
        return min(1.0, tau / self.ratio)

    def _set(self, t):
        self.model.beta_weight.assign(self.model.beta * self.fraction(t))

    def on_train_begin(self, logs=None):
        params = self.params or {}
        steps, epochs = params.get("steps"), params.get("epochs") or 1
        self._total = epochs * steps if steps else epochs
        super().on_train_begin(logs)


class LayerKLWarmup(_StepSchedule):
    """Linear KL warm-up of each stochastic layer of a `tfvae.HierarchicalVAE`.

    Layer l's KL weight is β · w_l,t with w_l,t = min(1, t / T_l), T_l =
    `epochs[l]` × steps per epoch (t in training batches; in epochs when the
    steps are unknown), layers bottom first. Equal `epochs` give Sønderby
    et al.'s warm-up of the whole hierarchy; a longer warm-up for the top
    layers keeps them from collapsing before the layers below carry
    information. Sets the model's `layer_beta_weight`; composes with
    `KLWarmup` / `CyclicalKLAnnealing`, which set the global β.

    Args:
        epochs: one non-negative int per layer (0: no warm-up for it).

    References:
        Sønderby, Raiko, Maaløe, Sønderby, Winther. Ladder Variational
        Autoencoders. NeurIPS 2016.
    """

    def __init__(self, epochs):
        super().__init__()
        values = tuple(epochs) if hasattr(epochs, "__iter__") else ()
        if not values or any(isinstance(e, bool) or not isinstance(e, int) or e < 0 for e in values):
            raise ValueError("Expected `epochs` to be a non-empty sequence of non-negative integers, one per "
                             f"layer. Received: epochs={epochs!r}")
        self.epochs = values

    def _set(self, t):
        """t: steps (or epochs when the steps are unknown) since the start."""
        span = self._steps_per_epoch or 1
        self.model.layer_beta_weight.assign([1.0 if e == 0 else min(1.0, t / (e * span)) for e in self.epochs])

    def on_train_begin(self, logs=None):
        n = int(self.model.layer_beta_weight.shape[0])
        if len(self.epochs) != n:
            raise ValueError(f"LayerKLWarmup got {len(self.epochs)} warm-up lengths for a model with {n} layers.")
        if getattr(self.model, "doubly_reparameterized", False) and getattr(self.model, "num_importance_samples", 1) > 1:
            raise ValueError("LayerKLWarmup gives the layers different KL weights, and the DReG gradient of an IWAE "
                             "bound assumes one; build the model with gradient_estimator='reparameterization' "
                             "(or warm up all layers together with KLWarmup).")
        super().on_train_begin(logs)
