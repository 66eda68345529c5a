"""Maximum mean discrepancy (MMD) between two samples: the unbiased U-statistic.

For distributions P, Q on R^D and a positive-definite kernel k,

    MMD²(P, Q) = E k(x, x') + E k(y, y') − 2 E k(x, y),   x, x' ~ P, y, y' ~ Q,

all pairs independent. From x_1..x_n ~ P and y_1..y_m ~ Q (n, m ≥ 2) the
unbiased estimator (Gretton et al., 2012, Lemma 6) drops the i = j terms:

    MMD²_u = 1/(n(n−1)) Σ_{i≠j} k(x_i, x_j) + 1/(m(m−1)) Σ_{i≠j} k(y_i, y_j)
             − 2/(nm) Σ_{i,j} k(x_i, y_j),

so E[MMD²_u] = MMD² exactly (it can be negative when P = Q).

Kernels, a sum over scales s ∈ `scales` with bandwidth c_s = 2 D s (D the
dimension; Tolstikhin et al.'s C = 2 D σ² for a N(0, σ² I) prior, with s
playing σ² and their scales (0.1, 0.2, 0.5, 1, 2, 5, 10) as the default):

    "imq" (inverse multiquadratic):  k(x, y) = Σ_s c_s / (c_s + ‖x − y‖²)
    "rbf" (Gaussian):                k(x, y) = Σ_s exp(−‖x − y‖² / c_s)

The IMQ kernel's heavy tails keep a gradient when the two samples are far
apart, where the RBF kernel's vanishes (Tolstikhin et al., 2018, §4).

References:
    Gretton, Borgwardt, Rasch, Schölkopf, Smola. A Kernel Two-Sample Test.
    JMLR 13, 2012.
    Tolstikhin, Bousquet, Gelly, Schölkopf. Wasserstein Auto-Encoders.
    ICLR 2018. arXiv:1711.01558.
"""

import numbers

import tensorflow as tf

KERNELS = ("imq", "rbf")
DEFAULT_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def check_kernel(kernel, name="kernel"):
    """Returns `kernel` if it is one of `KERNELS`, else raises ValueError."""
    if kernel not in KERNELS:
        raise ValueError(f"Expected `{name}` to be one of {KERNELS}. Received: {name}={kernel!r}")
    return kernel


def check_scales(scales, name="scales"):
    """`scales` (a positive number, a non-empty sequence of them, or None
    for `DEFAULT_SCALES`) as a tuple of floats; raises ValueError."""
    if scales is None:
        return DEFAULT_SCALES
    values = (scales,) if isinstance(scales, numbers.Real) else scales
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    if not values or any(isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 < v < float("inf")
                         for v in values):
        raise ValueError(f"Expected `{name}` to be a positive finite number or a non-empty sequence of them. "
                         f"Received: {name}={scales!r}")
    return tuple(float(v) for v in values)


def _squared_distances(a, b):
    """`(n, D), (m, D) -> (n, m)` ‖a_i − b_j‖², clipped at 0 (round-off)."""
    aa = tf.reduce_sum(tf.square(a), -1)
    bb = tf.reduce_sum(tf.square(b), -1)
    return tf.maximum(aa[:, None] + bb[None, :] - 2.0 * tf.matmul(a, b, transpose_b=True), 0.0)


def kernel_matrix(a, b, kernel="imq", scales=None):
    """The kernel between every row of `a` `(n, D)` and of `b` `(m, D)`,
    `(n, m)` float32, summed over `scales` (see the module docstring)."""
    kernel, scales = check_kernel(kernel), check_scales(scales)
    a, b = tf.cast(a, tf.float32), tf.cast(b, tf.float32)
    d2 = _squared_distances(a, b)
    dim = tf.cast(tf.shape(a)[-1], tf.float32)
    total = tf.zeros_like(d2)
    for s in scales:
        c = 2.0 * dim * s
        total += c / (c + d2) if kernel == "imq" else tf.exp(-d2 / c)
    return total


def mmd(x, y, kernel="imq", scales=None):
    """The unbiased estimate MMD²_u of MMD²(P, Q) from x ~ P and y ~ Q.

    Args:
        x: `(n, D)` samples of P, n ≥ 2 (any float dtype; computed in float32).
        y: `(m, D)` samples of Q, m ≥ 2.
        kernel: "imq" or "rbf".
        scales: a positive number or a sequence of them, the s of c_s = 2 D s;
            None for `DEFAULT_SCALES`.
    Returns:
        scalar float32 MMD²_u (unbiased, so it may be slightly negative).
    Raises:
        ValueError: an unknown kernel, bad scales, or (when the shapes are
            known) fewer than two samples or differing dimensions.
    """
    x, y = tf.cast(x, tf.float32), tf.cast(y, tf.float32)
    for name, t in (("x", x), ("y", y)):
        if t.shape.rank != 2:
            raise ValueError(f"Expected `{name}` to have shape (num_samples, dim). Received shape {t.shape}")
        if t.shape[0] is not None and t.shape[0] < 2:
            raise ValueError(f"The unbiased MMD needs at least 2 samples of `{name}`. Received shape {t.shape}")
    if x.shape[-1] is not None and y.shape[-1] is not None and x.shape[-1] != y.shape[-1]:
        raise ValueError(f"`x` and `y` must have the same dimension. Received shapes {x.shape} and {y.shape}")
    n = tf.cast(tf.shape(x)[0], tf.float32)
    m = tf.cast(tf.shape(y)[0], tf.float32)
    kxx = kernel_matrix(x, x, kernel, scales)
    kyy = kernel_matrix(y, y, kernel, scales)
    kxy = kernel_matrix(x, y, kernel, scales)
    # Off-diagonal sums: the total minus the trace, i.e. the i = j terms.
    sum_xx = tf.reduce_sum(kxx) - tf.linalg.trace(kxx)
    sum_yy = tf.reduce_sum(kyy) - tf.linalg.trace(kyy)
    return sum_xx / (n * (n - 1.0)) + sum_yy / (m * (m - 1.0)) - 2.0 * tf.reduce_mean(kxy)
