"""Cyclical KL annealing: the schedule step by step, and by epochs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae


def _vae():
    return tfvae.VAE(input_shape=(6,), latent_dim=2, encoder=tfvae.nets.MLP([8]), decoder=tfvae.nets.MLP([8]),
                     beta=2.0, seed=0)


def _x(n=64):
    return (np.random.default_rng(0).uniform(size=(n, 6)) < 0.5).astype("float32")


def test_each_cycle_ramps_linearly_then_holds_the_target():
    """4 epochs × 4 steps, 2 cycles of 8 steps, ratio 0.5: β ramps over 4
    steps (0, .5, 1, 1.5 at β = 2), holds 2 for 4 steps, restarts at 0."""
    vae = _vae()
    seen = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(float(vae.beta_weight)))
    vae.compile(optimizer="adam")
    vae.fit(_x(), batch_size=16, epochs=4, verbose=0,
            callbacks=[tfvae.callbacks.CyclicalKLAnnealing(num_cycles=2, ratio=0.5), record])
    cycle = [0.0, 0.5, 1.0, 1.5, 2.0, 2.0, 2.0, 2.0]
    np.testing.assert_allclose(seen, cycle * 2, atol=1e-6)


@pytest.mark.filterwarnings("ignore:Your input ran out of data")  # Keras's note on a dataset of unknown size
def test_steps_unknown_anneals_per_epoch():
    """A dataset of unknown size: t counts epochs. 6 epochs, 3 cycles of 2
    epochs, ratio 1: τ = 0, ½ in each cycle, so β = 0, 1 (target 2), thrice."""
    vae = _vae()
    seen = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(float(vae.beta_weight)))
    ds = tf.data.Dataset.from_tensor_slices(_x(32)).batch(16).filter(lambda x: True)  # cardinality unknown
    vae.compile(optimizer="adam")
    vae.fit(ds, epochs=6, verbose=0, callbacks=[tfvae.callbacks.CyclicalKLAnnealing(num_cycles=3, ratio=1.0), record])
    np.testing.assert_allclose(seen, [0.0, 1.0] * 3, atol=1e-6)


@pytest.mark.parametrize("kwargs,message", [({"num_cycles": 0}, "Expected `num_cycles` to be a positive integer"),
                                            ({"ratio": 0.0}, r"Expected `ratio` to be a number in \(0, 1\]"),
                                            ({"ratio": 1.5}, r"Received: ratio=1.5")])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tfvae.callbacks.CyclicalKLAnnealing(**kwargs)
