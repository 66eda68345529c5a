"""The VQ-VAE-2 demo runs end to end (tiny settings)."""

import math

import pytest

from apps import vq2_demo


@pytest.mark.slow  # ~1 minute: trains a VQ-VAE-2 and its two priors for 2 epochs each
def test_vq2_demo_quick_reports_the_bound_and_writes_the_grids(tmp_path, capsys):
    vq, uniform, learned = vq2_demo.run(epochs=2, prior_epochs=2, num_embeddings=16, embedding_dim=8, filters=16,
                                        out=str(tmp_path))
    printed = capsys.readouterr().out
    assert "perplexity top" in printed and "bound, PixelCNN priors" in printed
    assert uniform["kl"] == pytest.approx((4 + 16) * math.log(16), rel=1e-5)
    assert learned["elbo"] > uniform["elbo"]
    for name in ("reconstructions.png", "samples.png"):
        assert (tmp_path / name).stat().st_size > 500
