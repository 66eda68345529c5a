"""epoch_starts.py: it runs both ways and prints a row for each."""

import pytest

from tests import benchmark_scripts


@pytest.mark.slow  # ~15 s: two short fits and four evaluate calls
def test_quick_run_prints_both_ways(capsys):
    benchmark_scripts.load("epoch_starts").main(["--examples", "600", "--epochs", "2", "--repeats", "1",
                                                 "--evaluate-calls", "2"])
    rows = {line.split("  ")[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    for way in ("keras pipeline", "tfvae fit"):
        cells = rows[way][2:]
        assert len(cells) == 9 and cells[3:5] == ["of", "1"]   # 2 epochs, the first dropped: "k of 1"
