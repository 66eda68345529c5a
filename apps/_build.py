"""Builds a `tfvae.VAE` from a plain, JSON-serialisable model spec.

The command line turns its flags into a spec (a dict of numbers, strings and
lists), stores it in `config.json`, and builds the model from it here.
Likelihoods and the non-flow priors are named by the library's own tables
(`tfvae.likelihoods.get`, `tfvae.priors.get`); flows by `FLOWS` below.
"""

import inspect

import tfvae

F = tfvae.flows

#: CLI names of the flows usable as a prior (inside `FlowPrior`) or a posterior flow.
FLOWS = {"realnvp": F.RealNVP, "nsf": F.NSF, "maf": F.MAF, "iaf": F.IAF, "spline_iaf": F.SplineIAF,
         "planar": F.Planar, "sylvester": F.Sylvester}
FLOW_PRIORS = ("realnvp", "nsf", "maf")
#: "mog" is the CLI's older name of the library's "mixture".
PRIOR_ALIASES = {"mog": "mixture"}
PRIORS = ("normal", "diagonal", "mixture", "mog", "vamp") + FLOW_PRIORS
POSTERIOR_FLOWS = ("none", "iaf", "spline_iaf", "planar", "sylvester", "realnvp", "nsf")
LIKELIHOODS = tuple(tfvae.likelihoods.names())
NETS = ("mlp", "conv")


def _construct(cls, **kwargs):
    """Calls `cls` with those of `kwargs` its constructor names explicitly, so
    optional settings (e.g. `hidden_units`) reach the classes that have them."""
    params = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in kwargs.items() if k in params and v is not None})


def make_flow(name, num_layers, hidden_units, layer_name):
    return _construct(FLOWS[name], num_layers=num_layers, hidden_units=hidden_units, name=layer_name)


def make_prior(spec):
    name = PRIOR_ALIASES.get(spec["prior"], spec["prior"])
    if name in FLOW_PRIORS:
        return tfvae.priors.FlowPrior(make_flow(name, spec["prior_layers"], spec.get("flow_hidden_units"),
                                                "prior_flow"))
    if name == "normal":
        return "normal"
    k = spec.get("prior_components")
    options = {"mixture": dict(num_components=k, seed=spec.get("seed")),
               "vamp": dict(num_pseudo_inputs=k, seed=spec.get("seed"), data_shape=tuple(spec["input_shape"]))}
    options = {key: v for key, v in options.get(name, {}).items() if v is not None}
    return tfvae.priors.get(name, spec["latent_dim"], **options)


def make_posterior_flow(spec):
    name = spec["posterior_flow"]
    if name not in POSTERIOR_FLOWS:
        raise ValueError(f"Expected `posterior_flow` to be one of {list(POSTERIOR_FLOWS)}. "
                         f"Received: posterior_flow={name!r}")
    if name == "none":
        return None
    return make_flow(name, spec["flow_layers"], spec.get("flow_hidden_units"), "posterior_flow")


def make_likelihood(spec):
    name = spec["likelihood"]
    options = {"num_bins": spec["num_bins"]} if spec.get("num_bins") and name in ("categorical",
                                                                                  "discretized_logistic") else {}
    return tfvae.likelihoods.get(name, **options)


def likelihood_name(likelihood):
    """The `tfvae.likelihoods` name of a likelihood instance (e.g. "bernoulli")."""
    for name in LIKELIHOODS:
        if type(tfvae.likelihoods.get(name)) is type(likelihood):
            return name
    return type(likelihood).__name__.lower()


def make_nets(spec):
    """Encoder and decoder backbones: MLPs, or the conv pair when asked."""
    net = spec["net"]
    hidden = list(spec["hidden_units"])
    decoder_units = list(spec.get("decoder_units") or hidden[::-1])
    if net == "mlp":
        return (tfvae.nets.MLP(hidden, name="encoder"), tfvae.nets.MLP(decoder_units, name="decoder"))
    if net == "conv":
        if len(spec["input_shape"]) != 3:
            raise ValueError(f"--net conv needs image data (H, W, C). Received: input_shape={spec['input_shape']}")
        filters = list(spec["conv_filters"])
        return (tfvae.nets.ConvEncoder(filters=filters, dense_units=hidden[0], name="encoder"),
                tfvae.nets.ConvDecoder(output_shape=tuple(spec["input_shape"]), filters=filters[::-1],
                                       name="decoder"))
    raise ValueError(f"Expected `net` to be one of {list(NETS)}. Received: net={net!r}")


def build_vae(spec):
    """Builds the VAE a spec describes (see `apps.cli` for the keys).

    Raises:
        ValueError: a bad setting (the model's own checks, or an unknown name).
    """
    encoder, decoder = make_nets(spec)
    return tfvae.VAE(
        input_shape=tuple(spec["input_shape"]), latent_dim=spec["latent_dim"],
        encoder=encoder, decoder=decoder, likelihood=make_likelihood(spec),
        prior=make_prior(spec), posterior_flow=make_posterior_flow(spec),
        beta=spec["beta"], free_bits=spec["free_bits"],
        num_importance_samples=spec["num_importance_samples"], seed=spec["seed"])
