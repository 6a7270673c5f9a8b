"""Checked, resumable downloads (for online users; tests and this project's checks run offline)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.request
from pathlib import Path

from zoo.core.errors import ZooError


def fetch(url: str, target: Path, sha256: str) -> Path:
    """Downloads `url` to `target` unless it is there: resumable, sha256-checked.

    Bytes go to `target.part` (HTTP range requests continue an interrupted
    download); only a file whose sha256 matches is renamed to `target`.
    """
    from tqdm.auto import tqdm

    target = Path(target)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            if have and r.status != 206:
                have = 0  # server ignored the range: start again
            total = int(r.headers.get("Content-Length", 0)) + have
            with open(part, "ab" if have else "wb") as f, tqdm(
                    total=total, initial=have, unit="B", unit_scale=True, desc="downloading") as bar:
                while chunk := r.read(1 << 20):
                    f.write(chunk)
                    bar.update(len(chunk))
    except OSError as e:
        raise ZooError(f"{url}: download failed ({e}); rerun to resume") from None
    digest = hashlib.sha256()
    with open(part, "rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    if digest.hexdigest() != sha256:
        part.unlink()
        raise ZooError(f"{url}: sha256 mismatch ({digest.hexdigest()} != {sha256}); removed")
    os.replace(part, target)
    return target


def fetch_tar(url: str, sha256: str, archive: Path, dest: Path) -> Path:
    """Downloads a tar archive with `fetch` and extracts it into `dest` (unless `dest` exists).

    An archive with a member named by an absolute path or with `..` is refused;
    extraction uses tarfile's `data` filter (no links out of the tree, no device
    files) into `dest.extracting`, renamed to `dest` when complete, so an
    interrupted extraction never passes for a finished one.
    """
    dest = Path(dest)
    if dest.is_dir():
        return dest
    fetch(url, archive, sha256)
    tmp = dest.with_name(dest.name + ".extracting")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with tarfile.open(archive) as tar:
            outside = [m.name for m in tar.getmembers() if Path(m.name).is_absolute() or ".." in Path(m.name).parts]
            if outside:
                raise tarfile.TarError(f"member {outside[0]!r} would land outside the folder")
            tar.extractall(tmp, filter="data")  # also refuses links out of the tree and special files
    except (tarfile.TarError, OSError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ZooError(f"{archive}: cannot extract ({e})") from None
    os.replace(tmp, dest)
    return dest
