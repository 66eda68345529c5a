import numpy as np
import pytest

from tests import checks
from tfvae import flows
from tfvae.flows import NICE, Chain, Invert, Permute, RealNVP
from tfvae.flows.coupling import AdditiveCoupling, AffineCoupling

CASES = {
    # Context width inferred from the first call (as a VAE posterior flow is used).
    "realnvp_context": (lambda **kw: RealNVP(3, hidden_units=(8,), **kw),
                        (3,), {"context_dim": 2, "identity_at_init": False}),
    "nice": (lambda **kw: NICE(2, hidden_units=(8,), **kw), (4,), {}),
    "affine_checkerboard": (lambda **kw: AffineCoupling("checkerboard", 0, hidden_channels=4, **kw),
                            (2, 2, 1), {}),
    "affine_channel_context": (lambda **kw: AffineCoupling("channel", 1, hidden_channels=4, context_size=2, **kw),
                               (2, 2, 2), {"context_dim": 2}),
}
# Cheaper variants: the maths only.
MATHS_CASES = {
    "affine_vector": (lambda **kw: AffineCoupling("alternating", 1, hidden_units=(8,), **kw), (5,), {}),
    "chain": (lambda **kw: Chain([AdditiveCoupling(hidden_units=(4,), **kw), Permute(**kw),
                                  AffineCoupling(hidden_units=(4,), **kw)], **kw), (2,), {}),
    "additive_vector": (lambda **kw: AdditiveCoupling("alternating", 0, hidden_units=(8,), **kw), (4,), {}),
    "additive_channel": (lambda **kw: AdditiveCoupling("channel", 0, hidden_channels=4, **kw), (2, 2, 2), {}),
    "affine_context": (lambda **kw: AffineCoupling("alternating", 0, hidden_units=(8,), context_size=2, **kw),
                       (3,), {"context_dim": 2}),
    "invert_realnvp": (lambda **kw: Invert(RealNVP(2, hidden_units=(4,), **kw), **kw), (3,), {}),
}
MATHS_CHECKS = (checks.check_round_trip, checks.check_log_det_matches_jacobian, checks.check_inverse_log_det)


@pytest.mark.parametrize("check", checks.ALL_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("case", sorted(CASES))
def test_coupling_checks(case, check, tmp_path):
    factory, shape, options = CASES[case]
    check(factory, shape, tmp_path=tmp_path, **options)


@pytest.mark.parametrize("check", MATHS_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("case", sorted(MATHS_CASES))
def test_coupling_maths(case, check):
    factory, shape, options = MATHS_CASES[case]
    check(factory, shape, **options)


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
    flow, x, _ = checks.build_flow(MATHS_CASES["affine_vector"][0], (5,))
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


@pytest.mark.skipif(not hasattr(flows, "MAF"), reason="MAF not available")
def test_invert_maf_round_trip():
    checks.check_round_trip(lambda **kw: Invert(flows.MAF(num_layers=2, hidden_units=(8,), **kw), **kw),
                            (3,), dtypes=("float64",))


def test_realnvp_saved_model_with_context(tmp_path):
    checks.check_saved_model(CASES["realnvp_context"][0], (3,), context_dim=2, tmp_path=tmp_path)
