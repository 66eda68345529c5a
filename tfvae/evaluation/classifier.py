"""A small domain classifier whose penultimate layer is a FID featurizer.

    clf = train_domain_classifier(x_train, y_train, path="fmnist_clf.keras")
    fid(domain_features(clf), x_test, model_samples(vae, 10_000))

Inception features fit photographs; for digits and clothing a classifier
trained on the domain itself is the usual featurizer.
"""

import os

import keras
import numpy as np

from tfvae.metrics import _checks
from tfvae.training import files

FEATURE_LAYER = "features"


def build_domain_classifier(input_shape, num_classes, feature_dim=128):
    """conv 32 -> conv 32 /2 -> conv 64 -> conv 64 /2 -> dense `feature_dim`
    ("features", ReLU) -> dropout 0.3 -> dense `num_classes` (logits)."""
    inputs = keras.Input(tuple(input_shape))
    x = inputs
    for filters, stride in ((32, 1), (32, 2), (64, 1), (64, 2)):
        x = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(feature_dim, activation="relu", name=FEATURE_LAYER)(x)
    x = keras.layers.Dropout(0.3)(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, name="logits")(x), name="domain_classifier")


def save_atomically(model, path):
    """Saves `model` to `path` (.keras) through `tfvae.training.files`
    (temporary name, fsync, rename), so a crash mid-write never leaves a
    truncated file at `path`."""
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"Expected a path ending in '.keras'. Received: path={path!r}")
    with files.atomic_path(path) as temp:  # its name ends in the target's, ".keras"
        model.save(temp)
    return path


def train_domain_classifier(images, labels, num_classes=None, path=None, epochs=5, batch_size=128,
                            validation_data=None, feature_dim=128, seed=0, verbose=0):
    """Trains `build_domain_classifier` with Adam on labelled images.

    Args:
      images: `(N, H, W, C)` in [0, 1].
      labels: `(N,)` integer classes in `[0, num_classes)`.
      num_classes: default `max(labels) + 1`.
      path: optional `.keras` file, written atomically after training.
      epochs, batch_size, feature_dim: positive ints.
      validation_data: optional `(images, labels)` for Keras's history.
      seed: seeds weights, dropout and shuffling.

    Returns:
      The trained `keras.Model` (logits); `model.history.history` holds
      the per-epoch losses and accuracies.

    Raises:
      ValueError: mismatched or malformed images/labels, bad sizes.
    """
    x = np.asarray(images, np.float32)
    y = np.asarray(labels)
    if x.ndim != 4 or y.ndim != 1 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"Expected images (N, H, W, C) and labels (N,) with N > 0. "
                         f"Received: images.shape={x.shape}, labels.shape={y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise ValueError("Expected `labels` to be non-negative integers.")
    num_classes = int(y.max()) + 1 if num_classes is None else _checks.positive_int(num_classes, "num_classes")
    if y.max() >= num_classes:
        raise ValueError(f"Expected labels in [0, {num_classes}). Received: a label {int(y.max())}")
    for value, name in ((epochs, "epochs"), (batch_size, "batch_size"), (feature_dim, "feature_dim")):
        _checks.positive_int(value, name)
    keras.utils.set_random_seed(seed)
    model = build_domain_classifier(x.shape[1:], num_classes, feature_dim)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data, verbose=verbose,
              shuffle=True)
    if path is not None:
        save_atomically(model, path)
    return model


def domain_features(classifier):
    """The featurizer `images -> (n, feature_dim)` of a domain classifier
    (a model or a `.keras` path): its "features" layer's activations."""
    if isinstance(classifier, (str, os.PathLike)):
        classifier = keras.models.load_model(classifier)
    return keras.Model(classifier.inputs[0], classifier.get_layer(FEATURE_LAYER).output)


def accuracy(classifier, images, labels, batch_size=512):
    """Top-1 accuracy of a logits classifier on `(images, labels)`."""
    logits = classifier.predict(np.asarray(images, np.float32), batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(logits, axis=-1) == np.asarray(labels)))
