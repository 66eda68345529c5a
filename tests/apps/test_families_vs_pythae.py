"""families_vs_pythae.py: its scoring code against closed forms, its parameter mapping, and a quick run."""

import math

import numpy as np
import pytest

from tests import benchmark_scripts


@pytest.fixture(scope="module")
def bench():
    return benchmark_scripts.load("families_vs_pythae")


def test_bernoulli_log_prob_from_logits(bench):
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=30.0, size=(5, 784))   # far into the saturated range
    x = (rng.random((5, 784)) < 0.5).astype("float32")
    # log sigmoid(l) = −softplus(−l), log(1 − sigmoid(l)) = −softplus(l), written with log1p for |l| large
    softplus = lambda t: np.maximum(t, 0) + np.log1p(np.exp(-np.abs(t)))  # noqa: E731
    expected = np.sum(-x * softplus(-logits) - (1 - x) * softplus(logits), axis=-1)
    np.testing.assert_allclose(bench.bernoulli_log_prob(x, logits), expected, rtol=1e-12)
    assert bench.bernoulli_log_prob(np.ones((1, 2)), np.zeros((1, 2)))[0] == pytest.approx(2 * math.log(0.5))


def test_total_correlation_sees_dependence(bench):
    rng = np.random.default_rng(0)
    n = 400
    independent = rng.standard_normal((n, 2))
    dependent = np.repeat(independent[:, :1], 2, axis=1)          # z_2 = z_1: the codes share one factor
    log_var = np.full((n, 2), 2 * math.log(0.2))
    eps = rng.standard_normal((n, 2))
    tc_independent = bench.total_correlation(independent, log_var, eps)
    tc_dependent = bench.total_correlation(dependent, log_var, eps)
    # Two copies of one N(0, 1) coordinate blurred by σ = 0.2: I(z_1; z_2) = ½ log(1 + 1/(2σ²)) ≈ 1.3 nats
    # for the population; the independent codes' TC is ~0 (plus the finite-mixture bias both share).
    assert tc_dependent - tc_independent > 0.8
    assert abs(tc_independent) < 0.3


def test_tfvae_models_map_the_pythae_parameters(bench):
    args = bench.parse_args(["--info-alpha", "0.25", "--info-lambda", "10", "--tc-beta", "6", "--wae-lambda", "50",
                             "--kernel", "rbf"])
    info = bench.build_tfvae("infovae", args, 1000)
    assert (info.beta, info.mmd_weight, info.mmd_kernel) == (0.75, 9.25, "rbf")   # 1 − α, α + λ − 1
    tc = bench.build_tfvae("tcvae", args, 1000)
    assert (tc.beta, tc.tc_weight, tc.kl_decomposition, tc.tc_estimator, tc.dataset_size) == \
        (1.0, 6.0, "tc", "stratified", 1000)
    wae = bench.build_tfvae("wae", args, 1000)
    assert (wae.mmd_weight, wae.kernel, wae.posterior_type) == (50.0, "rbf", "deterministic")
    vae = bench.build_tfvae("vae", args, 1000)
    assert (vae.beta, vae.mmd_weight, vae.kl_decomposition) == (1.0, 0.0, None)


def test_torch_linear_init_draws_every_dense_within_pytorchs_bound(bench):
    args = bench.parse_args([])
    assert args.seeds == [0, 1, 2] and bench.parse_args(["--quick"]).seeds == [0]
    vae = bench.build_tfvae("vae", args, 1000)
    dense = [layer for layer in vae._flatten_layers() if layer.__class__.__name__ == "Dense"]
    assert len(dense) == 4       # encoder 784-512, posterior head, decoder 16-512, likelihood head
    bench.torch_linear_init(vae, seed=0)
    for layer in dense:
        bound = 1.0 / math.sqrt(layer.kernel.shape[0])
        for w in (layer.kernel.numpy(), layer.bias.numpy()):
            assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound   # fills U(±1/√fan_in)
            assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound              # the uniform's sd


@pytest.mark.slow  # four tfvae workers (each a fresh TensorFlow process) and the scoring: 25-40 s
def test_quick_run_without_pythae(bench, monkeypatch, capsys):
    monkeypatch.setattr(bench, "pythae_interpreter", lambda args: None)
    summary = bench.main(["--quick", "--data-dir", "/nonexistent"])
    rows = {(r["model"], r["library"]): r for r in summary["rows"]}
    assert set(rows) == {(m, "tfvae") for m in ("vae", "infovae", "tcvae", "wae")}
    assert summary["skipped"] == ["pythae vae", "pythae infovae", "pythae tcvae", "pythae wae", "pythae wae (bce)"]
    tc, wae = rows["tcvae", "tfvae"], rows["wae", "tfvae"]
    assert -784 * math.log(2) * 1.5 < tc["recon"][0] < 0 and np.isfinite(tc["log_px"][0]) and np.isfinite(tc["tc"][0])
    assert "log_px" not in wae and "tc" not in wae and wae["fid"][0] >= 0
    out = capsys.readouterr().out
    assert "skipped: pythae is not importable" in out and "— (no bound)" in out
