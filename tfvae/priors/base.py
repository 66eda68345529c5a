"""What every prior p(z) provides to the VAE."""

import keras


class Prior(keras.layers.Layer):
    """Base class for priors over a `latent_dim`-vector.

    Contract (tensors only):
        log_prob(z, context=None)   `(N, D) -> (N,)`, nats, constants kept.
        sample(n, seed, context=None, temperature=1.0)
                               `seed`: `(2,)` int tensor -> `(n, D)`.
                               `temperature` T > 0 scales the Gaussian noise
                               every prior here draws from: exactly
                               N(μ, T²σ²) for Gaussians, per component for
                               mixtures, the base of a flow (Kingma &
                               Dhariwal's reduced-temperature sampling);
                               T = 1 samples p(z).
        kl_from_gaussian(loc, scale, context=None)
                               per-dimension analytic KL(N(loc, scale²) || p),
                               `(N, D)`, or None when there is no closed form
                               (the VAE then uses a Monte Carlo estimate).
    `context` is the condition `(N, context_dim)` of a conditional model
    (`tfvae.ConditionalVAE`); unconditional priors ignore it, so p(z|c) =
    p(z). `context_dim` is set by the model, like `latent_dim`.
    Priors may own weights (mixtures, flows); they are trained by the same
    `fit` as the encoder and decoder.

    `has_analytic_kl` (class attribute) says whether `kl_from_gaussian` has
    a closed form, so a model can tell before any call whether its KL term
    will be a Monte Carlo estimate.
    """

    has_analytic_kl = False

    def __init__(self, latent_dim=None, context_dim=None, **kwargs):
        # Log-densities stay float32 under a mixed-precision policy.
        kwargs["dtype"] = kwargs.get("dtype") or "float32"
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.context_dim = context_dim

    def log_prob(self, z, context=None):
        raise NotImplementedError

    def sample(self, n, seed, context=None, temperature=1.0):
        raise NotImplementedError

    def kl_from_gaussian(self, loc, scale, context=None):
        return None

    def get_config(self):
        config = super().get_config()
        config["latent_dim"] = self.latent_dim
        if self.context_dim is not None:  # unconditional configs stay as they were
            config["context_dim"] = self.context_dim
        return config
