"""The README's flow example runs end to end (quick mode)."""

import pytest

from apps import flow_demo


@pytest.mark.slow
def test_flow_demo_quick_writes_the_picture(tmp_path, capsys):
    out = tmp_path / "flows.png"
    flow_demo.main(["--quick", "--out", str(out)])
    printed = capsys.readouterr().out
    assert "two moons" in printed and "bits/dim" in printed
    assert out.stat().st_size > 1000
