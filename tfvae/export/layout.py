"""TF Serving's directory layout: `<base>/<integer version>/saved_model.pb`.

TF Serving watches `<base>` and loads the highest integer-named version
directory it finds, as soon as it appears. Two consequences shape this
module:

* a version directory must be complete the moment it becomes visible, so
  every export is written to a hidden staging directory next to it
  (`<base>/.tmp-<version>-*`, ignored by TF Serving because its name is not
  an integer) and renamed into place;
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
    if os.path.isfile(path):
        raise ValueError(f"Expected the export path to be a directory. Received: path={path!r} is a file.")
    return path, base or ".", int(name)


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
    staging = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=base)
    try:
        write_fn(staging)
        if os.path.isdir(path):
            # Renaming over a directory is not possible; move the old one
            # aside first so that a failure here still leaves it on disk.
            retired = tempfile.mkdtemp(prefix=f".old-{version}-", dir=base)
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
