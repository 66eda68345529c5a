"""Every expected failure of the command line: one line, non-zero exit,
no traceback (`--debug` re-raises), checked before any work."""

import os

import numpy as np
import pytest
import tensorflow as tf

from apps import cli

TINY = ["--data", "digits", "--latent-dim", "2", "--hidden-units", "8", "--batch-size", "512", "--epochs", "1",
        "--eval-samples", "2", "--validation-split", "none", "-qq"]


def _fails(argv, capsys, code=2):
    with pytest.raises(SystemExit) as e:
        cli.run(argv)
    err = capsys.readouterr().err
    assert e.value.code == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_output_dir_that_is_a_file(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    line = _fails(["train", *TINY, "--output-dir", str(tmp_path / "f")], capsys)
    assert "--output-dir" in line and "not a directory" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_unwritable_output_dir(tmp_path, capsys):
    (tmp_path / "ro").mkdir(mode=0o500)
    assert "not writable" in _fails(["train", *TINY, "--output-dir", str(tmp_path / "ro" / "run")], capsys)


def test_bad_flag_is_one_line(capsys):
    assert "--lr" in _fails(["train", "--lr", "inf"], capsys)
    assert "--beta" in _fails(["train", "--beta", "inf"], capsys)
    assert "--latent-dim" in _fails(["train", "--latent-dim", "2.7"], capsys)


def test_sample_out_a_directory_and_corrupt_model(tmp_path, capsys):
    bad = tmp_path / "model.keras"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    line = _fails(["sample", "--model", str(bad), "--out", str(tmp_path)], capsys)
    assert "--out" in line and "is a directory" in line  # checked before the model is even read
    line = _fails(["sample", "--model", str(bad), "--out", str(tmp_path / "s.png")], capsys)
    assert "cannot load the model file" in line
    assert not (tmp_path / "s.png").exists()
    line = _fails(["evaluate", "--model", str(bad), "--out", str(tmp_path)], capsys)
    assert "--out" in line


def test_debug_shows_the_traceback(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        cli.run(["train", *TINY, "--output-dir", str(tmp_path / "f"), "--debug"])


def test_interrupt_is_one_line(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setitem(cli.COMMANDS, "sample", interrupted)
    assert "interrupted" in _fails(["sample", "--model", "m.keras"], capsys, code=130)


def test_in_graph_data_error_shows_the_real_message():
    def check(x):
        ok = tf.debugging.Assert(tf.reduce_all(x < 0.1), ["VAE: `x` has values outside the support"])
        with tf.control_dependencies([ok]):
            return tf.identity(x)

    ds = tf.data.Dataset.from_tensor_slices(np.full((4, 2), 0.5, np.float32)).batch(2).map(check)
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        next(iter(ds))
    line = cli.tf_error_line(e.value)
    assert "outside the support" in line and "Graph execution error" not in line


def test_nan_guard_stop_exits_non_zero(tmp_path, capsys):
    line = _fails(["train", *TINY, "--lr", "1e30", "--output-dir", str(tmp_path / "run")], capsys, code=1)
    assert "training stopped" in line and "nan" in line.lower()
    assert (tmp_path / "run" / "model.keras").exists() and (tmp_path / "run" / "history.json").exists()


def test_resuming_a_backup_of_another_run_is_refused(tmp_path, capsys):
    backup = tmp_path / "backup"
    cli.run(["train", *TINY, "--output-dir", str(tmp_path / "a"), "--backup-dir", str(backup)])
    assert (backup / "training_metadata.json").exists()
    line = _fails(["train", *TINY, "--latent-dim", "3", "--output-dir", str(tmp_path / "b"),
                   "--backup-dir", str(backup)], capsys)
    assert "other settings" in line and "model" in line
    assert not (tmp_path / "b" / "model.keras").exists()
