"""Strict argument and data checks: no silent coercion, no silent no-op."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae


def _vae(**kwargs):
    return tfvae.VAE(input_shape=(4,), latent_dim=2, encoder=tfvae.nets.MLP([4]), decoder=tfvae.nets.MLP([4]),
                     seed=0, **kwargs)


@pytest.fixture(scope="module")
def vae():
    model = _vae()
    model.compile(optimizer="adam")
    return model


X = (np.random.default_rng(0).random((8, 4)) > 0.5).astype("float32")


def _empty_unknown_length():
    return tf.data.Dataset.from_tensor_slices(X).filter(lambda t: False).batch(2)


@pytest.mark.parametrize("kwargs, message", [
    ({"beta": math.inf}, "`beta` to be a non-negative number, not infinity"),
    ({"free_bits": math.inf}, "`free_bits` to be a non-negative number, not infinity"),
    ({"beta": math.nan}, "`beta`"),
    ({"analytic_kl": "no"}, "`analytic_kl` to be a boolean"),
    ({"num_importance_samples": 2.0}, "`num_importance_samples` to be a positive integer"),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _vae(**kwargs)


@pytest.mark.parametrize("call, message", [
    (lambda m: m.log_likelihood(X, num_samples=2.7), r"`num_samples` to be a positive integer.*2\.7"),
    (lambda m: m.log_likelihood(X, num_samples=3, chunk_size=0), "`chunk_size` to be a positive integer"),
    (lambda m: m.log_likelihood(X, num_samples=3, seed=1.5), "`seed` to be an integer"),
    (lambda m: m.log_likelihood(X[:0], num_samples=3), "`x` to hold at least one example"),
    (lambda m: m.log_likelihood(X, num_samples=10**15, chunk_size=10**15), "smaller `chunk_size`"),
    (lambda m: m.sample(10**15), "draw fewer samples per call"),
    (lambda m: m.sample(2, mean="no"), "`mean` to be a boolean"),
    (lambda m: m.fit(X[:0], epochs=1, verbose=0), "`x` to hold at least one example"),
    (lambda m: m.fit(tf.data.Dataset.from_tensor_slices(X[:0]).batch(2), verbose=0), "empty dataset"),
    (lambda m: m.fit(_empty_unknown_length(), epochs=1, verbose=0), "at least one batch"),
    (lambda m: m.evaluate(X[:0], verbose=0), "`x` to hold at least one example"),
    (lambda m: m.evaluate(_empty_unknown_length(), verbose=0), "at least one batch"),
    (lambda m: tfvae.evaluation.log_likelihood(m, X[:0], num_samples=3), "`data` to hold at least one example"),
    (lambda m: tfvae.evaluation.log_likelihood(m, _empty_unknown_length(), num_samples=3), "`data`"),
    (lambda m: tfvae.evaluation.elbo_surgery(m, X[:0]), "`data` to hold at least one example"),
    (lambda m: tfvae.evaluation.elbo_surgery(m, X, chunk_size=0), "`chunk_size` to be a positive integer"),
])
def test_bad_calls_are_refused(vae, call, message):
    weights = [w.copy() for w in vae.get_weights()]
    with pytest.raises(ValueError, match=message):
        call(vae)
    for before, after in zip(weights, vae.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_evaluate_is_repeatable_and_leaves_the_training_noise_alone():
    """Evaluation noise starts from the seed states as they are; they are
    put back afterwards, so training after an evaluate sees the same noise."""
    a, b = _vae(posterior_flow=tfvae.flows.IAF(num_layers=1)), _vae(posterior_flow=tfvae.flows.IAF(num_layers=1))
    b.set_weights(a.get_weights())
    for m in (a, b):
        m.compile(optimizer="adam")
    first = a.evaluate(X, verbose=0, return_dict=True)
    assert a.evaluate(X, verbose=0, return_dict=True) == first
    a.fit(X, epochs=1, batch_size=4, verbose=0, shuffle=False)
    b.fit(X, epochs=1, batch_size=4, verbose=0, shuffle=False)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("user_setting", [None, True, False])
def test_streamed_checks_turn_the_autotune_model_off_unless_the_dataset_chose(user_setting):
    from tfvae.models._inputs import validated_dataset

    ds = tf.data.Dataset.from_tensor_slices(X).batch(2).prefetch(tf.data.AUTOTUNE)
    if user_setting is not None:
        options = tf.data.Options()
        options.autotune.enabled = user_setting
        ds = ds.with_options(options)
    checked = validated_dataset(ds, (4,), None, "VAE")
    assert checked.options().autotune.enabled is (False if user_setting is None else user_setting)
    np.testing.assert_array_equal(np.concatenate(list(checked.as_numpy_iterator())), X)   # same batches


def test_fit_on_arrays_trains_on_kerass_own_batches_with_the_autotune_model_off():
    from tfvae.models._inputs import arrays_as_dataset

    rng = np.random.default_rng(1)
    x = (rng.random((10, 4)) > 0.5).astype("float32")
    dataset, y, args, kwargs = arrays_as_dataset("fit", x, None, (3,), {"epochs": 2})
    assert (y, args, kwargs["epochs"], kwargs["validation_batch_size"], kwargs["shuffle"]) == (None, (), 2, 3, False)
    assert dataset.options().autotune.enabled is False and int(dataset.cardinality()) == 4   # ceil(10 / 3)
    (batches,) = [list(dataset.as_numpy_iterator())]
    assert [len(b) for b in batches] == [3, 3, 3, 1]        # x alone, as Keras yields it without y
    rows = np.concatenate(batches)
    assert sorted(map(tuple, rows)) == sorted(map(tuple, x))                                  # a permutation
    assert arrays_as_dataset("fit", x, None, (), {"validation_split": 0.2})[0] is x          # Keras splits first
    ordered, _, _, kwargs = arrays_as_dataset("evaluate", x, None, (4,), {"return_dict": True})
    assert kwargs == {"return_dict": True} and ordered.options().autotune.enabled is False
    np.testing.assert_array_equal(np.concatenate(list(ordered.as_numpy_iterator())), x)      # not shuffled

    # The same weights as Keras's own fit on the arrays (which builds its pipeline with the model on).
    weights = []
    for fit in (lambda m: m.fit(x, batch_size=3, epochs=2, verbose=0),
                lambda m: keras.Model.fit(m, x, batch_size=3, epochs=2, verbose=0)):
        keras.utils.set_random_seed(0)
        model = _vae()
        model.compile(optimizer="adam", steps_per_execution=1)
        fit(model)
        weights.append([w.numpy() for w in model.trainable_weights])
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
    # and the same numbers from evaluate (the seed states are where Keras's own call finds them)
    ours = model.evaluate(x, batch_size=3, verbose=0, return_dict=True)
    assert ours == keras.Model.evaluate(model, x, batch_size=3, verbose=0, return_dict=True)
