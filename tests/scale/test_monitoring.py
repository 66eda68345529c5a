"""TensorBoard event files read back; NaN guard; gradient clipping."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae


def _images(n=64):
    return (np.random.default_rng(0).uniform(size=(n, 8, 8, 1)) < 0.5).astype(np.float32)


def _vae(**kwargs):
    keras.utils.set_random_seed(0)
    return tfvae.VAE(input_shape=(8, 8, 1), latent_dim=2, encoder=tfvae.nets.MLP([16]),
                     decoder=tfvae.nets.MLP([16]), seed=1, **kwargs)


def _events(directory):
    """{(split, tag): [(step, value)]} from every event file under directory."""
    found = {}
    for path in tf.io.gfile.glob(str(directory / "*" / "events.out.tfevents.*")):
        split = path.split("/")[-2]
        for event in tf.compat.v1.train.summary_iterator(path):
            for v in event.summary.value:
                found.setdefault((split, v.tag), []).append(
                    (event.step, v.metadata.plugin_data.plugin_name, tf.make_ndarray(v.tensor)))
    return found


def test_tensorboard_scalars_and_image_grids(tmp_path):
    x = _images()
    model = _vae()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(x, epochs=2, batch_size=16, validation_data=x[:16], verbose=0,
                        callbacks=[tfvae.training.TensorBoard(tmp_path, images=x[:8], num_samples=9, scale=2)])
    events = _events(tmp_path)
    for split, prefix in (("train", ""), ("validation", "val_")):
        for name in ("loss", "elbo", "reconstruction", "kl"):
            steps = events[(split, f"epoch_{name}")]
            assert [s for s, _, _ in steps] == [0, 1]
            assert all(kind == "scalars" for _, kind, _ in steps)
            np.testing.assert_allclose([float(v) for _, _, v in steps], history.history[prefix + name], rtol=1e-6)
    for tag, (rows, cols) in (("samples", (3, 3)), ("reconstructions", (2, 8))):
        steps = events[("images", tag)]
        assert [s for s, _, _ in steps] == [0, 1]
        _, kind, tensor = steps[-1]
        assert kind == "images"
        png = tf.io.decode_png(tensor[2]).numpy()
        # Grid layout of make_image_grid: 8x8 tiles, 2 px padding, scale 2.
        assert png.shape == ((rows * 10 + 2) * 2, (cols * 10 + 2) * 2, 1)
        assert (int(tensor[0]), int(tensor[1])) == (png.shape[1], png.shape[0])
    # The first row of the reconstruction grid shows the inputs.
    png = tf.io.decode_png(events[("images", "reconstructions")][0][2][2]).numpy()[..., 0]
    np.testing.assert_array_equal(png[4:20:2, 4:20:2] > 127, x[0, ..., 0] > 0.5)


def test_nan_guard_stops_and_restores_last_good_weights(tmp_path, capsys):
    """A weight poisoned with NaN before batch 3 of epoch 2: the guard stops
    at that batch, names it, and restores the end-of-epoch-1 weights and
    optimizer state (the NaN step left NaN in Adam's moments too), which a
    ModelCheckpoint after it in the list then saves (not NaNs); `fit` can
    then simply go on."""
    class Poison(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_epoch_end(self, epoch, logs=None):
            self.good = [np.array(v) for v in self.model.weights]
            self.good_optimizer = [np.array(v) for v in self.model.optimizer.variables]

        def on_train_batch_begin(self, batch, logs=None):
            if self.epoch == 1 and batch == 2:
                kernel = self.model.decoder_head.proj.kernel
                kernel.assign(kernel * np.nan)

    model = _vae()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    guard, poison = tfvae.training.NaNGuard(), Poison()
    ckpt = tfvae.training.checkpoint(str(tmp_path / "ckpt"))
    history = model.fit(_images(), epochs=4, batch_size=16, verbose=0, callbacks=[guard, poison, ckpt])
    assert guard.failure["epoch"] == 1 and guard.failure["batch"] == 2 and guard.failure["step"] == 7
    assert not np.isfinite(guard.failure["value"])
    assert "epoch 2, batch 3 (step 7)" in capsys.readouterr().out
    assert len(history.epoch) == 2  # stopped in the second epoch
    for good, now in zip(poison.good, model.weights):
        np.testing.assert_array_equal(good, np.array(now))
    for good, now in zip(poison.good_optimizer, model.optimizer.variables):
        np.testing.assert_array_equal(good, np.array(now))
    assert int(model.optimizer.iterations) == 4  # 2 steps per epoch, one epoch kept
    latest = tfvae.training.latest_checkpoint(str(tmp_path / "ckpt"))
    assert latest.endswith("ckpt-0002.weights.h5")
    reloaded = _vae()
    reloaded.load_weights(latest)
    assert all(np.isfinite(np.array(v)).all() for v in reloaded.weights)
    again = model.fit(_images(), epochs=1, batch_size=16, verbose=0, callbacks=[guard])
    assert guard.failure is None and np.isfinite(again.history["loss"][0])


def test_nan_guard_restores_fresh_optimizer_state_after_a_first_epoch_failure():
    """A NaN in the very first epoch: the snapshot is the start of training,
    taken before Keras would have built the optimizer, so the guard builds
    it first and restores zero moments and step count, not NaNs."""
    class Poison(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 1:
                kernel = self.model.decoder_head.proj.kernel
                kernel.assign(kernel * np.nan)

    model = _vae()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    start = [np.array(v) for v in model.weights]
    guard = tfvae.training.NaNGuard(verbose=0)
    model.fit(_images(), epochs=2, batch_size=16, verbose=0, callbacks=[guard, Poison()])
    assert guard.failure["epoch"] == 0 and guard.failure["batch"] == 1
    for before, now in zip(start, model.weights):
        np.testing.assert_array_equal(before, np.array(now))
    assert int(model.optimizer.iterations) == 0
    for v in model.optimizer.variables:
        if v is not model.optimizer._learning_rate:
            assert not np.any(np.array(v)), v.path
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)


@pytest.mark.parametrize("option", ["clipnorm", "global_clipnorm"])
def test_gradient_clipping_through_the_custom_train_step(option):
    """One SGD step with lr 1 and a tiny clip moves the weights by exactly the
    clipped gradient: per variable norm ≤ c (clipnorm) or global norm = c."""
    c = 1e-3
    model = _vae()
    model.compile(optimizer=keras.optimizers.SGD(1.0, **{option: c}))
    before = [np.array(v) for v in model.trainable_variables]
    model.fit(_images(16), epochs=1, batch_size=16, verbose=0)
    steps = [np.array(v) - b for v, b in zip(model.trainable_variables, before)]
    norms = np.array([np.linalg.norm(s) for s in steps])
    if option == "clipnorm":
        assert norms.max() <= c * (1 + 1e-4) and norms.max() > 0.5 * c
    else:
        np.testing.assert_allclose(np.sqrt((norms ** 2).sum()), c, rtol=1e-3)
