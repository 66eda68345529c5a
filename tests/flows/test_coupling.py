import numpy as np
import pytest

from tests import checks
from tfvae.flows import Chain, Invert, RealNVP
from tfvae.flows.coupling import AffineCoupling


def test_realnvp_structure_and_config():
    flow = RealNVP(num_layers=4, hidden_units=(8,))
    kinds = [type(f).__name__ for f in flow.flows]
    assert kinds == ["AffineCoupling", "AffineCoupling", "Permute", "AffineCoupling", "AffineCoupling"]
    assert [f.parity for f in flow.flows if hasattr(f, "parity")] == [0, 1, 0, 1]
    assert "flows" not in flow.get_config()
    with pytest.raises(ValueError, match="`num_layers`"):
        RealNVP(num_layers=0)
    with pytest.raises(ValueError, match="`permutation`"):
        RealNVP(permutation="sorted")
    with pytest.raises(ValueError, match="`flows`"):
        Chain([])


def test_kept_half_is_unchanged():
    flow, x, _ = checks.build_flow(lambda **kw: AffineCoupling("alternating", 1, hidden_units=(8,), **kw), (5,))
    y, _ = flow(x)
    # parity 1 keeps the odd features.
    np.testing.assert_array_equal(np.asarray(y)[:, 1::2], np.asarray(x)[:, 1::2])
    assert not np.allclose(np.asarray(y)[:, 0::2], np.asarray(x)[:, 0::2])


@pytest.mark.parametrize("kwargs, match", [
    (dict(mask="diagonal"), "`mask`"),
    (dict(parity=2), "`parity`"),
    (dict(hidden_units=(0,)), "`hidden_units`"),
    (dict(context_size=0), "`context_size`"),
    (dict(log_scale_clamp=-1.0), "`log_scale_clamp`"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AffineCoupling(**kwargs)


def test_wrong_input_rank_and_missing_context():
    with pytest.raises(ValueError, match="channel"):
        AffineCoupling("channel")(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="C >= 2"):
        AffineCoupling("channel")(np.zeros((2, 2, 2, 1), "float32"))
    with pytest.raises(ValueError, match="context"):
        AffineCoupling(context_size=2)(np.zeros((2, 4), "float32"))
    x, c = np.zeros((2, 4), "float32"), np.zeros((2, 3), "float32")
    with pytest.raises(ValueError, match="context_size=2"):
        AffineCoupling(context_size=2)(x, context=c)
    unconditional = RealNVP(2, hidden_units=(4,))
    unconditional(x)
    with pytest.raises(ValueError, match="without a context"):
        unconditional(x, context=c)
    conditional = RealNVP(2, hidden_units=(4,))
    conditional.inverse(x, context=c)  # an inverse first also infers the width
    with pytest.raises(ValueError, match="pass `context`"):
        conditional(x)


def test_invert_swaps_directions():
    flow, x, _ = checks.build_flow(lambda **kw: RealNVP(2, hidden_units=(4,), **kw), (3,))
    inverted = Invert(flow)
    for a, b in zip(inverted(x), flow.inverse(x)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(inverted.inverse(x), flow(x)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="`flow`"):
        Invert("maf")
