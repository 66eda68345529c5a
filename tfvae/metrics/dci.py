"""DCI: disentanglement, completeness and informativeness from a predictor's importances."""

import numpy as np
from sklearn import ensemble

from tfvae.metrics import _factors


def _one_minus_entropy(p, base):
    """`1 - H_base(p)` of each row of non-negative weights `p` (rows sum to 1)."""
    logs = np.log(np.where(p > 0, p, 1.0)) / np.log(base)
    return 1.0 + np.sum(p * logs, axis=-1)


def importance_matrix(codes, factors, train, test, seed=0, num_estimators=50):
    """Fits one gradient-boosted classifier per factor on the codes.

    Returns:
      `(R, accuracy)`: `R[i, k]` the importance of code `i` for factor `k`
      (each column sums to 1), and the test accuracy per factor `(K,)`.
    """
    num_codes, num_factors = codes.shape[1], factors.shape[1]
    importance = np.zeros((num_codes, num_factors))
    accuracy = np.zeros(num_factors)
    for k in range(num_factors):
        model = ensemble.GradientBoostingClassifier(n_estimators=num_estimators, random_state=seed)
        model.fit(codes[train], factors[train, k])
        importance[:, k] = model.feature_importances_
        accuracy[k] = model.score(codes[test], factors[test, k])
    return importance, accuracy


def dci(codes, factors, test_fraction=0.3, seed=0, num_estimators=50):
    """Disentanglement, completeness and informativeness (Eastwood & Williams).

    A gradient-boosted tree classifier predicts each factor `v_k` from all
    codes (trained on a seeded split, scored on the rest); `R[i, k] >= 0`
    is code `i`'s feature importance for factor `k`. With
    `P_ik = R_ik / Σ_k' R_ik'` and `P~_ik = R_ik / Σ_i' R_i'k`,

        D_i = 1 - H_K(P_i·),   D = Σ_i ρ_i D_i,   ρ_i = Σ_k R_ik / Σ_ik R_ik
        C_k = 1 - H_D(P~_·k),  C = Σ_k σ_k C_k,   σ_k = Σ_i R_ik / Σ_ik R_ik
        I   = mean_k test accuracy of the classifier for v_k

    where `H_b` is the entropy with logarithms to base `b` (K factors, D
    codes), so D and C lie in [0, 1]; codes of zero importance (dead
    dimensions) get weight 0 in D. The weighting follows Locatello et al.'s
    reference implementation.

    Args:
      codes: `(n, D)` latent codes, D >= 2.
      factors: `(n, K)` discrete factors, K >= 2.
      test_fraction: share of examples held out for informativeness.
      seed: seed of the split and of the classifiers.
      num_estimators: boosting rounds per classifier.

    Returns:
      dict: `disentanglement`, `completeness`, `informativeness` (floats)
      and `importance` (the `D x K` matrix as nested lists).

    Raises:
      ValueError: bad shapes, non-finite codes, constant factors, a split
        with too few examples.

    References:
      Eastwood & Williams (2018), "A framework for the quantitative
      evaluation of disentangled representations"; Locatello et al. (2019).
    """
    codes, factors = _factors.codes_and_factors(codes, factors, min_codes=2, min_factors=2)
    train, test = _factors.split(codes.shape[0], test_fraction, seed)
    importance, accuracy = importance_matrix(codes, factors, train, test, seed, num_estimators)
    total = importance.sum()
    if total <= 0:
        raise ValueError("Expected codes that predict the factors at all. Received: zero importance everywhere")
    code_weight = importance.sum(axis=1) / total
    rows = importance / np.where(importance.sum(axis=1, keepdims=True) > 0,
                                 importance.sum(axis=1, keepdims=True), 1.0)
    disentanglement = float(np.sum(code_weight * _one_minus_entropy(rows, factors.shape[1])))
    factor_weight = importance.sum(axis=0) / total
    columns = (importance / importance.sum(axis=0, keepdims=True)).T
    completeness = float(np.sum(factor_weight * _one_minus_entropy(columns, codes.shape[1])))
    return {"disentanglement": disentanglement, "completeness": completeness,
            "informativeness": float(accuracy.mean()), "importance": importance.tolist()}
