"""Mutual information gap (MIG) between latent codes and known factors."""

import numpy as np

from tfvae.metrics import _checks
from tfvae.metrics import _factors


def mig(codes, factors, num_bins=20):
    """Mutual information gap.

    Each code dimension `z_i` is binned into `num_bins` equal-width bins;
    with `I(z_i; v_k)` the empirical mutual information of binned code `i`
    and factor `k`, `H(v_k)` the factor's entropy, and `i*` the code with
    the largest `I(z_i; v_k)`,

        MIG = (1/K) Σ_k [I(z_{i*}; v_k) - max_{i≠i*} I(z_i; v_k)] / H(v_k),

    in [0, 1]: 1 when each factor is captured by one code dimension alone.
    (With a single code dimension the second term is 0.)

    Args:
      codes: `(n, D)` latent codes (e.g. posterior means).
      factors: `(n, K)` (or `(n,)`) discrete ground-truth factors.
      num_bins: positive int, bins per code dimension (20 in the papers).

    Returns:
      dict: `mig` (float) and `per_factor` (list of K gaps).

    Raises:
      ValueError: bad shapes or `num_bins`, non-finite codes, constant or
        non-integer factors.

    References:
      Chen, Li, Grosse & Duvenaud (2018), "Isolating sources of
      disentanglement in variational autoencoders"; Locatello et al.
      (2019), "Challenging common assumptions in the unsupervised learning
      of disentangled representations".
    """
    num_bins = _checks.positive_int(num_bins, "num_bins")
    codes, factors = _factors.codes_and_factors(codes, factors)
    info = _factors.mutual_information(_factors.discretize(codes, num_bins), factors)  # (D, K)
    entropy = np.array([_factors.mutual_information(factors[:, [k]], factors[:, [k]])[0, 0]
                        for k in range(factors.shape[1])])
    ranked = np.sort(info, axis=0)[::-1]
    second = ranked[1] if ranked.shape[0] > 1 else np.zeros(factors.shape[1])
    gaps = (ranked[0] - second) / entropy
    return {"mig": float(gaps.mean()), "per_factor": [float(g) for g in gaps]}
