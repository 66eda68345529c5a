"""The WAE/InfoVAE, β-TCVAE and hierarchical demos run end to end (2 epochs)."""

import numpy as np
import pytest

from apps import hierarchical_demo, tcvae_demo, wae_demo


@pytest.mark.slow  # ~30 s: three models for 2 epochs
def test_wae_demo_prints_every_model_and_writes_samples(tmp_path, capsys):
    results = wae_demo.run(epochs=2, out=str(tmp_path))
    assert set(results) == {"vae", "infovae", "wae"}
    assert all(np.isfinite(r["reconstruction"]) and np.isfinite(r["mmd"]) for r in results.values())
    assert "MMD²" in capsys.readouterr().out
    assert (tmp_path / "samples.png").stat().st_size > 500


@pytest.mark.slow  # ~30 s
def test_tcvae_demo_reports_the_decomposition_and_writes_traversals(tmp_path):
    results = tcvae_demo.run(epochs=2, weights=(1.0, 8.0), out=str(tmp_path))
    for r in results.values():
        assert r["index_code_mi"] + r["total_correlation"] + r["dimension_wise_kl"] > 0
    assert (tmp_path / "traversals.png").stat().st_size > 500


@pytest.mark.slow  # ~40 s
def test_hierarchical_demo_reports_each_layer(tmp_path):
    results = hierarchical_demo.run(epochs=2, num_samples=20, out=str(tmp_path))
    assert len(results["ladder"]["kl"]) == 2 and len(results["ladder"]["active_units"]) == 2
    assert results["ladder"]["log_likelihood"] > results["ladder"]["elbo"] - 1.0
    assert (tmp_path / "samples.png").stat().st_size > 500
