import functools

import pytest
import tensorflow as tf

from tests import checks
from tfvae.flows.autoregressive import IAF, MAF

EVENT = (3,)


def _factory(cls, context_dim=None):
    return lambda **kw: cls(num_layers=2, hidden_units=(8,), context_size=context_dim, seed=0, **kw)


def _count_made_calls(flow):
    calls = []
    for made in flow.mades:
        original = made.call

        @functools.wraps(original)
        def counted(*args, _original=original, **kwargs):
            calls.append(1)
            return _original(*args, **kwargs)

        made.call = counted
    return calls


def test_iaf_forward_is_one_pass_maf_inverse_is_one_pass():
    d, layers, context_dim = 3, 2, 2
    for cls in (IAF, MAF):
        flow, x, c = checks.build_flow(lambda **kw: cls(num_layers=layers, hidden_units=(8,), **kw),
                                       (d,), context_dim=context_dim)
        calls = _count_made_calls(flow)
        cheap, sequential = (flow, flow.inverse) if cls is IAF else (flow.inverse, flow)
        cheap(x, context=c)
        assert len(calls) == layers, f"{cls.__name__}: cheap direction made {len(calls)} MADE passes"
        calls.clear()
        sequential(x, context=c)
        # D passes per layer: after D - 1 every parameter is final, and
        # the D-th gives the values and the log-det together.
        assert len(calls) == layers * d, len(calls)


def test_context_changes_output_and_is_required():
    flow, x, c = checks.build_flow(_factory(IAF), EVENT, context_dim=3, scale=0.3)
    y1, ld1 = flow(x, context=c)
    y2, ld2 = flow(x, context=c + 1.0)
    assert not tf.reduce_all(tf.equal(y1, y2))
    assert not tf.reduce_all(tf.equal(ld1, ld2))
    with pytest.raises(ValueError, match="pass `context`"):
        flow(x)
    unconditional, x, _ = checks.build_flow(_factory(MAF), EVENT)
    with pytest.raises(ValueError, match="built without a context"):
        unconditional(x, context=c)


def test_log_scale_is_bounded():
    flow, x, _ = checks.build_flow(lambda **kw: IAF(num_layers=1, hidden_units=(8,),
                                                    log_scale_bound=0.5, **kw),
                                   EVENT, scale=100.0)
    _, log_det = flow(x * 100.0)
    assert tf.reduce_all(tf.abs(log_det) <= 0.5 * EVENT[0])


def test_inverse_builds_conditional_flow():
    flow = IAF(num_layers=1, hidden_units=(8,))
    x, c = checks.make_inputs(EVENT, "float32", context_dim=2)
    x_back, _ = flow.inverse(x, context=c)
    assert flow.context_dim == 2 and x_back.shape == x.shape


@pytest.mark.parametrize("kwargs, name", [
    (dict(num_layers=0), "num_layers"),
    (dict(hidden_units=[]), "hidden_units"),
    (dict(context_size=-1), "context_size"),
    (dict(activation="nope"), "activation"),
    (dict(log_scale_bound=0.0), "log_scale_bound"),
    (dict(seed="x"), "seed"),
])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        MAF(**kwargs)


def test_rejects_non_vector_inputs():
    with pytest.raises(ValueError, match=r"\(batch, D\)"):
        MAF()(tf.zeros((2, 3, 3)))


@pytest.mark.parametrize("context_size", [2, None])
def test_inside_chain_with_context(context_size, tmp_path):
    # With or without an explicit `context_size`, Chain passes the context
    # on; LULinear ignores it.
    from tfvae.flows import Chain, LULinear

    def factory(**kw):
        dtype = kw.get("dtype")
        return Chain([IAF(num_layers=1, hidden_units=(8,), context_size=context_size, seed=0, dtype=dtype),
                      LULinear(seed=1, dtype=dtype),
                      MAF(num_layers=1, hidden_units=(8,), context_size=context_size, seed=2, dtype=dtype)],
                     **kw)

    checks.check_round_trip(factory, EVENT, context_dim=2, dtypes=("float64",))
    checks.check_keras_round_trip(factory, EVENT, context_dim=2, tmp_path=tmp_path)


def test_saved_model_at_new_batch_size(tmp_path):
    # The export path a VAE posterior takes: both directions, with a
    # context, traced at an unknown batch size and reloaded without Keras.
    import keras
    import numpy as np

    flow, _, _ = checks.build_flow(_factory(IAF, 2), EVENT, context_dim=2)
    archive = keras.export.ExportArchive()
    archive.track(flow)
    specs = [tf.TensorSpec((None, EVENT[0]), tf.float32, name="x"), tf.TensorSpec((None, 2), tf.float32, name="c")]
    archive.add_endpoint("forward", lambda x, c: flow(x, context=c), input_signature=specs)
    archive.add_endpoint("inverse", lambda x, c: flow.inverse(x, context=c), input_signature=specs)
    archive.write_out(str(tmp_path / "iaf"), verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "iaf"))
    x, c = checks.make_inputs(EVENT, "float32", context_dim=2, batch=5, seed=4)
    for name in ("forward", "inverse"):
        got = getattr(loaded, name)(x, c)
        expected = getattr(flow, "__call__" if name == "forward" else "inverse")(x, context=c)
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


def test_bijector_in_transformed_distribution():
    # `flow.bijector` is a plain TFP bijector: MAF's density through
    # tfd.TransformedDistribution equals the change of variables by hand.
    import numpy as np
    import tensorflow_probability as tfp

    tfd = tfp.distributions
    flow, x, _ = checks.build_flow(_factory(MAF), EVENT, dtype="float64")
    base = tfd.MultivariateNormalDiag(loc=tf.zeros(EVENT, tf.float64))
    log_prob = tfd.TransformedDistribution(base, flow.bijector).log_prob(x)
    z, inverse_log_det = flow.inverse(x)
    np.testing.assert_allclose(log_prob.numpy(), (base.log_prob(z) + inverse_log_det).numpy(), rtol=1e-10)
