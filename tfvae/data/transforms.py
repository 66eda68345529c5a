"""Pixel transforms: scaling, stochastic binarisation, uniform dequantisation.

All randomness is stateless (`tf.random.stateless_*` with an explicit
`[2]` seed), so the pipeline decides how draws are keyed: on the element's
index for a fixed draw (evaluation), or on a per-batch seed stream that
changes every epoch (training).
"""

import tensorflow as tf

# Dequantisation noise is drawn from [EPS, 1 - EPS) rather than [0, 1): the
# float32 round trip (k + u) / L * L is only accurate to about 2**-15 for
# L <= 256, so without the margin floor(y * L) could land on a neighbouring
# level. The density bias is log(1 / (1 - 2 * EPS)) ~ 1.2e-4 nats per pixel.
DEQUANTIZE_EPS = 2.0 ** -14


def to_unit_interval(levels, num_bins):
    """Scales integer levels `k` in 0..L-1 to `k / (L - 1)` in [0, 1] (float32)."""
    return tf.cast(levels, tf.float32) / float(num_bins - 1)


def binarize(x, seed):
    """Draws `b ~ Bernoulli(x)` elementwise.

    `b = 1[u < x]` with `u ~ U[0, 1)`, so pixels at exactly 0 or 1 stay put
    (already-binary data is unchanged).

    Args:
      x: float32 tensor of any shape, values in [0, 1].
      seed: int tensor of shape `[2]`, a stateless seed.

    Returns:
      float32 tensor like `x` with values in {0, 1}.
    """
    u = tf.random.stateless_uniform(tf.shape(x), seed=seed, dtype=tf.float32)
    return tf.cast(u < x, tf.float32)


def dequantize(x, num_bins, seed):
    """Uniform dequantisation: `y = (k + u) / L` with `k = round(x (L - 1))`.

    Turns `L`-level data into a continuous density's support: `y` lies in
    `[k / L, (k + 1) / L)`, so `floor(y L) = k` recovers the level, and a
    continuous density `p(y)` on [0, 1]^D lower-bounds the discrete
    likelihood, `log P(k) >= E_u[log p(y)] - D log L` (Theis et al., 2016).

    Args:
      x: float32 tensor of any shape with values `k / (L - 1)` in [0, 1]
        (values off the grid are rounded to the nearest level).
      num_bins: the number of levels `L` (>= 2).
      seed: int tensor of shape `[2]`, a stateless seed.

    Returns:
      float32 tensor like `x` with values in (0, 1).

    References:
      Theis, van den Oord & Bethge (2016), A note on the evaluation of
      generative models, ICLR.
    """
    levels = tf.round(x * float(num_bins - 1))
    u = tf.random.stateless_uniform(
        tf.shape(x), seed=seed, minval=DEQUANTIZE_EPS, maxval=1.0 - DEQUANTIZE_EPS, dtype=tf.float32)
    return (levels + u) / float(num_bins)


def apply(x, *, num_bins, binarize_images, dequantize_images, seed):
    """Applies the chosen transform (at most one of the two) to `x`."""
    if binarize_images:
        return binarize(x, seed)
    if dequantize_images:
        return dequantize(x, num_bins, seed)
    return x
