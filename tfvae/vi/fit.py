"""`tfvae.vi.fit`: variational inference for a density known up to a constant."""

import math

import keras

from tfvae.flows.base import Flow
from tfvae.nets._validate import positive_int
from tfvae.vi.families import Family
from tfvae.vi.gaussian import FullRankGaussian, MeanFieldGaussian
from tfvae.vi.flow_family import FlowFamily
from tfvae.vi.model import VariationalApproximation

FAMILIES = ("mean_field", "full_rank")


def make_family(family, dim, seed=None):
    """A family layer from a name, a flow layer or a family layer.

    Args:
        family: "mean_field", "full_rank", a `tfvae.flows` layer (wrapped in
            `FlowFamily(flow, dim)`, on a learned mean-field base) or a
            family layer (returned as is; its `dim` must match).
        dim: d.
    """
    dim = positive_int(dim, "dim")
    if isinstance(family, Family):
        if family.dim != dim:
            raise ValueError(f"Expected `family` to have dim={dim}. Received: family.dim={family.dim}")
        return family
    if isinstance(family, Flow):
        return FlowFamily(family, dim, seed=seed)
    if family == "mean_field":
        return MeanFieldGaussian(dim, seed=seed)
    if family == "full_rank":
        return FullRankGaussian(dim, seed=seed)
    raise ValueError(f"Expected `family` to be one of {FAMILIES}, a tfvae.flows layer or a tfvae.vi family. "
                     f"Received: family={family!r}")


def fit(log_prob_fn, dim, family="full_rank", steps=3000, seed=0, learning_rate=None, num_samples=64,
        verbose="auto", jit_compile=False, log_every=None, callbacks=None, stick_the_landing=None):
    """Fits q to p ∝ exp(log_prob_fn) by maximising the ELBO; returns q.

        q = tfvae.vi.fit(log_prob_fn, dim=2, family="full_rank", steps=3000, seed=0)
        q.sample(1000, seed=1); q.log_prob(z)
        q.elbo(num_samples=5000)           # E_q[log p̃ − log q] ≤ log Z
        q.log_normalizer(num_samples=5000)  # importance-sampled log Z

    Adam with a cosine-decayed learning rate (to 5% of `learning_rate` at
    the last step: the late, small steps average out the Monte Carlo noise
    of the gradient), K = `num_samples` draws per step.

    Args:
        log_prob_fn: log p̃, a TensorFlow callable `(n, dim) float32 -> (n,)`.
        dim: d, the dimension of z.
        family: "mean_field", "full_rank", a `tfvae.flows` layer (RealNVP,
            IAF, Planar, Sylvester, ...) or a `tfvae.vi` family layer.
        steps: optimisation steps.
        seed: seeds the training draws and, through
            `keras.utils.set_random_seed(seed)` (global), the initialisers
            of flows built without a seed of their own; None: unseeded.
        learning_rate: peak Adam learning rate; None: 0.05 for the Gaussian
            families (their gradient noise vanishes at the optimum, see
            `Family.path_log_prob`), 0.005 for flows.
        num_samples: K, draws per step.
        verbose: Keras verbosity (a progress bar per `log_every` steps).
        jit_compile: compile the step with XLA (the target must support it).
        log_every: steps per Keras "epoch", i.e. per progress-bar line
            (default: steps / 10).
        callbacks: extra Keras callbacks.
        stick_the_landing: the path gradient (see `VariationalApproximation`);
            None: on for every built-in family. For a flow it costs a d×d
            Jacobian and solve per draw (an IAF at d = 31 fits about 3.5x
            slower, `benchmarks/vi_logistic.py`); False gives the plain
            reparameterised gradient.

    Returns:
        A fitted `VariationalApproximation` (its `history` holds the metrics).

    Raises:
        ValueError: bad arguments, or a target that is not callable or does
            not return `(n,)` log-densities.
        FloatingPointError: the ELBO became NaN/inf during training.
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)  # flows' unseeded initialisers, before they build
    if not callable(log_prob_fn):
        raise ValueError("Expected `log_prob_fn` to be a callable mapping points (n, d) to log-densities "
                         f"(n,). Received: log_prob_fn={log_prob_fn!r}")
    steps = positive_int(steps, "steps")
    family = make_family(family, dim, seed=seed)
    if learning_rate is None:
        learning_rate = 0.005 if isinstance(family, FlowFamily) else 0.05
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) \
            or not 0 < learning_rate < math.inf:
        raise ValueError(f"Expected `learning_rate` to be a positive number. Received: learning_rate={learning_rate!r}")
    log_every = max(1, steps // 10) if log_every is None else positive_int(log_every, "log_every")
    model = VariationalApproximation(family, log_prob_fn, num_samples=num_samples, seed=seed,
                                     stick_the_landing=stick_the_landing)
    model.check_target()
    schedule = keras.optimizers.schedules.CosineDecay(float(learning_rate), steps, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(schedule), jit_compile=jit_compile)
    epochs = math.ceil(steps / log_every)
    # The last epoch may be short: Keras's steps_per_epoch is per epoch, so
    # run whole epochs of `log_every` and one final remainder epoch.
    full, rest = divmod(steps, log_every)
    history = model.fit(epochs=full, steps_per_epoch=log_every, verbose=verbose, callbacks=callbacks) \
        if full else None
    if rest:
        history = model.fit(epochs=epochs, initial_epoch=full, steps_per_epoch=rest, verbose=verbose,
                            callbacks=callbacks)
    model.history = history
    return model
