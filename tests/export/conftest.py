"""Each tiny model is exported once per test session (an export costs ~10 s)."""

import pytest
import tensorflow as tf

import tfvae.export
from tests.export import _models


@pytest.fixture(scope="session")
def vae_export(tmp_path_factory):
    vae = _models.small_vae()
    path = tfvae.export.export_saved_model(vae, tmp_path_factory.mktemp("saved_models") / "vae" / "1")
    return vae, path, tf.saved_model.load(path)


@pytest.fixture(scope="session")
def flow_export(tmp_path_factory):
    model = _models.small_flow_model()
    path = tfvae.export.export_saved_model(model, tmp_path_factory.mktemp("saved_models") / "flow" / "1")
    return model, path, tf.saved_model.load(path)
