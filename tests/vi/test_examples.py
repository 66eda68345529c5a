"""The VI examples run end to end with tiny settings (slow: each traces
several training steps and NUTS)."""

import pytest

from apps import vi_banana
from tests import benchmark_scripts


@pytest.mark.slow
def test_banana_example_writes_the_picture(tmp_path, capsys):
    out = tmp_path / "banana.png"
    results = vi_banana.main(["--steps", "150", "--out", str(out)])
    assert "true log Z = 0.000" in capsys.readouterr().out
    assert out.stat().st_size > 1000
    # Even this short, the flows beat the best Gaussian (measured -0.56).
    assert results["RealNVP (4 layers)"][1].value > results["full_rank"][1].value + 0.2


@pytest.mark.slow
def test_logistic_benchmark_runs(capsys):
    module = benchmark_scripts.load("vi_logistic")
    results = module.main(["--steps", "100", "--chains", "2", "--burnin", "50", "--samples", "50"])
    assert "NUTS" in capsys.readouterr().out
    for name in ("mean_field", "full_rank", "IAF on full-rank", "  plain gradient"):
        assert results[name]["accuracy"] > 0.85 and results[name]["elbo"].value <= results[name]["log_z"].value + 1
