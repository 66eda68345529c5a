"""Classification accuracy score: informative conditional samples score far above chance."""

import keras
import numpy as np
import pytest

import tfvae


@pytest.fixture(scope="module")
def digits():
    x, y = tfvae.data.load_numpy("digits", split="train", with_labels=True)
    xt, yt = tfvae.data.load_numpy("digits", split="test", with_labels=True)
    return (x > 0.5).astype("float32"), y, (xt > 0.5).astype("float32"), yt


def _cvae():
    return tfvae.ConditionalVAE(input_shape=(8, 8, 1), latent_dim=4, num_classes=10, seed=0,
                                encoder=tfvae.nets.MLP([64]), decoder=tfvae.nets.MLP([64]))


def test_trained_model_scores_far_above_an_untrained_one(digits):
    x, y, xt, yt = digits
    trained = _cvae()
    trained.compile(optimizer=keras.optimizers.Adam(1e-2))
    trained.fit((x, y), epochs=20, batch_size=64, verbose=0)
    good = tfvae.evaluation.classification_accuracy_score(trained, xt, yt, samples_per_class=100, epochs=10)
    # Untrained: the decoder ignores the label (weights near their start), so
    # the classifier learns little beyond chance (0.1).
    bad = tfvae.evaluation.classification_accuracy_score(_cvae(), xt, yt, samples_per_class=100, epochs=10)
    assert good["num_train"] == 1000 and good["num_test"] == len(yt)
    assert good["cas"] > 0.6, good
    assert bad["cas"] < 0.35, bad


def test_needs_a_class_count():
    class Unconditional:
        def sample(self, n, seed=None, mean=True):
            return np.zeros((n, 8, 8, 1), "float32")

    with pytest.raises(ValueError, match="class-conditional model"):
        tfvae.evaluation.classification_accuracy_score(Unconditional(), np.zeros((2, 8, 8, 1)), np.zeros(2))
