"""An on-disk cache of XLA:CPU executables, so that `jit_compile=True` pays
XLA's compile once per model rather than once per process (opt-in).

TensorFlow's `DeviceCompiler` can keep what XLA compiled in a directory
(`TF_XLA_FLAGS=--tf_xla_persistent_cache_directory=DIR`). An entry is keyed
by the compiled function's signature (its traced name, numbered in tracing
order, and argument shapes) and the fingerprint of its HLO, and is
loaded only after the stored HLO has been compared with the new one in full,
so any change to the model, its shapes or dtypes compiles afresh; each entry
is written under a temporary name and renamed into place. With
`TFVAE_XLA_CACHE` set, tfvae turns it on for the CPU at import, with what
TensorFlow leaves to the user:

- One directory, `cpu-<hash>`, per TensorFlow build, `XLA_FLAGS` value and
  host CPU (model name and instruction-set flags): an entry is machine code
  for the CPU that compiled it, and neither its key nor TensorFlow's check
  covers the CPU or the compiler's version, so a shared or upgraded home
  directory never hands one machine's code to another.
- CPU only (`--tf_xla_persistent_cache_device_types=CPU`), for the same
  reason on GPUs of different models.
- Bounded: at import, entries beyond `MAX_BYTES` in all directories are
  deleted oldest first, and temporary files a killed writer left behind are
  deleted after an hour, but only by a process that has the cache to itself.
  TensorFlow checks that an entry exists before it reads it and fails the
  compile if the read then fails, so deleting an entry another process is
  about to load would fail that process's `fit`. Each process using the
  cache holds a shared `flock` on `<root>/.lock` for its lifetime; pruning
  takes it exclusively, without waiting, and is skipped while anyone else
  holds it (the next process to start alone prunes). Where `fcntl` is
  missing (Windows) it prunes unlocked.
- Only where it can write: TensorFlow fails the compile itself when it
  cannot save an entry, so the directory must be writable and its disk have
  `MIN_FREE_BYTES` free, else the cache stays off, with a warning.

`TFVAE_XLA_CACHE=1` (or `on`) puts it in `$XDG_CACHE_HOME/tfvae/xla`, else
`~/.cache/tfvae/xla`; a path puts it there; unset, empty or `0` leaves it
off. It is not on by default because TensorFlow logs lines at ERROR level
each time it loads an entry (a failed text-format parse before the binary
one succeeds, and tuning flags of the compiled code, such as
`+prefer-no-scatter`, reported as CPU features the host lacks), all
harmless, and TF_CPP_MIN_LOG_LEVEL=2 shows errors. A
`tf_xla_persistent_cache_directory` already in `TF_XLA_FLAGS` is left
alone. TensorFlow reads `TF_XLA_FLAGS` once, when it first needs it, so
this must run before TensorFlow is imported (`tfvae/_env.py` calls it
first thing).
"""

import hashlib
import importlib.metadata
import importlib.util
import os
import platform
import re
import shutil
import tempfile
import time
import warnings

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

MAX_BYTES = 512 * 2**20
MIN_FREE_BYTES = 2**30
STALE_TEMP_SECONDS = 3600
LOCK_WAIT_SECONDS = 10.0
_OFF = {"", "0", "off", "false", "no"}
_DEFAULT = {"1", "on", "true", "yes"}
_OURS = re.compile(r"\s*--tf_xla_persistent_cache_directory=\S*cpu-[0-9a-f]{16} "
                   r"--tf_xla_persistent_cache_device_types=CPU\b")


def default_root(environ):
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tfvae", "xla")


def build_key(environ):
    """A short hash of what decides whether a stored executable may run here:
    the TensorFlow build, `XLA_FLAGS`, and the host CPU."""
    parts = [_tensorflow_build(), "XLA_FLAGS=" + environ.get("XLA_FLAGS", ""), _cpu_identity()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _tensorflow_build():
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or not spec.submodule_search_locations:
        return "tensorflow: not installed"
    location = list(spec.submodule_search_locations)[0]
    try:
        dists = ["tensorflow"] if importlib.metadata.version("tensorflow") else []
    except importlib.metadata.PackageNotFoundError:  # tensorflow-cpu, tf-nightly, ...
        dists = importlib.metadata.packages_distributions().get("tensorflow", [])
    versions = sorted(f"{name}=={importlib.metadata.version(name)}" for name in set(dists))
    # A build installed without metadata still changes its files when replaced.
    init = os.path.join(location, "__init__.py")
    stamp = os.stat(init).st_mtime_ns if os.path.exists(init) else 0
    return f"{location} {' '.join(versions)} {stamp}"


def _cpu_identity():
    try:
        with open("/proc/cpuinfo") as f:
            first = f.read().split("\n\n", 1)[0]
    except OSError:
        return f"{platform.machine()} {platform.processor()}"
    fields = dict(line.split(":", 1) for line in first.splitlines() if ":" in line)
    keep = ("vendor_id", "model name", "flags", "Features", "CPU implementer", "CPU part")
    return platform.machine() + "".join(f"\n{k.strip()}:{v.strip()}" for k, v in fields.items()
                                        if k.strip() in keep)


def prune(root, max_bytes=MAX_BYTES, stale_temp_seconds=STALE_TEMP_SECONDS, now=None):
    """Deletes leftover temporary files, then the oldest entries until those
    under `root` total at most `max_bytes`. Returns the bytes kept."""
    now = time.time() if now is None else now
    entries = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            try:
                stat = os.stat(path)
            except OSError:  # deleted meanwhile by another process
                continue
            if name.endswith(".tmp"):
                if now - stat.st_mtime > stale_temp_seconds:
                    _remove(path)
            elif name.endswith(".pb"):
                entries.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):
        if total <= max_bytes:
            break
        _remove(path)
        total -= size
    return total


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


# root -> the open lock file whose shared lock this process holds.
_HELD = {}


def prune_when_alone(root, **kwargs):
    """Prunes `root` (`prune`) if no other process holds its lock, then holds
    the shared lock for the rest of this process's life, so that no other
    process prunes while this one may read entries. Returns the bytes kept,
    or None if pruning was skipped; raises `OSError` if the shared lock
    cannot be had within `LOCK_WAIT_SECONDS` (another process stuck while
    pruning)."""
    if fcntl is None:
        return prune(root, **kwargs)
    release(root)
    lock = os.path.join(root, ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            kept = None
        else:
            kept = prune(root, **kwargs)
        # Exclusive to shared; from "others hold it", wait for a pruner to finish.
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OSError(f"another process has held {lock} exclusively for over "
                                  f"{LOCK_WAIT_SECONDS:g} s") from None
                time.sleep(0.05)
    except BaseException:
        os.close(fd)
        raise
    _HELD[os.path.realpath(root)] = fd
    return kept


def release(root):
    """Lets go of this process's lock on `root`, if it holds one."""
    fd = _HELD.pop(os.path.realpath(root), None)
    if fd is not None:
        os.close(fd)


def _usable(directory):
    """Whether entries can be written to `directory` (created if need be)."""
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, suffix=".tmp"):
            pass
        return shutil.disk_usage(directory).free >= MIN_FREE_BYTES
    except OSError:
        return False


def configure(environ=None):
    """Points TensorFlow's persistent XLA cache at the directory for this
    machine when `TFVAE_XLA_CACHE` asks for it. Returns the directory, or
    None when the cache is off.

    A child process inherits the flags its parent's import added; they are
    recognised (`_OURS`) and recomputed, so a child with other `XLA_FLAGS`
    or without `TFVAE_XLA_CACHE` gets its own setting.
    """
    environ = os.environ if environ is None else environ
    flags = _OURS.sub("", environ.get("TF_XLA_FLAGS", "")).strip()
    if flags != environ.get("TF_XLA_FLAGS", "").strip():
        environ["TF_XLA_FLAGS"] = flags
    setting = environ.get("TFVAE_XLA_CACHE", "")
    word = setting.strip().lower()
    if "tf_xla_persistent_cache_directory" in flags or word in _OFF:
        return None
    root = default_root(environ) if word in _DEFAULT else os.path.expanduser(setting)
    directory = os.path.join(root, "cpu-" + build_key(environ))
    # TensorFlow splits TF_XLA_FLAGS at whitespace.
    problem = ("its path has whitespace, which TF_XLA_FLAGS cannot carry" if any(c.isspace() for c in directory)
               else None if _usable(directory)
               else f"it is not writable or has under {MIN_FREE_BYTES // 2**20} MiB free")
    if not problem:
        try:
            prune_when_alone(root)
        except OSError as error:
            problem = f"its lock could not be taken ({error})"
    if problem:
        warnings.warn(f"XLA's compile cache is off: TFVAE_XLA_CACHE={setting!r}, and {problem}.", stacklevel=2)
        return None
    environ["TF_XLA_FLAGS"] = " ".join(filter(None, [
        flags, f"--tf_xla_persistent_cache_directory={directory}", "--tf_xla_persistent_cache_device_types=CPU"]))
    return directory
