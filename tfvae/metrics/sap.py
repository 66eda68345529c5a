"""Separated attribute predictability (SAP)."""

import numpy as np
from sklearn import linear_model
from sklearn import metrics as sk_metrics
from sklearn import tree

from tfvae.metrics import _factors


def _score_matrix(codes, factors, train, test, discrete):
    scores = np.zeros((codes.shape[1], factors.shape[1]))
    for i in range(codes.shape[1]):
        z_train, z_test = codes[train, i:i + 1], codes[test, i:i + 1]
        for k in range(factors.shape[1]):
            if discrete:
                # A one-dimensional threshold classifier: one interval per class.
                num_classes = int(factors[:, k].max()) + 1
                model = tree.DecisionTreeClassifier(max_leaf_nodes=max(2, num_classes), random_state=0)
                model.fit(z_train, factors[train, k])
                # Below-chance accuracy on held-out data is noise, not information.
                scores[i, k] = max(0.0, sk_metrics.balanced_accuracy_score(
                    factors[test, k], model.predict(z_test), adjusted=True))
            else:
                model = linear_model.LinearRegression().fit(z_train, factors[train, k])
                scores[i, k] = max(0.0, model.score(z_test, factors[test, k]))
    return scores


def sap(codes, factors, discrete=True, test_fraction=0.3, seed=0):
    """Separated attribute predictability.

    `S[i, k]` scores how well code dimension `i` alone predicts factor `k`
    on held-out data: for discrete factors the balanced accuracy of a
    one-dimensional threshold classifier (a tree with one leaf per class),
    adjusted for chance so that an uninformative code scores 0 and a
    perfect one 1 (clipped at 0); for continuous factors the R² of a linear regression
    (clipped at 0). Then

        SAP = (1/K) Σ_k [S_(1)k - S_(2)k],

    the mean gap between the best and second-best code for each factor.

    Args:
      codes: `(n, D)` latent codes, D >= 2.
      factors: `(n, K)` factors (discrete values; ordinal when
        `discrete=False`).
      discrete: classification (True) or regression (False) scores.
      test_fraction: share of examples held out for the scores.
      seed: seed of the split.

    Returns:
      dict: `sap` (float) and `scores` (the `D x K` matrix as nested lists).

    Raises:
      ValueError: bad shapes, non-finite codes, constant factors, too few
        examples to split.

    References:
      Kumar, Sattigeri & Balakrishnan (2018), "Variational inference of
      disentangled latent concepts from unlabeled observations".
    """
    codes, factors = _factors.codes_and_factors(codes, factors, min_codes=2)
    train, test = _factors.split(codes.shape[0], test_fraction, seed)
    scores = _score_matrix(codes, factors, train, test, discrete)
    ranked = np.sort(scores, axis=0)[::-1]
    return {"sap": float(np.mean(ranked[0] - ranked[1])), "scores": scores.tolist()}
