import numpy as np
import pytest
import tensorflow as tf

from tests import checks
from tfvae.flows.sylvester import Sylvester, householder_product, orthogonalize, qr_orthonormalize

KINDS = {"orthogonal": 2, "householder": 2, "triangular": None}


def _factory(kind, context_dim=None):
    return lambda **kw: Sylvester(num_layers=2, num_ortho_vectors=KINDS[kind], kind=kind,
                                  context_size=context_dim, seed=0, **kw)


def test_orthogonalize_and_householder_give_orthonormal_columns():
    rng = np.random.default_rng(0)
    raw = tf.constant(rng.standard_normal((5, 6, 3)))
    for q in (orthogonalize(raw), qr_orthonormalize(raw)):
        np.testing.assert_allclose(tf.matmul(q, q, transpose_a=True).numpy(),
                                   np.broadcast_to(np.eye(3), (5, 3, 3)), atol=1e-12)
    # QR: the same column span, in Gram-Schmidt order, with a positive-diagonal R
    q = qr_orthonormalize(raw)
    r = tf.matmul(q, raw, transpose_a=True).numpy()
    np.testing.assert_allclose(tf.matmul(q, r).numpy(), raw.numpy(), atol=1e-12)
    np.testing.assert_allclose(np.tril(r, -1), 0, atol=1e-12)
    assert np.all(np.diagonal(r, axis1=1, axis2=2) > 0)
    h = householder_product(tf.constant(rng.standard_normal((5, 2, 4))))
    np.testing.assert_allclose(tf.matmul(h, h, transpose_a=True).numpy(), np.broadcast_to(np.eye(4), (5, 4, 4)),
                               atol=1e-12)


@pytest.mark.parametrize("orthogonalization", ["qr", "polar"])
def test_both_orthogonalizations_give_exact_log_dets(orthogonalization):
    checks.check_log_det_matches_jacobian(
        lambda **kw: Sylvester(num_layers=2, num_ortho_vectors=2, context_size=3, seed=0,
                               orthogonalization=orthogonalization, **kw), (4,), context_dim=3)


def test_configs_saved_before_the_qr_option_reload_as_polar():
    flow = Sylvester(num_layers=2, num_ortho_vectors=2, seed=0, orthogonalization="polar")
    config = flow.get_config()
    assert Sylvester.from_config(config).orthogonalization == "polar"
    del config["orthogonalization"]
    assert Sylvester.from_config(config).orthogonalization == "polar"
    assert Sylvester(num_ortho_vectors=2).orthogonalization == "qr"


def test_diagonal_constraint_holds_for_adversarial_parameters():
    flow, x, _ = checks.build_flow(_factory("triangular"), (4,), dtype="float64", randomize=False)
    # Raw diagonals chosen so raw r_ii r̃_ii = -100 (singular maps without tanh).
    eye = np.eye(4).reshape(-1)
    flow.parameter_weights["r"].assign(np.tile(10.0 * eye, 2))
    flow.parameter_weights["r_tilde"].assign(np.tile(-10.0 * eye, 2))
    x = tf.concat([x, tf.zeros((1, 4), tf.float64)], axis=0)
    sign, _ = np.linalg.slogdet(checks.jacobian(flow, x).numpy())
    assert np.all(sign > 0)
    _, log_det = flow(x)
    assert np.all(np.isfinite(log_det.numpy()))


def test_no_inverse():
    flow, x, c = checks.build_flow(_factory("orthogonal", 3), (4,), context_dim=3)
    with pytest.raises(NotImplementedError, match="Sylvester has no closed-form inverse"):
        flow.inverse(x, context=c)
    bijector = flow.make_bijector(c)
    checks.assert_close(bijector.forward(x), flow(x, context=c)[0], "float32")
    with pytest.raises(NotImplementedError, match="no closed-form inverse"):
        bijector.inverse(x)


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_layers=0), "`num_layers`"),
    (dict(kind="diagonal"), "`kind`"),
    (dict(num_ortho_vectors=0), "`num_ortho_vectors`"),
    (dict(kind="triangular", num_ortho_vectors=2), "`num_ortho_vectors`"),
    (dict(seed=1.0), "`seed`"),
    (dict(orthogonalization="gram-schmidt"), "`orthogonalization`"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Sylvester(**kwargs)


def test_too_many_ortho_vectors():
    with pytest.raises(ValueError, match="num_ortho_vectors"):
        Sylvester(num_ortho_vectors=5)(tf.zeros((2, 4)))
