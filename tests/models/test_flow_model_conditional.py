"""Conditional FlowModels p(x | c) and learned base distributions."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfvae
from tfvae.objectives.gaussian import normal_log_prob


def _gaussian_given_c(n, seed):
    """x | c ~ N(μ(c), diag σ²), μ(c) = (2c - 1, -c), σ = (0.3, 0.5), c ~ U(-1, 1)."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(-1, 1, (n, 1)).astype("float32")
    mu = np.concatenate([2 * c - 1, -c], axis=1)
    x = (mu + np.array([0.3, 0.5]) * rng.standard_normal((n, 2))).astype("float32")
    return x, c


def _exact_log_prob(x, c):
    mu = np.concatenate([2 * c - 1, -c], axis=1)
    return normal_log_prob(x, mu, np.array([0.3, 0.5], "float32")).numpy()


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    model = tfvae.FlowModel(tfvae.flows.MAF(num_layers=1, hidden_units=(32,), context_size=1, seed=0),
                            input_shape=(2,))
    x, c = _gaussian_given_c(4000, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(5e-3))
    model.fit(tf.data.Dataset.from_tensor_slices((x, c)).batch(200), epochs=40, verbose=0)
    return model


def test_recovers_the_exact_conditional_density(trained):
    x, c = _gaussian_given_c(2000, seed=1)
    gap = _exact_log_prob(x, c) - trained.log_prob(x, c).numpy()
    # The held-out mean of log p - log q is KL(p || q) >= 0, up to MC error.
    stderr = gap.std() / np.sqrt(len(gap))
    assert abs(gap.mean()) < 0.03 + 3 * stderr, (gap.mean(), stderr)
    samples = trained.sample(2000, np.array([[0.5]], "float32"), seed=0).numpy()
    np.testing.assert_allclose(samples.mean(0), [0.0, -0.5], atol=0.06)
    np.testing.assert_allclose(samples.std(0), [0.3, 0.5], rtol=0.1)


def test_condition_is_required_and_checked(trained):
    x, c = _gaussian_given_c(4, seed=2)
    with pytest.raises(ValueError, match="expected a condition `c`"):
        trained.log_prob(x)
    with pytest.raises(ValueError, match="`c`"):
        trained.log_prob(x, np.zeros((4, 3), "float32"))
    with pytest.raises(ValueError, match="1 or 5 rows"):
        trained.sample(5, c, seed=0)
    with pytest.raises(ValueError, match="expected `c` to have 4 rows"):
        trained.log_prob(x, c[:1])
    with pytest.raises(ValueError, match="unconditional"):
        tfvae.FlowModel(tfvae.flows.RealNVP(2, hidden_units=(4,)), input_shape=(2,)).log_prob(x, c)
    with pytest.raises(ValueError, match="takes no context"):
        tfvae.FlowModel(tfvae.flows.LULinear(), input_shape=(2,), context_size=1)
    with pytest.raises(ValueError, match="pairs"):
        trained.train_step(tf.constant(x))


def test_conditional_keras_round_trip_and_export(trained, tmp_path):
    x, c = _gaussian_given_c(5, seed=3)
    path = str(tmp_path / "cond.keras")
    trained.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.log_prob(x, c), trained.log_prob(x, c))
    np.testing.assert_array_equal(loaded.sample(3, c[:1], seed=4), trained.sample(3, c[:1], seed=4))
    export = tfvae.export.export_saved_model(trained, str(tmp_path / "served" / "1"))
    np.savez(tmp_path / "data.npz", x=x, c=c)
    # A process with TensorFlow alone calls both signatures.
    script = (
        "import sys, numpy as np, tensorflow as tf\n"
        "m = tf.saved_model.load(sys.argv[1]); d = np.load(sys.argv[2])\n"
        "lp = m.signatures['log_prob'](x=tf.constant(d['x']), c=tf.constant(d['c']))['log_prob']\n"
        "s = m.signatures['sample'](c=tf.constant(d['c']), seed=tf.constant(7, tf.int64),\n"
        "                           temperature=tf.constant(1.0))['samples']\n"
        "np.savez(sys.argv[3], lp=lp.numpy(), s=s.numpy())\n")
    out = tmp_path / "out.npz"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run([sys.executable, "-c", script, export, str(tmp_path / "data.npz"), str(out)],
                   check=True, env=env, cwd=str(tmp_path))
    got = np.load(out)
    np.testing.assert_allclose(got["lp"], trained.log_prob(x, c, seed=0), rtol=1e-5)
    np.testing.assert_allclose(got["s"], trained.sample(5, c, seed=7), rtol=1e-5, atol=1e-6)
    loaded_sm = tf.saved_model.load(export)
    with pytest.raises(tf.errors.InvalidArgumentError, match="one row of `c` per example; batch sizes differ"):
        loaded_sm.signatures["log_prob"](x=tf.constant(x), c=tf.constant(c[:2]))


@pytest.mark.parametrize("base, prior_cls", [("diagonal", tfvae.priors.DiagonalNormal),
                                             ("mixture", tfvae.priors.MixtureOfGaussians)])
def test_learned_bases(base, prior_cls, tmp_path):
    # With an identity flow the model's density is the base's.
    flow = tfvae.flows.ActNorm(event_ndims=1, data_init=False)
    model = tfvae.FlowModel(flow, input_shape=(3,), base=base)
    assert isinstance(model.base_distribution, prior_cls)
    x = np.random.default_rng(0).normal(2.0, 0.5, (256, 3)).astype("float32")
    np.testing.assert_allclose(model.log_prob(x), model.base_distribution.log_prob(x), rtol=1e-6)
    before = model.log_prob(x).numpy().mean()
    model.compile(optimizer=keras.optimizers.Adam(5e-2))
    model.fit(x, batch_size=64, epochs=20, verbose=0)
    assert model.log_prob(x).numpy().mean() > before + 1.0
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.log_prob(x), model.log_prob(x))
    np.testing.assert_array_equal(loaded.sample(4, seed=1), model.sample(4, seed=1))


def test_base_instance_and_bad_base():
    prior = tfvae.priors.MixtureOfGaussians(num_components=3, seed=0)
    model = tfvae.FlowModel(tfvae.flows.NSF(2, hidden_units=(8,)), input_shape=(2,), base=prior)
    assert model.base_distribution is prior and model.get_config()["base"]["config"]["num_components"] == 3
    with pytest.raises(ValueError, match="`base`"):
        tfvae.FlowModel(tfvae.flows.NSF(2), input_shape=(2,), base="laplace")


def test_diagonal_normal_kl_is_analytic():
    prior = tfvae.priors.DiagonalNormal(latent_dim=2)
    prior.build(None)
    prior.loc.assign([0.5, -1.0])
    prior.raw_scale.assign([1.0, -0.5])
    loc, scale = tf.constant([[0.1, 0.2]]), tf.constant([[0.7, 1.3]])
    eps = tf.random.stateless_normal((200000, 2), seed=[1, 2])
    z = loc + scale * eps
    monte_carlo = np.mean(normal_log_prob(z, loc, scale) - prior.log_prob(z))
    np.testing.assert_allclose(np.sum(prior.kl_from_gaussian(loc, scale)), monte_carlo, atol=0.01)
