"""`steps_per_execution="auto"` and the fused optimizer update: faster,
never different."""

import keras
import numpy as np
import pytest

import tfvae
from tfvae.models import _execution


def _vae(optimizer=None, **compile_kwargs):
    keras.utils.set_random_seed(0)
    vae = tfvae.VAE(input_shape=(8, 8, 1), latent_dim=2, encoder=tfvae.nets.MLP([16]),
                    decoder=tfvae.nets.MLP([16]), seed=0)
    vae.compile(optimizer=optimizer or keras.optimizers.Adam(1e-2), **compile_kwargs)
    return vae


def _data(n=1000):
    return (np.random.default_rng(0).random((n, 8, 8, 1)) < 0.3).astype("float32")


def _weights(model):
    return [w.numpy() for w in model.trainable_weights]


def test_auto_runs_several_steps_per_call_and_exactly_the_steps_asked():
    x = _data()
    vae = _vae()
    vae.fit(x, batch_size=100, epochs=2, verbose=0, validation_data=x[:300])
    assert vae.steps_per_execution == _execution.AUTO_STEPS
    assert int(vae.optimizer.iterations) == 20
    # 3 steps per epoch: Keras would run a whole execution of 32; the divisor is 3.
    vae.fit(x, batch_size=100, epochs=2, steps_per_epoch=3, verbose=0)
    assert vae.steps_per_execution == 3
    assert int(vae.optimizer.iterations) == 26


def test_auto_trains_the_same_weights_as_one_step_per_call():
    x = _data()
    auto, one = _vae(), _vae(steps_per_execution=1)
    h_auto = auto.fit(x, batch_size=100, epochs=2, verbose=0, validation_data=x[:200])
    h_one = one.fit(x, batch_size=100, epochs=2, verbose=0, validation_data=x[:200])
    assert auto.steps_per_execution > 1 and one.steps_per_execution == 1
    for a, b in zip(_weights(auto), _weights(one)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for key in h_one.history:
        np.testing.assert_allclose(h_auto.history[key], h_one.history[key], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("callback", [
    lambda seen: keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch)),
    lambda seen: type("Counter", (keras.callbacks.Callback,),
                      {"on_train_batch_begin": lambda self, batch, logs=None: seen.append(batch)})(),
])
def test_a_per_batch_callback_sees_every_batch(callback):
    seen = []
    vae = _vae()
    vae.fit(_data(), batch_size=100, epochs=1, verbose=0, callbacks=[callback(seen)])
    assert seen == list(range(10)) and vae.steps_per_execution == 1
    vae.fit(_data(), batch_size=100, epochs=1, verbose=0)   # and back to auto without it
    assert vae.steps_per_execution == _execution.AUTO_STEPS


def test_epoch_level_callbacks_keep_auto():
    vae = _vae()
    vae.fit(_data(), batch_size=100, epochs=2, verbose=0,
            callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=5),
                       keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: None)])
    assert vae.steps_per_execution == _execution.AUTO_STEPS


def test_an_explicit_count_is_kept():
    vae = _vae(steps_per_execution=4)
    vae.fit(_data(), batch_size=100, epochs=1, verbose=0)
    assert vae.steps_per_execution == 4 and int(vae.optimizer.iterations) == 10
    with pytest.raises(ValueError):
        _vae(steps_per_execution="sometimes")


def test_auto_survives_a_keras_round_trip(tmp_path):
    vae = _vae()
    vae.fit(_data(), batch_size=100, epochs=1, verbose=0)
    vae.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.get_compile_config()["steps_per_execution"] == "auto"
    loaded.fit(_data(), batch_size=100, epochs=1, verbose=0)
    assert loaded.steps_per_execution == _execution.AUTO_STEPS
    assert int(loaded.optimizer.iterations) == 20


OPTIMIZERS = {
    # plain Adam: TensorFlow's one-kernel update (`_fused_adam`)
    "adam": (lambda: keras.optimizers.Adam(1e-2), "kernel"),
    "adam_schedule": (lambda: keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(1e-2, 3, 0.5)),
                      "kernel"),
    # anything else Keras has: one XLA cluster
    "adam_amsgrad": (lambda: keras.optimizers.Adam(1e-2, amsgrad=True), "cluster"),
    "adam_clipnorm": (lambda: keras.optimizers.Adam(1e-2, clipnorm=0.1), "cluster"),
    "rmsprop": (lambda: keras.optimizers.RMSprop(1e-2), "cluster"),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fused_update_gives_keras_weights(name, monkeypatch):
    """The step's optimizer update runs fused (Adam's kernel, or one XLA
    cluster); eagerly Keras applies it op by op: same weights to float
    rounding, same iteration count."""
    from tfvae.models import _fused_adam

    make, path = OPTIMIZERS[name]
    kernel_calls = []
    apply = _fused_adam.apply
    monkeypatch.setattr(_fused_adam, "apply", lambda *a: kernel_calls.append(1) or apply(*a))
    x = _data(400)
    fused, eager = _vae(make()), _vae(make(), run_eagerly=True)
    fused.fit(x, batch_size=100, epochs=2, verbose=0)
    eager.fit(x, batch_size=100, epochs=2, verbose=0)
    assert bool(kernel_calls) == (path == "kernel")                       # traced once, in the step
    assert bool(fused.__dict__.get("_tfvae_xla_clusters")) == (path == "cluster")
    assert not eager.__dict__.get("_tfvae_xla_clusters")
    assert int(fused.optimizer.iterations) == int(eager.optimizer.iterations) == 8
    for a, b in zip(_weights(fused), _weights(eager)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_xla_step_takes_the_fused_adam_kernel(monkeypatch):
    """In a `jit_compile=True` step plain Adam is also TensorFlow's one-kernel
    update, lowered by XLA: the weights of Keras's own update in the same
    compiled step (same noise), to float rounding."""
    from tfvae.models import _fused_adam

    kernel_calls = []
    apply = _fused_adam.apply
    monkeypatch.setattr(_fused_adam, "apply", lambda *a: kernel_calls.append(1) or apply(*a))
    x = _data(400)
    fused = _vae(keras.optimizers.Adam(1e-2), jit_compile=True)
    fused.fit(x, batch_size=100, epochs=2, verbose=0)
    assert kernel_calls
    monkeypatch.setattr(_fused_adam, "applies", lambda *a: False)
    kept = _vae(keras.optimizers.Adam(1e-2), jit_compile=True)
    kept.fit(x, batch_size=100, epochs=2, verbose=0)
    assert not fused.__dict__.get("_tfvae_xla_clusters") and not kept.__dict__.get("_tfvae_xla_clusters")
    assert int(fused.optimizer.iterations) == int(kept.optimizer.iterations) == 8
    for a, b in zip(_weights(fused), _weights(kept)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_no_xla_cluster_reaches_a_saved_model(tmp_path):
    """Training made XLA clusters (the optimizer update) and the importance
    sampler fused its likelihood; the exported graphs hold neither: TF
    Serving runs XLA:CPU only behind an experimental flag."""
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    vae = _vae(keras.optimizers.RMSprop(1e-2))   # Adam would take its fused kernel, no cluster
    x = _data(300)
    vae.fit(x, batch_size=100, epochs=1, verbose=0)
    vae.log_likelihood(x[:5], num_samples=4)
    assert vae.__dict__.get("_tfvae_xla_clusters")
    path = str(tmp_path / "sm" / "1")
    tfvae.export.export_saved_model(vae, path)
    proto = saved_model_pb2.SavedModel()
    with open(f"{path}/saved_model.pb", "rb") as f:
        proto.ParseFromString(f.read())
    graph = proto.meta_graphs[0].graph_def
    functions = list(graph.library.function)
    assert functions                                       # the signatures' functions are there to scan
    compiled = [fn.signature.name for fn in functions if fn.attr["_XlaMustCompile"].b]
    assert not compiled
    loaded = tf.saved_model.load(path)
    assert "log_likelihood" in loaded.signatures


@pytest.mark.parametrize("steps_per_execution", ["auto", 1])
def test_the_training_step_is_traced_once(steps_per_execution, monkeypatch):
    # Keras leaves the optimizer to build inside the first trace without a
    # strategy, and a tf.function that creates variables is traced twice.
    traces = []
    train_step = tfvae.VAE.train_step
    monkeypatch.setattr(tfvae.VAE, "train_step", lambda self, data: traces.append(1) or train_step(self, data))
    vae = _vae(steps_per_execution=steps_per_execution)
    assert not vae.optimizer.built
    vae.fit(_data(300), batch_size=100, epochs=2, verbose=0)
    assert len(traces) == 1
    assert int(vae.optimizer.iterations) == 6
