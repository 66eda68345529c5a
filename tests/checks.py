"""Checks every flow must pass, shared by all flow tests.

Each check takes a *factory* and an *event shape*:

    factory(dtype="float64") -> a fresh, unbuilt flow layer
    event_shape: the shape of one example, e.g. `(4,)` or `(4, 4, 2)`

so the same check runs on vector and image flows, in float32 and float64.
A flow whose conditioners take a context is tested by passing
`context_dim=c` (the factory must build a flow that accepts a `(batch, c)`
context).

Which checks apply is never passed in: it is read from the capabilities
the flow itself declares (`has_inverse`, `identity_at_init`,
`triangular_order`, `closed_form_jacobian`, trainable weights). A check that does not apply calls
`pytest.skip` with the reason, so it shows as skipped, never as a vacuous
pass; `RESULTS` counts the checks run and skipped per flow class, and the
test session prints that table at the end (see `tests/conftest.py`).

Identity-initialised flows are uninteresting to test (every check passes on
the identity), so most checks first `randomize_weights` the flow: small noise
on every trainable weight turns it into a generic invertible map.

Typical use:

    from tests import checks

    @pytest.mark.parametrize("check", checks.ALL_CHECKS)
    def test_realnvp(check, tmp_path):
        check(lambda **kw: RealNVP(num_layers=2, hidden_units=(8,), **kw), (4,), tmp_path=tmp_path)

or `checks.check_flow(factory, (4,), tmp_path=tmp_path)` to run all of them.
"""

import collections
import functools
import os

import tfvae  # noqa: F401  (quiet TF logs, Keras 3 backend)

import keras
import numpy as np
import pytest
import tensorflow as tf

DTYPES = ("float32", "float64")
TOLERANCE = {"float32": dict(rtol=2e-4, atol=2e-4), "float64": dict(rtol=1e-8, atol=1e-8)}
BATCH = 3


# ----------------------------------------------------------------- helpers

def randomize_weights(layer, seed=0, scale=0.1):
    """Adds `scale`-sized Gaussian noise to every trainable weight of `layer`.

    Zero-initialised conditioners make a fresh flow the identity, which
    would let a wrong log-det or inverse pass; perturbing every trainable
    weight gives a generic map. Non-trainable state (permutations, LU
    pivots, ActNorm's `initialized` flag) is left alone because it is not
    free to change.
    """
    rng = np.random.default_rng(seed)
    for w in layer.trainable_weights:
        value = keras.ops.convert_to_numpy(w)
        w.assign((value + scale * rng.standard_normal(value.shape)).astype(value.dtype))
    return layer


def make_inputs(event_shape, dtype, context_dim=None, batch=BATCH, seed=0, scale=1.0):
    """Seeded `(x, context)`; `context` is None when `context_dim` is None."""
    rng = np.random.default_rng(seed)
    x = tf.constant(scale * rng.standard_normal((batch, *event_shape)), dtype=dtype)
    context = None
    if context_dim:
        context = tf.constant(rng.standard_normal((batch, context_dim)), dtype=dtype)
    return x, context


def build_flow(factory, event_shape, dtype="float32", context_dim=None, seed=0, randomize=True,
               scale=0.1):
    """Builds a flow by calling it once (this also runs any data-dependent
    initialisation, e.g. ActNorm), then optionally randomizes its weights.

    Returns `(flow, x, context)`, the inputs used to build it.
    """
    flow = factory(dtype=dtype)
    x, context = make_inputs(event_shape, dtype, context_dim, seed=seed)
    flow(x, context=context)
    if randomize:
        randomize_weights(flow, seed=seed + 1, scale=scale)
    return flow, x, context


def assert_close(actual, expected, dtype, msg="", factor=1.0):
    tol = {k: factor * v for k, v in TOLERANCE[dtype].items()}
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(actual), keras.ops.convert_to_numpy(expected), err_msg=msg, **tol)


def _np(t):
    return keras.ops.convert_to_numpy(t)


def jacobian(flow, x, context=None):
    """Dense Jacobian dy/dx per example, `(batch, n, n)` with n = prod(event)."""
    batch = x.shape[0]
    with tf.GradientTape() as tape:
        tape.watch(x)
        y, _ = flow(x, context=context)
        y = tf.reshape(y, (batch, -1))
    jac = tape.batch_jacobian(y, x)
    return tf.reshape(jac, (batch, y.shape[-1], -1))


@keras.saving.register_keras_serializable(package="tfvae_tests")
class FlowHolder(keras.Model):
    """The smallest model that owns a flow, for `.keras` round trips."""

    def __init__(self, flow, **kwargs):
        super().__init__(**kwargs)
        self.flow = flow

    def build(self, *args, **kwargs):
        # The flow rebuilds itself from its own build config on loading;
        # tracing `call` symbolically (Keras's default) would hand TFP
        # KerasTensors, which it cannot handle.
        self.built = True

    def call(self, x, context=None):
        return self.flow(x, context=context)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "flow": keras.saving.serialize_keras_object(self.flow)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        flow = keras.saving.deserialize_keras_object(config.pop("flow"))
        return cls(flow, **config)


# ------------------------------------------------------------------ checks

# {flow class name: Counter({"run": n, "skipped": m})}, filled by every check.
RESULTS = collections.defaultdict(collections.Counter)


def _counted(check):
    """Records whether `check` ran or was skipped, per flow class."""
    @functools.wraps(check)
    def wrapper(factory, event_shape, **options):
        name = type(factory()).__name__
        try:
            result = check(factory, event_shape, **options)
        except pytest.skip.Exception:
            RESULTS[name]["skipped"] += 1
            raise
        RESULTS[name]["run"] += 1
        return result
    return wrapper


def _require(condition, reason):
    if not condition:
        pytest.skip(reason)


def _has_inverse(factory):
    return factory().has_inverse


@_counted
def check_round_trip(factory, event_shape, context_dim=None, dtypes=DTYPES, **_):
    """inverse(forward(x)) == x and forward(inverse(y)) == y."""
    _require(_has_inverse(factory), "declares has_inverse=False")
    for dtype in dtypes:
        flow, x, c = build_flow(factory, event_shape, dtype, context_dim)
        y, _ = flow(x, context=c)
        # Shape-changing flows (Squeeze) are allowed; batch and dtype are not.
        assert y.shape[0] == x.shape[0] and y.dtype == x.dtype, (y.shape, y.dtype)
        x_back, _ = flow.inverse(y, context=c)
        assert_close(x_back, x, dtype, "inverse(forward(x)) != x", factor=10)
        y2, _ = flow(x_back, context=c)
        assert_close(y2, y, dtype, "forward(inverse(y)) != y", factor=10)


@_counted
def check_log_det_matches_jacobian(factory, event_shape, context_dim=None, **_):
    """The flow's log-det equals log|det J| of the autodiff Jacobian (float64),
    forward and (when there is one) inverse."""
    flow, x, c = build_flow(factory, event_shape, "float64", context_dim)
    y, log_det = flow(x, context=c)
    assert tuple(log_det.shape) == (x.shape[0],), log_det.shape
    sign, expected = np.linalg.slogdet(_np(jacobian(flow, x, c)))
    assert np.all(sign != 0), "Jacobian is singular"
    np.testing.assert_allclose(_np(log_det), expected, rtol=1e-7, atol=1e-7)
    if flow.has_inverse:
        _, inverse_log_det = flow.inverse(y, context=c)
        sign, expected = np.linalg.slogdet(_np(jacobian(flow.inverse, y, c)))
        assert np.all(sign != 0), "inverse Jacobian is singular"
        np.testing.assert_allclose(_np(inverse_log_det), expected, rtol=1e-7, atol=1e-7)


@_counted
def check_closed_form_jacobian(factory, event_shape, context_dim=None, **_):
    """A flow declaring `closed_form_jacobian`: `forward_and_jacobian` gives
    the forward pass's y and log-det and the autodiff Jacobian (float64),
    and its J is differentiable like any other output."""
    _require(factory().closed_form_jacobian, "declares closed_form_jacobian=False")
    flow, x, c = build_flow(factory, event_shape, "float64", context_dim)
    y, log_det = flow(x, context=c)
    with tf.GradientTape() as tape:
        y2, log_det2, jac = flow.forward_and_jacobian(x, context=c)
        total = tf.reduce_sum(jac ** 2)
    np.testing.assert_allclose(_np(y2), _np(y), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(log_det2), _np(log_det), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(jac), _np(jacobian(flow, x, c)), rtol=1e-10, atol=1e-10)
    grads = tape.gradient(total, flow.trainable_weights)
    assert grads and all(g is not None for g in grads), "J does not reach every weight"


@_counted
def check_inverse_log_det(factory, event_shape, context_dim=None, dtypes=DTYPES, **_):
    """log|det dy/dx|(x) == -log|det dx/dy|(y) at y = f(x)."""
    _require(_has_inverse(factory), "declares has_inverse=False")
    for dtype in dtypes:
        flow, x, c = build_flow(factory, event_shape, dtype, context_dim)
        y, forward_log_det = flow(x, context=c)
        _, inverse_log_det = flow.inverse(y, context=c)
        assert tuple(inverse_log_det.shape) == (x.shape[0],), inverse_log_det.shape
        assert_close(forward_log_det, -inverse_log_det, dtype, "forward log-det != -inverse log-det",
                     factor=10)


@_counted
def check_finite_at_edge(factory, event_shape, context_dim=None, dtypes=DTYPES, edge_scale=30.0, **_):
    """Large inputs (far in the tails) still give finite outputs and log-dets."""
    for dtype in dtypes:
        flow, _, _ = build_flow(factory, event_shape, dtype, context_dim)
        x, c = make_inputs(event_shape, dtype, context_dim, seed=7, scale=edge_scale)
        outs = list(flow(x, context=c))
        if flow.has_inverse:
            outs += list(flow.inverse(outs[0] * 2.0, context=c))
        for t in outs:
            assert np.all(np.isfinite(_np(t))), f"non-finite output at |x| ~ {edge_scale} ({dtype})"


@_counted
def check_triangular_jacobian(factory, event_shape, context_dim=None, **_):
    """Flows declaring a `triangular_order` (autoregressive, coupling,
    element-wise): under that order dy/dx is lower triangular with a
    non-zero diagonal, and not diagonal (the conditioner is used)."""
    flow, x, c = build_flow(factory, event_shape, "float64", context_dim)
    order = flow.triangular_order
    _require(order is not None, "declares no triangular_order")
    jac = _np(jacobian(flow, x, c))[:, order][:, :, order]
    n = jac.shape[-1]
    upper = np.triu(np.ones((n, n)), 1)
    np.testing.assert_array_equal(jac * upper, 0.0, err_msg="Jacobian is not lower triangular in its order")
    assert np.all(np.abs(np.diagonal(jac, axis1=1, axis2=2)) > 0), "zero on the Jacobian's diagonal"


@_counted
def check_identity_at_init(factory, event_shape, context_dim=None, **_):
    """A fresh flow is the identity with zero log-det (zero-init conditioners)."""
    _require(factory().identity_at_init, "declares identity_at_init=False")
    flow, x, c = build_flow(factory, event_shape, "float32", context_dim, randomize=False)
    y, log_det = flow(x, context=c)
    assert_close(y, x, "float32", "fresh flow is not the identity")
    assert_close(log_det, tf.zeros_like(log_det), "float32", "fresh flow has non-zero log-det")
    if flow.has_inverse:
        x_back, inv_log_det = flow.inverse(y, context=c)
        assert_close(x_back, x, "float32")
        assert_close(inv_log_det, tf.zeros_like(inv_log_det), "float32")


@_counted
def check_config_round_trip(factory, event_shape, context_dim=None, **_):
    """from_config(get_config()) rebuilds the same flow; with the same
    weights it computes the same function."""
    flow, x, c = build_flow(factory, event_shape, "float32", context_dim)
    config = flow.get_config()
    clone = type(flow).from_config(config)
    assert clone.get_config() == config
    clone(x, context=c)
    clone.set_weights(flow.get_weights())
    for a, b in zip(flow(x, context=c), clone(x, context=c)):
        np.testing.assert_array_equal(_np(a), _np(b))


@_counted
def check_keras_round_trip(factory, event_shape, context_dim=None, tmp_path=None, **_):
    """Save/load inside a `.keras` file: equal outputs, also at a new batch size."""
    import tempfile

    directory = str(tmp_path) if tmp_path is not None else tempfile.mkdtemp()
    flow, x, c = build_flow(factory, event_shape, "float32", context_dim)
    model = FlowHolder(flow)
    model(x, context=c)
    path = os.path.join(directory, f"{flow.name}.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    x5, c5 = make_inputs(event_shape, "float32", context_dim, batch=5, seed=3)
    for xs, cs in ((x, c), (x5, c5)):
        outputs = model(xs, context=cs)
        for a, b in zip(outputs, loaded(xs, context=cs)):
            np.testing.assert_array_equal(_np(a), _np(b))
        if flow.has_inverse:
            ys = outputs[0] + 0.1
            for a, b in zip(flow.inverse(ys, context=cs), loaded.flow.inverse(ys, context=cs)):
                np.testing.assert_array_equal(_np(a), _np(b))


@_counted
def check_compiled_matches_eager(factory, event_shape, context_dim=None, jit=True, **_):
    """Eager == `tf.function` == `tf.function(jit_compile=True)` (XLA)."""
    flow, x, c = build_flow(factory, event_shape, "float32", context_dim)
    fns = {"forward": (x, lambda x, c: flow(x, context=c))}
    if flow.has_inverse:
        fns["inverse"] = (flow(x, context=c)[0] + 0.1, lambda y, c: flow.inverse(y, context=c))
    modes = [False, True] if jit else [False]
    for name, (x, fn) in fns.items():
        expected = fn(x, c)
        for jit_compile in modes:
            got = tf.function(fn, jit_compile=jit_compile)(x, c)
            for a, b in zip(got, expected):
                assert_close(a, b, "float32", f"{name} differs under tf.function(jit_compile={jit_compile})")


@_counted
def check_gradients_reach_weights(factory, event_shape, context_dim=None, **_):
    """Every trainable weight gets a finite, non-zero gradient from a
    maximum-likelihood-like loss (forward, and inverse when there is one)."""
    flow, x, c = build_flow(factory, event_shape, "float32", context_dim)
    weights = flow.trainable_weights
    _require(weights, "has no trainable weights")
    with tf.GradientTape() as tape:
        y, log_det = flow(x, context=c)
        loss = tf.reduce_sum(y ** 2) - tf.reduce_sum(log_det)
        if flow.has_inverse:
            x_back, inv_log_det = flow.inverse(y + 0.1, context=c)
            loss += tf.reduce_sum(x_back ** 2) - tf.reduce_sum(inv_log_det)
    grads = tape.gradient(loss, weights)
    for w, g in zip(weights, grads):
        assert g is not None, f"no gradient reaches {w.path}"
        g = _np(tf.convert_to_tensor(g))
        assert np.all(np.isfinite(g)), f"non-finite gradient for {w.path}"
        assert np.any(g != 0), f"zero gradient for {w.path}"


@_counted
def check_bijector_matches_layer(factory, event_shape, context_dim=None, **_):
    """`flow.make_bijector(c)` (and `flow.bijector` without a context) gives
    the layer's forward, inverse and both log-dets; its inverse raises
    NotImplementedError exactly when the flow declares no inverse."""
    flow, x, c = build_flow(factory, event_shape, "float64", context_dim)
    bijector = flow.make_bijector(c) if c is not None else flow.bijector
    y, log_det = flow(x, context=c)
    n = flow.event_ndims
    assert_close(bijector.forward(x), y, "float64", "bijector.forward != layer")
    assert_close(bijector.forward_log_det_jacobian(x, event_ndims=n), log_det, "float64",
                 "bijector forward log-det != layer")
    assert tuple(bijector.forward_event_shape(x.shape[1:])) == tuple(y.shape[1:])
    if flow.has_inverse:
        x_back, inverse_log_det = flow.inverse(y, context=c)
        assert_close(bijector.inverse(y), x_back, "float64", "bijector.inverse != layer")
        assert_close(bijector.inverse_log_det_jacobian(y, event_ndims=n), inverse_log_det, "float64",
                     "bijector inverse log-det != layer")
        assert tuple(bijector.inverse_event_shape(y.shape[1:])) == tuple(x.shape[1:])
    else:
        with pytest.raises(NotImplementedError, match="no closed-form inverse"):
            bijector.inverse(y)


def check_saved_model(factory, event_shape, context_dim=None, tmp_path=None, **_):
    """A plain-TF SavedModel of forward (and inverse) reloads with equal
    outputs, at the traced batch size and a new one (batch dimension None).

    Not in `ALL_CHECKS` (saving costs seconds); run it on representative flows.
    """
    import tempfile

    directory = str(tmp_path) if tmp_path is not None else tempfile.mkdtemp()
    flow, x, c = build_flow(factory, event_shape, "float32", context_dim)
    has_inverse = flow.has_inverse
    y = flow(x, context=c)[0]
    spec_c = [tf.TensorSpec((None, context_dim), tf.float32)] if context_dim else []
    module = tf.Module()
    module.flow = flow
    module.forward = tf.function(lambda x, *c: flow(x, context=c[0] if c else None),
                                 input_signature=[tf.TensorSpec((None, *x.shape[1:]), tf.float32)] + spec_c)
    if has_inverse:
        module.inverse = tf.function(lambda y, *c: flow.inverse(y, context=c[0] if c else None),
                                     input_signature=[tf.TensorSpec((None, *y.shape[1:]), tf.float32)] + spec_c)
    path = os.path.join(directory, f"{flow.name}_saved_model")
    tf.saved_model.save(module, path)
    loaded = tf.saved_model.load(path)
    x5, c5 = make_inputs(event_shape, "float32", context_dim, batch=5, seed=3)
    for xs, cs in ((x, c), (x5, c5)):
        extra = [cs] if context_dim else []
        for a, b in zip(flow(xs, context=cs), loaded.forward(xs, *extra)):
            assert_close(b, a, "float32", "SavedModel forward differs")
        if has_inverse:
            ys = flow(xs, context=cs)[0]
            for a, b in zip(flow.inverse(ys, context=cs), loaded.inverse(ys, *extra)):
                assert_close(b, a, "float32", "SavedModel inverse differs")


ALL_CHECKS = (
    check_round_trip,
    check_log_det_matches_jacobian,
    check_closed_form_jacobian,
    check_inverse_log_det,
    check_finite_at_edge,
    check_triangular_jacobian,
    check_identity_at_init,
    check_config_round_trip,
    check_keras_round_trip,
    check_compiled_matches_eager,
    check_gradients_reach_weights,
    check_bijector_matches_layer,
)


def check_flow(factory, event_shape, **options):
    """Runs every applicable check; `options` go to each (context_dim,
    dtypes, edge_scale, jit, tmp_path). Returns the names of the checks
    that did not apply."""
    skipped = []
    for check in ALL_CHECKS:
        try:
            check(factory, event_shape, **options)
        except pytest.skip.Exception:
            skipped.append(check.__name__)
    return skipped
