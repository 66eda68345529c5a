"""The VQ-VAE demo and throughput benchmark run end to end (tiny settings)."""

import math

import pytest

from apps import vq_demo
from tests import benchmark_scripts


@pytest.mark.slow  # ~1 minute: trains a VQ-VAE and its prior for 2 epochs each
def test_vq_demo_quick_reports_the_bound_and_writes_the_grids(tmp_path, capsys):
    vq, uniform, learned = vq_demo.run(epochs=2, prior_epochs=2, num_embeddings=16, embedding_dim=8,
                                       out=str(tmp_path))
    printed = capsys.readouterr().out
    assert "perplexity" in printed and "ELBO, PixelCNN prior" in printed
    assert uniform["kl"] == pytest.approx(16 * math.log(16), rel=1e-5)
    assert learned["elbo"] > uniform["elbo"]
    for name in ("reconstructions.png", "samples.png"):
        assert (tmp_path / name).stat().st_size > 500


@pytest.mark.slow  # ~1 minute: traces and XLA-compiles two models
def test_vqvae_benchmark_quick_run():
    bench = benchmark_scripts.load("vqvae_throughput")
    result = bench.main(["--quick", "--steps", "1", "--repeats", "1"])
    assert [r["jit_compile"] for r in result["train"]] == [False, True]
    assert all(r["examples_per_s"] > 0 for r in result["train"]) and result["xla_ratio"] > 0
