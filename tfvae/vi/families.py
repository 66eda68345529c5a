"""The interface of variational families q(z), and their shared maths.

Every family is a reparameterised map from standard-normal noise:

    ε ~ N(0, I_d),  z = T_φ(ε),  log q(z) = log N(ε; 0, I) − log|det ∂T_φ/∂ε|

so Monte Carlo estimates of E_q[f(z)] are differentiable in φ (the
reparameterisation trick, Kingma & Welling 2014). The call contract,
shared by `FlowFamily`:

    z, log_q = family.sample_and_log_prob(n, seed)   # (n, d), (n,)
    z, log_q = family.transform(eps)                 # the same, given ε (n, d)
    log_q = family.log_prob(z)                       # (n,), where T_φ inverts
    z = family.sample(n, seed)                       # (n, d)

`seed` is an int (stateless, reproducible), a `keras.random.SeedGenerator`,
or None (the family's own generator). The Gaussian families live in
`tfvae.vi.gaussian`, flows on a Gaussian base in `tfvae.vi.flow_family`.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from tfvae.nets._validate import positive_int

_LOG_2PI = math.log(2.0 * math.pi)


def standard_normal_log_prob(eps):
    """log N(ε; 0, I) summed over the last axis: `(n, d) -> (n,)`."""
    d = tf.cast(tf.shape(eps)[-1], eps.dtype)
    return -0.5 * tf.reduce_sum(tf.square(eps), axis=-1) - 0.5 * d * _LOG_2PI


def seed_pair(seed):
    """An int (or int tensor) seed s -> the `(2,)` int64 stateless seed `[s, 0]`."""
    if isinstance(seed, bool) or not (isinstance(seed, (int, np.integer)) or tf.is_tensor(seed)):
        raise ValueError("Expected `seed` to be an integer, a keras.random.SeedGenerator or None. "
                         f"Received: seed={seed!r}")
    if tf.is_tensor(seed) and seed.shape.rank == 1:
        return tf.cast(seed, tf.int64)
    return tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])


def stateless_noise(n, dim, seed, dtype):
    """ε ~ N(0, I), `(n, dim)`, from a `(2,)` stateless seed."""
    return tf.random.stateless_normal(tf.stack([n, dim]), seed=seed, dtype=dtype)


def inverse_softplus(x):
    """softplus⁻¹(x) = log(eˣ − 1) for x > 0 (Python floats)."""
    return x + math.log(-math.expm1(-x))


def positive_float(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value < math.inf):
        raise ValueError(f"Expected `{name}` to be a positive finite number. Received: {name}={value!r}")
    return float(value)


class Family(keras.layers.Layer):
    """Base class of variational families on R^d.

    Subclasses implement `transform(eps) -> (z, log_q)` and, where the map
    inverts in closed form, `log_prob(z)`. Weights are created in
    `__init__` (the dimension is known), so a family is built at once.

    Args:
        dim: d, the dimension of z (positive int).
        seed: seed of the family's own `SeedGenerator` (used when a method
            is called with `seed=None`).
    """

    def __init__(self, dim, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.dim = positive_int(dim, "dim")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    # ------------------------------------------------------------ interface

    def transform(self, eps):
        raise NotImplementedError

    def log_prob(self, z):
        raise NotImplementedError

    @property
    def has_log_prob(self):
        """Whether `log_prob` of arbitrary points is available."""
        return True

    def path_log_prob(self, z):
        """log q(z) with q's weights held constant (gradients flow only
        through z), or None where that is not available.

        The "sticking the landing" estimator (Roeder, Wu & Duvenaud, 2017)
        drops the score term ∂log q(z; φ)/∂φ at fixed z, whose expectation
        is zero: the gradient stays unbiased and its variance vanishes as
        q → p, so Gaussian families converge to the exact optimum instead of
        jittering around it.
        """
        return None

    @property
    def has_path_gradient(self):
        """Whether `path_transform` is available (see `path_log_prob`)."""
        return type(self).path_log_prob is not Family.path_log_prob

    def path_transform(self, eps):
        """`transform` for the path gradient: the same `(z, log q(z))`
        values, but log q's gradient flows only through z, as if q's weights
        were constants (the score term, of mean zero, is dropped).
        """
        if not self.has_path_gradient:
            raise NotImplementedError(f"{type(self).__name__} has no path gradient.")
        z, _ = self.transform(eps)
        return z, self.path_log_prob(z)

    # --------------------------------------------------------------- shared

    def noise(self, n, seed=None):
        """ε ~ N(0, I), `(n, d)`, in the family's compute dtype.

        An int `seed` s draws statelessly with the seed pair `[s, 0]`
        (what the exported `sample` signature does, so both agree); a
        `SeedGenerator` or None (the family's own) draws from a generator.
        """
        if isinstance(n, (int, np.integer)) or isinstance(n, bool):
            n = positive_int(n, "n")
        if seed is None or isinstance(seed, keras.random.SeedGenerator):
            return keras.random.normal((n, self.dim), dtype=self.compute_dtype,
                                       seed=self.seed_generator if seed is None else seed)
        return stateless_noise(n, self.dim, seed_pair(seed), self.compute_dtype)

    def sample_and_log_prob(self, n, seed=None):
        """n reparameterised draws and their log-densities: `(n, d)`, `(n,)`."""
        return self.transform(self.noise(n, seed))

    def sample(self, n, seed=None):
        """`(n, d)` draws from q."""
        return self.sample_and_log_prob(n, seed)[0]

    def call(self, eps):
        return self.transform(eps)

    def check_points(self, z):
        """`z` as a float tensor of shape `(n, d)`, or a ValueError."""
        z = tf.convert_to_tensor(z)
        if not z.dtype.is_floating or z.shape.rank != 2 or (z.shape[-1] is not None and z.shape[-1] != self.dim):
            raise ValueError(f"Expected `z` to be a float tensor of shape (n, {self.dim}). "
                             f"Received: z.shape={tuple(z.shape)}, z.dtype={z.dtype.name}")
        return tf.cast(z, self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(dim=self.dim, seed=self.seed)
        return config
