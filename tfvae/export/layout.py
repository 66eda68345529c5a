"""TF Serving's directory layout: `<base>/<integer version>/saved_model.pb`.

TF Serving watches `<base>` and loads the highest integer-named version
directory it finds, as soon as it appears. Two consequences shape this
module:

* a version directory must be complete the moment it becomes visible, so
  every export is written to a hidden staging directory next to it
  (`<base>/.tmp-<version>-<pid>-*`, ignored by TF Serving because its name
  is not an integer) and renamed into place; staging folders of killed
  exports are removed by the next export into the same base;
* versions are canonical integers: '01' would be a second folder for
  TF Serving's version 1, so it is refused;
* a previous export is never destroyed silently: an existing non-empty
  version directory is an error unless `overwrite=True`, and even then the
  old export is only removed after the new one has been written in full.
"""

import os
import shutil
import tempfile


def check_version_dir(path):
    """Validates `path` as `<base>/<integer version>`.

    Args:
        path: str or `os.PathLike`, e.g. `"saved_models/digits_vae/1"`.
    Returns:
        `(path, base, version)`: the normalised path (str), its parent and
        the integer version.
    Raises:
        ValueError: the last component is not a non-negative integer, or
            `path` exists and is a file.
    """
    path = os.path.normpath(os.fspath(path))
    base, name = os.path.split(path)
    if not (name.isascii() and name.isdigit()):
        raise ValueError(
            "Expected the export path to end in an integer version directory, as TF Serving "
            f"requires (`<base>/<version>`, e.g. 'saved_models/digits_vae/1'). Received: "
            f"path={path!r}, whose last component {name!r} is not an integer.")
    if name != str(int(name)):
        # TF Serving parses '01' and '1' as the same version 1: two folders,
        # one version, and which one it serves is not defined.
        raise ValueError(
            f"Expected a canonical integer version (no leading zeros). Received: path={path!r}; TF Serving "
            f"reads {name!r} as version {int(name)}: use {os.path.join(base, str(int(name)))!r}.")
    if int(name) > _MAX_VERSION:
        raise ValueError(f"Expected a version of at most {_MAX_VERSION} (TF Serving's versions are int64). "
                         f"Received: path={path!r}.")
    if os.path.isfile(path):
        raise ValueError(f"Expected the export path to be a directory. Received: path={path!r} is a file.")
    return path, base or ".", int(name)


_MAX_VERSION = 2**63 - 1


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True


def remove_stale_staging(base):
    """Removes `<base>/.tmp-<version>-<pid>-*` and `.old-...` folders left by
    exports whose process no longer runs (killed mid-export); folders of a
    running export are left alone. Returns the names removed."""
    removed = []
    for name in os.listdir(base):
        parts = name.split("-")
        if parts[0] not in (".tmp", ".old") or len(parts) < 4 or not parts[2].isdigit():
            continue
        full = os.path.join(base, name)
        if os.path.isdir(full) and not _alive(int(parts[2])):
            shutil.rmtree(full, ignore_errors=True)
            removed.append(name)
    return removed


def is_nonempty_dir(path):
    return os.path.isdir(path) and bool(os.listdir(path))


def refuse_existing(path, overwrite):
    """Raises `FileExistsError` if `path` holds files and not `overwrite`."""
    if is_nonempty_dir(path) and not overwrite:
        version = os.path.basename(os.path.normpath(path))
        raise FileExistsError(
            f"{path!r} already holds an export (TF Serving version {version}). Refusing to replace it: "
            "export to a new version number, or pass overwrite=True to replace it.")


def write_atomically(path, write_fn, overwrite=False):
    """Calls `write_fn(staging_dir)`, then moves the result to `path`.

    Args:
        path: the version directory (already checked by `check_version_dir`).
        write_fn: writes a complete SavedModel into the directory it is given.
        overwrite: replace an existing non-empty `path`.
    Raises:
        FileExistsError: `path` is a non-empty directory and `overwrite` is
            False. Nothing is written in that case.
    Any exception raised by `write_fn` leaves `path` exactly as it was.
    """
    path, base, version = check_version_dir(path)
    refuse_existing(path, overwrite)
    os.makedirs(base, exist_ok=True)
    remove_stale_staging(base)
    staging = tempfile.mkdtemp(prefix=f".tmp-{version}-{os.getpid()}-", dir=base)
    try:
        write_fn(staging)
        if os.path.isdir(path):
            # Renaming over a directory is not possible; move the old one
            # aside first so that a failure here still leaves it on disk.
            retired = tempfile.mkdtemp(prefix=f".old-{version}-{os.getpid()}-", dir=base)
            os.rename(path, os.path.join(retired, "old"))
            try:
                os.rename(staging, path)
            except OSError:
                os.rename(os.path.join(retired, "old"), path)
                raise
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, path)
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging, ignore_errors=True)
    return path
