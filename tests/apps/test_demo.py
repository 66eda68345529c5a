"""The README's main job, in its quick mode."""

import json
import os

import pytest

from apps import demo


@pytest.mark.slow  # trains for two epochs and evaluates with S = 100
def test_quick_demo(tmp_path, capsys):
    out, export_dir = tmp_path / "run", tmp_path / "saved" / "1"
    assert demo.main(["--quick", "--output-dir", str(out), "--export-dir", str(export_dir)]) == 0
    printed = capsys.readouterr().out
    assert "tfvae demo summary" in printed and "bits/dim" in printed
    with open(out / "eval_test.json") as f:
        result = json.load(f)
    assert result["num_importance_samples"] == 100 and result["num_examples"] == 360
    assert os.path.isfile(out / "samples.png")
    assert os.path.isfile(export_dir / "saved_model.pb")
