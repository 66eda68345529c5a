"""SIGKILL `tfvae train --backup-dir` anywhere, rerun the same command: the
run ends with the uninterrupted run's weights and history.json.

The killed process is stopped at a chosen point by `_faulty_cli.py` (inside
an HDF5 weights write, just before a crash-safe rename, after a batch) and
killed there with SIGKILL. The same command is then run again, plainly,
until it succeeds. The digits pipeline reshuffles and re-binarises every
epoch and the posterior draws fresh noise every step, so equality needs
every piece of state restored: weights, Adam slots, seed generators, the
position inside the epoch, the running epoch's metric sums, the data
pipeline's per-epoch seed stream, and the history of earlier epochs.
"""

import json
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_faulty_cli.py")
# 1437 training digits in batches of 256: 6 batches per epoch, 3 epochs;
# a backup every 4 batches and at each epoch's end, a checkpoint per epoch.
ARGS = ["train", "--data", "digits", "--latent-dim", "2", "--hidden-units", "16", "--posterior-flow", "iaf",
        "--flow-layers", "1", "--flow-hidden-units", "8", "--batch-size", "256", "--epochs", "3",
        "--kl-warmup", "2", "--eval-samples", "4", "--lr", "3e-3", "-qq", "--backup-freq", "4"]
TIMEOUT = 300


def _env(fault=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    env.pop("FAULT", None)
    if fault:
        env["FAULT"] = fault
    return env


def _argv(run_dir):
    return [sys.executable, SCRIPT, *ARGS, "--output-dir", str(run_dir / "out"),
            "--backup-dir", str(run_dir / "backup"), "--checkpoint-dir", str(run_dir / "ckpt")]


def run_plain(run_dir):
    proc = subprocess.run(_argv(run_dir), env=_env(), cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def run_and_kill(run_dir, fault):
    """Runs with `fault`; SIGKILLs the process when it reports the fault.
    Returns True if it was killed, False if it finished first."""
    proc = subprocess.Popen(_argv(run_dir), env=_env(fault), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    watchdog = threading.Timer(TIMEOUT, proc.kill)
    watchdog.start()
    try:
        for line in proc.stdout:
            if line.startswith("FAULT"):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
        proc.wait()
    finally:
        watchdog.cancel()
    assert proc.returncode == 0, f"{fault}: exit code {proc.returncode} without reaching the fault"
    return False


def outcome(run_dir):
    import keras

    from apps import _runs
    model = _runs.load_model(str(run_dir / "out" / "model.keras"))
    with open(run_dir / "out" / "history.json") as f:
        record = json.load(f)
    record.pop("train_seconds")
    keras.backend.clear_session()
    return [np.asarray(w) for w in model.get_weights()], record


def assert_same(reference, resumed):
    (ref_w, ref_record), (res_w, res_record) = reference, resumed
    assert len(ref_w) == len(res_w)
    for a, b in zip(ref_w, res_w):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    assert res_record["epochs"] == ref_record["epochs"] == [1, 2, 3]
    assert _without_paths(res_record["config"]) == _without_paths(ref_record["config"])
    assert sorted(res_record["history"]) == sorted(ref_record["history"])
    for key, values in ref_record["history"].items():
        np.testing.assert_allclose(res_record["history"][key], values, rtol=1e-5, err_msg=key)
    for key, value in ref_record["test"].items():
        np.testing.assert_allclose(res_record["test"][key], value, rtol=1e-5, err_msg=key)


def _without_paths(config):
    """The run's config without its folders (each test has its own)."""
    training = {k: v for k, v in config["training"].items() if not k.endswith("_dir")}
    return dict(config, training=training)


def backup_is_complete(run_dir):
    """Every weights file under a final name is a complete HDF5 file (a
    partial write only ever exists as `.tmp-*`), and the committed metadata,
    if any, names one of them."""
    import h5py
    backup = run_dir / "backup"
    if not backup.exists():
        return True
    for path in backup.glob("state-*.weights.h5"):
        with h5py.File(path, "r") as f:
            assert len(f.keys()) > 0, path
    meta_path = backup / "training_metadata.json"
    if meta_path.exists():
        with open(meta_path) as f:
            assert (backup / json.load(f)["weights"]).exists()
    return True


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("uninterrupted")
    run_plain(run_dir)
    return outcome(run_dir)


def kill_then_resume(run_dir, faults):
    for fault in faults:
        if run_and_kill(run_dir, fault):
            assert backup_is_complete(run_dir), fault
    run_plain(run_dir)
    return outcome(run_dir)


def test_killed_inside_a_backup_write_resumes_to_the_uninterrupted_run(reference, tmp_path):
    """Killed in the middle of writing the second backup's weights (the end
    of epoch 1; the first, after batch 4, must survive)."""
    resumed = kill_then_resume(tmp_path, ["h5:2"])
    assert not any(p.name.startswith(".tmp-") for p in (tmp_path / "backup").iterdir())
    assert_same(reference, resumed)


KILL_POINTS = ([f"h5:{n}" for n in (1, 3, 4, 6, 8)] + [f"fsync:{n}" for n in (1, 2, 5, 6, 9, 13, 17, 21)]
               + [f"batch:{n}" for n in (1, 5, 6, 7, 12, 17, 18)])


@pytest.mark.slow
@pytest.mark.parametrize("fault", KILL_POINTS)
def test_killed_anywhere_resumes_to_the_uninterrupted_run(reference, tmp_path, fault):
    assert_same(reference, kill_then_resume(tmp_path, [fault]))


@pytest.mark.slow
def test_killed_again_and_again_resumes_to_the_uninterrupted_run(reference, tmp_path):
    """Each rerun is killed again, at the 1st-3rd event of its own."""
    faults = ["batch:3", "h5:2", "fsync:3", "batch:2", "h5:1", "fsync:2", "batch:4", "fsync:7"]
    assert_same(reference, kill_then_resume(tmp_path, faults))
