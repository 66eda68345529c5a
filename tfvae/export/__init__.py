"""SavedModel export for TF Serving.

    tfvae.export.export_saved_model(vae, "saved_models/digits_vae/1")

Signatures per model type live in their own modules (`vae`, `conditional`,
`flow_model`);
a new model type plugs in with `register_signatures` or a
`serving_signatures()` method. `rest` builds TF Serving REST request bodies.
"""

from tfvae.export.registry import Signature
from tfvae.export.registry import register_signatures
from tfvae.export.registry import signatures_for
from tfvae.export.saved_model import export_saved_model
from tfvae.export import conditional  # noqa: F401  (registers ConditionalVAE's signatures)
from tfvae.export import flow_model  # noqa: F401  (registers FlowModel's signatures)
from tfvae.export import hierarchical  # noqa: F401  (registers HierarchicalVAE's signatures)
from tfvae.export import rest
from tfvae.export import vae  # noqa: F401  (registers VAE's signatures)
from tfvae.export import vqvae  # noqa: F401  (registers VQVAE and GumbelVAE signatures)
from tfvae.export import vqvae2  # noqa: F401  (registers VQVAE2's signatures)
from tfvae.export import wae  # noqa: F401  (registers WAE's signatures)
