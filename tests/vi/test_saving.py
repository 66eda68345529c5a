"""A fitted q without its target: `.keras` round trip and SavedModel export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae

TARGET, LOG_Z = tfvae.vi.targets.banana()


def _trained_looking(family, seed=0):
    """A q whose weights are off their initial values, without paying for a
    `fit` (tracing a step costs seconds here; training is tested elsewhere)."""
    rng = np.random.default_rng(seed)
    for w in family.weights:
        w.assign(w.numpy() + 0.2 * rng.standard_normal(w.shape).astype("float32"))
    return tfvae.vi.VariationalApproximation(family, TARGET, num_samples=16, seed=seed)


@pytest.fixture(scope="module")
def realnvp_q():
    return _trained_looking(tfvae.vi.FlowFamily(tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,)), 2))


@pytest.mark.parametrize("family", ["full_rank", "realnvp"])
def test_keras_round_trip_keeps_q_and_drops_the_target(tmp_path, family, realnvp_q):
    q = realnvp_q if family == "realnvp" else _trained_looking(tfvae.vi.FullRankGaussian(2))
    path = str(tmp_path / "q.keras")
    q.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.family) is type(q.family) and loaded.log_prob_fn is None
    np.testing.assert_array_equal(loaded.sample(9, seed=4), q.sample(9, seed=4))
    z = q.sample(5, seed=1)
    np.testing.assert_allclose(loaded.log_prob(z), q.log_prob(z), rtol=1e-6)
    with pytest.raises(ValueError, match="has no target"):
        loaded.elbo(100)
    loaded.log_prob_fn = TARGET  # the target comes back to continue
    assert loaded.elbo(1000, seed=2) == q.elbo(1000, seed=2)
    if family == "full_rank":  # training continues once the target is back
        loaded.compile(optimizer="adam")
        loaded.fit(steps_per_epoch=3, verbose=0)
        assert not np.allclose(loaded.family.loc.numpy(), q.family.loc.numpy())


def test_saved_model_signatures_equal_q(tmp_path, realnvp_q):
    q = realnvp_q
    path = tfvae.export.export_saved_model(q, str(tmp_path / "q" / "1"))
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {"serving_default", "sample", "log_prob"}
    for n in (1, 7):
        out = loaded.signatures["sample"](num_samples=tf.constant(n), seed=tf.constant(5, tf.int64))
        z, log_q = q.sample_and_log_prob(n, seed=5)
        np.testing.assert_allclose(out["samples"], z, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(out["log_prob"], log_q, rtol=1e-5, atol=1e-5)
        lp = loaded.signatures["log_prob"](z=z)["log_prob"]
        np.testing.assert_allclose(lp, q.log_prob(z), rtol=1e-5, atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`z` contains NaN"):
        loaded.signatures["log_prob"](z=tf.constant([[np.nan, 0.0]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples"):
        loaded.signatures["sample"](num_samples=tf.constant(0), seed=tf.constant(5, tf.int64))


def test_forward_only_flow_exports_sampling_only(tmp_path):
    q = _trained_looking(tfvae.vi.FlowFamily(tfvae.flows.Planar(num_layers=2, seed=0), 2))
    signatures = tfvae.export.signatures_for(q)
    assert set(signatures) == {"serving_default", "sample"}
    fn = tf.function(signatures["sample"].fn, input_signature=signatures["sample"].input_signature)
    out = fn(tf.constant(4), tf.constant(2, tf.int64))
    z, log_q = q.sample_and_log_prob(4, seed=2)
    np.testing.assert_allclose(out["samples"], z, rtol=1e-6)
    np.testing.assert_allclose(out["log_prob"], log_q, rtol=1e-6)


@pytest.mark.slow  # a fresh process pays ~15 s of TensorFlow import
def test_saved_model_loads_without_tfvae(tmp_path, realnvp_q):
    import subprocess
    import sys

    path = tfvae.export.export_saved_model(realnvp_q, str(tmp_path / "q" / "1"))
    script = ("import sys, numpy as np, tensorflow as tf\n"
              "m = tf.saved_model.load(sys.argv[1])\n"
              "out = m.signatures['sample'](num_samples=tf.constant(5), seed=tf.constant(3, tf.int64))\n"
              "lp = m.signatures['log_prob'](z=out['samples'])['log_prob']\n"
              "assert 'tfvae' not in sys.modules and 'tensorflow_probability' not in sys.modules\n"
              "np.save(sys.argv[2], np.concatenate([out['samples'].numpy(), lp.numpy()[:, None]], 1))\n")
    out = tmp_path / "out.npy"
    subprocess.run([sys.executable, "-c", script, path, str(out)], check=True, timeout=300)
    z, log_q = realnvp_q.sample_and_log_prob(5, seed=3)
    np.testing.assert_allclose(np.load(out), np.concatenate([z, log_q[:, None]], 1), rtol=1e-5, atol=1e-5)
