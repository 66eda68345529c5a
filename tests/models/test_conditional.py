"""ConditionalVAE: training on labels, an exact linear-Gaussian log p(x|c),
.keras round trip, image conditions with a conditional flow prior, bad inputs."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import tfvae
from tfvae.models.conditional import ConditionalVAE


@pytest.fixture(scope="module")
def labelled():
    x, y = tfvae.data.load_numpy("digits", split="train", with_labels=True)
    return (x[:384] > 0.5).astype("float32"), y[:384]


def _label_cvae(**kwargs):
    kwargs.setdefault("encoder", tfvae.nets.MLP([32]))
    kwargs.setdefault("decoder", tfvae.nets.MLP([32]))
    return ConditionalVAE(input_shape=(8, 8, 1), latent_dim=3, num_classes=10, seed=0, **kwargs)


@pytest.fixture(scope="module")
def trained(labelled):
    x, y = labelled
    cvae = _label_cvae(prior="conditional_normal")
    cvae.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = cvae.evaluate(x, y, batch_size=128, return_dict=True, verbose=0)
    history = cvae.fit((x, y), epochs=10, batch_size=64, verbose=0)
    return cvae, before, history


def test_training_on_labels_lowers_the_loss(trained, labelled):
    cvae, before, history = trained
    x, y = labelled
    after = cvae.evaluate(x, y, batch_size=128, return_dict=True, verbose=0)
    assert after["loss"] < before["loss"] - 5.0, (before, after)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert after["elbo"] == pytest.approx(after["reconstruction"] - after["kl"], abs=1e-3)
    # A dataset of (images, labels) trains the same model.
    ds = tfvae.data.load("digits", split="train", batch_size=128, binarize=True, with_labels=True).take(2)
    assert np.isfinite(cvae.evaluate(ds, return_dict=True, verbose=0)["loss"])


def test_samples_depend_on_the_label(trained):
    cvae, _, _ = trained
    zeros = cvae.sample(32, np.zeros(32, "int32"), seed=1).numpy()
    ones = cvae.sample(32, np.ones(32, "int32"), seed=1).numpy()
    assert np.abs(zeros.mean(0) - ones.mean(0)).mean() > 0.05
    np.testing.assert_array_equal(zeros, cvae.sample(32, np.zeros(32, "int32"), seed=1).numpy())
    one_hot = cvae.sample(32, np.eye(10, dtype="float32")[np.zeros(32, int)], seed=1).numpy()
    np.testing.assert_allclose(one_hot, zeros, atol=1e-6)


def test_log_likelihood_is_above_the_elbo(trained, labelled):
    cvae, _, _ = trained
    x, y = labelled[0][:16], labelled[1][:16]
    ll = cvae.log_likelihood(x, y, num_samples=200, seed=0).numpy()
    log_px, log_pz, log_q, kl = cvae.bound_terms(tf.constant(x), 200, tf.constant([1, 2], tf.int64),
                                                 condition=cvae.condition_tensor(y))
    elbo = (tf.reduce_mean(log_px, 0) - tf.reduce_sum(kl, -1)).numpy()
    assert np.all(np.isfinite(ll)) and np.mean(ll) > np.mean(elbo)


def test_keras_round_trip_gives_equal_outputs(trained, labelled, tmp_path):
    cvae, _, _ = trained
    x, y = labelled[0][:5], labelled[1][:5]
    path = str(tmp_path / "cvae.keras")
    cvae.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, ConditionalVAE) and isinstance(loaded.prior, tfvae.priors.ConditionalNormal)
    for batch in (1, 5):
        np.testing.assert_array_equal(loaded.reconstruct(x[:batch], y[:batch]).numpy(),
                                      cvae.reconstruct(x[:batch], y[:batch]).numpy())
    np.testing.assert_array_equal(loaded.sample(4, y[:4], seed=3).numpy(), cvae.sample(4, y[:4], seed=3).numpy())
    np.testing.assert_array_equal(loaded.log_likelihood(x, y, num_samples=8).numpy(),
                                  cvae.log_likelihood(x, y, num_samples=8).numpy())


# -- linear Gaussian: log p(x | c) = N(x; V c + b, W Wᵀ + σ² I) -------------------------
D, d, C, SIGMA = 5, 2, 3, 0.5


def _linear_cvae(W, V, b, q_var):
    """Encoder features [x, c]; decoder [z, c] -> W z + V c + b. The posterior
    mean is Σ Wᵀ(x − V c − b)/σ², exact when WᵀW is diagonal."""
    cvae = ConditionalVAE(input_shape=(D,), latent_dim=d, condition_shape=(C,), encoder=keras.layers.Identity(),
                          decoder=keras.layers.Identity(), likelihood=tfvae.likelihoods.Gaussian(scale=SIGMA), seed=0)
    cvae.decoder_head.proj.kernel.assign(np.concatenate([W.T, V.T]).astype("float32"))
    cvae.decoder_head.proj.bias.assign(b.astype("float32"))
    a = W @ np.linalg.inv(np.eye(d) + W.T @ W / SIGMA**2) / SIGMA**2   # loc = (x − V c − b) a
    raw = np.log(np.expm1(np.sqrt(q_var) - cvae.posterior.min_scale))
    kernel = np.concatenate([np.concatenate([a, -V.T @ a]), np.zeros((D + C, d))], 1)
    cvae.posterior.dense.kernel.assign(kernel.astype("float32"))
    cvae.posterior.dense.bias.assign(np.concatenate([-b @ a, raw]).astype("float32"))
    return cvae


def _linear_data(W, V, b, n, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(n, C))
    x = rng.normal(size=(n, d)) @ W.T + c @ V.T + b + SIGMA * rng.normal(size=(n, D))
    cov = W @ W.T + SIGMA**2 * np.eye(D)
    exact = np.array([stats.multivariate_normal(V @ c[i] + b, cov).logpdf(x[i]) for i in range(n)])
    return x.astype("float32"), c.astype("float32"), exact


def test_linear_gaussian_exact_posterior_gives_the_exact_log_likelihood():
    W = np.linalg.qr(np.random.default_rng(1).normal(size=(D, D)))[0] @ np.array(
        [[1.0, 0.0], [0.0, 2.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    V = np.random.default_rng(2).normal(size=(D, C))
    b = np.linspace(-1, 1, D)
    cvae = _linear_cvae(W, V, b, np.diag(np.linalg.inv(np.eye(d) + W.T @ W / SIGMA**2)))
    x, c, exact = _linear_data(W, V, b, 32)
    np.testing.assert_allclose(cvae.log_likelihood(x, c, num_samples=10).numpy(), exact, atol=2e-3)
    cvae.compile()
    elbo = cvae.evaluate(x, c, batch_size=32, return_dict=True, verbose=0)["elbo"]
    assert elbo == pytest.approx(exact.mean(), abs=0.05)
    # Without the condition term the estimate is far off: c really enters p(x|z,c).
    wrong = cvae.log_likelihood(x, np.zeros_like(c), num_samples=10).numpy()
    assert np.mean(exact - wrong) > 1.0


def test_linear_gaussian_importance_sampling_converges_from_below():
    W = np.array([[1.0, 0.8], [0.5, 1.5], [-0.3, 0.7], [0.9, -0.2], [0.1, 0.4]])
    V = np.random.default_rng(3).normal(size=(D, C))
    b = np.linspace(-1, 1, D)
    precision = np.eye(d) + W.T @ W / SIGMA**2
    cvae = _linear_cvae(W, V, b, 1.0 / np.diag(precision))
    x, c, exact = _linear_data(W, V, b, 16, seed=4)
    errors = [np.mean(exact - cvae.log_likelihood(x, c, num_samples=s, seed=11).numpy()) for s in (1, 30, 2000)]
    assert errors[0] > 0.05 and errors[0] > errors[1] > errors[2] >= -0.01 and errors[2] < 0.01
    result = tfvae.evaluation.log_likelihood(cvae, (x, c), num_samples=2000)
    assert result["log_likelihood"] == pytest.approx(exact.mean(), abs=0.02)


# -- image conditions (inpainting) with a conditional flow prior -----------------------------
def test_top_half_condition_with_a_conditional_flow_prior(labelled, tmp_path):
    x = labelled[0][:64]
    top = x[:, :4]
    cvae = ConditionalVAE(input_shape=(8, 8, 1), latent_dim=2, condition_shape=(4, 8, 1),
                          encoder=tfvae.nets.MLP([16]), decoder=tfvae.nets.MLP([16]), seed=0,
                          prior=tfvae.priors.FlowPrior(tfvae.flows.MAF(num_layers=1, hidden_units=(8,))))
    assert cvae.prior.conditional
    cvae.compile(optimizer=keras.optimizers.Adam(1e-3))
    cvae.fit(x, top, epochs=1, batch_size=32, verbose=0)
    samples = cvae.sample(3, top[:3], seed=0).numpy()
    assert samples.shape == (3, 8, 8, 1) and np.all((samples >= 0) & (samples <= 1))
    path = str(tmp_path / "inpaint.keras")
    cvae.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.sample(3, top[:3], seed=0).numpy(), samples)


def test_posterior_flow_iwae_and_xla_with_labels(labelled):
    """The condition is part of the IAF's context; K = 2 trains the IWAE bound, compiled with XLA."""
    x, y = labelled[0][:128], labelled[1][:128]
    cvae = _label_cvae(encoder=tfvae.nets.MLP([16]), decoder=tfvae.nets.MLP([16]), num_importance_samples=2,
                       posterior_flow=tfvae.flows.IAF(num_layers=1, hidden_units=(8,)))
    assert cvae.posterior_flow.context_dim == 16 + 10  # the IAF sees [h(x), one_hot(c)]
    cvae.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=True)
    history = cvae.fit(x, y, epochs=1, batch_size=64, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and "iwae" in history.history
    assert cvae.predict((x[:4], y[:4]), verbose=0).shape == (4, 8, 8, 1)
    assert np.all(np.isfinite(cvae.log_likelihood(x[:4], y[:4], num_samples=4).numpy()))


# -- bad inputs ------------------------------------------------------------------------
def test_bad_configurations_raise_clear_errors():
    with pytest.raises(ValueError, match="exactly one of `condition_shape` or `num_classes`"):
        ConditionalVAE(input_shape=(4,), latent_dim=2)
    with pytest.raises(ValueError, match="exactly one"):
        ConditionalVAE(input_shape=(4,), latent_dim=2, condition_shape=(3,), num_classes=3)
    with pytest.raises(ValueError, match="num_classes"):
        ConditionalVAE(input_shape=(4,), latent_dim=2, num_classes=0)
    with pytest.raises(ValueError, match="condition_shape"):
        ConditionalVAE(input_shape=(4,), latent_dim=2, condition_shape=(3, -1))
    with pytest.raises(ValueError, match="VampPrior"):
        ConditionalVAE(input_shape=(4,), latent_dim=2, num_classes=3,
                       prior=tfvae.priors.VampPrior(num_pseudo_inputs=2))


def test_bad_conditions_raise_clear_errors(trained, labelled):
    cvae, _, _ = trained
    x, y = labelled[0][:3], labelled[1][:3]
    with pytest.raises(ValueError, match="needs the condition `c`"):
        cvae.encode(x)
    with pytest.raises(ValueError, match=r"labels in \[0, 10\); received \[10\]"):
        cvae.encode(x, [0, 1, 10])
    with pytest.raises(ValueError, match=r"labels in \[0, 10\)"):
        cvae.sample(2, [0.5, 1])
    with pytest.raises(ValueError, match="`x` has batch 3, `c` has batch 2"):
        cvae.log_likelihood(x, y[:2], num_samples=2)
    with pytest.raises(ValueError, match="received shape"):
        cvae.decode(np.zeros((3, 3)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="needs the condition `c` with the data"):
        cvae.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"dataset of \(x, c\) tuples"):
        cvae.fit(tfvae.data.from_numpy(labelled[0][:8, ], batch_size=4), epochs=1, verbose=0)
    image_cvae = ConditionalVAE(input_shape=(8, 8, 1), latent_dim=2, condition_shape=(4, 8, 1),
                                encoder=tfvae.nets.MLP([8]), decoder=tfvae.nets.MLP([8]))
    with pytest.raises(ValueError, match=r"`c` of shape \(batch, 4, 8, 1\)"):
        image_cvae.encode(x, x)
    with pytest.raises(ValueError, match="NaN"):
        image_cvae.encode(x, np.full((3, 4, 8, 1), np.nan, "float32"))


@pytest.mark.slow
def test_inpaint_demo_writes_a_png(tmp_path, capsys):
    from apps import inpaint
    out = tmp_path / "inpaint.png"
    assert inpaint.main(["--epochs", "1", "--num-samples", "5", "--digits", "3", "--completions", "2",
                         "--out", str(out)]) == 0
    assert out.stat().st_size > 0 and "log p(x | top half)" in capsys.readouterr().out
