import numpy as np
import pytest

from tests import checks
from tfvae.flows.coupling import AdditiveCoupling, AffineCoupling

CASES = {
    "affine_vector": (lambda **kw: AffineCoupling("alternating", 1, hidden_units=(8,), **kw), (5,), {}),
    "additive_vector": (lambda **kw: AdditiveCoupling("alternating", 0, hidden_units=(8,), **kw), (4,), {}),
    "affine_context": (lambda **kw: AffineCoupling("alternating", 0, hidden_units=(8,), context_dim=2, **kw),
                       (3,), {"context_dim": 2}),
    "affine_checkerboard": (lambda **kw: AffineCoupling("checkerboard", 0, hidden_channels=4, **kw),
                            (2, 2, 1), {}),
    "affine_channel_context": (lambda **kw: AffineCoupling("channel", 1, hidden_channels=4, context_dim=2, **kw),
                               (2, 2, 2), {"context_dim": 2}),
    "additive_channel": (lambda **kw: AdditiveCoupling("channel", 0, hidden_channels=4, **kw), (2, 2, 2), {}),
}


@pytest.mark.parametrize("check", checks.ALL_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("case", sorted(CASES))
def test_coupling_checks(case, check, tmp_path):
    factory, shape, options = CASES[case]
    check(factory, shape, tmp_path=tmp_path, **options)


def test_kept_half_is_unchanged():
    flow, x, _ = checks.build_flow(CASES["affine_vector"][0], (5,))
    y, _ = flow(x)
    # parity 1 keeps the odd features.
    np.testing.assert_array_equal(np.asarray(y)[:, 1::2], np.asarray(x)[:, 1::2])
    assert not np.allclose(np.asarray(y)[:, 0::2], np.asarray(x)[:, 0::2])


@pytest.mark.parametrize("kwargs, match", [
    (dict(mask="diagonal"), "`mask`"),
    (dict(parity=2), "`parity`"),
    (dict(hidden_units=(0,)), "`hidden_units`"),
    (dict(context_dim=0), "`context_dim`"),
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
        AffineCoupling(context_dim=2)(np.zeros((2, 4), "float32"))
