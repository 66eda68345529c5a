"""Monte Carlo estimates of the ELBO and of log Z from a fitted q.

With log weights log w_s = log p̃(z_s) − log q(z_s), z_s ~ q, s = 1..S:

    ELBO  = E_q[log p̃ − log q] = log Z − KL(q || p)  ≤ log Z
            estimated by the mean of log w_s (unbiased), std error sd(log w)/√S
    log Ẑ = log (1/S) Σ_s w_s   (importance sampling with proposal q)
            Ẑ is unbiased for Z, so by Jensen E[log Ẑ] ≤ log Z: a stochastic
            lower bound too, tighter than the ELBO, increasing in S and
            consistent as S → ∞ (it is IWAE_S; Burda et al., 2016).
            Its std error, by the delta method, is √(v / S) with
            v = mean(w²)/mean(w)² − 1; the effective sample size is
            ESS = (Σ w)² / Σ w² (S when q = p, small when q misses mass).

Samples are drawn in chunks, each with its own stateless seed `[seed, i]`,
and folded into running sums and logsumexps, so memory is O(chunk · d)
whatever S.
"""

import math
import weakref
from typing import NamedTuple, Optional

import numpy as np
import tensorflow as tf

from tfvae.nets._validate import positive_int
from tfvae.vi.families import stateless_noise

DEFAULT_CHUNK_SIZE = 4096


class Estimate(NamedTuple):
    """A Monte Carlo estimate: `value ± std_error` from `num_samples` draws
    (`ess`: effective sample size of the importance weights, for log Z)."""

    value: float
    std_error: float
    num_samples: int
    ess: Optional[float] = None

    def __float__(self):
        return float(self.value)


def log_weights(family, log_prob_fn, eps):
    """log p̃(z) − log q(z) for z = family(ε): `(k, d) -> (k,)`, checked."""
    z, log_q = family.transform(eps)
    log_p = checked_log_prob(log_prob_fn, z)
    return log_p - log_q


def checked_log_prob(log_prob_fn, z):
    """`log_prob_fn(z)` as a `(n,)` tensor of z's dtype, or a ValueError.

    The shape is checked statically (it is known inside `fit`'s traced
    step too), so a `(n, 1)` result cannot silently broadcast against
    log q's `(n,)`.
    """
    out = tf.convert_to_tensor(log_prob_fn(z))
    n = z.shape[0]
    if out.shape.rank != 1 or (n is not None and out.shape[0] is not None and out.shape[0] != n):
        raise ValueError("Expected `log_prob_fn` to return one log-density per point, shape (n,) for "
                         f"z of shape (n, d). Received: shape {tuple(out.shape)} for z.shape={tuple(z.shape)}")
    if not out.dtype.is_floating:
        raise ValueError(f"Expected `log_prob_fn` to return floats. Received: dtype={out.dtype.name}")
    return tf.cast(out, z.dtype)


# family -> {log_prob_fn: traced log_weights}: one trace per (q, target), kept
# while q lives, so repeated `elbo()` / `log_normalizer()` calls (e.g. once
# per epoch) do not retrace. The trace reads q's variables, not their values.
_TRACED = weakref.WeakKeyDictionary()


def _traced_log_weights(family, log_prob_fn):
    family_ref = weakref.ref(family)  # the cached function must not keep q alive
    trace = lambda: tf.function(lambda eps: log_weights(family_ref(), log_prob_fn, eps),  # noqa: E731
                                reduce_retracing=True)
    per_target = _TRACED.setdefault(family, {})
    try:
        if log_prob_fn not in per_target:
            per_target[log_prob_fn] = trace()
        return per_target[log_prob_fn]
    except TypeError:  # an unhashable callable: traced for this call only
        return trace()


def sample_log_weights(family, log_prob_fn, num_samples, seed=0, chunk_size=DEFAULT_CHUNK_SIZE):
    """Yields numpy float64 log-weight chunks `(k,)` until S are drawn."""
    num_samples = positive_int(num_samples, "num_samples")
    chunk_size = positive_int(chunk_size, "chunk_size")
    seed = int(seed)
    fn = _traced_log_weights(family, log_prob_fn)
    done, i = 0, 0
    while done < num_samples:
        k = min(chunk_size, num_samples - done)
        eps = stateless_noise(k, family.dim, tf.constant([seed, i], tf.int64), family.compute_dtype)
        log_w = fn(eps).numpy().astype(np.float64)
        if np.isnan(log_w).any():
            raise ValueError("`log_prob_fn` returned NaN at points drawn from q; it must return a "
                             "log-density (use -inf for points outside the support).")
        yield log_w
        done, i = done + k, i + 1


def elbo(family, log_prob_fn, num_samples=5000, seed=0, chunk_size=DEFAULT_CHUNK_SIZE):
    """ELBO = E_q[log p̃ − log q] ≤ log Z, as an `Estimate`."""
    total, total_sq, count = 0.0, 0.0, 0
    for log_w in sample_log_weights(family, log_prob_fn, num_samples, seed, chunk_size):
        total += log_w.sum()
        total_sq += np.square(log_w).sum()
        count += log_w.size
    mean = total / count
    var = max(total_sq / count - mean * mean, 0.0) if math.isfinite(mean) else math.nan
    return Estimate(mean, math.sqrt(var / count), count)


def log_normalizer(family, log_prob_fn, num_samples=5000, seed=0, chunk_size=DEFAULT_CHUNK_SIZE):
    """log Ẑ = log (1/S) Σ p̃(z_s)/q(z_s), z_s ~ q, as an `Estimate` with ESS."""
    lse, lse_sq, count = -math.inf, -math.inf, 0
    for log_w in sample_log_weights(family, log_prob_fn, num_samples, seed, chunk_size):
        lse = np.logaddexp(lse, np.logaddexp.reduce(log_w))
        lse_sq = np.logaddexp(lse_sq, np.logaddexp.reduce(2.0 * log_w))
        count += log_w.size
    value = lse - math.log(count)
    if not math.isfinite(lse):
        return Estimate(value, math.nan, count, 0.0)
    ess = math.exp(2.0 * lse - lse_sq)  # (Σ w)² / Σ w²
    relative_var = max(count / ess - 1.0, 0.0)  # mean(w²)/mean(w)² − 1
    return Estimate(value, math.sqrt(relative_var / count), count, ess)
