"""InceptionV3 pool features, preprocessed as the standard FID does."""

import keras
import tensorflow as tf


class FeaturizerNotAvailableError(RuntimeError):
    """A featurizer's weights cannot be loaded (e.g. offline)."""


class InceptionFeatures:
    """2048-d average-pool features of Keras's ImageNet InceptionV3.

    Preprocessing (as in the standard FID code, Heusel et al.'s and
    pytorch-fid's): images in [0, 1] are tiled to 3 channels when grey,
    resized to 299 x 299 bilinearly, and mapped to [-1, 1] by `2x - 1`.
    The network is Keras's `InceptionV3(include_top=False, pooling="avg")`,
    not the 2015 TensorFlow graph the published FIDs use, so values are
    comparable between models evaluated here, not with papers.

    Args:
      weights: "imagenet" (from Keras's cache, ~/.keras/models, or
        downloaded), a path to the no-top weights file, or None (random
        weights, for tests).

    Raises:
      FeaturizerNotAvailableError: the weights cannot be had (offline with
        no cached copy), with how to provide them.

    References:
      Szegedy et al. (2016), "Rethinking the Inception architecture";
      Heusel et al. (2017), FID.
    """

    def __init__(self, weights="imagenet"):
        try:
            self.network = keras.applications.InceptionV3(
                include_top=False, pooling="avg", weights=weights, input_shape=(299, 299, 3))
        except Exception as e:  # Keras raises a bare Exception on a failed download
            raise FeaturizerNotAvailableError(
                f"Expected InceptionV3 weights {weights!r} to load. Received: {e}. Without network, put "
                "'inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5' in ~/.keras/models/ "
                "(or pass its path as `weights`), or use a domain classifier "
                "(tfvae.evaluation.train_domain_classifier)") from None
        self._run = tf.function(self._features, reduce_retracing=True)

    @staticmethod
    def preprocess(images):
        """`(n, H, W, C)` in [0, 1], C in {1, 3} -> `(n, 299, 299, 3)` in [-1, 1]."""
        x = tf.convert_to_tensor(images, tf.float32)
        if x.shape[-1] == 1:
            x = tf.tile(x, [1, 1, 1, 3])
        elif x.shape[-1] != 3:
            raise ValueError(f"Expected images with 1 or 3 channels. Received: shape {tuple(x.shape)}")
        x = tf.image.resize(x, (299, 299), method="bilinear", antialias=False)
        return 2.0 * x - 1.0

    def _features(self, images):
        return self.network(self.preprocess(images), training=False)

    def __call__(self, images):
        return self._run(tf.convert_to_tensor(images, tf.float32))
