"""Builds a `tfvae.VAE` from a plain, JSON-serialisable model spec.

The command line turns its flags into a spec (a dict of numbers, strings and
lists), stores it in `config.json`, and builds the model from it here. Flows
and priors are looked up by attribute on `tfvae.flows` / `tfvae.priors` at
run time, so the CLI works with whatever parts of the package exist and
names clearly the ones that do not.
"""

import importlib
import inspect

import tfvae

# CLI name -> (module attribute holding the class, what it is for the error).
PRIORS = {
    "normal": None,
    "realnvp": ("flows", "RealNVP"),
    "maf": ("flows", "MAF"),
    "mog": ("priors", "MixtureOfGaussians"),
    "vamp": ("priors", "VampPrior"),
}
POSTERIOR_FLOWS = {
    "none": None,
    "iaf": "IAF",
    "planar": "Planar",
    "sylvester": "Sylvester",
    "realnvp": "RealNVP",
}
LIKELIHOODS = {
    "bernoulli": "Bernoulli",
    "gaussian": "Gaussian",
    "discretized_logistic": "DiscretizedLogistic",
    "categorical": "Categorical",
}
NETS = ("mlp", "conv")


class NotAvailableError(LookupError):
    """A requested part of tfvae (a flow, a prior, export) does not exist yet."""


def _module(module_name):
    """`tfvae.<module_name>`, imported if the package does not import it."""
    try:
        return importlib.import_module(f"tfvae.{module_name}")
    except ImportError:
        return None


def lookup(module_name, attr, what):
    """`getattr(tfvae.<module_name>, attr)` or a `NotAvailableError` saying so."""
    obj = getattr(_module(module_name), attr, None)
    if obj is None:
        raise NotAvailableError(
            f"{what} needs `tfvae.{module_name}.{attr}`, which is not available in this "
            f"version of tfvae.")
    return obj


def available(module_name, attr):
    """Whether `tfvae.<module_name>.<attr>` exists."""
    return getattr(_module(module_name), attr, None) is not None


def _construct(cls, **kwargs):
    """Calls `cls` with those of `kwargs` its constructor names explicitly, so
    optional settings (e.g. `hidden_units`) reach the classes that have them."""
    params = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in kwargs.items() if k in params and v is not None})


def make_flow(attr, num_layers, hidden_units, what, name):
    cls = lookup("flows", attr, what)
    return _construct(cls, num_layers=num_layers, hidden_units=hidden_units, name=name)


def make_prior(spec):
    name = spec["prior"]
    if name not in PRIORS:
        raise ValueError(f"Expected `prior` to be one of {sorted(PRIORS)}. Received: prior={name!r}")
    if PRIORS[name] is None:
        return "normal"
    module_name, attr = PRIORS[name]
    what = f"--prior {name}"
    if module_name == "flows":
        flow_prior = lookup("priors", "FlowPrior", what)
        flow = make_flow(attr, spec["prior_layers"], spec.get("flow_hidden_units"), what, "prior_flow")
        return flow_prior(flow)
    cls = lookup("priors", attr, what)
    k = spec.get("prior_components")
    return _construct(cls, num_components=k, num_pseudo_inputs=k, seed=spec.get("seed"),
                      latent_dim=spec["latent_dim"], data_shape=tuple(spec["input_shape"]))


def make_posterior_flow(spec):
    name = spec["posterior_flow"]
    if name not in POSTERIOR_FLOWS:
        raise ValueError(f"Expected `posterior_flow` to be one of {sorted(POSTERIOR_FLOWS)}. "
                         f"Received: posterior_flow={name!r}")
    if POSTERIOR_FLOWS[name] is None:
        return None
    return make_flow(POSTERIOR_FLOWS[name], spec["flow_layers"], spec.get("flow_hidden_units"),
                     f"--posterior-flow {name}", "posterior_flow")


def make_likelihood(spec):
    name = spec["likelihood"]
    if name not in LIKELIHOODS:
        raise ValueError(f"Expected `likelihood` to be one of {sorted(LIKELIHOODS)}. "
                         f"Received: likelihood={name!r}")
    cls = getattr(tfvae.likelihoods, LIKELIHOODS[name])
    return _construct(cls, num_bins=spec.get("num_bins"))


def make_nets(spec):
    """Encoder and decoder backbones: MLPs, or the conv pair when asked."""
    net = spec["net"]
    hidden = list(spec["hidden_units"])
    decoder_units = list(spec.get("decoder_units") or hidden[::-1])
    if net == "mlp":
        return (tfvae.nets.MLP(hidden, name="encoder"), tfvae.nets.MLP(decoder_units, name="decoder"))
    if net == "conv":
        enc_cls = lookup("nets", "ConvEncoder", "--net conv")
        dec_cls = lookup("nets", "ConvDecoder", "--net conv")
        if len(spec["input_shape"]) != 3:
            raise ValueError(f"--net conv needs image data (H, W, C). Received: input_shape={spec['input_shape']}")
        filters = list(spec["conv_filters"])
        return (enc_cls(filters=filters, dense_units=hidden[0], name="encoder"),
                dec_cls(output_shape=tuple(spec["input_shape"]), filters=filters[::-1], name="decoder"))
    raise ValueError(f"Expected `net` to be one of {list(NETS)}. Received: net={net!r}")


def build_vae(spec):
    """Builds the VAE a spec describes (see `apps.cli` for the keys).

    Raises:
        NotAvailableError: the spec asks for a flow, prior or net that this
            version of tfvae does not have.
        ValueError: a bad setting (the model's own checks).
    """
    encoder, decoder = make_nets(spec)
    return tfvae.VAE(
        input_shape=tuple(spec["input_shape"]), latent_dim=spec["latent_dim"],
        encoder=encoder, decoder=decoder, likelihood=make_likelihood(spec),
        prior=make_prior(spec), posterior_flow=make_posterior_flow(spec),
        beta=spec["beta"], free_bits=spec["free_bits"],
        num_importance_samples=spec["num_importance_samples"], seed=spec["seed"])
