"""Bayesian logistic regression on breast cancer: tfvae.vi against NUTS.

    python3 benchmarks/vi_logistic.py            # ~3-5 minutes on 2 CPU cores
    python3 benchmarks/vi_logistic.py --quick    # ~1 minute, loose numbers

Data: scikit-learn's breast cancer (569 tumours, 30 features), a stratified
70/30 train/test split, features standardised with the training statistics,
plus a bias column: w in R^31. Model: y_i ~ Bernoulli(sigmoid(x_iᵀ w)),
w ~ N(0, s² I) (s = `--prior-scale`, default 1). The unnormalised posterior

    log p̃(w) = Σ_i [y_i x_iᵀw − softplus(x_iᵀw)] + log N(w; 0, s² I)

is fitted by `tfvae.vi.fit` with a mean-field Gaussian, a full-rank
Gaussian, and an IAF on a full-rank base (with the default path gradient,
and again with the plain reparameterised one), and sampled by TFP's NUTS
(`--chains` chains with dual-averaging step sizes, XLA-compiled) as the
reference. Table: max |posterior mean − NUTS mean| over the 31 weights,
the ratio of marginal posterior std to NUTS's (min / median / max), test
accuracy and mean test log predictive density of the posterior predictive
p(y|x) = E_w[sigmoid(xᵀw)], plus the ELBO and importance-sampled log Z
(the log marginal likelihood of the training labels) for each q.
"""

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import tfvae  # noqa: E402  (quiet TF first)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402


def load(seed=0):
    """`(x_train, y_train, x_test, y_test)`, float32, bias column appended."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.3, stratify=y, random_state=seed)
    mu, sd = x_tr.mean(0), x_tr.std(0)
    add_bias = lambda a: np.concatenate([(a - mu) / sd, np.ones((len(a), 1))], 1).astype("float32")  # noqa: E731
    return add_bias(x_tr), y_tr.astype("float32"), add_bias(x_te), y_te.astype("float32")


def log_posterior(x, y, prior_scale):
    """log p̃(w) for a batch of weights `(n, d) -> (n,)`."""
    x, y = tf.constant(x), tf.constant(y)
    d = x.shape[1]
    const = -0.5 * d * math.log(2 * math.pi * prior_scale ** 2)

    def log_prob(w):
        logits = tf.matmul(w, x, transpose_b=True)  # (n, N)
        log_lik = tf.reduce_sum(y * logits - tf.math.softplus(logits), axis=-1)
        return log_lik - 0.5 * tf.reduce_sum(tf.square(w), -1) / prior_scale ** 2 + const

    return log_prob


def nuts(log_prob, dim, chains, burnin, samples, seed):
    """NUTS draws `(samples * chains, dim)` and the max R-hat."""
    kernel = tfp.mcmc.DualAveragingStepSizeAdaptation(
        tfp.mcmc.NoUTurnSampler(log_prob, step_size=0.05), num_adaptation_steps=int(0.8 * burnin))
    init = tf.random.stateless_normal((chains, dim), seed=(seed, 1), stddev=0.1)

    @tf.function(jit_compile=True)
    def run():
        return tfp.mcmc.sample_chain(samples, init, kernel=kernel, num_burnin_steps=burnin, trace_fn=None,
                                     seed=(seed, 2))

    draws = run()  # (samples, chains, dim)
    r_hat = float(tf.reduce_max(tfp.mcmc.potential_scale_reduction(draws)))
    return tf.reshape(draws, (-1, dim)).numpy(), r_hat


def predictive(w, x, y):
    """Test accuracy and mean log predictive density of E_w[p(y|x, w)]."""
    logits = x @ w.T  # (N, S)
    log_lik = np.where(y[:, None] > 0.5, -np.logaddexp(0, -logits), -np.logaddexp(0, logits))
    lpd = np.logaddexp.reduce(log_lik, axis=1) - math.log(w.shape[0])
    p1 = np.mean(1.0 / (1.0 + np.exp(-logits)), axis=1)
    return float(np.mean((p1 > 0.5) == (y > 0.5))), float(np.mean(lpd))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--steps", type=int, default=None, help="VI steps per family (default 3000)")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--burnin", type=int, default=None, help="NUTS warm-up per chain (default 1000)")
    parser.add_argument("--samples", type=int, default=None, help="NUTS draws per chain (default 2000)")
    parser.add_argument("--prior-scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    steps = args.steps or (300 if args.quick else 3000)
    burnin = args.burnin or (200 if args.quick else 1000)
    samples = args.samples or (200 if args.quick else 2000)
    num_eval = 2000 if args.quick else 10000

    x_tr, y_tr, x_te, y_te = load(args.seed)
    dim = x_tr.shape[1]
    log_prob = log_posterior(x_tr, y_tr, args.prior_scale)

    t = time.time()
    ref, r_hat = nuts(log_prob, dim, args.chains, burnin, samples, args.seed)
    ref_time = time.time() - t
    ref_mean, ref_std = ref.mean(0), ref.std(0)
    acc, lpd = predictive(ref, x_te, y_te)
    rows = [("NUTS", ref_time, 0.0, (1.0, 1.0, 1.0), acc, lpd, None, None)]

    iaf = lambda: tfvae.vi.FlowFamily(tfvae.flows.IAF(num_layers=2, hidden_units=(64, 64), seed=args.seed),  # noqa: E731
                                      dim, base="full_rank")
    # (family, stick_the_landing): the last row is the IAF with the plain
    # reparameterised gradient, the default's cost and benefit in one run.
    families = {
        "mean_field": ("mean_field", None),
        "full_rank": ("full_rank", None),
        "IAF on full-rank": (iaf(), None),
        "  plain gradient": (iaf(), False),
    }
    for name, (family, stl) in families.items():
        t = time.time()
        q = tfvae.vi.fit(log_prob, dim=dim, family=family, steps=steps, seed=args.seed, verbose=0,
                         stick_the_landing=stl)
        fit_time = time.time() - t
        w = q.sample(num_eval, seed=args.seed + 1).numpy()
        ratio = w.std(0) / ref_std
        acc, lpd = predictive(w, x_te, y_te)
        rows.append((name, fit_time, float(np.max(np.abs(w.mean(0) - ref_mean))),
                     (ratio.min(), np.median(ratio), ratio.max()), acc, lpd,
                     q.elbo(num_eval, seed=args.seed + 2), q.log_normalizer(num_eval, seed=args.seed + 3)))

    print(f"breast cancer, {len(y_tr)} train / {len(y_te)} test, d = {dim}, prior N(0, {args.prior_scale:g}²); "
          f"NUTS {args.chains} chains x ({burnin} warm-up + {samples}), max R-hat {r_hat:.3f}; "
          f"VI {steps} steps, {num_eval} draws per estimate")
    print(f"{'method':<18} {'time s':>7} {'max|Δmean|':>10} {'std ratio min/med/max':>22} {'test acc':>8} "
          f"{'test lpd':>9} {'ELBO':>16} {'IS log Z':>16}")
    results = {}
    for name, seconds, dmean, (lo, med, hi), acc, lpd, elbo, log_z in rows:
        fmt = lambda e: "" if e is None else f"{e.value:.2f} ± {e.std_error:.2f}"  # noqa: E731
        print(f"{name:<18} {seconds:>7.1f} {dmean:>10.3f} {lo:>8.2f}/{med:.2f}/{hi:.2f}      {acc:>8.3f} "
              f"{lpd:>9.4f} {fmt(elbo):>16} {fmt(log_z):>16}")
        results[name] = dict(time=seconds, max_mean_diff=dmean, std_ratio=(lo, med, hi), accuracy=acc, lpd=lpd,
                             elbo=elbo, log_z=log_z)
    results["r_hat"] = r_hat
    return results


if __name__ == "__main__":
    main()
