"""Discretised mixture of logistics for quantised images (PixelCNN++)."""

import keras
import tensorflow as tf

from tfvae.likelihoods.base import Likelihood, on_grid
from tfvae.nets._validate import positive_int


def _log_sigmoid_diff(a, b):
    """log(σ(a) − σ(b)) for a > b, stable in both tails.

    Uses σ(a) − σ(b) = σ(−b) − σ(−a) to keep the arguments on the side where
    log σ is accurate, then log(e^p − e^q) = p + log(−expm1(q − p)).
    """
    flip = (a + b) > 0
    hi = tf.where(flip, -b, a)
    lo = tf.where(flip, -a, b)
    p = tf.math.log_sigmoid(hi)
    q = tf.math.log_sigmoid(lo)
    return p + tf.math.log(-tf.math.expm1(tf.minimum(q - p, -1e-30)))


@keras.saving.register_keras_serializable(package="tfvae")
class DiscretizedLogistic(Likelihood):
    """Mixture of K logistics discretised to L levels, per sub-pixel.

    Data live on the grid x = k/(L−1), k = 0..L−1, mapped to c = 2x − 1 in
    [−1, 1] with bin half-width h = 1/(L−1). For one component (μ, s):
        P(k) = σ((c + h − μ)/s) − σ((c − h − μ)/s),   0 < k < L−1,
        P(0) = σ((c + h − μ)/s),  P(L−1) = 1 − σ((c − h − μ)/s),
    and the mixture is log Σ_j softmax(π)_j P_j(k). The probabilities sum to
    one over the L levels, so log p(x) is a true log-probability in nats.
    Each sub-pixel has its own mixture (no RGB coupling).

    Args:
        num_components: K.
        num_bins: L (256 for 8-bit images, 17 for scikit-learn digits).

    Decoder parameters per sub-pixel: P = 3K (mixture logits, means, log
    scales; log s ≥ −7).

    References:
        Salimans et al., "PixelCNN++", ICLR 2017.
    """

    def __init__(self, num_components=5, num_bins=256, **kwargs):
        super().__init__(**kwargs)
        self.num_components = positive_int(num_components, "num_components")
        self.num_bins = positive_int(num_bins, "num_bins")
        if self.num_bins < 2:
            raise ValueError(f"Expected `num_bins` >= 2. Received: num_bins={num_bins}")
        self.num_params = 3 * self.num_components
        self.support = f"the grid k/{self.num_bins - 1}, k = 0..{self.num_bins - 1}"
        self.support_hint = (f"pass quantised data with {self.num_bins} levels scaled to [0, 1] "
                             "(not dequantised), or set num_bins to the data's number of levels")

    def _split(self, params):
        params = tf.cast(params, tf.float32)
        k = self.num_components
        logits, loc, log_scale = params[..., :k], params[..., k:2 * k], params[..., 2 * k:]
        return tf.nn.log_softmax(logits, axis=-1), loc, tf.maximum(log_scale, -7.0)

    def _component_log_probs(self, x, loc, log_scale):
        """`x`: `(..., 1)`; returns `(..., K)` log P_j(k)."""
        half = 1.0 / (self.num_bins - 1)
        c = 2.0 * x - 1.0
        inv_s = tf.exp(-log_scale)
        plus = inv_s * (c - loc + half)
        minus = inv_s * (c - loc - half)
        level = tf.round(x * (self.num_bins - 1))
        middle = _log_sigmoid_diff(plus, minus)
        lowest = tf.math.log_sigmoid(plus)
        highest = tf.math.log_sigmoid(-minus)
        return tf.where(level <= 0, lowest, tf.where(level >= self.num_bins - 1, highest, middle))

    def log_prob_elementwise(self, x, params):
        log_pi, loc, log_scale = self._split(params)
        return tf.reduce_logsumexp(log_pi + self._component_log_probs(x[..., None], loc, log_scale), axis=-1)

    def level_log_probs(self, params):
        """`(..., *event_shape, L)`: log P(k) for every level k."""
        log_pi, loc, log_scale = self._split(params)
        levels = tf.linspace(0.0, 1.0, self.num_bins)
        grid = tf.reshape(levels, [1] * len(log_pi.shape[:-1]) + [self.num_bins, 1])
        lp = self._component_log_probs(grid, loc[..., None, :], log_scale[..., None, :])
        return tf.reduce_logsumexp(log_pi[..., None, :] + lp, axis=-1)

    def mean(self, params):
        levels = tf.linspace(0.0, 1.0, self.num_bins)
        return tf.reduce_sum(tf.exp(self.level_log_probs(params)) * levels, axis=-1)

    def sample(self, params, seed):
        log_pi, loc, log_scale = self._split(params)
        seeds = tf.random.split(tf.cast(seed, tf.int64), 2)
        shape = tf.shape(loc)[:-1]
        flat_logits = tf.reshape(log_pi, [-1, self.num_components])
        j = tf.random.stateless_categorical(flat_logits, 1, seed=seeds[0])
        onehot = tf.reshape(tf.one_hot(j[:, 0], self.num_components), tf.shape(log_pi))
        mu = tf.reduce_sum(onehot * loc, axis=-1)
        s = tf.exp(tf.reduce_sum(onehot * log_scale, axis=-1))
        u = tf.random.stateless_uniform(shape, seed=seeds[1], minval=1e-5, maxval=1.0 - 1e-5, alg="philox")
        c = mu + s * (tf.math.log(u) - tf.math.log1p(-u))
        x = tf.clip_by_value((c + 1.0) / 2.0, 0.0, 1.0)
        return tf.round(x * (self.num_bins - 1)) / (self.num_bins - 1)

    def in_support(self, x):
        return on_grid(x, self.num_bins)

    def get_config(self):
        config = super().get_config()
        config.update(num_components=self.num_components, num_bins=self.num_bins)
        return config
