"""The evaluation benchmarks' building blocks, and a quick run of the shapes one."""

import itertools

import numpy as np
import pytest

from tests import benchmark_scripts


@pytest.fixture(scope="module")
def shapes_bench():
    return benchmark_scripts.load("disentanglement_shapes")


def test_scores_of_a_perfect_code(shapes_bench):
    factors = np.array(list(itertools.product(range(3), range(4), range(5), range(5))))
    codes = np.repeat(factors[:, ::-1].astype(float), 2, axis=0)  # a permutation, repeated for the splits
    result = shapes_bench.scores(codes, np.repeat(factors, 2, axis=0), seed=0)
    assert set(result) == set(shapes_bench.METRICS)
    assert result["mig"] == pytest.approx(1.0) and result["factorvae"] == 1.0
    assert result["dci_disentanglement"] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.slow  # trains two small VAEs and fits six metrics (10-40 s)
def test_quick_run(shapes_bench, capsys):
    results = shapes_bench.main(["--seeds", "0", "--epochs", "1", "--num-positions", "4"])
    assert set(results) == {1.0, 4.0}
    assert "wins" in capsys.readouterr().out
