"""Precision/recall and density/coverage on point clouds with known answers."""

import numpy as np
import pytest

from tfvae.metrics import density_coverage
from tfvae.metrics import precision_recall
from tfvae.metrics import manifold


def _line(points):
    return np.asarray(points, float)[:, None]


def test_knn_radii_on_a_lattice():
    x = _line([0, 1, 2, 3, 10])
    np.testing.assert_allclose(manifold.knn_radii(x, 1), [1, 1, 1, 1, 7])
    np.testing.assert_allclose(manifold.knn_radii(x, 2), [2, 1, 1, 2, 8])


def test_values_worked_by_hand():
    # Real: 0, 1, ..., 9 on a line, k = 1: every real ball has radius 1.
    # Fake: 0.5 and 4.2 lie in real balls (0.5 in those of 0 and 1; 4.2 in
    # those of 4 and 5); 20 and 30 do not. Fake radii (k = 1): 0.5 -> 3.7,
    # 4.2 -> 3.7, 20 -> 10, 30 -> 10, so the fake balls cover reals 0..7
    # and no others: recall 8/10. Coverage: reals with a fake within 1 are
    # 0, 1 (0.5), 4, 5 (4.2): 4/10. Density: 4 ball memberships / (k M = 4).
    real = _line(range(10))
    fake = _line([0.5, 4.2, 20.0, 30.0])
    pr = precision_recall(real, fake, k=1)
    assert pr == pytest.approx({"precision": 0.5, "recall": 0.8})
    dc = density_coverage(real, fake, k=1)
    assert dc == pytest.approx({"density": 1.0, "coverage": 0.4})


def test_identical_sets_and_disjoint_sets():
    x = np.random.default_rng(0).normal(size=(300, 4))
    assert precision_recall(x, x, k=3) == {"precision": 1.0, "recall": 1.0}
    assert density_coverage(x, x, k=5)["coverage"] == 1.0
    far = x + 100.0
    assert precision_recall(x, far) == {"precision": 0.0, "recall": 0.0}
    assert density_coverage(x, far) == {"density": 0.0, "coverage": 0.0}


def test_mode_collapse_keeps_precision_and_loses_recall():
    # Fake samples all from one of two real clusters.
    rng = np.random.default_rng(1)
    real = np.concatenate([rng.normal(0, 1, (500, 2)), rng.normal(20, 1, (500, 2))])
    fake = rng.normal(0, 1, (1000, 2))
    pr = precision_recall(real, fake, k=3)
    dc = density_coverage(real, fake, k=5)
    assert pr["precision"] > 0.95 and pr["recall"] == pytest.approx(0.5, abs=0.03)
    assert dc["coverage"] == pytest.approx(0.5, abs=0.03)


def test_density_is_one_on_average_for_equal_distributions():
    rng = np.random.default_rng(2)
    values = [density_coverage(rng.normal(size=(400, 3)), rng.normal(size=(400, 3)), k=5)["density"]
              for _ in range(10)]
    assert np.mean(values) == pytest.approx(1.0, abs=0.08)


def test_chunked_and_streamed_equal_in_memory(monkeypatch):
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(257, 5)), rng.normal(0.3, 1.0, size=(199, 5))
    whole = {**precision_recall(real, fake), **density_coverage(real, fake)}
    monkeypatch.setattr(manifold, "_CHUNK_ELEMENTS", 1000)  # many small chunks
    chunked = {**precision_recall(iter(np.array_split(real, 5)), iter(np.array_split(fake, 3))),
               **density_coverage(iter(np.array_split(real, 5)), iter(np.array_split(fake, 3)))}
    assert chunked == whole


@pytest.mark.parametrize("real, fake, k, match", [
    (np.zeros((10, 2)), np.zeros((10, 2)), 0, "Expected `k` to be a positive integer. Received: k=0"),
    (np.zeros((3, 2)), np.zeros((10, 2)), 3, "more than k=3 examples in `real`"),
    (np.zeros((10, 2)), np.zeros((10, 3)), 3, "same number of features"),
    (np.zeros((0, 2)), np.zeros((10, 2)), 3, "at least 1 example"),
])
def test_bad_inputs_raise(real, fake, k, match):
    with pytest.raises(ValueError, match=match):
        precision_recall(real, fake, k=k)
    with pytest.raises(ValueError, match=match):
        density_coverage(real, fake, k=k)
