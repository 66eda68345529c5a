"""What every prior p(z) provides to the VAE."""

import keras


class Prior(keras.layers.Layer):
    """Base class for priors over a `latent_dim`-vector.

    Contract (tensors only):
        log_prob(z)            `(N, D) -> (N,)`, nats, constants kept.
        sample(n, seed)        `seed`: `(2,)` int tensor -> `(n, D)`.
        kl_from_gaussian(loc, scale)
                               per-dimension analytic KL(N(loc, scale²) || p),
                               `(N, D)`, or None when there is no closed form
                               (the VAE then uses a Monte Carlo estimate).
    Priors may own weights (mixtures, flows); they are trained by the same
    `fit` as the encoder and decoder.
    """

    def __init__(self, latent_dim=None, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim

    def log_prob(self, z):
        raise NotImplementedError

    def sample(self, n, seed):
        raise NotImplementedError

    def kl_from_gaussian(self, loc, scale):
        return None

    def get_config(self):
        config = super().get_config()
        config["latent_dim"] = self.latent_dim
        return config
