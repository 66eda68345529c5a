"""The throughput benchmark's quick mode runs and reports sane numbers."""

import pytest

from tests import benchmark_scripts


@pytest.fixture(scope="module")
def bench():
    return benchmark_scripts.load("vae_throughput")


def test_flop_count(bench):
    # 784-512-512-(2x32) encoder, 32-512-512-784 decoder, 6 FLOPs per weight per example.
    weights = 784 * 512 + 512 * 512 + 512 * 64 + 32 * 512 + 512 * 512 + 512 * 784
    assert bench.train_flops_per_example() == 6 * weights


@pytest.mark.slow  # ~45 s: builds, traces and XLA-compiles two models
def test_quick_run(bench, capsys):
    result = bench.main(["--quick", "--steps", "1", "--repeats", "1"])
    assert [(r["batch_size"], r["jit_compile"]) for r in result["train"]] == [(128, False), (128, True)]
    for row in result["train"]:
        assert row["examples_per_s"] > 0 and row["fraction_of_peak"] > 0
    assert result["peak_gflops"] > 0 and result["loglik_examples_per_s"] > 0
    out = capsys.readouterr().out
    assert "% of peak" in out and "S = 100" in out
