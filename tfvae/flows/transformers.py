"""Element-wise transformers: the invertible scalar maps inside coupling and
autoregressive flows, apart from the structures that apply them.

A transformer is weight-free: a conditioner (a coupling net or a MADE)
gives `num_params` raw numbers per element, and the transformer maps each
element with its own numbers,

    y, log_det = transformer.forward(x, params)     # y = τ(x; θ)
    x, log_det = transformer.inverse(y, params)     # x = τ⁻¹(y; θ)

with `x`, `y`, `log_det` of one shape `S` and `params` a sequence of
`num_params` tensors of shape `S` (a coupling's `tf.split` or a MADE's
`tf.unstack` of its output, no copies); `log_det` is the element-wise
log|∂y/∂x| (forward) or log|∂x/∂y| (inverse). All-zero raw parameters give the identity map, so a
flow whose conditioner ends in a zero layer starts as the identity.
`get(name, **options)` makes one from its config name.
"""

import math

import tensorflow as tf


class Affine:
    """τ(x) = x · exp(s) + t, with θ = (t, r) and s = c · tanh(r / c).

        forward:  y = x · exp(s) + t,      log|∂y/∂x| = s
        inverse:  x = (y - t) · exp(-s),   log|∂x/∂y| = -s

    The soft clamp c = `log_scale_clamp` (c = 0: none, s = r) keeps every
    step's scale within e^±c, so deep flows stay finite; s ≈ r near 0.
    """

    num_params = 2

    def __init__(self, log_scale_clamp=0.0):
        self.log_scale_clamp = float(log_scale_clamp)

    def _shift_log_scale(self, params):
        shift, raw = params
        c = self.log_scale_clamp
        return shift, (c * tf.tanh(raw / c) if c > 0 else raw)

    def forward(self, x, params):
        shift, log_scale = self._shift_log_scale(params)
        return x * tf.exp(log_scale) + shift, log_scale

    def inverse(self, y, params):
        shift, log_scale = self._shift_log_scale(params)
        return (y - shift) * tf.exp(-log_scale), -log_scale


class Additive:
    """τ(x) = x + t (NICE): volume preserving, θ = (t,).

        forward: y = x + t,  inverse: x = y - t,  log|∂y/∂x| = 0
    """

    num_params = 1

    def forward(self, x, params):
        return x + params[0], tf.zeros_like(x)

    def inverse(self, y, params):
        return y - params[0], tf.zeros_like(y)


class Inverse:
    """The inverse of another transformer: forward = its inverse and back.

    Used where a flow's generative direction is the inverse of a standard
    form, e.g. Real NVP's coupling whose *density* direction is
    "scale, then shift": `Inverse(Affine(c))` maps y = (x - t) · exp(-s).
    """

    def __init__(self, transformer):
        self.transformer = transformer
        self.num_params = transformer.num_params

    def forward(self, x, params):
        return self.transformer.inverse(x, params)

    def inverse(self, y, params):
        return self.transformer.forward(y, params)


class RationalQuadraticSpline:
    """Monotone rational-quadratic spline on [-B, B], identity outside.

    θ has 3K - 1 numbers: K bin widths, K bin heights, K - 1 interior knot
    derivatives (raw). With w = 2B (m_w + (1 - K m_w) softmax(θ_w)), h the
    same from θ_h, δ_k = m_δ + softplus(θ_δ,k + a) (a makes δ = 1 at
    θ_δ = 0) and δ_0 = δ_K = 1 at the ends, the knots are
    (x_k, y_k) = (-B + Σ_{j<k} w_j, -B + Σ_{j<k} h_j). In bin k, with
    s = h_k / w_k and ξ = (x - x_k) / w_k ∈ [0, 1]:

        forward:  y = y_k + h_k [s ξ² + δ_k ξ(1-ξ)] / [s + (δ_{k+1} + δ_k - 2s) ξ(1-ξ)]
        ∂y/∂x = s² [δ_{k+1} ξ² + 2s ξ(1-ξ) + δ_k (1-ξ)²] / [s + (δ_{k+1} + δ_k - 2s) ξ(1-ξ)]²
        inverse:  ξ = 2c / (-b - sqrt(b² - 4ac)), the root in [0, 1] of
                  a ξ² + b ξ + c = 0 with d = y - y_k, g = δ_{k+1} + δ_k - 2s,
                  a = h_k (s - δ_k) + d g,  b = h_k δ_k - d g,  c = -s d
    Outside [-B, B] the map is the identity with log-det 0 (the linear
    tails of Durkan et al.; the end derivatives of 1 make it C¹). Zero raw
    parameters give equal bins and unit derivatives: the identity.

    Args:
        num_bins: K.
        bound: B > 0.
        min_bin_width, min_bin_height, min_derivative: m_w, m_h, m_δ.

    References:
        Durkan, Bekasov, Murray, Papamakarios, "Neural Spline Flows",
        NeurIPS 2019, section 3 and appendix A.
        Gregory & Delbourgo, "Piecewise rational quadratic interpolation
        to monotonic data", IMA J. Numer. Anal. 1982.
    """

    def __init__(self, num_bins=8, bound=3.0, min_bin_width=1e-3, min_bin_height=1e-3,
                 min_derivative=1e-3):
        self.num_bins = int(num_bins)
        self.bound = float(bound)
        self.min_bin_width = float(min_bin_width)
        self.min_bin_height = float(min_bin_height)
        self.min_derivative = float(min_derivative)
        self.num_params = 3 * self.num_bins - 1
        self._derivative_shift = math.log(math.expm1(1.0 - self.min_derivative))

    def _sizes(self, raw, minimum):
        """Bin sizes 2B (m + (1 - K m) softmax(raw)), summing to 2B."""
        return 2.0 * self.bound * (minimum + (1.0 - self.num_bins * minimum) * tf.nn.softmax(raw, axis=-1))

    def _spline(self, params):
        """Per bin `(..., K)`: left knots x_k, y_k, widths, heights and the
        derivatives at the bin's left and right knots."""
        k = self.num_bins
        widths = self._sizes(tf.stack(params[:k], -1), self.min_bin_width)
        heights = self._sizes(tf.stack(params[k:2 * k], -1), self.min_bin_height)
        inner = self.min_derivative + tf.math.softplus(tf.stack(params[2 * k:], -1) + self._derivative_shift)
        ones = tf.ones_like(widths[..., :1])
        return (tf.cumsum(widths, axis=-1, exclusive=True) - self.bound,
                tf.cumsum(heights, axis=-1, exclusive=True) - self.bound,
                widths, heights, tf.concat([ones, inner], -1), tf.concat([inner, ones], -1))

    def _in_bin(self, left_knots, t):
        """The values of the bin holding t (inside [-B, B]), each `t`-shaped."""
        index = tf.reduce_sum(tf.cast(t[..., None] >= left_knots[..., 1:], tf.int32), axis=-1)
        one_hot = tf.one_hot(index, self.num_bins, dtype=t.dtype)
        return lambda values: tf.reduce_sum(one_hot * values, axis=-1)

    def _inside(self, t):
        return (t >= -self.bound) & (t <= self.bound)

    def forward(self, x, params):
        spline = self._spline(params)
        inside = self._inside(x)
        t = tf.clip_by_value(x, -self.bound, self.bound)  # no NaN from the unused branch
        x_k, y_k, w_k, h_k, d_k, d_k1 = map(self._in_bin(spline[0], t), spline)
        s = h_k / w_k
        xi = (t - x_k) / w_k
        xi_1m = xi * (1.0 - xi)
        denominator = s + (d_k1 + d_k - 2.0 * s) * xi_1m
        y = y_k + h_k * (s * xi * xi + d_k * xi_1m) / denominator
        log_det = (2.0 * tf.math.log(s)
                   + tf.math.log(d_k1 * xi * xi + 2.0 * s * xi_1m + d_k * tf.square(1.0 - xi))
                   - 2.0 * tf.math.log(denominator))
        return tf.where(inside, y, x), tf.where(inside, log_det, tf.zeros_like(log_det))

    def inverse(self, y, params):
        spline = self._spline(params)
        inside = self._inside(y)
        t = tf.clip_by_value(y, -self.bound, self.bound)
        x_k, y_k, w_k, h_k, d_k, d_k1 = map(self._in_bin(spline[1], t), spline)
        s = h_k / w_k
        d = t - y_k
        g = d_k1 + d_k - 2.0 * s
        a = h_k * (s - d_k) + d * g
        b = h_k * d_k - d * g
        c = -s * d
        discriminant = tf.maximum(b * b - 4.0 * a * c, 0.0)
        xi = 2.0 * c / (-b - tf.sqrt(discriminant))
        x = x_k + xi * w_k
        xi_1m = xi * (1.0 - xi)
        denominator = s + g * xi_1m
        log_det = -(2.0 * tf.math.log(s)
                    + tf.math.log(d_k1 * xi * xi + 2.0 * s * xi_1m + d_k * tf.square(1.0 - xi))
                    - 2.0 * tf.math.log(denominator))
        return tf.where(inside, x, y), tf.where(inside, log_det, tf.zeros_like(log_det))


def get(name, **options):
    """A transformer from its name: "affine", "additive", "spline" (rational
    quadratic), or the same prefixed with "inverse_" for its `Inverse`.
    `options` go to the constructor (e.g. `log_scale_clamp`, `num_bins`)."""
    if name.startswith("inverse_"):
        return Inverse(get(name[len("inverse_"):], **options))
    kinds = {"affine": Affine, "additive": Additive, "spline": RationalQuadraticSpline}
    if name not in kinds:
        raise ValueError(f"Expected a transformer name in {sorted(kinds)} (or 'inverse_' + one). "
                         f"Received: {name!r}")
    return kinds[name](**options)
