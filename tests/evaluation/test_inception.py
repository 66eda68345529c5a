"""InceptionV3 featurizer: FID preprocessing, 2048-d pool features, offline error."""

import keras
import numpy as np
import pytest

from tfvae.evaluation import inception


def test_preprocessing_resizes_and_maps_to_minus_one_one():
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    out = inception.InceptionFeatures.preprocess(x).numpy()
    assert out.shape == (2, 299, 299, 3)
    assert out.min() >= -1.0 and out.max() <= 1.0
    np.testing.assert_array_equal(out[..., 0], out[..., 2])  # grey tiled to RGB
    flat = inception.InceptionFeatures.preprocess(np.full((1, 8, 8, 3), 0.75, "float32")).numpy()
    np.testing.assert_allclose(flat, 0.5, atol=1e-6)  # 2 * 0.75 - 1
    with pytest.raises(ValueError, match="1 or 3 channels"):
        inception.InceptionFeatures.preprocess(np.zeros((1, 8, 8, 2), "float32"))


def test_pool_features_with_random_weights():
    featurizer = inception.InceptionFeatures(weights=None)
    out = np.asarray(featurizer(np.random.default_rng(1).random((2, 28, 28, 1)).astype("float32")))
    assert out.shape == (2, 2048) and np.all(np.isfinite(out)) and np.all(out >= 0)  # ReLU then average


def test_unavailable_weights_raise_a_clear_error(monkeypatch):
    def offline(**kwargs):  # what Keras raises when the download fails
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: Name or service not known")

    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    with pytest.raises(inception.FeaturizerNotAvailableError, match="Without network, put"):
        inception.InceptionFeatures()
