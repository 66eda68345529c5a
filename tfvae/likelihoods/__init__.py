"""Likelihoods p(x | z) that interpret a decoder's output."""

import keras

from tfvae.likelihoods.base import Likelihood
from tfvae.likelihoods.bernoulli import Bernoulli
from tfvae.likelihoods.categorical import Categorical
from tfvae.likelihoods.gaussian import Gaussian
from tfvae.likelihoods.logistic import DiscretizedLogistic

_BY_NAME = {
    "bernoulli": Bernoulli,
    "gaussian": Gaussian,
    "discretized_logistic": DiscretizedLogistic,
    "categorical": Categorical,
}


def get(identifier, **options):
    """A `Likelihood` from a name, a config dict or an instance; `options`
    go to the constructor of one given by name (e.g. `num_bins`)."""
    if isinstance(identifier, Likelihood):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Expected `likelihood` to be one of {sorted(_BY_NAME)} or a "
                             f"tfvae.likelihoods.Likelihood. Received: likelihood={identifier!r}")
        return _BY_NAME[identifier](**options)
    if isinstance(identifier, dict):
        obj = keras.saving.deserialize_keras_object(identifier)
        if isinstance(obj, Likelihood):
            return obj
    raise ValueError(f"Expected `likelihood` to be one of {sorted(_BY_NAME)} or a "
                     f"tfvae.likelihoods.Likelihood. Received: likelihood={identifier!r}")


def names():
    """The names `get` accepts, sorted."""
    return sorted(_BY_NAME)
