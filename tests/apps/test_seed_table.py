"""`benchmarks/seed_table.py`: mnist_table runs at several seeds, summarised."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.benchmark_scripts import BENCHMARKS

SETTING = dict(data="fashion_mnist", epochs=10, num_samples=1000)


def _row(seed, variant, tfvae, pythae=None, **setting):
    row = dict(SETTING, seed=seed, variant=variant, tfvae_per_example=list(map(float, tfvae)), **setting)
    if pythae is not None:
        row["pythae_per_example"] = list(map(float, pythae))
    return row


def _run(tmp_path, *files):
    paths = []
    for i, rows in enumerate(files):
        paths.append(str(tmp_path / f"run{i}.json"))
        with open(paths[-1], "w") as f:
            json.dump(rows, f)
    return subprocess.run([sys.executable, os.path.join(BENCHMARKS, "seed_table.py"), *paths],
                          capture_output=True, text=True, timeout=120)


def _line(block, label):
    [line] = [line for line in block.splitlines() if line.startswith(label + " ")]
    return line.rstrip()


def test_gains_per_seed_and_over_seeds(tmp_path):
    rng = np.random.default_rng(0)
    difficulty = rng.normal(-230, 20, size=(3, 200))
    gains = [0.5, 1.0, 1.5]                           # iaf over vae at seeds 0, 1, 2
    files = [[_row(s, "vae", difficulty[s], difficulty[s] - 1.0),
              _row(s, "iaf", difficulty[s] + gains[s], difficulty[s] - 1.0 + 0.25)] for s in range(2)]
    files.append([_row(2, "vae", difficulty[2]), _row(2, "iaf", difficulty[2] + gains[2])])  # tfvae only
    result = _run(tmp_path, *files)
    assert result.returncode == 0, result.stderr
    header, values, gain, versus = result.stdout.split("\n\n")
    assert "seeds 0 1 2" in header
    means = [difficulty[s].mean() - 0.75 for s in (0, 1)]
    expected = [f"{m:.2f}" for m in means] + [f"{np.mean(means):+.2f}"]
    assert _line(values, "iaf (pythae)").split()[2:5] == expected
    # exact per-seed gains (no paired error), over seeds mean 1.0 and sd 0.5 / sqrt(3), 3 of 3 positive
    line = _line(gain, "iaf (tfvae)")
    assert "+0.50 ± 0.00" in line and "+1.50 ± 0.00" in line
    assert f"+1.00 ± {0.5 / np.sqrt(3):.2f}" in line and line.endswith("3/3")
    line = _line(gain, "iaf (pythae)")
    assert "+0.25 ± 0.00" in line and line.endswith("2/2")
    line = _line(versus, "vae")
    assert "+1.00 ± 0.00" in line and line.endswith("2/2")     # seed 2 has no pythae run


def test_a_variant_run_at_one_seed_has_no_spread(tmp_path):
    files = [[_row(0, "vae", [1.0, 2.0]), _row(0, "planar", [1.5, 2.5])], [_row(1, "vae", [1.0, 3.0])]]
    result = _run(tmp_path, *files)
    assert result.returncode == 0, result.stderr
    assert "nan" not in result.stdout
    _, values, gain = result.stdout.split("\n\n")
    assert _line(values, "planar (tfvae)").split()[-1] == "+2.00"
    assert _line(gain, "planar (tfvae)").endswith("+0.50           1/1")


@pytest.mark.parametrize("second, message", [
    ([_row(1, "vae", [1.0, 2.0], epochs=30)], "summarise one setting at a time"),
    ([_row(0, "vae", [1.0, 2.0])], "appears in two rows"),
    ([{"variant": "vae", "tfvae_per_example": [1.0, 2.0]}], "predates mnist_table recording its setting"),
])
def test_refuses_runs_that_do_not_belong_together(tmp_path, second, message):
    result = _run(tmp_path, [_row(0, "vae", [1.0, 2.0])], second)
    assert result.returncode != 0
    assert message in result.stderr
