"""Every public flow through the shared checks of `tests/checks.py`.

Which checks apply is read from each flow's declared capabilities; the
rest show as skipped with the reason, and the session ends with a table of
checks run and skipped per flow class. Variants cover vectors and images,
with and without a context, one layer (triangular Jacobian) and several.
"""

import pytest

from tests import checks
from tfvae import flows as F

CTX = {"context_dim": 2}

CASES = {
    # Coupling layers and stacks.
    "affine_vector": (lambda **kw: F.AffineCoupling("alternating", 1, hidden_units=(8,), **kw), (5,), {}),
    "affine_checkerboard": (lambda **kw: F.AffineCoupling("checkerboard", 0, hidden_channels=4, **kw),
                            (2, 2, 1), {}),
    "affine_channel_context": (lambda **kw: F.AffineCoupling("channel", 1, hidden_channels=4, context_size=2,
                                                             **kw), (2, 2, 2), CTX),
    "additive_vector": (lambda **kw: F.AdditiveCoupling("alternating", 0, hidden_units=(8,), **kw), (4,), {}),
    "spline_coupling": (lambda **kw: F.NeuralSplineCoupling(hidden_units=(8,), num_bins=4, bound=2.0, **kw),
                        (4,), {}),
    "spline_checkerboard_context": (lambda **kw: F.NeuralSplineCoupling(
        "checkerboard", 1, hidden_channels=4, num_bins=3, **kw), (2, 2, 1), CTX),
    "realnvp_context": (lambda **kw: F.RealNVP(3, hidden_units=(8,), **kw), (3,), CTX),
    "nice": (lambda **kw: F.NICE(2, hidden_units=(8,), **kw), (4,), {}),
    "nsf": (lambda **kw: F.NSF(2, num_bins=4, bound=2.0, hidden_units=(8,), **kw), (3,), {}),
    "nsf_context": (lambda **kw: F.NSF(2, num_bins=4, hidden_units=(8,), context_size=2, **kw), (3,), CTX),
    # Autoregressive flows (one layer: triangular Jacobian).
    "maf": (lambda **kw: F.MAF(2, hidden_units=(8,), seed=0, **kw), (3,), {}),
    "maf_one_layer": (lambda **kw: F.MAF(1, hidden_units=(8,), seed=0, **kw), (3,), {}),
    "iaf_context": (lambda **kw: F.IAF(2, hidden_units=(8,), seed=0, **kw), (3,), CTX),
    "iaf_one_layer_context": (lambda **kw: F.IAF(1, hidden_units=(8,), seed=0, **kw), (3,), CTX),
    "spline_maf": (lambda **kw: F.SplineMAF(2, hidden_units=(8,), num_bins=4, bound=2.0, seed=0, **kw),
                   (3,), {}),
    "spline_iaf_one_layer_context": (lambda **kw: F.SplineIAF(1, hidden_units=(8,), num_bins=4, seed=0, **kw),
                                     (3,), CTX),
    # Linear, element-wise and reshaping maps.
    "lulinear": (lambda **kw: F.LULinear(seed=3, **kw), (4,), {}),
    "actnorm_image": (lambda **kw: F.ActNorm(**kw), (2, 2, 3), {}),
    "actnorm_vector_identity": (lambda **kw: F.ActNorm(event_ndims=1, data_init=False, **kw), (3,), {}),
    "conv1x1": (lambda **kw: F.InvertibleConv1x1(seed=1, **kw), (2, 2, 3), {}),
    "squeeze": (lambda **kw: F.Squeeze(**kw), (4, 2, 1), {}),
    "permute": (lambda **kw: F.Permute("random", seed=3, **kw), (5,), {}),
    # Composition.
    "chain": (lambda **kw: F.Chain([F.AdditiveCoupling(hidden_units=(4,), **kw), F.Permute(**kw),
                                    F.AffineCoupling(hidden_units=(4,), **kw)], **kw), (2,), {}),
    "chain_squeeze": (lambda **kw: F.Chain([F.Squeeze(**kw), F.InvertibleConv1x1(seed=2, **kw),
                                            F.AffineCoupling("channel", 0, hidden_channels=4, **kw)], **kw),
                      (2, 2, 1), {}),
    "invert_realnvp": (lambda **kw: F.Invert(F.RealNVP(2, hidden_units=(4,), **kw), **kw), (3,), {}),
    "invert_maf_one_layer": (lambda **kw: F.Invert(F.MAF(1, hidden_units=(8,), seed=1, **kw), **kw),
                             (3,), {}),
    # Glow: its XLA compilation takes ~20 s here, so that variant is slow-marked below.
    "glow": (lambda **kw: F.Glow(levels=2, steps=1, hidden_channels=4, **kw), (4, 4, 1), {"jit": False}),
    "glow_context": (lambda **kw: F.Glow(levels=1, steps=2, hidden_channels=4, context_size=2, **kw),
                     (2, 2, 2), CTX),
    # Forward-only flows.
    "planar": (lambda **kw: F.Planar(num_layers=3, seed=0, **kw), (4,), {}),
    "planar_context": (lambda **kw: F.Planar(num_layers=3, seed=0, **kw), (4,), {"context_dim": 3}),
    "sylvester_orthogonal_context": (lambda **kw: F.Sylvester(2, 2, "orthogonal", seed=0, **kw), (4,),
                                     {"context_dim": 3}),
    "sylvester_householder": (lambda **kw: F.Sylvester(2, 2, "householder", seed=0, **kw), (4,), {}),
    "sylvester_triangular_context": (lambda **kw: F.Sylvester(2, None, "triangular", seed=0, **kw), (4,),
                                     {"context_dim": 3}),
    # Closed-form Jacobians composed (J = J_2 J_1).
    "chain_planar_sylvester_context": (lambda **kw: F.Chain([F.Planar(num_layers=2, seed=0, **kw),
                                                             F.Sylvester(1, 2, "orthogonal", seed=1, **kw)], **kw),
                                       (4,), {"context_dim": 3}),
}


@pytest.mark.parametrize("check", checks.ALL_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("case", sorted(CASES))
def test_flow_checks(case, check, tmp_path):
    factory, shape, options = CASES[case]
    check(factory, shape, tmp_path=tmp_path, **options)


def test_every_public_flow_is_covered():
    covered = {type(factory()).__name__ for factory, _, _ in CASES.values()}
    for factory, _, _ in CASES.values():
        flow = factory()
        covered |= {type(f).__name__ for f in getattr(flow, "flows", [])}
    public = {name for name in dir(F) if isinstance(getattr(F, name), type)
              and issubclass(getattr(F, name), F.Flow) and name not in ("Flow", "Coupling")}
    assert public <= covered, sorted(public - covered)


@pytest.mark.slow
def test_glow_xla():
    checks.check_compiled_matches_eager(*CASES["glow"][:2])


@pytest.mark.parametrize("case", ["realnvp_context", "glow", "nsf_context", "iaf_context", "planar_context"])
def test_saved_model(case, tmp_path):
    factory, shape, options = CASES[case]
    checks.check_saved_model(factory, shape, tmp_path=tmp_path, **options)
