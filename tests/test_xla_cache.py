"""XLA's on-disk compile cache (`tfvae/_xla_cache.py`): where it goes, when it
stays off, that it stays bounded, that no process prunes it while another
uses it, and that a second process loads what the first compiled and trains
to the same weights."""

import os
import subprocess
import sys
import textwrap

import pytest

from tfvae import _xla_cache

fcntl = _xla_cache.fcntl   # None on Windows, where the cache prunes unlocked
needs_flock = pytest.mark.skipif(fcntl is None, reason="the cache's lock is a POSIX flock")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _flags(env):
    return env.get("TF_XLA_FLAGS", "").split()


@pytest.fixture(autouse=True)
def _release_locks_taken_by_the_test():
    before = set(_xla_cache._HELD)
    yield
    for root in set(_xla_cache._HELD) - before:
        _xla_cache.release(root)


def test_configure_points_tensorflow_at_a_per_machine_directory(tmp_path):
    env = {"TFVAE_XLA_CACHE": str(tmp_path)}
    directory = _xla_cache.configure(env)
    assert os.path.dirname(directory) == str(tmp_path)
    assert os.path.basename(directory) == "cpu-" + _xla_cache.build_key(env)
    assert os.path.isdir(directory)
    assert _flags(env) == [f"--tf_xla_persistent_cache_directory={directory}",
                           "--tf_xla_persistent_cache_device_types=CPU"]


@pytest.mark.parametrize("value", ["1", "on"])
def test_on_uses_the_user_cache_directory(tmp_path, value):
    env = {"TFVAE_XLA_CACHE": value, "XDG_CACHE_HOME": str(tmp_path)}
    directory = _xla_cache.configure(env)
    assert directory.startswith(os.path.join(str(tmp_path), "tfvae", "xla", "cpu-"))


@pytest.mark.parametrize("value", [None, "", "0", "off", "OFF", "false"])
def test_off_by_default_and_leaves_tensorflow_flags_alone(tmp_path, value):
    env = {"TF_XLA_FLAGS": "--tf_xla_auto_jit=0", "XDG_CACHE_HOME": str(tmp_path)}
    if value is not None:
        env["TFVAE_XLA_CACHE"] = value
    assert _xla_cache.configure(env) is None
    assert env["TF_XLA_FLAGS"] == "--tf_xla_auto_jit=0"
    assert not os.listdir(tmp_path)


def test_a_users_own_persistent_directory_wins(tmp_path):
    mine = f"--tf_xla_persistent_cache_directory={tmp_path}/mine"
    env = {"TFVAE_XLA_CACHE": str(tmp_path / "ours"), "TF_XLA_FLAGS": mine}
    assert _xla_cache.configure(env) is None
    assert env["TF_XLA_FLAGS"] == mine


def test_a_child_process_recomputes_the_flags_its_parent_added(tmp_path):
    parent = {"TFVAE_XLA_CACHE": str(tmp_path), "TF_XLA_FLAGS": "--tf_xla_auto_jit=0"}
    first = _xla_cache.configure(parent)
    child = dict(parent, XLA_FLAGS="--xla_cpu_enable_fast_math=false")
    second = _xla_cache.configure(child)
    assert second != first and os.path.dirname(second) == str(tmp_path)
    assert _flags(child) == ["--tf_xla_auto_jit=0", f"--tf_xla_persistent_cache_directory={second}",
                             "--tf_xla_persistent_cache_device_types=CPU"]
    child_off = dict(parent)
    del child_off["TFVAE_XLA_CACHE"]
    assert _xla_cache.configure(child_off) is None
    assert child_off["TF_XLA_FLAGS"] == "--tf_xla_auto_jit=0"


def test_key_changes_with_xla_flags():
    assert _xla_cache.build_key({}) != _xla_cache.build_key({"XLA_FLAGS": "--xla_cpu_use_thunk_runtime=false"})
    assert _xla_cache.build_key({}) == _xla_cache.build_key({})


def test_an_unusable_directory_turns_it_off_with_a_warning_naming_the_setting(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    env = {"TFVAE_XLA_CACHE": str(blocker)}
    with pytest.warns(UserWarning, match="TFVAE_XLA_CACHE=.*a_file.*not writable"):
        assert _xla_cache.configure(env) is None
    assert "TF_XLA_FLAGS" not in env
    spaced = {"TFVAE_XLA_CACHE": str(tmp_path / "a b")}
    with pytest.warns(UserWarning, match="whitespace"):
        assert _xla_cache.configure(spaced) is None


def _write(root, files):
    """Files `{relative path: (bytes, mtime)}` under `root`; returns the paths."""
    for name, (size, mtime) in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        os.utime(path, (mtime, mtime))
    return sorted(files)


def test_prune_deletes_the_oldest_entries_and_stale_temporaries(tmp_path):
    now = 10_000.0
    _write(tmp_path, {"cpu-old/a.pb": (100, now - 300), "cpu-new/b.pb": (100, now - 200),
                      "cpu-new/c.pb": (100, now - 100), "cpu-new/d.pb.123.tmp": (50, now - 7200),
                      "cpu-new/e.pb.456.tmp": (50, now - 10)})
    kept = _xla_cache.prune(str(tmp_path), max_bytes=250, stale_temp_seconds=3600, now=now)
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["cpu-new/b.pb", "cpu-new/c.pb", "cpu-new/e.pb.456.tmp"]
    assert kept == 200


def _left(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.pb"))


_HOLD = textwrap.dedent("""
    import fcntl, os, sys
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_SH)
    print("held", flush=True)
    sys.stdin.read()
""")


@needs_flock
def test_no_pruning_while_another_process_uses_the_cache(tmp_path):
    now = 10_000.0
    names = _write(tmp_path, {"cpu-x/a.pb": (100, now - 300), "cpu-x/b.pb": (100, now - 200),
                              "cpu-x/c.pb": (100, now - 100)})
    other = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path / ".lock")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "held"
        assert _xla_cache.prune_when_alone(str(tmp_path), max_bytes=150, now=now) is None
        assert _left(tmp_path) == names
    finally:
        other.stdin.close()
        other.wait(timeout=60)
    assert _xla_cache.prune_when_alone(str(tmp_path), max_bytes=150, now=now) == 100
    assert _left(tmp_path) == ["cpu-x/c.pb"]


@needs_flock
def test_a_process_using_the_cache_holds_its_lock_until_released(tmp_path):
    env = {"TFVAE_XLA_CACHE": str(tmp_path)}
    assert _xla_cache.configure(env) is not None
    fd = os.open(tmp_path / ".lock", os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)   # other users are welcome
        fcntl.flock(fd, fcntl.LOCK_UN)
        _xla_cache.release(str(tmp_path))
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


@needs_flock
def test_a_pruner_that_never_finishes_turns_the_cache_off_with_a_warning(tmp_path, monkeypatch):
    fd = os.open(tmp_path / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    monkeypatch.setattr(_xla_cache, "LOCK_WAIT_SECONDS", 0.2)
    env = {"TFVAE_XLA_CACHE": str(tmp_path)}
    try:
        with pytest.warns(UserWarning, match="TFVAE_XLA_CACHE=.*lock could not be taken.*exclusively"):
            assert _xla_cache.configure(env) is None
        assert "TF_XLA_FLAGS" not in env
        assert str(tmp_path) not in _xla_cache._HELD
    finally:
        os.close(fd)


_FIT = textwrap.dedent("""
    import numpy as np
    import keras
    import tfvae
    from tfvae import _xla_cache
    keras.utils.set_random_seed(0)
    x = (np.random.default_rng(0).random((64, 8, 8, 1)) < 0.3).astype("float32")
    vae = tfvae.VAE(input_shape=(8, 8, 1), latent_dim=2, encoder=tfvae.nets.MLP([16]),
                    decoder=tfvae.nets.MLP([16]), likelihood="bernoulli", seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=True)
    vae.fit(x, epochs=2, batch_size=16, verbose=0)
    print("WEIGHTS", repr(float(sum(np.sum(w.numpy().astype("float64")) for w in vae.weights))))
""")


def _run(env):
    result = subprocess.run([sys.executable, "-c", _FIT], env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return [line for line in result.stdout.splitlines() if line.startswith("WEIGHTS")][0], result.stderr


def test_a_second_process_loads_the_compiled_steps_and_trains_the_same(tmp_path):
    env = dict(os.environ, TFVAE_XLA_CACHE=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="0",
               TF_CPP_VMODULE="device_executable_persistor=1", PYTHONPATH=REPO)
    cold, cold_log = _run(env)
    entries = sorted(p.name for p in tmp_path.rglob("*.pb"))
    assert entries, "the first run wrote no cache entry"
    assert "Loading cached entry" not in cold_log
    warm, warm_log = _run(env)
    assert warm_log.count("Loading cached entry") >= 1
    assert sorted(p.name for p in tmp_path.rglob("*.pb")) == entries  # nothing compiled afresh
    assert warm == cold
