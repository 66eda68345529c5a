"""TF Serving version directories: refuse bad paths, never lose an export."""

import os

import pytest

from tfvae.export import layout


def _write(text):
    def write(directory):
        with open(os.path.join(directory, "saved_model.pb"), "w") as f:
            f.write(text)
    return write


def _read(path):
    with open(os.path.join(path, "saved_model.pb")) as f:
        return f.read()


@pytest.mark.parametrize("name", ["v1", "1.0", "latest", "-1", "１"])
def test_non_integer_version_is_refused(tmp_path, name):
    with pytest.raises(ValueError, match="integer version directory"):
        layout.write_atomically(tmp_path / "m" / name, _write("new"))
    assert not (tmp_path / "m" / name).exists()


def test_file_in_place_of_the_version_dir_is_refused(tmp_path):
    (tmp_path / "3").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        layout.check_version_dir(tmp_path / "3")


def test_writes_a_version_dir_and_leaves_no_staging_dirs(tmp_path):
    out = layout.write_atomically(tmp_path / "m" / "1", _write("one"))
    assert out == str(tmp_path / "m" / "1") and _read(out) == "one"
    assert os.listdir(tmp_path / "m") == ["1"]
    # An empty directory (e.g. made by a deployment script) is not an export.
    os.makedirs(tmp_path / "m" / "2")
    assert _read(layout.write_atomically(tmp_path / "m" / "2", _write("two"))) == "two"


def test_existing_export_is_kept_unless_overwrite(tmp_path):
    path = tmp_path / "m" / "7"
    layout.write_atomically(path, _write("old"))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        layout.write_atomically(path, _write("new"))
    assert _read(path) == "old"
    layout.write_atomically(path, _write("new"), overwrite=True)
    assert _read(path) == "new" and sorted(os.listdir(tmp_path / "m")) == ["7"]


def test_failed_write_leaves_the_previous_export_intact(tmp_path):
    path = tmp_path / "m" / "1"
    layout.write_atomically(path, _write("old"))

    def broken(directory):
        _write("half")(directory)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        layout.write_atomically(path, broken, overwrite=True)
    assert _read(path) == "old" and os.listdir(tmp_path / "m") == ["1"]
