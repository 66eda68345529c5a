"""Variational families against closed forms (no training)."""

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import tfvae
from tfvae.vi import FlowFamily, FullRankGaussian, MeanFieldGaussian


def _randomise(layer, seed=0, scale=0.5):
    """Moves every weight off its initial value (flows start as the identity)."""
    rng = np.random.default_rng(seed)
    for w in layer.weights:
        w.assign(w.numpy() + scale * rng.standard_normal(w.shape).astype("float32"))
    return layer


@pytest.mark.parametrize("cls", [FullRankGaussian, MeanFieldGaussian])
def test_gaussian_log_prob_and_entropy_match_scipy(cls):
    q = _randomise(cls(3), seed=1)
    mean, cov = q.mean.numpy(), q.covariance.numpy()
    if cls is MeanFieldGaussian:
        assert np.count_nonzero(cov - np.diag(np.diag(cov))) == 0
    reference = stats.multivariate_normal(mean, cov)
    z = np.random.default_rng(2).normal(size=(7, 3)).astype("float32") * 2.0
    np.testing.assert_allclose(q.log_prob(z), reference.logpdf(z), rtol=1e-5, atol=1e-5)
    # ½ log|Σ| + d/2 log 2πe
    np.testing.assert_allclose(float(q.entropy()), reference.entropy(), rtol=1e-6, atol=1e-5)
    z, log_q = q.sample_and_log_prob(5, seed=3)
    np.testing.assert_allclose(log_q, reference.logpdf(z.numpy()), rtol=1e-5, atol=1e-5)


def test_full_rank_samples_have_its_moments():
    q = _randomise(FullRankGaussian(2), seed=4)
    z = q.sample(200_000, seed=0).numpy()
    # Standard errors at 2e5 draws are ~0.005 on these O(1) moments.
    np.testing.assert_allclose(z.mean(0), q.mean.numpy(), atol=0.02)
    np.testing.assert_allclose(np.cov(z.T), q.covariance.numpy(), atol=0.03)


def test_int_seeds_are_reproducible_and_generator_draws_differ():
    q = FullRankGaussian(2, seed=5)
    np.testing.assert_array_equal(q.sample(4, seed=1), q.sample(4, seed=1))
    assert not np.allclose(q.sample(4, seed=1), q.sample(4, seed=2))
    assert not np.allclose(q.sample(4), q.sample(4))


@pytest.mark.parametrize("flow,base", [
    (lambda: tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,)), "mean_field"),
    (lambda: tfvae.flows.IAF(num_layers=2, hidden_units=(8,), seed=0), "full_rank"),
    (lambda: tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,)), "standard"),
    (lambda: tfvae.flows.NSF(num_layers=2, hidden_units=(8,), num_bins=4), "mean_field"),
    (lambda: tfvae.flows.SplineMAF(num_layers=1, hidden_units=(8,), num_bins=4, seed=0), "standard"),
])
def test_flow_family_log_prob_inverts_its_samples(flow, base):
    q = _randomise(FlowFamily(flow(), 3, base=base), seed=6, scale=0.3)
    z, log_q = q.sample_and_log_prob(6, seed=7)
    np.testing.assert_allclose(q.log_prob(z), log_q, rtol=1e-4, atol=1e-4)


def test_flow_family_integrates_to_one_in_2d():
    """∫ q = 1 on a grid: the change of variables keeps every term."""
    # Larger random weights give heavy tails that leave any small box.
    q = _randomise(FlowFamily(tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,)), 2), seed=8, scale=0.15)
    g = np.linspace(-10, 10, 401, dtype="float32")
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    mass = np.exp(q.log_prob(grid).numpy()).sum() * (g[1] - g[0]) ** 2
    assert abs(mass - 1.0) < 1e-3  # measured 1 + 9e-6


@pytest.mark.parametrize("flow", [lambda: tfvae.flows.Planar(num_layers=2, seed=0),
                                  lambda: tfvae.flows.Sylvester(num_layers=1, kind="triangular", seed=0)])
def test_forward_only_flows_sample_but_refuse_log_prob(flow):
    q = FlowFamily(flow(), 2)
    z, log_q = q.sample_and_log_prob(4, seed=0)
    assert z.shape == (4, 2) and log_q.shape == (4,)
    # Fresh flows are the identity: q is its N(0, I) base.
    np.testing.assert_allclose(log_q, stats.multivariate_normal(np.zeros(2)).logpdf(z.numpy()), atol=1e-5)
    assert not q.has_log_prob
    with pytest.raises(NotImplementedError, match="forward-only"):
        q.log_prob(z)


@pytest.mark.parametrize("make,match", [
    (lambda: FullRankGaussian(0), r"`dim` to be a positive integer. Received: dim=0"),
    (lambda: MeanFieldGaussian(2, init_scale=-1.0), r"`init_scale` to be a positive finite number"),
    (lambda: FlowFamily("realnvp", 2), r"`flow` to be a tfvae.flows layer"),
    (lambda: FlowFamily(tfvae.flows.RealNVP(), 2, base="student"), r"`base` to be one of"),
    (lambda: FullRankGaussian(2).log_prob(np.zeros((3, 4), "float32")), r"shape \(n, 2\). Received: z.shape=\(3, 4\)"),
    (lambda: FullRankGaussian(2).sample(0), r"`n` to be a positive integer"),
    (lambda: FullRankGaussian(2).sample(3, seed="a"), r"`seed` to be an integer"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_config_round_trip():
    q = FlowFamily(tfvae.flows.IAF(num_layers=1, hidden_units=(4,), seed=0), 2, base="full_rank", init_scale=2.0)
    clone = FlowFamily.from_config(q.get_config())
    assert clone.base == "full_rank" and clone.init_scale == 2.0 and isinstance(clone.flow, tfvae.flows.IAF)
    np.testing.assert_allclose(clone.base_family.scale_tril, 2.0 * np.eye(2), rtol=1e-6)


@pytest.mark.parametrize("flow,base", [
    (lambda: tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,)), "mean_field"),
    (lambda: tfvae.flows.IAF(num_layers=2, hidden_units=(8,), seed=0), "full_rank"),
    (lambda: tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,)), "standard"),
])
def test_flow_family_path_gradient_matches_the_score_through_the_inverse(flow, base):
    """`path_transform` (score from the forward Jacobian) against the score
    ∇_z log q(z) taken by autodiff through the flow's inverse: same values,
    and a weight gradient of exactly (∂z/∂φ)ᵀ s, the path term alone."""
    q = _randomise(FlowFamily(flow(), 3, base=base), seed=6, scale=0.3)
    eps = q.noise(5, seed=3)
    with tf.GradientTape() as tape:
        z, path_log_q = q.path_transform(eps)
        total = tf.reduce_sum(path_log_q)
    grads = tape.gradient(total, q.trainable_weights)
    z_ref, log_q_ref = q.transform(eps)
    np.testing.assert_allclose(z, z_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(path_log_q, log_q_ref, rtol=1e-5, atol=1e-5)
    points = tf.constant(z_ref)
    with tf.GradientTape() as tape:
        tape.watch(points)
        log_q = q.log_prob(points)
    score = tape.gradient(log_q, points)
    with tf.GradientTape() as tape:
        z_again, _ = q.transform(eps)
    reference = tape.gradient(z_again, q.trainable_weights, output_gradients=score)
    for g, r, w in zip(grads, reference, q.trainable_weights):
        np.testing.assert_allclose(g, r, rtol=2e-3, atol=2e-4, err_msg=w.path)
    with pytest.raises(NotImplementedError, match="path_transform"):   # not from z alone
        q.path_log_prob(z)


@pytest.mark.parametrize("flow", [lambda: tfvae.flows.RealNVP(num_layers=2, hidden_units=(8,)),
                                  lambda: tfvae.flows.Planar(num_layers=2, seed=0)])
def test_flow_family_path_gradient_vanishes_at_the_exact_optimum(flow):
    """q = p (an identity flow on the target's own Gaussian): the ELBO's
    path gradient is 0 on every draw, for the flow's weights too; the plain
    reparameterised gradient is not (its score term is noise of mean zero)."""
    mean, cov = np.array([1.0, -2.0]), np.array([[2.0, 0.6], [0.6, 0.5]])
    target, _ = tfvae.vi.targets.gaussian(mean, cov)
    q = FlowFamily(flow(), 2, base="full_rank")
    chol = np.linalg.cholesky(cov)
    q.base_family.loc.assign(mean.astype("float32"))
    raw = np.tril(chol, -1) + np.diag(np.log(np.expm1(np.diag(chol))))
    q.base_family.raw_scale_tril.assign(raw.astype("float32"))
    eps = q.noise(16, seed=0)

    def grads(transform):
        with tf.GradientTape() as tape:
            z, log_q = transform(eps)
            elbo = tf.reduce_mean(target(z) - log_q)
        return [g for g in tape.gradient(elbo, q.trainable_weights) if g is not None]

    path, plain = grads(q.path_transform), grads(q.transform)
    assert max(float(tf.reduce_max(tf.abs(g))) for g in path) < 1e-4
    assert max(float(tf.reduce_max(tf.abs(g))) for g in plain) > 0.1
