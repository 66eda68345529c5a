import numpy as np
import pytest

from tests import checks
from tfvae.flows.actnorm import ActNorm
from tfvae.flows.conv1x1 import InvertibleConv1x1


def test_repeated_eager_call_keeps_gradients():
    # TFP's global bijector cache once returned a stale, tape-less result
    # when the same tensor went through an unchanged flow twice.
    import tensorflow as tf
    flow, x, _ = checks.build_flow(lambda **kw: ActNorm(**kw), (2, 2, 3))
    y_outside, _ = flow(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y, log_det = flow(x)
        loss = tf.reduce_sum(y) + tf.reduce_sum(log_det)
    grads = tape.gradient(loss, [x] + flow.trainable_weights)
    assert all(g is not None for g in grads)


def test_actnorm_data_init_normalises_first_batch_only():
    rng = np.random.default_rng(0)
    x = (3.0 + 2.0 * rng.standard_normal((64, 2, 2, 3))).astype("float32")
    flow = ActNorm()
    y, log_det = flow(x)
    np.testing.assert_allclose(np.mean(y, axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(np.std(y, axis=(0, 1, 2)), 1.0, atol=1e-4)
    np.testing.assert_allclose(log_det, 4 * np.sum(np.asarray(flow.log_scale)), rtol=1e-6)
    y2, _ = flow(x + 10.0)  # a second batch must not re-initialise
    np.testing.assert_allclose(y2 - y, np.broadcast_to(10.0 * np.exp(np.asarray(flow.log_scale)), y.shape),
                               rtol=1e-4)


def test_conv1x1_log_det_is_hw_sum_log_s():
    flow, x, _ = checks.build_flow(lambda **kw: InvertibleConv1x1(seed=2, **kw), (3, 2, 4))
    _, log_det = flow(x)
    np.testing.assert_allclose(log_det, 6 * np.sum(np.asarray(flow.log_abs_s)), rtol=1e-5)
    w = flow.make_bijector().forward(np.eye(4, dtype="float32")[:, None, None, :])[:, 0, 0, :]
    np.testing.assert_allclose(np.linalg.slogdet(np.asarray(w))[1], np.sum(np.asarray(flow.log_abs_s)),
                               rtol=1e-5)


from tfvae.flows.glow import Glow  # noqa: E402


def test_glow_bad_size():
    with pytest.raises(ValueError, match="divisible by 4"):
        Glow(levels=2, steps=1, hidden_channels=4)(np.zeros((1, 6, 4, 1), "float32"))
    with pytest.raises(ValueError, match="`levels`"):
        Glow(levels=0)


def test_actnorm_data_init_from_the_inverse_normalises_the_output():
    """A bare ActNorm in FlowModel or a FlowPrior meets data through its inverse: initialise there."""
    rng = np.random.default_rng(1)
    y = (-2.0 + 0.5 * rng.standard_normal((64, 2, 2, 3))).astype("float32")
    flow = ActNorm()
    x, log_det = flow.inverse(y)
    np.testing.assert_allclose(np.mean(x, axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(np.std(x, axis=(0, 1, 2)), 1.0, atol=1e-4)
    np.testing.assert_allclose(log_det, -4 * np.sum(np.asarray(flow.log_scale)), rtol=1e-6)
    x2, _ = flow.inverse(y + 1.0)  # no re-initialisation on the second batch
    np.testing.assert_allclose(np.mean(x2 - x), np.mean(np.exp(-np.asarray(flow.log_scale))), rtol=1e-4)


def test_glow_inverse_is_the_density_direction():
    """Glow's inverse maps an image to its latent and runs ActNorm's data init."""
    x = np.random.default_rng(2).uniform(size=(16, 4, 4, 1)).astype("float32") * 3 + 1
    glow = Glow(levels=2, steps=1, hidden_channels=4)
    z, _ = glow.inverse(x)
    first = glow.level_flows[0].flows[0]
    assert isinstance(first, ActNorm) and float(first.initialized) == 1.0
    np.testing.assert_allclose(glow(z)[0], x, atol=1e-4)
