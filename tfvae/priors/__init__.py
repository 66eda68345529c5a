"""Priors p(z) for the VAE, trained jointly with it."""

import keras

from tfvae.priors.base import Prior
from tfvae.priors.conditional import ConditionalNormal
from tfvae.priors.diagonal import DiagonalNormal
from tfvae.priors.flow import FlowPrior
from tfvae.priors.mixture import MixtureOfGaussians
from tfvae.priors.normal import StandardNormal
from tfvae.priors.vamp import VampPrior

_BY_NAME = {"normal": StandardNormal, "standard_normal": StandardNormal,
            "diagonal": DiagonalNormal, "mixture": MixtureOfGaussians, "vamp": VampPrior, "conditional_normal": ConditionalNormal}


def get(identifier, latent_dim, context_dim=None, **options):
    """A `Prior` from a name, a config dict or an instance, sized to
    `latent_dim` and, in a conditional model, to the condition's width.
    `options` go to the constructor of a prior given by name (e.g.
    `get("mixture", 16, num_components=10)`)."""
    if isinstance(identifier, dict):
        identifier = keras.saving.deserialize_keras_object(identifier)
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Expected `prior` to be one of {sorted(_BY_NAME)} or a "
                             f"tfvae.priors.Prior. Received: prior={identifier!r}")
        identifier = _BY_NAME[identifier](**options)
    if not isinstance(identifier, Prior):
        raise ValueError(f"Expected `prior` to be one of {sorted(_BY_NAME)} or a "
                         f"tfvae.priors.Prior. Received: prior={identifier!r}")
    if identifier.latent_dim is None:
        identifier.latent_dim = latent_dim
    elif identifier.latent_dim != latent_dim:
        raise ValueError(f"The prior's latent_dim={identifier.latent_dim} does not match the "
                         f"model's latent_dim={latent_dim}.")
    if identifier.context_dim is None:
        identifier.context_dim = context_dim
    elif identifier.context_dim != context_dim:
        raise ValueError(f"The prior's context_dim={identifier.context_dim} does not match the model's "
                         f"condition width {context_dim}.")
    if getattr(identifier, "requires_context", False) and context_dim is None:
        raise ValueError(f"{type(identifier).__name__} is a conditional prior p(z|c); use it in a "
                         "tfvae.ConditionalVAE (an unconditional model has no condition to give it).")
    return identifier


def names():
    """The names `get` accepts, sorted."""
    return sorted(_BY_NAME)
