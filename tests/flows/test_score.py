"""∇_z log q(z) of a flow density from its forward pass (`tfvae.flows.score`):
the closed-form Jacobian path (planar, Sylvester, chains of them) against
the `batch_jacobian` path, and against a finite difference of log q along
the flow (for IAF the score is checked against its inverse in
tests/models/test_vae_dreg.py)."""

import numpy as np
import pytest
import tensorflow as tf

from tests import checks
from tfvae import flows as F
from tfvae.flows.score import flow_sample_and_score
from tfvae.posteriors import DiagonalGaussian

FLOWS = {
    "planar": lambda: F.Planar(num_layers=3, seed=0, dtype="float64"),
    "sylvester_orthogonal": lambda: F.Sylvester(2, 3, "orthogonal", seed=0, dtype="float64"),
    "sylvester_householder": lambda: F.Sylvester(2, 2, "householder", seed=1, dtype="float64"),
    "chain": lambda: F.Chain([F.Planar(num_layers=2, seed=2, dtype="float64"),
                              F.Sylvester(1, None, "triangular", seed=3, dtype="float64")], dtype="float64"),
}


def _setup(name):
    flow = FLOWS[name]()
    rng = np.random.default_rng(0)
    u = tf.constant(rng.normal(size=(5, 4)))
    context = tf.constant(rng.normal(size=(5, 3)))
    flow(u, context=context)
    checks.randomize_weights(flow, seed=1, scale=0.5)
    loc, scale = tf.constant(rng.normal(size=(5, 4))), tf.constant(rng.uniform(0.5, 1.5, size=(5, 4)))
    return flow, u, context, lambda v: DiagonalGaussian.log_prob(v, loc, scale)


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_closed_form_score_matches_batch_jacobian(name, monkeypatch):
    flow, u, context, base = _setup(name)
    assert flow.closed_form_jacobian
    fast = flow_sample_and_score(flow, u, base, context)
    monkeypatch.setattr(type(flow), "closed_form_jacobian", property(lambda self: False))
    assert not flow.closed_form_jacobian
    slow = flow_sample_and_score(flow, u, base, context)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_score_is_the_gradient_of_log_q_along_the_flow(name):
    """s · (z(u + εd) − z(u − εd)) / 2ε = (log q(z(u + εd)) − log q(z(u − εd))) / 2ε
    to O(ε²): the score checked without any Jacobian of ours."""
    flow, u, context, base = _setup(name)
    z, log_q, score = flow_sample_and_score(flow, u, base, context)
    direction = tf.constant(np.random.default_rng(5).normal(size=u.shape))
    eps = 1e-5

    def moved(sign):
        zs, log_det = flow(u + sign * eps * direction, context=context)
        return zs, base(u + sign * eps * direction) - log_det

    (z_plus, lq_plus), (z_minus, lq_minus) = moved(1.0), moved(-1.0)
    lhs = tf.reduce_sum(score * (z_plus - z_minus), -1) / (2 * eps)
    rhs = (lq_plus - lq_minus) / (2 * eps)
    np.testing.assert_allclose(lhs.numpy(), rhs.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(log_q.numpy(), (base(u) - flow(u, context=context)[1]).numpy(), rtol=1e-12)


def test_forward_and_jacobian_needs_vector_events():
    with pytest.raises(ValueError, match="vector events"):
        F.ActNorm().forward_and_jacobian(tf.zeros((2, 2, 2, 1)))
