"""Terms a `tfvae.VAE` can add to (or put in place of) the KL term of its bound.

InfoVAE (`mmd_weight` λ_MMD > 0): per batch, with z_i ~ q(z|x_i) the
ELBO's own samples and z̃_i ~ p(z) as many prior draws,

    loss = −(1/M) Σ_i [log p(x_i|z_i) − β KL_i] + λ_MMD · MMD²_u({z_i}, {z̃_i}),

the MMD-InfoVAE objective of Zhao et al. (2019), eq. 6 with D = MMD: their
(α, λ) parametrisation, E log p(x|z) − (1 − α) KL − (α + λ − 1) MMD, is
`beta = 1 − α`, `mmd_weight = α + λ − 1` (so α = 1, λ = 1 is the MMD-VAE
without KL, α = 0, λ = 1 the plain VAE). The MMD compares the aggregate
posterior with the prior and pushes the codes to use the prior's space
without the per-example KL's pull towards uninformative posteriors.

β-TCVAE (`kl_decomposition="tc"`): the KL term is estimated as index-code
MI + total correlation + dimension-wise KL
(`tfvae.objectives.kl_decomposition`, Chen et al., 2018) and the total
correlation gets its own weight,

    loss = −(1/M) Σ_i log p(x_i|z_i) + β (MI + tc_weight · TC + DWKL),

β being the model's (annealed) `beta`, 1 in Chen et al.'s β-TCVAE, whose β
is `tc_weight` here. The reported `elbo` and `kl` stay the ELBO's.

References:
    Zhao, Song, Ermon. InfoVAE: Balancing Learning and Inference in
    Variational Autoencoders. AAAI 2019. arXiv:1706.02262.
    Chen, Li, Grosse, Duvenaud. Isolating Sources of Disentanglement in
    Variational Autoencoders. NeurIPS 2018. arXiv:1802.04942.
"""

import numbers

import tensorflow as tf

from tfvae.nets._validate import positive_int
from tfvae.objectives.mmd import check_kernel, check_scales, mmd
from tfvae.objectives.tc import ESTIMATORS, kl_decomposition

DECOMPOSITIONS = (None, "tc")
TC_METRICS = ("index_code_mi", "total_correlation", "dimension_wise_kl")


def finite_nonnegative(value, name):
    """`value` as a float if it is a finite number ≥ 0, else ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < float("inf"):
        raise ValueError(f"Expected `{name}` to be a finite non-negative number. Received: {name}={value!r}")
    return float(value)


def configure(model, mmd_weight, mmd_kernel, mmd_scales, kl_decomposition, tc_weight, dataset_size, tc_estimator,
              kl_per_dimension):
    """Validates and stores the options on `model` (a VAE whose other
    arguments are already set); returns the names of the extra metrics."""
    model.mmd_weight = finite_nonnegative(mmd_weight, "mmd_weight")
    model.mmd_kernel = check_kernel(mmd_kernel, "mmd_kernel")
    model.mmd_scales = check_scales(mmd_scales, "mmd_scales")
    if kl_decomposition not in DECOMPOSITIONS:
        raise ValueError(f"Expected `kl_decomposition` to be one of {DECOMPOSITIONS}. "
                         f"Received: kl_decomposition={kl_decomposition!r}")
    model.kl_decomposition = kl_decomposition
    model.tc_weight = finite_nonnegative(tc_weight, "tc_weight")
    model.dataset_size = None if dataset_size is None else positive_int(dataset_size, "dataset_size")
    if tc_estimator not in ESTIMATORS:
        raise ValueError(f"Expected `tc_estimator` to be one of {ESTIMATORS}. Received: tc_estimator={tc_estimator!r}")
    model.tc_estimator = tc_estimator
    if not isinstance(kl_per_dimension, bool):
        raise ValueError(f"Expected `kl_per_dimension` to be a bool. Received: kl_per_dimension={kl_per_dimension!r}")
    model.kl_per_dimension = kl_per_dimension
    k = model.num_importance_samples
    if model.mmd_weight > 0 and k > 1:
        raise ValueError("The InfoVAE MMD term is defined for the ELBO (num_importance_samples=1). "
                         f"Received: mmd_weight={mmd_weight}, num_importance_samples={k}")
    if kl_decomposition == "tc":
        if model.dataset_size is None:
            raise ValueError("kl_decomposition='tc' estimates q(z) from minibatches and needs the number of "
                             "training examples. Received: dataset_size=None")
        if model.posterior_flow is not None or k > 1 or model.free_bits > 0:
            raise ValueError("kl_decomposition='tc' needs a diagonal Gaussian posterior (no posterior_flow), "
                             "num_importance_samples=1 and free_bits=0. Received: "
                             f"posterior_flow={type(model.posterior_flow).__name__ if model.posterior_flow else None},"
                             f" num_importance_samples={k}, free_bits={model.free_bits}")
    if kl_per_dimension and not (model.analytic_kl and model.posterior_flow is None and model.prior.has_analytic_kl):
        raise ValueError("kl_per_dimension=True reports the closed-form KL of each latent dimension: it needs "
                         "analytic_kl=True, no posterior_flow and a prior with a closed-form KL (e.g. 'normal').")
    model.regularizes_latents = model.mmd_weight > 0 or kl_decomposition is not None
    names = [f"kl_{d}" for d in range(model.latent_dim)] if kl_per_dimension else []
    names += ["mmd"] if model.mmd_weight > 0 else []
    return names + (list(TC_METRICS) if kl_decomposition == "tc" else [])


def get_config(model):
    """The options' config entries (merged into the VAE's)."""
    return dict(mmd_weight=model.mmd_weight, mmd_kernel=model.mmd_kernel, mmd_scales=list(model.mmd_scales),
                kl_decomposition=model.kl_decomposition, tc_weight=model.tc_weight, dataset_size=model.dataset_size,
                tc_estimator=model.tc_estimator, kl_per_dimension=model.kl_per_dimension)


def regularize(model, latents, log_pz, values, seed, condition=None):
    """The KL term to put in the loss (None: keep the ELBO's) and the
    penalty to add, for a batch at K = 1; adds the metrics to `values`.

    Args:
        latents: `(z, loc, scale)`, z `(1, M, D)` the ELBO's samples, loc and
            scale `(M, D)`.
        log_pz: `(1, M)` log p(z_i).
        values: the per-example metric dict, updated in place.
        seed: the step's `(2,)` seed (prior draws use a stream split from it).
        condition: `(M, C)` or None.
    Returns:
        `(kl_term, penalty)`: a scalar or None, and a scalar.
    """
    z, loc, scale = latents
    z = z[0]
    batch = tf.shape(z)[0]
    kl_term, penalty = None, tf.constant(0.0)
    if model.kl_decomposition == "tc":
        mi, tc, dwkl = kl_decomposition(z, loc, scale, log_pz[0], model.dataset_size, model.tc_estimator)
        values.update(zip(TC_METRICS, (mi, tc, dwkl)))
        kl_term = tf.reduce_mean(mi) + model.tc_weight * tf.reduce_mean(tc) + tf.reduce_mean(dwkl)
    if model.mmd_weight > 0:
        context = {} if condition is None else {"context": condition}
        z_prior = model.prior.sample(batch, tf.random.split(tf.cast(seed, tf.int64), 2)[1], **context)
        divergence = mmd(z, z_prior, model.mmd_kernel, model.mmd_scales)
        values["mmd"] = tf.fill([batch], divergence)  # per example, so epoch means weigh batches by size
        penalty = model.mmd_weight * divergence
    return kl_term, penalty
