"""FactorVAE score: majority-vote classification of which factor was held fixed."""

import numpy as np

from tfvae.metrics import _checks
from tfvae.metrics import _factors


def _votes(codes, factors, scale, active, num_votes, batch_size, rng, groups):
    """`(code index, factor)` pairs, one per batch with one factor held fixed."""
    votes = np.zeros((num_votes, 2), np.int64)
    for v in range(num_votes):
        k = rng.integers(factors.shape[1])
        value = factors[rng.integers(factors.shape[0]), k]
        rows = rng.choice(groups[k][value], size=batch_size, replace=True)
        variances = np.var(codes[rows][:, active] / scale[active], axis=0, ddof=1)
        votes[v] = active[np.argmin(variances)], k
    return votes


def factorvae_score(codes, factors, batch_size=64, num_train=5000, num_eval=2500, prune_threshold=0.05,
                    seed=0):
    """FactorVAE disentanglement score (Kim & Mnih, 2018).

    Each vote draws a factor `k` uniformly and a value of it from the data,
    takes `batch_size` examples sharing that value (the other factors vary
    as in the data), divides each code by its standard deviation over all
    examples, and votes for the active code with the smallest variance in
    that batch. A majority-vote classifier maps each code to the factor it
    voted for most often in `num_train` votes; the score is its accuracy
    on `num_eval` fresh votes:

        score = (1/N_eval) Σ_v 1[argmax_k' count(d_v, k') = k_v].

    Codes whose standard deviation is below `prune_threshold` (collapsed to
    the prior) never vote; with none active the score is 0.

    Args:
      codes: `(n, D)` latent codes of examples with known factors.
      factors: `(n, K)` discrete factors; the examples should cover each
        factor value with the others varying (a full grid is ideal).
      batch_size: examples per vote, >= 2.
      num_train, num_eval: votes to fit and to score the classifier.
      prune_threshold: minimum standard deviation of an active code.
      seed: seed of the votes.

    Returns:
      dict: `score` (eval accuracy), `train_accuracy`, `active_codes`.

    Raises:
      ValueError: bad shapes or counts, non-finite codes, constant factors.

    References:
      Kim & Mnih (2018), "Disentangling by factorising".
    """
    batch_size = _checks.positive_int(batch_size, "batch_size")
    if batch_size < 2:
        raise ValueError(f"Expected `batch_size` to be at least 2. Received: batch_size={batch_size}")
    num_train = _checks.positive_int(num_train, "num_train")
    num_eval = _checks.positive_int(num_eval, "num_eval")
    codes, factors = _factors.codes_and_factors(codes, factors)
    scale = codes.std(axis=0)
    active = np.flatnonzero(scale >= prune_threshold)
    if active.size == 0:
        return {"score": 0.0, "train_accuracy": 0.0, "active_codes": 0}
    groups = [[np.flatnonzero(factors[:, k] == value) for value in range(factors[:, k].max() + 1)]
              for k in range(factors.shape[1])]
    rng = np.random.default_rng(seed)
    train = _votes(codes, factors, scale, active, num_train, batch_size, rng, groups)
    evaluation = _votes(codes, factors, scale, active, num_eval, batch_size, rng, groups)
    counts = np.zeros((codes.shape[1], factors.shape[1]), np.int64)
    np.add.at(counts, (train[:, 0], train[:, 1]), 1)
    classifier = counts.argmax(axis=1)
    return {"score": float(np.mean(classifier[evaluation[:, 0]] == evaluation[:, 1])),
            "train_accuracy": float(np.mean(classifier[train[:, 0]] == train[:, 1])),
            "active_codes": int(active.size)}
