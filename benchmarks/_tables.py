"""What `digits_table.py` and `mnist_table.py` share: the estimator flag and
gains with a paired standard error.

Two models scored on the same test examples are compared by the per-example
difference d_n = log p_A(x_n) − log p_B(x_n): its mean is the gain, and
sd(d) / sqrt(N) its standard error. That is far smaller than either model's
own ± (most of which is the spread between easy and hard examples, shared by
both), so it is the figure that says whether a gain is real.
"""

import numpy as np


#: The path gradient wherever a variant's log q is a Monte Carlo term (also
#: for IAF, whose Jacobian takes `batch_jacobian`), the plain one elsewhere:
#: tfvae's "auto" when the tables were made, so the scripts' default.
PATH = "path"


def add_gradient_estimator_argument(parser):
    import tfvae  # here, so that seed_table.py (which reads JSON only) starts without TensorFlow

    parser.add_argument("--gradient-estimator", default=PATH,
                        choices=(PATH,) + tfvae.objectives.gradients.ESTIMATORS,
                        help="tfvae.VAE's gradient_estimator for every variant. 'path' (default): the path "
                             "gradient wherever log q is a Monte Carlo term, as the README's tables were made "
                             "(tfvae's own 'auto' keeps IAF on the plain gradient); 'reparameterization' gives "
                             "the figures from before path gradients became the default")


def make_vae(make, estimator):
    """`make(gradient_estimator) -> tfvae.VAE` with the flag's estimator;
    `PATH` asks for "doubly_reparameterized" and falls back to
    "reparameterization" where the model has no Monte Carlo log q (the
    plain VAE's analytic KL), which is how "auto" chose before."""
    if estimator != PATH:
        return make(estimator)
    try:
        return make("doubly_reparameterized")
    except ValueError:
        return make("reparameterization")


def mean_and_stderr(values):
    """`(mean, standard error of the mean)` of per-example values `(N,)`."""
    values = np.asarray(values, np.float64)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"Expected per-example values of shape (N,), N >= 2. Received shape {values.shape}")
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


def paired_gain(a, b):
    """`(mean(a − b), its standard error)`; a, b `(N,)` scored on the same examples in the same order."""
    if np.shape(a) != np.shape(b):
        raise ValueError(f"Expected per-example arrays of one shape. Received: {np.shape(a)} and {np.shape(b)}")
    return mean_and_stderr(np.asarray(a, np.float64) - np.asarray(b, np.float64))


def print_gains(rows, key, base="vae", width=20, title="log p(x) gain over the plain VAE"):
    """Print each row's gain over the `base` row, ± the paired standard error.

    `rows` are dicts with "variant" and `key` (a per-example array); rows
    without `key` are skipped, and nothing is printed without a base row
    and another to compare with it.
    """
    ref = next((r for r in rows if r["variant"] == base and key in r), None)
    if ref is None or not any(r is not ref and key in r for r in rows):
        return
    print(f"\n{title} (nats; ± is the paired standard error over the same test examples):")
    for r in rows:
        if r is not ref and key in r:
            gain, se = paired_gain(r[key], ref[key])
            print(f"  {r['variant']:<{width}}{gain:+.2f} ± {se:.2f}")
