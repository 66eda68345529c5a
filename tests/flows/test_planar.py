import numpy as np
import pytest
import tensorflow as tf

from tests import checks
from tfvae.flows.planar import Planar, constrained_u


def _factory(context_dim=None):
    return lambda **kw: Planar(num_layers=3, context_size=context_dim, seed=0, **kw)


def test_constraint_holds_for_adversarial_parameters():
    rng = np.random.default_rng(0)
    w = tf.constant(rng.standard_normal((50, 4)))
    u = -3.0 * w / tf.reduce_sum(w * w, -1, keepdims=True)  # wᵀu = -3 < -1: not invertible raw
    assert np.all(tf.reduce_sum(w * u, -1).numpy() < -1)
    u_hat = constrained_u(u, w)
    assert np.all(tf.reduce_sum(w * u_hat, -1).numpy() > -1)

    flow, x, _ = checks.build_flow(_factory(), (4,), dtype="float64", randomize=False)
    flow.parameter_weights["u"].assign(np.reshape(u.numpy()[:3], (-1,)))
    flow.parameter_weights["w"].assign(np.reshape(w.numpy()[:3], (-1,)))
    # Every example, even where tanh' = 1 (wᵀz + b = 0), has det > 0.
    x = tf.concat([x, tf.zeros((1, 4), tf.float64)], axis=0)
    sign, _ = np.linalg.slogdet(checks.jacobian(flow, x).numpy())
    assert np.all(sign > 0)
    _, log_det = flow(x)
    assert np.all(np.isfinite(log_det.numpy()))
    # Monotone along w: the 1-D map t -> wᵀf(t w) of a single layer is increasing.
    single = Planar(num_layers=1, dtype="float64")
    single(x)
    single.parameter_weights["u"].assign(u.numpy()[0])
    single.parameter_weights["w"].assign(w.numpy()[0])
    t = tf.linspace(tf.constant(-5.0, tf.float64), 5.0, 201)[:, None] * w[0][None] / tf.norm(w[0])
    s = tf.reduce_sum(single(t)[0] * w[0], -1).numpy()
    assert np.all(np.diff(s) > 0)


def test_bijector_matches_layer_and_has_no_inverse():
    for context_dim in (None, 2):
        flow, x, c = checks.build_flow(_factory(context_dim), (4,), context_dim=context_dim)
        y, log_det = flow(x, context=c)
        bijector = flow.make_bijector(c)
        checks.assert_close(bijector.forward(x), y, "float32")
        checks.assert_close(bijector.forward_log_det_jacobian(x, event_ndims=1), log_det, "float32")
        with pytest.raises(NotImplementedError, match="no closed-form inverse"):
            flow.inverse(y, context=c)
        with pytest.raises(NotImplementedError, match="no closed-form inverse"):
            bijector.inverse(y)
        with pytest.raises(NotImplementedError, match="no closed-form inverse"):
            bijector.inverse_log_det_jacobian(y, event_ndims=1)


def test_amortised_parameters_differ_per_example():
    flow, x, c = checks.build_flow(_factory(3), (4,), context_dim=3)
    same_x = tf.repeat(x[:1], 3, axis=0)
    y, _ = flow(same_x, context=c)
    assert not np.allclose(y[0].numpy(), y[1].numpy())
    with pytest.raises(ValueError, match="pass `context`"):
        flow(x)


def test_errors():
    with pytest.raises(ValueError, match="`num_layers`"):
        Planar(num_layers=0)
    with pytest.raises(ValueError, match="`context_size`"):
        Planar(context_size=0)
    with pytest.raises(ValueError, match=r"\(batch, D\)"):
        Planar()(tf.zeros((2, 2, 2)))
