"""Folder exports are built under a unique temporary name and renamed into place."""

from __future__ import annotations

import pytest

from zoo.core.export import _atomic_dir


def test_a_failed_build_leaves_the_old_folder_and_no_temporary(tmp_path):
    target = tmp_path / "saved_model"
    target.mkdir()
    (target / "old.txt").write_text("good")

    def broken(tmp):
        (tmp / "half.txt").write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        _atomic_dir(target, broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved_model"]
    assert sorted(p.name for p in target.iterdir()) == ["old.txt"]


def test_builds_use_distinct_temporary_names_and_replace_the_target(tmp_path):
    target = tmp_path / "saved_model"
    seen = []

    def build(tmp):
        seen.append(tmp)
        (tmp / "zoo.json").write_text(str(len(seen)))

    _atomic_dir(target, build)
    _atomic_dir(target, build)
    assert seen[0] != seen[1] and all(p.parent == tmp_path for p in seen)
    assert (target / "zoo.json").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved_model"]
    assert target.stat().st_mode & 0o777 == 0o755
