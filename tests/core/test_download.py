"""Archive extraction: a finished folder appears only whole, and members that leave the folder are refused."""

from __future__ import annotations

import io
import tarfile

import pytest

from zoo.core.download import fetch_tar
from zoo.core.errors import ZooError


def _archive(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_extracts_into_the_folder_once(tmp_path):
    _archive(tmp_path / "a.tar.gz", [("aclImdb/test/pos/1_9.txt", b"fine")])  # already downloaded: no network
    dest = fetch_tar("https://example.invalid/a.tar.gz", "0" * 64, tmp_path / "a.tar.gz", tmp_path / "out")
    assert (dest / "aclImdb" / "test" / "pos" / "1_9.txt").read_bytes() == b"fine"
    (tmp_path / "a.tar.gz").unlink()
    assert fetch_tar("https://example.invalid/a.tar.gz", "0" * 64, tmp_path / "a.tar.gz", tmp_path / "out") == dest


@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/evil.txt"])
def test_members_outside_the_folder_are_refused_and_nothing_is_left(tmp_path, name):
    _archive(tmp_path / "bad.tar.gz", [("ok.txt", b"fine"), (name, b"evil")])
    with pytest.raises(ZooError, match="bad.tar.gz: cannot extract"):
        fetch_tar("https://example.invalid/bad.tar.gz", "0" * 64, tmp_path / "bad.tar.gz", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tar.gz"]
