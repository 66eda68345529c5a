"""tfvae.data: tf.data pipelines of images in [0, 1] for the models.

    train = tfvae.data.load("digits", split="train", batch_size=128, binarize=True)
    test = tfvae.data.load("mnist", split="test", batch_size=128, binarize=True)
    ds = tfvae.data.from_numpy(x, batch_size=128, shuffle=True)
    tfvae.data.info("digits").num_bins  # 17
    x_test = tfvae.data.load_numpy("digits", split="test")
"""

from tfvae.data import shapes
from tfvae.data.loaders import load
from tfvae.data.loaders import load_numpy
from tfvae.data.numpy import from_numpy
from tfvae.data.registry import DatasetInfo
from tfvae.data.registry import info
from tfvae.data.registry import names
from tfvae.data.tfds import DatasetNotAvailableError

__all__ = ["DatasetInfo", "DatasetNotAvailableError", "from_numpy", "info", "load", "load_numpy", "names", "shapes"]
