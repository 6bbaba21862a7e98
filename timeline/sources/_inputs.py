"""Turning what the user typed (files, folders, globs) into an ordered list of inputs.

Folders are walked recursively (symlinks followed, loops detected and reported);
rotated sets (``app.log``, ``app.log.1``, ``app.log.2.gz``) are read oldest first;
a folder that is one document (a Slack export) stays one input.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

from timeline._errors import InputError

_ROTATION = re.compile(r"^(?P<base>.+?)(?:[.-](?P<n>\d{1,3}))?(?P<comp>\.(?:gz|bz2|xz))?$")
_DATE = re.compile(r"[-_.]?(?:\d{4}-?\d{2}-?\d{2}(?:[-_T]?\d{2,6})?)")
_SKIP_NAMES = {".DS_Store", "Thumbs.db"}
# Documentation kept beside evidence in a folder (not evidence itself); named files are always read.
_DOC_FILE = re.compile(r"^(readme|license|licence|changelog|notes?)(\.(md|txt|rst))?$|\.(md|rst)$", re.IGNORECASE)


@dataclass(frozen=True)
class InputFile:
    """One input to read: a file, or a folder read as one document."""

    path: Path
    root: Path
    directory_reader: str | None = None

    @property
    def display(self) -> str:
        return str(self.path)


def rotation_key(path: Path) -> tuple[str, int]:
    """(base name, age) for a file in a rotated set: ``app.log.2.gz`` -> ("app.log", 2)."""
    m = _ROTATION.match(path.name)
    if not m or m.group("n") is None:
        base = path.name
        for ext in (".gz", ".bz2", ".xz"):
            base = base.removesuffix(ext)
        return base, 0
    return m.group("base"), int(m.group("n"))


def source_name(path: Path, root: Path) -> str:
    """A short stream name for a file: its folder and stem, without rotation numbers or dates."""
    base, _ = rotation_key(path)
    stem = base
    for ext in (".log", ".jsonl", ".ndjson", ".json", ".csv", ".txt", ".out", ".err"):
        if stem.lower().endswith(ext) and len(stem) > len(ext):
            stem = stem[: -len(ext)]
            break
    cleaned = _DATE.sub("", stem).strip("-_.") or stem
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(path.name)
    parent = rel.parent.name if len(rel.parts) > 1 else ""
    return f"{parent}/{cleaned}" if parent and parent != cleaned else cleaned


def expand(paths: list[str | Path], notes: list[str], is_unit: "callable[[Path], str | None] | None" = None) -> list[InputFile]:
    """Expand files, folders and globs into inputs, oldest rotated file first.

    Parameters
    ----------
    paths
        What the user named.
    notes
        Receives a line for anything skipped (symlink loops, hidden files, sockets).
    is_unit
        Given a folder, the name of a document reader that reads it whole, or None.
    """
    found: dict[Path, InputFile] = {}
    for raw in paths:
        text = str(raw)
        candidates: list[Path]
        if any(ch in text for ch in "*?[") and not Path(text).exists():
            candidates = [Path(p) for p in sorted(glob.glob(text, recursive=True))]
            if not candidates:
                msg = f"{text}: the pattern matches no file"
                raise InputError(msg)
        else:
            candidates = [Path(text)]
        for cand in candidates:
            if not cand.exists():
                msg = f"{cand}: no such file or folder"
                raise InputError(msg)
            root = cand if cand.is_dir() else cand.parent
            if cand.is_dir():
                _walk(cand, root, found, notes, is_unit)
            else:
                found.setdefault(cand.resolve(), InputFile(cand, root))
    ordered = sorted(
        found.values(),
        key=lambda f: (str(f.path.parent), rotation_key(f.path)[0], -rotation_key(f.path)[1], f.path.name),
    )
    return ordered


def _walk(folder: Path, root: Path, found: dict[Path, InputFile], notes: list[str], is_unit) -> None:
    if is_unit is not None:
        reader = is_unit(folder)
        if reader:
            found.setdefault(folder.resolve(), InputFile(folder, root, reader))
            return
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        here = Path(dirpath)
        st = here.stat()
        key = (st.st_dev, st.st_ino)
        if key in seen:
            notes.append(f"{here}: folder already visited through a symbolic link (a loop); not read again")
            dirnames[:] = []
            continue
        seen.add(key)
        keep = []
        for d in sorted(dirnames):
            sub = here / d
            if d.startswith("."):
                notes.append(f"{sub}: hidden folder skipped")
                continue
            if is_unit is not None:
                reader = is_unit(sub)
                if reader:
                    found.setdefault(sub.resolve(), InputFile(sub, root, reader))
                    continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            path = here / name
            if name.startswith(".") or name in _SKIP_NAMES:
                notes.append(f"{path}: hidden file skipped")
                continue
            if _DOC_FILE.search(name) and path.is_file() and not _holds_notes(path):
                notes.append(f"{path}: documentation (no timed incident notes in it), skipped; name it directly to read it anyway")
                continue
            if not path.is_file():
                notes.append(f"{path}: not a regular file (broken link, socket or device); skipped")
                continue
            found.setdefault(path.resolve(), InputFile(path, root))


def _holds_notes(path: Path) -> bool:
    """Whether a file named like documentation is in fact incident notes (``14:35 lee: escalating``), by its content."""
    from timeline.sources.documents import readers

    reader = readers().get("notes")
    try:
        return reader is not None and reader.detect(path) > 0
    except OSError:
        return False
