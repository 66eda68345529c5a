"""xla_compile.py: TensorFlow logs one compilation per step function in each
of the three runs, and the script prints them (that the warm run loads is
checked in tests/test_xla_cache.py, without timing)."""

import pytest

from tests import benchmark_scripts


@pytest.mark.slow  # ~20 s: three fresh processes, each fitting one short epoch
def test_one_round_times_both_steps_three_ways(capsys):
    runs = benchmark_scripts.load("xla_compile").main(["--repeats", "1"])
    assert set(runs) == {"no cache", "cache, cold", "cache, warm"}
    for rounds in runs.values():
        assert len(rounds) == 1 and len(rounds[0]) == 2 and all(s > 0 for s in rounds[0])
    assert "warm cache:" in capsys.readouterr().out
