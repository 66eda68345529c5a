"""Tiny models shared by the export tests (MLP, 8x8 images, latent 4)."""

import numpy as np

import tfvae


def _perturb(layer, seed, scale=0.3):
    """Flows start as the identity (zero-initialised last layers), where a
    forward/inverse mix-up would go unnoticed: move every weight a little."""
    rng = np.random.default_rng(seed)
    for w in layer.trainable_weights:
        w.assign(w.numpy() + scale * rng.standard_normal(w.shape).astype("float32"))


def small_vae(posterior_flow=True):
    vae = tfvae.VAE(input_shape=(8, 8, 1), latent_dim=4, encoder=tfvae.nets.MLP([16]),
                    decoder=tfvae.nets.MLP([16]),
                    posterior_flow=tfvae.flows.IAF(num_layers=1, hidden_units=(8,)) if posterior_flow else None,
                    seed=0)
    if posterior_flow:
        _perturb(vae.posterior_flow, 1)
    return vae


def small_flow_model():
    flow = tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,), seed=0)
    model = tfvae.models.FlowModel(flow, input_shape=(4,), dequantize="uniform", num_bins=4,
                                   logit_alpha=0.05, seed=0)
    _perturb(flow, 2)
    return model


def binary_images(batch, seed=0):
    return (np.random.default_rng(seed).random((batch, 8, 8, 1)) > 0.5).astype("float32")


def grid_vectors(batch, seed=0):
    """Data on the 4-level grid in [0, 1] the FlowModel dequantizes."""
    return (np.random.default_rng(seed).integers(0, 4, (batch, 4)) / 3.0).astype("float32")


def check_signature_layout(loaded, signatures, check_spec):
    """The SavedModel has exactly `signatures` {name: (sorted input names,
    sorted output names)}; `check_spec(name, key, spec)` checks each input."""
    assert set(loaded.signatures) == set(signatures)
    for name, (inputs, outputs) in signatures.items():
        sig = loaded.signatures[name]
        specs = sig.structured_input_signature[1]
        assert sorted(specs) == inputs, name
        assert sorted(sig.structured_outputs) == outputs, name
        for key, spec in specs.items():
            check_spec(name, key, spec)
