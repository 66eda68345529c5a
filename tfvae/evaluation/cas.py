"""Classification accuracy score (CAS) of a class-conditional model."""

import numpy as np

from tfvae.evaluation import classifier as _classifier
from tfvae.evaluation.features import model_samples
from tfvae.metrics import _checks


def classification_accuracy_score(model, test_images, test_labels, num_classes=None, samples_per_class=500,
                                  epochs=5, batch_size=128, mean=True, seed=0):
    """Trains a classifier on a conditional model's samples, tests it on real data.

        CAS = (1/N) Σ_n 1[argmax f_θ(x_n) = y_n],
        θ = argmin Σ_{c, s} CE(f_θ(x̃_{c,s}), c),  x̃_{c,s} ~ p(x | c),

    with `samples_per_class` samples of every class `c` and the classifier
    of `tfvae.evaluation.build_domain_classifier`. Samples that carry their
    class and cover it fully score like real training data; samples that
    ignore the label score near chance (1 / num_classes).

    Args:
      model: a class-conditional model (`tfvae.ConditionalVAE` with
        `num_classes`): `model.sample(n, labels, seed=...)`.
      test_images: real `(N, H, W, C)` in [0, 1].
      test_labels: their `(N,)` integer classes.
      num_classes: default `model.num_classes`.
      samples_per_class, epochs, batch_size: positive ints.
      mean: train on likelihood means (True) or draws `x ~ p(x|z, c)`.
      seed: seeds the samples and the classifier.

    Returns:
      dict: `cas` (accuracy on the real test set), `num_train`, `num_test`.

    Raises:
      ValueError: no class count, bad sizes, malformed test data.

    References:
      Ravuri & Vinyals (2019), "Classification accuracy score for
      conditional generative models".
    """
    num_classes = num_classes if num_classes is not None else getattr(model, "num_classes", None)
    if num_classes is None:
        raise ValueError("Expected a class-conditional model (with `num_classes`) or `num_classes`. "
                         "Received: neither")
    num_classes = _checks.positive_int(num_classes, "num_classes")
    per_class = _checks.positive_int(samples_per_class, "samples_per_class")
    labels = np.repeat(np.arange(num_classes, dtype=np.int32), per_class)
    images = np.concatenate(list(model_samples(model, labels.size, batch_size=500, seed=seed, labels=labels,
                                               mean=mean)))
    clf = _classifier.train_domain_classifier(np.clip(images, 0.0, 1.0), labels, num_classes=num_classes,
                                              epochs=epochs, batch_size=batch_size, seed=seed)
    return {"cas": _classifier.accuracy(clf, test_images, test_labels), "num_train": int(labels.size),
            "num_test": int(len(test_labels))}
