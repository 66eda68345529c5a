"""Signature registry: a model type plugs in without editing tfvae.export."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae.export
from tfvae.export import Signature


class AffineStandIn(keras.Model):
    """Stands in for a future model type (e.g. VQVAE) with its own signatures."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(2)
        self.dense.build((None, 3))
        self.built = True

    def call(self, x):
        return self.dense(x)

    def serving_signatures(self):
        spec = tf.TensorSpec((None, 3), tf.float32, name="x")
        return {"serving_default": Signature(lambda x: {"y": self(x)}, [spec])}


class UnknownModel(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True

    def call(self, x):
        return x


def test_model_with_serving_signatures_exports(tmp_path):
    model = AffineStandIn()
    path = tfvae.export.export_saved_model(model, tmp_path / "affine" / "1")
    loaded = tf.saved_model.load(path)
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(loaded.signatures["serving_default"](x=x)["y"], model(x), rtol=1e-6)


def test_registered_builder_applies_to_subclasses():
    class Base(UnknownModel):
        pass

    class Child(Base):
        pass

    spec = tf.TensorSpec((None, 1), tf.float32, name="x")
    tfvae.export.register_signatures(Base)(lambda m: {"serving_default": Signature(lambda x: {"y": x}, [spec])})
    assert list(tfvae.export.signatures_for(Child())) == ["serving_default"]


def test_unknown_model_type_is_a_clear_error(tmp_path):
    with pytest.raises(TypeError, match="no serving signatures for UnknownModel.*register_signatures"):
        tfvae.export.export_saved_model(UnknownModel(), tmp_path / "u" / "1")
    assert not os.path.exists(tmp_path / "u" / "1")


def test_malformed_signatures_are_rejected():
    class NoDefault(AffineStandIn):
        def serving_signatures(self):
            return {"predict": super().serving_signatures()["serving_default"]}

    class Unnamed(AffineStandIn):
        def serving_signatures(self):
            return {"serving_default": Signature(lambda x: {"y": x}, [tf.TensorSpec((None, 3))])}

    with pytest.raises(ValueError, match="must include 'serving_default'"):
        tfvae.export.signatures_for(NoDefault())
    with pytest.raises(ValueError, match="named tf.TensorSpec"):
        tfvae.export.signatures_for(Unnamed())


def test_existing_export_is_refused_before_any_work(tmp_path):
    (tmp_path / "a" / "1").mkdir(parents=True)
    (tmp_path / "a" / "1" / "saved_model.pb").write_bytes(b"previous")
    with pytest.raises(FileExistsError):
        tfvae.export.export_saved_model(UnknownModel(), tmp_path / "a" / "1")  # not even a known type
    assert (tmp_path / "a" / "1" / "saved_model.pb").read_bytes() == b"previous"


def test_conditional_vae_does_not_inherit_unconditional_signatures():
    from tests.export._models import small_vae

    vae = small_vae(posterior_flow=False)
    vae.condition_dim = 3  # what a conditional subclass sets
    with pytest.raises(TypeError, match="conditional.*register_signatures"):
        tfvae.export.signatures_for(vae)
