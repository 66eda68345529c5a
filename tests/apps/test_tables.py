"""The benchmark tables' paired standard error of a gain."""

import numpy as np
import pytest

from tests import benchmark_scripts


@pytest.fixture(scope="module")
def tables():
    return benchmark_scripts.load("_tables")


def test_paired_gain_cancels_the_spread_between_examples(tables):
    rng = np.random.default_rng(0)
    difficulty = rng.normal(-100, 30, size=500)          # shared by both models
    a = difficulty + 0.5 + rng.normal(0, 0.1, size=500)
    b = difficulty
    gain, se = tables.paired_gain(a, b)
    assert gain == pytest.approx(0.5, abs=0.02)
    assert se == pytest.approx(np.std(a - b, ddof=1) / np.sqrt(500))
    assert se < 0.01 < tables.mean_and_stderr(a)[1]      # unpaired: ~1.3


def test_paired_gain_rejects_arrays_that_do_not_pair(tables):
    with pytest.raises(ValueError, match="one shape"):
        tables.paired_gain(np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        tables.mean_and_stderr(np.zeros(1))


def test_print_gains_skips_rows_without_values(tables, capsys):
    rows = [{"variant": "vae", "v": [1.0, 2.0, 3.0]}, {"variant": "iaf", "v": [2.0, 2.5, 4.5]},
            {"variant": "planar"}]
    tables.print_gains(rows, "v")
    out = capsys.readouterr().out
    assert "iaf" in out and "+1.00 ± 0.29" in out and "planar" not in out
    tables.print_gains(rows[1:], "v")                    # no base row: nothing
    tables.print_gains(rows[:1], "v")                    # nothing to compare with it: nothing
    assert capsys.readouterr().out == ""
