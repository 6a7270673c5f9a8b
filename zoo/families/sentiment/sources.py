"""Sentiment data sources: labelled texts from SST-2, tab-separated files, the IMDB reviews and CSV files.

Each loader returns `Texts`: (text, label) pairs per split, and the lines or
files it skipped (a line that does not decode, an empty text, a missing label),
counted, never fatal. A source without split lists is split by a stable hash of
each text, so a text keeps its split whatever else the files hold.

Example:
    >>> stable_split("a fine film", 0.1, 0.1)
    'train'
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
from pathlib import Path

from zoo.core.download import fetch_tar
from zoo.core.errors import ZooError
from zoo.core.recipe import Recipe
from zoo.text.corpus import refuse_binary

IMDB = {"url": "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        "sha256": "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"}
SPLITS = ("train", "validation", "test")


@dataclasses.dataclass
class Texts:
    """Labelled texts per split (`{split: [(text, label), ...]}`) and what was skipped (`["file:line: cause"]`)."""

    splits: dict
    skipped: list


def stable_split(text: str, validation: float, test: float) -> str:
    """`train`, `validation` or `test` for a text, from its SHA-1: the same on every machine and run."""
    u = int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:8], "big") / 2 ** 64
    return "test" if u < test else "validation" if u < test + validation else "train"


def read_lines(path: Path, encoding: str, skipped: list) -> list[tuple[int, str]]:
    """(line number, line) of a text file; lines that do not decode are skipped and counted."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise ZooError(f"{path}: cannot read ({e.strerror or e})") from None
    if raw[:3] == b"\xef\xbb\xbf":
        raw = raw[3:]
    refuse_binary(path, raw, encoding)
    lines = []
    for number, line in enumerate(raw.splitlines(), 1):
        try:
            lines.append((number, line.decode(encoding)))
        except UnicodeDecodeError:
            skipped.append(f"{path}:{number}: not {encoding}")
    return lines


def _labelled(path: Path, encoding: str, skipped: list, parse) -> list[tuple[str, str]]:
    rows = []
    for number, line in read_lines(path, encoding, skipped):
        if not line.strip():
            continue
        text, label = parse(line)
        if not text.strip() or not label.strip():
            skipped.append(f"{path}:{number}: {'no label' if text.strip() else 'empty text'}")
        else:
            rows.append((text.strip(), label.strip()))
    return rows


def _sst2_line(line: str) -> tuple[str, str]:
    label, _, text = line.strip().partition(" ")
    return text, label


def _tsv_line(line: str) -> tuple[str, str]:
    text, _, label = line.rstrip("\r\n").rpartition("\t")
    return text, label


def load_sst2(root: Path, encoding: str, phrases: bool = False) -> Texts:
    """`stsa.binary.{train,dev,test}`: `LABEL sentence` a line (the SST-2 sentence split of Kim 2014); with
    `phrases`, training reads `stsa.binary.phrases.train` instead (every labelled phrase of the training
    sentences' parse trees, the sentences among them), and validation and test stay whole sentences."""
    skipped = []
    names = ("phrases.train" if phrases else "train", "dev", "test")
    files = {split: Path(root) / f"stsa.binary.{name}" for split, name in zip(SPLITS, names)}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise ZooError(f"{root}: not an SST-2 folder (missing {', '.join(Path(m).name for m in missing)})")
    return Texts({split: _labelled(path, encoding, skipped, _sst2_line) for split, path in files.items()}, skipped)


def _files(path: Path, suffixes: tuple[str, ...]) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ZooError(f"{path}: no such file or folder")
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise ZooError(f"{path}: folder has no {' or '.join(suffixes)} files")
    return files


def _hash_split(rows, d) -> dict:
    splits = {split: [] for split in SPLITS}
    for text, label in rows:
        splits[stable_split(text, d.validation_fraction, d.test_fraction)].append((text, label))
    return splits


def load_tsv(path: Path, d) -> Texts:
    """Files of `sentence<TAB>label` (the UCI Sentiment Labelled Sentences layout), split by hash."""
    skipped = []
    rows = [row for f in _files(path, (".txt", ".tsv")) for row in _labelled(f, d.encoding, skipped, _tsv_line)]
    return Texts(_hash_split(rows, d), skipped)


def load_csv(path: Path, d) -> Texts:
    """CSV files with a header naming `text_column` and `label_column`, split by hash."""
    skipped, rows = [], []
    for f in _files(path, (".csv",)):
        lines = read_lines(f, d.encoding, skipped)
        if not lines:
            raise ZooError(f"{f}: no readable lines (an empty file, or none is {d.encoding})")
        reader = csv.DictReader(io.StringIO("\n".join(line for _, line in lines)))
        missing = {d.text_column, d.label_column} - set(reader.fieldnames or ())
        if missing:
            columns = ", ".join(reader.fieldnames or [])
            raise ZooError(f"{f}: no column {', '.join(sorted(missing))} (columns: {columns}; "
                           "set data.text_column and data.label_column)")
        try:
            for row in reader:
                text, label = (row.get(d.text_column) or "").strip(), (row.get(d.label_column) or "").strip()
                if text and label:
                    rows.append((text, label))
                else:
                    skipped.append(f"{f}:{reader.line_num}: {'no label' if text else 'empty text'}")
        except csv.Error as e:
            raise ZooError(f"{f}: not a CSV file ({e})") from None
    return Texts(_hash_split(rows, d), skipped)


def load_imdb(root: Path, d) -> Texts:
    """`aclImdb/{train,test}/{pos,neg}/*.txt`, one review a file (Maas et al. 2011); validation is a stable
    hash share of `train`. `<br />` tags become spaces."""
    skipped, splits = [], {split: [] for split in SPLITS}
    for part in ("train", "test"):
        for label in ("neg", "pos"):
            folder = Path(root) / part / label
            if not folder.is_dir():
                raise ZooError(f"{root}: not an aclImdb folder (missing {part}/{label}/)")
            for f in sorted(folder.glob("*.txt")):
                lines = read_lines(f, d.encoding, skipped)
                text = " ".join(line for _, line in lines).replace("<br />", " ").strip()
                if not text:
                    skipped.append(f"{f}: empty text")
                    continue
                split = part if part == "test" else \
                    "validation" if stable_split(text, d.validation_fraction, 0.0) == "validation" else "train"
                splits[split].append((text, label))
    return Texts(splits, skipped)


def load(recipe: Recipe, data_root: Path) -> Texts:
    """The recipe's labelled texts, by `data.source`."""
    d = recipe.data
    if d.source == "imdb":
        root = Path(d.path) if d.path else fetch_tar(IMDB["url"], IMDB["sha256"], Path(data_root) / "aclImdb_v1.tar.gz",
                                                     Path(data_root) / "imdb")
        if (root / "aclImdb").is_dir():
            root = root / "aclImdb"
        return load_imdb(root, d)
    if not d.path:
        raise ZooError(f"--data {d.source} needs a path: {d.source}:PATH")
    if d.source == "sst2":
        return load_sst2(Path(d.path), d.encoding, d.phrases)
    if d.source == "tsv":
        return load_tsv(Path(d.path), d)
    if d.source == "csv":
        return load_csv(Path(d.path), d)
    raise ZooError(f"data.source={d.source!r}: choose one of sst2, tsv, imdb, csv")
