import numpy as np
import pytest
import tensorflow as tf

from tests import checks
from tfvae.flows.linear import LULinear


def _factory(**kw):
    return LULinear(seed=3, **kw)


def test_init_is_orthogonal_and_seeded():
    flow, x, _ = checks.build_flow(_factory, (4,), dtype="float64", randomize=False)
    jac = checks.jacobian(flow, x)[0].numpy()
    np.testing.assert_allclose(jac @ jac.T, np.eye(4), atol=1e-12)
    _, log_det = flow(x)
    np.testing.assert_allclose(log_det.numpy(), 0.0, atol=1e-12)
    again, _, _ = checks.build_flow(_factory, (4,), dtype="float64", randomize=False)
    np.testing.assert_array_equal(again.lower_upper.numpy(), flow.lower_upper.numpy())


def test_permutation_is_not_trainable():
    flow, _, _ = checks.build_flow(_factory, (4,))
    assert [w.name for w in flow.trainable_weights] == ["lower_upper"]
    assert flow.permutation.dtype == "int32"


def test_first_call_inside_xla_builds_eagerly():
    flow = LULinear(seed=0)
    x, _ = checks.make_inputs((3,), "float32")
    y, log_det = tf.function(lambda x: flow(x), jit_compile=True)(x)
    checks.assert_close(log_det, tf.zeros_like(log_det), "float32")
    checks.assert_close(tf.norm(y, axis=-1), tf.norm(x, axis=-1), "float32")


def test_errors():
    with pytest.raises(ValueError, match="`dim`"):
        LULinear(dim=0)
    with pytest.raises(ValueError, match="`seed`"):
        LULinear(seed=0.5)
    with pytest.raises(ValueError, match=r"\(batch, 3\)"):
        LULinear(dim=3)(tf.zeros((2, 4)))



def test_context_is_ignored():
    flow, x, _ = checks.build_flow(_factory, (4,))
    for a, b in zip(flow(x), flow(x, context=tf.ones((3, 2)))):
        checks.assert_close(a, b, "float32")
