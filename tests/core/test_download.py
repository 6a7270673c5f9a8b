"""Archive extraction: a finished folder appears only whole, and members that leave the folder are refused."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from zoo.core.download import fetch, fetch_tar
from zoo.core.errors import ZooError


def _archive(path, members, links=()):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, kind, target in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            tar.addfile(info)


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


@pytest.mark.parametrize("link", [("passwd", tarfile.SYMTYPE, "/etc/passwd"),
                                  ("up", tarfile.SYMTYPE, "../../outside"),
                                  ("hard", tarfile.LNKTYPE, "/etc/passwd")], ids=["symlink_absolute",
                                                                                  "symlink_up", "hardlink"])
def test_links_out_of_the_folder_are_refused_and_nothing_is_left(tmp_path, link):
    _archive(tmp_path / "bad.tar.gz", [("ok.txt", b"fine")], [link])
    with pytest.raises(ZooError, match="bad.tar.gz: cannot extract"):
        fetch_tar("https://example.invalid/bad.tar.gz", "0" * 64, tmp_path / "bad.tar.gz", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tar.gz"]


def test_a_download_whose_checksum_differs_is_refused_and_removed(tmp_path):
    """A real download through urllib, of a local file (file:// URL): no network needed."""
    (tmp_path / "served.bin").write_bytes(b"not what the manifest promised")
    url = (tmp_path / "served.bin").as_uri()
    with pytest.raises(ZooError, match=f"{url}: sha256 mismatch"):
        fetch(url, tmp_path / "cache" / "data.bin", "0" * 64)
    assert list((tmp_path / "cache").iterdir()) == []
    good = hashlib.sha256(b"not what the manifest promised").hexdigest()
    assert fetch(url, tmp_path / "cache" / "data.bin", good).read_bytes() == b"not what the manifest promised"
