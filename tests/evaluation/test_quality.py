"""Feature streams and sample-quality metrics of image sets under a featurizer."""

import tracemalloc

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae
from tfvae import metrics
from tfvae.evaluation import extract_features
from tfvae.evaluation import fid
from tfvae.evaluation import model_samples
from tfvae.evaluation import sample_quality
from tfvae.evaluation.features import image_batches


def _flatten(x):
    return np.asarray(x).reshape(len(x), -1)


def _images(seed, n=300, shift=0.0):
    return np.clip(np.random.default_rng(seed).normal(0.5 + shift, 0.2, size=(n, 4, 4, 1)), 0, 1).astype("float32")


def test_image_sources_give_the_same_batches():
    x = _images(0, n=10)
    y = np.arange(10)
    from_array = np.concatenate(list(image_batches(x, batch_size=3)))
    from_dataset = np.concatenate(list(image_batches(tf.data.Dataset.from_tensor_slices((x, y)).batch(4))))
    from_list = np.concatenate(list(image_batches([x[:5], x[5:]])))
    np.testing.assert_array_equal(from_array, x)
    np.testing.assert_array_equal(from_dataset, x)
    np.testing.assert_array_equal(from_list, x)
    with pytest.raises(ValueError, match="Expected image batches of shape \\(n, H, W, C\\)"):
        list(image_batches([x[:, :, :, 0]]))
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        list(image_batches(x, batch_size=0))


def test_keras_featurizer_is_called_per_batch():
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    x = _images(1, n=7)
    streamed = np.concatenate(list(extract_features(model, x, batch_size=2)))
    np.testing.assert_allclose(streamed, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_fid_streams_and_matches_the_metric_on_arrays():
    real, fake = _images(2), _images(3, shift=0.1)
    expected = metrics.frechet_distance(_flatten(real), _flatten(fake))
    assert fid(_flatten, real, fake, batch_size=64) == pytest.approx(expected, rel=1e-9)
    generator = (fake[i:i + 50] for i in range(0, 300, 50))
    assert fid(_flatten, tf.data.Dataset.from_tensor_slices(real).batch(32), generator) == \
        pytest.approx(expected, rel=1e-9)


def test_sample_quality_matches_each_metric():
    real, fake = _images(4, n=400), _images(5, n=400, shift=0.05)
    out = sample_quality(_flatten, real, fake, metrics=list(tfvae.evaluation.quality.METRICS),
                         kid_subset_size=100, batch_size=64)
    a, b = _flatten(real).astype(np.float64), _flatten(fake).astype(np.float64)
    assert out["num_real"] == 400 and out["num_fake"] == 400 and out["num_features"] == 16
    assert out["fid"] == pytest.approx(metrics.frechet_distance(a, b), rel=1e-9)
    assert (out["kid"], out["kid_standard_error"]) == pytest.approx(metrics.kid(a, b, subset_size=100), rel=1e-9)
    assert out["precision"] == metrics.precision_recall(a, b)["precision"]
    assert out["coverage"] == metrics.density_coverage(a, b)["coverage"]
    with pytest.raises(ValueError, match="Expected `metrics` from"):
        sample_quality(_flatten, real, fake, metrics=("fidd",))


def test_fid_memory_stays_bounded_when_streamed():
    # 40 batches of 500 images (16x16, 40 MB in all) through a 256-d featurizer:
    # streamed, the peak is a few batches plus the 256x256 moments, not the data.
    def stream(seed):
        rng = np.random.default_rng(seed)
        for _ in range(40):
            yield rng.random((500, 16, 16, 1), dtype=np.float32)

    tracemalloc.start()
    value = fid(_flatten, stream(0), stream(1))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert np.isfinite(value)
    assert peak < 8e6, peak  # far below the 40 MB of images per set


class _Sampler:
    def sample(self, n, c=None, seed=None, mean=True):
        rng = np.random.default_rng(seed)
        out = rng.random((n, 2, 2, 1)).astype("float32")
        return out if c is None else out + np.asarray(c, "float32")[:, None, None, None]


def test_model_samples_are_seeded_and_counted():
    batches = list(model_samples(_Sampler(), 25, batch_size=10, seed=3))
    assert [len(b) for b in batches] == [10, 10, 5]
    again = np.concatenate(list(model_samples(_Sampler(), 25, batch_size=10, seed=3)))
    np.testing.assert_array_equal(np.concatenate(batches), again)
    labelled = np.concatenate(list(model_samples(_Sampler(), 4, batch_size=3, labels=np.array([0, 0, 5, 5]))))
    assert labelled[2:].min() >= 5 and labelled[:2].max() < 1
    with pytest.raises(ValueError, match="Expected 4 labels"):
        list(model_samples(_Sampler(), 4, labels=np.zeros(3)))
