"""TensorBoard logging: the bound's scalars and image grids every epoch.

Written with TensorFlow's core summary op (`tf.summary.write`) and the
metadata of TensorBoard's scalar and image plugins, so it needs no
`tensorboard` package to write (this environment has none: the `tensorflow`
2.21 wheel does not depend on it, and `tf.summary.scalar` /
`keras.callbacks.TensorBoard` raise without it). TensorBoard, when installed,
shows the files as usual; `tf.compat.v1.train.summary_iterator` reads them.
"""

import os

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from tfvae.training import distribute
from tfvae.training.images import make_image_grid


def _metadata(plugin):
    return summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin))


_SCALAR, _IMAGE = _metadata("scalars"), _metadata("images")


def write_scalar(tag, value, step):
    """A float32 scalar summary TensorBoard's scalar plugin reads."""
    return tf.summary.write(tag, tf.constant(float(value), tf.float32), step=step, metadata=_SCALAR)


def write_image(tag, image, step):
    """One uint8 image `(H, W, C)` as a PNG summary (TensorBoard's image plugin
    layout: the string tensor [width, height, png])."""
    image = tf.convert_to_tensor(image, tf.uint8)
    h, w = int(image.shape[0]), int(image.shape[1])
    tensor = tf.stack([tf.constant(str(w)), tf.constant(str(h)), tf.io.encode_png(image)])
    return tf.summary.write(tag, tensor, step=step, metadata=_IMAGE)


class TensorBoard(keras.callbacks.Callback):
    """Per-epoch scalars of every logged metric, and grids of samples and
    reconstructions, for TensorBoard.

    Scalars: every metric the model logs, per epoch, as `epoch_<name>` (the
    tags `keras.callbacks.TensorBoard` uses) in `<log_dir>/train` and, for
    `val_<name>`, in `<log_dir>/validation`; for a VAE
    `epoch_loss`, `epoch_elbo`, `epoch_reconstruction`, `epoch_kl` (nats per
    example), for a `FlowModel` `epoch_loss` and `epoch_bits_per_dim`.
    Images (image models only), per epoch into `<log_dir>/images`:
    `samples` — a grid of `num_samples` draws (the likelihood mean) with a
    fixed `seed`, so epochs are comparable; `reconstructions` — the first
    row `images`, the second their reconstructions (VAEs only). Under a
    multi-worker strategy only the chief writes to `log_dir`.

    Args:
        log_dir: the run's TensorBoard folder.
        images: optional `(n, H, W, C)` examples to reconstruct each epoch.
        condition: for a `ConditionalVAE`, the conditions of `images` and of
            the samples (`(n, ...)`; samples use the first `num_samples`).
        num_samples: samples per grid.
        seed: seed of the samples.
        scale: pixel magnification of the grids.
    """

    def __init__(self, log_dir, images=None, condition=None, num_samples=16, seed=0, scale=1):
        super().__init__()
        self.log_dir = distribute.write_dir(log_dir)
        self.images = None if images is None else np.asarray(images, np.float32)
        self.condition = None if condition is None else np.asarray(condition)
        self.num_samples = int(num_samples)
        self.seed = int(seed)
        self.scale = int(scale)
        self._writers = {}

    def _writer(self, name):
        if name not in self._writers:
            self._writers[name] = tf.summary.create_file_writer(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for split, keep in (("train", lambda k: not k.startswith("val_")), ("validation", lambda k: k.startswith("val_"))):
            items = {k.removeprefix("val_"): v for k, v in logs.items() if keep(k)}
            if items:
                with self._writer(split).as_default():
                    for name, value in items.items():
                        write_scalar(f"epoch_{name}", value, epoch)
                self._writer(split).flush()
        if len(getattr(self.model, "data_shape", ())) == 3:
            self._write_images(epoch)

    def _write_images(self, epoch):
        writer = self._writer("images")
        with writer.as_default():
            write_image("samples", self._grid(self._samples()), epoch)
            if self.images is not None and hasattr(self.model, "reconstruct"):
                x = self.images
                rec = (self.model.reconstruct(x) if self.condition is None
                       else self.model.reconstruct(x, self.condition[:len(x)]))
                write_image("reconstructions", self._grid(np.concatenate([x, np.asarray(rec)]), len(x)), epoch)
        writer.flush()

    def _samples(self):
        if self.condition is not None:
            n = min(self.num_samples, len(self.condition))
            return self.model.sample(n, c=self.condition[:n], seed=self.seed)
        return self.model.sample(self.num_samples, seed=self.seed)

    def _grid(self, images, nrow=None):
        grid = make_image_grid(np.asarray(images), nrow=nrow, scale=self.scale)
        return grid[..., None] if grid.ndim == 2 else grid

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
