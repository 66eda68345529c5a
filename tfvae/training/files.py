"""Crash-safe file writes: a file is either its old complete self or its new
complete self, never a truncated mix.

Every writer goes through `atomic_path`: the content is written to a
temporary name in the destination's folder (same file system, so the final
rename is atomic), flushed to disk with `fsync`, and `os.replace`d over the
destination; the folder is then `fsync`ed so the rename itself survives a
power cut. A process killed at any instant (SIGKILL, OOM killer, power
loss) leaves the previous version of the file in place plus, at worst, a
stray temporary file named `.tmp-*` that `remove_stale_temporaries` clears.

Temporary names end with the destination's own name, so writers that check
the suffix (`keras.Model.save` wants `.keras`, `save_weights` wants
`.weights.h5`) accept them.
"""

import contextlib
import json
import os
import tempfile

import numpy as np

TEMP_PREFIX = ".tmp-"


def _fsync_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory):
    """Flushes a folder's entries (renames, new files) to disk; a no-op where
    folders cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path to write; on success it replaces `path`.

        with atomic_path("run/model.keras") as tmp:
            model.save(tmp)

    The parent folder is created if needed. If the block raises, the
    temporary file is removed and `path` is left untouched.

    Raises:
        IsADirectoryError: `path` is an existing folder.
        OSError: the folder cannot be created or written.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"Expected a file path. Received: {path!r}, which is a directory.")
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix="-" + os.path.basename(path), dir=parent)
    os.close(fd)
    os.remove(tmp)  # writers such as h5py and zipfile create the file themselves
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.remove(tmp)
    fsync_dir(parent)


def write_bytes(path, data):
    """Writes `data` (bytes) to `path` atomically; returns `path`."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
    return path


def write_text(path, text):
    """Writes `text` (UTF-8) to `path` atomically; returns `path`."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path, obj, indent=2):
    """Writes `obj` as JSON to `path` atomically; numpy scalars and arrays
    become numbers and lists, anything else unknown its `str`."""
    return write_text(path, json.dumps(obj, indent=indent, default=_jsonable) + "\n")


def _jsonable(value):
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def remove_stale_temporaries(directory):
    """Removes `.tmp-*` files a killed writer left in `directory`; returns
    how many. Only files: staging folders are their owners' business."""
    removed = 0
    if not os.path.isdir(directory):
        return removed
    for name in os.listdir(directory):
        full = os.path.join(directory, name)
        if name.startswith(TEMP_PREFIX) and os.path.isfile(full):
            try:
                os.remove(full)
                removed += 1
            except OSError:
                pass
    return removed


def check_writable_dir(directory, what):
    """Raises `ValueError` (naming `what`) unless `directory` is, or can be
    created as, a folder this process can write to. Creates it."""
    directory = os.fspath(directory)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ValueError(f"{what} {directory!r} exists and is not a directory.")
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.NamedTemporaryFile(prefix=TEMP_PREFIX, dir=directory):
            pass
    except OSError as e:
        raise ValueError(f"{what} {directory!r} is not writable: {e.strerror or e}.") from None
    return directory


def check_writable_file(path, what):
    """Raises `ValueError` (naming `what`) unless `path` can be written as a
    file: not a folder, its folder creatable and writable."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{what} {path!r} is a directory; expected a file path.")
    check_writable_dir(os.path.dirname(os.path.abspath(path)), f"the folder of {what}")
    return path
