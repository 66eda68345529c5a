"""Element-wise transformers and the direction of every structure using them.

Each structure is pinned by a one-dimensional formula: the conditioner's
last layer is set to a constant output θ (kernel 0, bias θ), so the layer
must compute the documented map of θ exactly.
"""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfvae import flows
from tfvae.flows import transformers

X = np.array([-4.0, -1.3, -0.2, 0.0, 0.7, 1.9, 4.5])


def _params(rng, num_params, shape=X.shape):
    return tf.unstack(tf.constant(rng.standard_normal(shape + (num_params,))), axis=-1)


@pytest.mark.parametrize("transformer", [
    transformers.Affine(), transformers.Affine(3.0), transformers.Additive(),
    transformers.Inverse(transformers.Affine(2.0)), transformers.RationalQuadraticSpline(5, 2.0),
    transformers.Inverse(transformers.RationalQuadraticSpline(3, 1.0)),
], ids=["affine", "affine_clamped", "additive", "inverse_affine", "spline", "inverse_spline"])
def test_round_trip_derivative_and_identity(transformer):
    rng = np.random.default_rng(0)
    x = tf.constant(X)
    params = _params(rng, transformer.num_params)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y, log_det = transformer.forward(x, params)
    derivative = tape.gradient(y, x)  # element-wise map: the gradient is dy_i/dx_i
    np.testing.assert_allclose(log_det, np.log(np.abs(derivative)), rtol=1e-9, atol=1e-9)
    x_back, inverse_log_det = transformer.inverse(y, params)
    np.testing.assert_allclose(x_back, X, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(inverse_log_det, -log_det, rtol=1e-9, atol=1e-9)
    zero = [tf.zeros(X.shape, tf.float64)] * transformer.num_params
    identity, identity_log_det = transformer.forward(x, zero)
    np.testing.assert_allclose(identity, X, atol=1e-12)
    np.testing.assert_allclose(identity_log_det, 0.0, atol=1e-12)


def test_affine_formula():
    y, log_det = transformers.Affine(3.0).forward(tf.constant([2.0]), [tf.constant([1.0]), tf.constant([0.5])])
    s = 3.0 * np.tanh(0.5 / 3.0)
    np.testing.assert_allclose(y, [2.0 * np.exp(s) + 1.0])
    np.testing.assert_allclose(log_det, [s])


def test_spline_matches_tfp_and_is_identity_outside():
    rng = np.random.default_rng(1)
    k, bound = 4, 2.0
    spline = transformers.RationalQuadraticSpline(k, bound, 1e-3, 1e-3, 1e-3)
    params = _params(rng, 3 * k - 1)
    _, _, widths, heights, _, right_derivatives = spline._spline(params)
    reference = tfp.bijectors.RationalQuadraticSpline(
        bin_widths=widths, bin_heights=heights, knot_slopes=right_derivatives[..., :-1], range_min=-bound)
    x = tf.constant(X)
    y, log_det = spline.forward(x, params)
    np.testing.assert_allclose(y, reference.forward(x), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(log_det, reference.forward_log_det_jacobian(x, event_ndims=0), atol=1e-10)
    outside = np.abs(X) > bound
    np.testing.assert_array_equal(np.asarray(y)[outside], X[outside])
    np.testing.assert_array_equal(np.asarray(log_det)[outside], 0.0)


def _set_constant_output(kernel, bias, theta):
    kernel.assign(np.zeros(kernel.shape))
    bias.assign(np.asarray(theta, dtype="float64"))


def test_affine_coupling_direction():
    layer = flows.AffineCoupling("alternating", 0, hidden_units=(4,), log_scale_clamp=3.0, dtype="float64")
    x = tf.constant([[0.3, 2.0]], tf.float64)  # parity 0 keeps x_0, transforms x_1
    layer(x)
    t, r = 1.5, 0.8  # per channel c: shift at c, raw log-scale at C + c
    _set_constant_output(layer.conditioner.weights[-2], layer.conditioner.weights[-1], [0.0, t, 0.0, r])
    y, log_det = layer(x)
    s = 3.0 * np.tanh(r / 3.0)
    np.testing.assert_allclose(y, [[0.3, (2.0 - t) * np.exp(-s)]])
    np.testing.assert_allclose(log_det, [-s])


def test_additive_and_spline_coupling_direction():
    x = tf.constant([[0.3, 0.9]], tf.float64)
    additive = flows.AdditiveCoupling("alternating", 0, hidden_units=(4,), dtype="float64")
    additive(x)
    _set_constant_output(additive.conditioner.weights[-2], additive.conditioner.weights[-1], [0.0, 0.4])
    np.testing.assert_allclose(additive(x)[0], [[0.3, 0.9 - 0.4]])
    spline = flows.NeuralSplineCoupling("alternating", 0, hidden_units=(4,), num_bins=3, bound=2.0,
                                        dtype="float64")
    spline(x)
    theta = np.random.default_rng(2).standard_normal((8, 2))  # 3K - 1 = 8 numbers per channel
    _set_constant_output(spline.conditioner.weights[-2], spline.conditioner.weights[-1], theta.ravel())
    expected, expected_log_det = transformers.RationalQuadraticSpline(3, 2.0).forward(
        tf.constant([0.9], tf.float64), [tf.constant([v]) for v in theta[:, 1]])
    y, log_det = spline(x)
    np.testing.assert_allclose(y, [[0.3, float(expected[0])]])
    np.testing.assert_allclose(log_det, expected_log_det)


@pytest.mark.parametrize("cls, forward", [
    (flows.MAF, lambda x, mu, s: x * np.exp(s) + mu),
    (flows.IAF, lambda x, mu, s: (x - mu) * np.exp(-s)),
])
def test_affine_autoregressive_direction(cls, forward):
    # With D = 1 the MADE's output depends on nothing: θ is its output bias.
    flow = cls(num_layers=1, hidden_units=(4,), log_scale_bound=3.0, dtype="float64")
    x = tf.constant([[2.0]], tf.float64)
    flow(x)
    made = flow.mades[0]
    mu, r = -0.7, 0.6
    _set_constant_output(made.output_kernel, made.output_bias, [mu, r])
    s = 3.0 * np.tanh(r / 3.0)
    y, log_det = flow(x)
    np.testing.assert_allclose(y, [[forward(2.0, mu, s)]])
    np.testing.assert_allclose(log_det, [s if cls is flows.MAF else -s])


@pytest.mark.parametrize("cls", [flows.SplineMAF, flows.SplineIAF])
def test_spline_autoregressive_direction(cls):
    flow = cls(num_layers=1, hidden_units=(4,), num_bins=3, bound=2.0, dtype="float64")
    x = tf.constant([[0.9]], tf.float64)
    flow(x)
    theta = np.random.default_rng(3).standard_normal(8)
    _set_constant_output(flow.mades[0].output_kernel, flow.mades[0].output_bias, theta)
    spline = transformers.RationalQuadraticSpline(3, 2.0)
    direction = spline.forward if cls is flows.SplineMAF else spline.inverse
    expected, expected_log_det = direction(tf.constant([0.9], tf.float64), [tf.constant([v]) for v in theta])
    y, log_det = flow(x)
    np.testing.assert_allclose(y, [[float(expected[0])]])
    np.testing.assert_allclose(log_det, expected_log_det)


def test_get_names_transformers():
    assert isinstance(transformers.get("spline", num_bins=4), transformers.RationalQuadraticSpline)
    assert isinstance(transformers.get("inverse_affine"), transformers.Inverse)
    with pytest.raises(ValueError, match="transformer name"):
        transformers.get("cubic")
