"""The VampPrior: a mixture of the posterior at learned pseudo-inputs."""

import math

import keras
import tensorflow as tf

from tfvae.nets._validate import positive_int
from tfvae.objectives.gaussian import normal_log_prob
from tfvae.priors.base import Prior


@keras.saving.register_keras_serializable(package="tfvae")
class VampPrior(Prior):
    """p(z) = (1/K) Σ_k q(z | u_k) with learned pseudo-inputs u_k.

    The aggregated posterior (1/N) Σ_n q(z|x_n) is the prior that maximises
    the ELBO; the VampPrior approximates it with K ≪ N learned inputs passed
    through the model's own encoder:
        log p(z) = logsumexp_k log N(z; μ(u_k), σ(u_k)²) − log K.
    Pseudo-inputs are clipped to [0, 1] (the data range, as the hard-tanh
    of Tomczak & Welling; a value outside gets no gradient) and by default
    start dark: u ~ U(−1/√K, 1/√K), the default start of a Linear(K)
    layer (how pythae makes them; pythae also adds a bias shared by all
    K), so about half of each pseudo-input's pixels start below 0 and stay
    at 0. Tomczak & Welling's code starts at N(0.05, 0.01). The README
    compares starts on MNIST and Fashion-MNIST.

    The VAE attaches its encoder at construction (`attach`); the encoder is
    not owned by the prior, only called. Needs a Gaussian posterior: with a
    posterior flow q(z|u) has no cheap density.

    Args:
        num_pseudo_inputs: K.
        seed: initialiser seed (for the default initializer).
        pseudo_input_initializer: a Keras initializer (or its name or
            config) for the `(K, *data_shape)` pseudo-inputs, before the
            clipping; default U(−1/√K, 1/√K) seeded by `seed`.

    References:
        Tomczak & Welling, "VAE with a VampPrior", AISTATS 2018.
    """

    def __init__(self, num_pseudo_inputs=500, seed=None, latent_dim=None, data_shape=None,
                 pseudo_input_initializer=None, **kwargs):
        super().__init__(latent_dim=latent_dim, **kwargs)
        self.num_pseudo_inputs = positive_int(num_pseudo_inputs, "num_pseudo_inputs")
        self.seed = seed
        self.pseudo_input_initializer = keras.initializers.get(pseudo_input_initializer)  # None stays None
        self.data_shape = None if data_shape is None else tuple(data_shape)
        self._posterior_params = None

    def attach(self, posterior_params, data_shape):
        """Called by the VAE: `posterior_params(x) -> (loc, scale, h)`."""
        # Stored as a plain function so Keras does not track the parent model
        # as a sublayer of its own prior.
        object.__setattr__(self, "_posterior_params", posterior_params)
        if self.data_shape is not None and self.data_shape != tuple(data_shape):
            raise ValueError(f"VampPrior was built for inputs of shape {self.data_shape}; the VAE's "
                             f"input_shape is {tuple(data_shape)}.")
        self.data_shape = tuple(data_shape)

    def build(self, input_shape):
        if self.data_shape is None:
            raise ValueError("VampPrior must be attached to a VAE (tfvae.VAE(prior=VampPrior(...))).")
        self.pseudo_inputs = self.add_weight(
            name="pseudo_inputs", shape=(self.num_pseudo_inputs,) + self.data_shape,
            initializer=self.pseudo_input_initializer or self._default_initializer())

    def _default_initializer(self):
        bound = 1.0 / math.sqrt(self.num_pseudo_inputs)
        return keras.initializers.RandomUniform(-bound, bound, seed=self.seed)

    def _components(self):
        u = tf.clip_by_value(tf.cast(self.pseudo_inputs, tf.float32), 0.0, 1.0)
        loc, scale, _ = self._posterior_params(u)
        return loc, scale

    def log_prob(self, z, context=None):
        loc, scale = self._components()
        lp = normal_log_prob(z[:, None, :], loc, scale)
        return tf.reduce_logsumexp(lp, axis=-1) - math.log(self.num_pseudo_inputs)

    def sample(self, n, seed, context=None, temperature=1.0):
        loc, scale = self._components()
        seeds = tf.random.split(tf.cast(seed, tf.int64), 2)
        k = tf.random.stateless_uniform((n,), seed=seeds[0], maxval=self.num_pseudo_inputs, dtype=tf.int32)
        eps = tf.random.stateless_normal((n, self.latent_dim), seed=seeds[1], alg="philox")
        return tf.gather(loc, k) + temperature * tf.gather(scale, k) * eps

    def get_config(self):
        config = super().get_config()
        config.update(num_pseudo_inputs=self.num_pseudo_inputs, seed=self.seed,
                      data_shape=None if self.data_shape is None else list(self.data_shape),
                      pseudo_input_initializer=keras.initializers.serialize(self.pseudo_input_initializer))
        return config
