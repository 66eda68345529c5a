"""Gaussian variational families: mean-field and full-rank (Cholesky)."""

import math

import keras
import numpy as np
import tensorflow as tf

from tfvae.vi.families import Family, inverse_softplus, positive_float, standard_normal_log_prob

_LOG_2PI = math.log(2.0 * math.pi)


@keras.saving.register_keras_serializable(package="tfvae")
class MeanFieldGaussian(Family):
    """q(z) = N(z; μ, diag(σ²)), σ = softplus(ρ).

        z = μ + σ ⊙ ε,  log q(z) = log N(ε; 0, I) − Σ_i log σ_i,  ε = (z − μ) / σ
        entropy H[q] = Σ_i log σ_i + d/2 log(2πe)

    Fitted by reverse KL to a Gaussian p with precision Λ, the optimum is
    μ = mean of p and σ_i² = 1 / Λ_ii, which is at most the marginal
    variance Σ_ii: mean-field under-estimates variances of correlated
    targets (Bishop, PRML §10.1.2).

    Args:
        dim: d. init_scale: σ at initialisation (μ starts at 0). seed: see `Family`.
    """

    def __init__(self, dim, init_scale=1.0, seed=None, **kwargs):
        super().__init__(dim, seed=seed, **kwargs)
        self.init_scale = positive_float(init_scale, "init_scale")
        self.loc = self.add_weight(shape=(self.dim,), initializer="zeros", name="loc")
        self.raw_scale = self.add_weight(
            shape=(self.dim,), initializer=keras.initializers.Constant(inverse_softplus(self.init_scale)),
            name="raw_scale")
        self.built = True

    @property
    def scale(self):
        """σ, `(d,)`."""
        return tf.math.softplus(tf.convert_to_tensor(self.raw_scale))

    @property
    def mean(self):
        return tf.convert_to_tensor(self.loc)

    @property
    def covariance(self):
        return tf.linalg.diag(tf.square(self.scale))

    def entropy(self):
        """H[q] = Σ log σ_i + d/2 log(2πe), a scalar."""
        return tf.reduce_sum(tf.math.log(self.scale)) + 0.5 * self.dim * (1.0 + _LOG_2PI)

    def transform(self, eps):
        scale = self.scale
        z = self.loc + scale * eps
        return z, standard_normal_log_prob(eps) - tf.reduce_sum(tf.math.log(scale))

    def log_prob(self, z):
        return self._log_prob(self.check_points(z), self.loc, self.scale)

    def path_log_prob(self, z):
        return self._log_prob(z, tf.stop_gradient(self.loc), tf.stop_gradient(self.scale))

    def _log_prob(self, z, loc, scale):
        eps = (z - loc) / scale
        return standard_normal_log_prob(eps) - tf.reduce_sum(tf.math.log(scale))

    def get_config(self):
        config = super().get_config()
        config.update(init_scale=self.init_scale)
        return config


@keras.saving.register_keras_serializable(package="tfvae")
class FullRankGaussian(Family):
    """q(z) = N(z; μ, L Lᵀ), L lower triangular with positive diagonal.

    L = strict_lower(W) + diag(softplus(diag W)), an unconstrained W `(d, d)`
    (so Σ = L Lᵀ is the Cholesky factorisation, one-to-one onto positive
    definite matrices).

        z = μ + L ε,  ε = L⁻¹ (z − μ)  (a triangular solve)
        log q(z) = log N(ε; 0, I) − Σ_i log L_ii
        entropy H[q] = ½ log|Σ| + d/2 log(2πe) = Σ_i log L_ii + d/2 log(2πe)

    Fitted by reverse KL to a Gaussian p, the optimum is q = p exactly, so
    the ELBO reaches log Z.

    Args:
        dim: d. init_scale: L = init_scale · I at initialisation (μ starts
        at 0). seed: see `Family`.
    """

    def __init__(self, dim, init_scale=1.0, seed=None, **kwargs):
        super().__init__(dim, seed=seed, **kwargs)
        self.init_scale = positive_float(init_scale, "init_scale")
        self.loc = self.add_weight(shape=(self.dim,), initializer="zeros", name="loc")
        init = np.eye(self.dim) * inverse_softplus(self.init_scale)
        self.raw_scale_tril = self.add_weight(
            shape=(self.dim, self.dim), initializer=keras.initializers.Constant(init), name="raw_scale_tril")
        self.built = True

    @property
    def scale_tril(self):
        """L, `(d, d)` lower triangular with a positive diagonal."""
        w = tf.convert_to_tensor(self.raw_scale_tril)
        strict = tf.linalg.band_part(w, -1, 0) - tf.linalg.band_part(w, 0, 0)
        return strict + tf.linalg.diag(tf.math.softplus(tf.linalg.diag_part(w)))

    @property
    def mean(self):
        return tf.convert_to_tensor(self.loc)

    @property
    def covariance(self):
        scale = self.scale_tril
        return tf.matmul(scale, scale, transpose_b=True)

    def _log_det(self, scale):
        return tf.reduce_sum(tf.math.log(tf.linalg.diag_part(scale)))

    def entropy(self):
        """H[q] = Σ log L_ii + d/2 log(2πe), a scalar."""
        return self._log_det(self.scale_tril) + 0.5 * self.dim * (1.0 + _LOG_2PI)

    def transform(self, eps):
        scale = self.scale_tril
        z = self.loc + tf.matmul(eps, scale, transpose_b=True)
        return z, standard_normal_log_prob(eps) - self._log_det(scale)

    def log_prob(self, z):
        return self._log_prob(self.check_points(z), self.loc, self.scale_tril)

    def path_log_prob(self, z):
        return self._log_prob(z, tf.stop_gradient(self.loc), tf.stop_gradient(self.scale_tril))

    def _log_prob(self, z, loc, scale):
        eps = tf.transpose(tf.linalg.triangular_solve(scale, tf.transpose(z - loc), lower=True))
        return standard_normal_log_prob(eps) - self._log_det(scale)

    def get_config(self):
        config = super().get_config()
        config.update(init_scale=self.init_scale)
        return config
