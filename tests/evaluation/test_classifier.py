"""The domain classifier: trains on the digits, saves atomically, and featurizes."""

import os

import keras
import numpy as np
import pytest

import tfvae
from tfvae.evaluation import classifier


@pytest.fixture(scope="module")
def digits():
    x, y = tfvae.data.load_numpy("digits", split="train", with_labels=True)
    xt, yt = tfvae.data.load_numpy("digits", split="test", with_labels=True)
    return x, y, xt, yt


@pytest.fixture(scope="module")
def trained(digits, tmp_path_factory):
    x, y, _, _ = digits
    path = tmp_path_factory.mktemp("clf") / "digits.keras"
    return classifier.train_domain_classifier(x, y, path=path, epochs=8, batch_size=64), path


def test_learns_the_digits(trained, digits):
    clf, _ = trained
    _, _, xt, yt = digits
    assert classifier.accuracy(clf, xt, yt) > 0.85


def test_saved_file_reloads_with_equal_features(trained, digits):
    clf, path = trained
    x = digits[2][:32]
    assert [p for p in os.listdir(path.parent) if p.startswith(".tmp-")] == []
    direct = tfvae.evaluation.domain_features(clf)(x)
    reloaded = tfvae.evaluation.domain_features(str(path))(x)
    assert direct.shape == (32, 128)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded), keras.ops.convert_to_numpy(direct),
                               rtol=1e-6, atol=1e-6)


def test_failed_save_keeps_the_previous_file(trained, tmp_path, monkeypatch):
    clf, _ = trained
    target = tmp_path / "clf.keras"
    target.write_bytes(b"previous")

    def broken_save(path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(clf, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        classifier.save_atomically(clf, target)
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["clf.keras"]


@pytest.mark.parametrize("images, labels, kwargs, match", [
    (np.zeros((4, 8, 8)), np.zeros(4, int), {}, "images \\(N, H, W, C\\)"),
    (np.zeros((4, 8, 8, 1)), np.zeros(3, int), {}, "labels \\(N,\\)"),
    (np.zeros((4, 8, 8, 1)), np.array([0, 1, 2, 3]), {"num_classes": 3}, "labels in \\[0, 3\\)"),
    (np.zeros((4, 8, 8, 1)), np.zeros(4, int), {"epochs": 0}, "Received: epochs=0"),
])
def test_bad_inputs_raise(images, labels, kwargs, match):
    with pytest.raises(ValueError, match=match):
        classifier.train_domain_classifier(images, labels, **kwargs)


def test_path_must_be_a_keras_file(trained, tmp_path):
    with pytest.raises(ValueError, match="ending in '.keras'"):
        classifier.save_atomically(trained[0], tmp_path / "clf.h5")
