"""Readers for whole documents: ticket exports, alert payloads, change logs, chat exports.

Each reader is registered here under the name a spec file's ``[document] reader``
gives. A reader is any object with this shape (see :class:`DocumentReader`):

- ``detect(path) -> float``: how sure it is (0..1) that ``path`` (a file or a
  folder) is its kind of document, judged by content, never by the name alone;
- ``read(path, options) -> (events, account)``: the events in the event schema
  (any subset of columns; the caller conforms them) and a filled
  :class:`~timeline.sources._account.FileAccount`;
- ``directory``: True when a folder is read as one unit (a Slack export).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from timeline.sources._account import FileAccount


@dataclass(frozen=True)
class DocumentOptions:
    """Options a document reader may use."""

    tz: str | None = None
    day_first: bool | None = None
    date: Any = None
    column_map: Mapping[str, str] | None = None
    spec_options: Mapping[str, Any] | None = None


class DocumentReader(Protocol):
    """What a document reader provides."""

    name: str
    directory: bool

    def detect(self, path: Path) -> float: ...

    def read(self, path: Path, options: DocumentOptions) -> tuple[pl.DataFrame, FileAccount]: ...


READERS: dict[str, DocumentReader] = {}


def register(reader: DocumentReader) -> DocumentReader:
    """Add a reader to the registry (later registrations replace earlier ones of the same name)."""
    READERS[reader.name] = reader
    return reader


def _load_builtin() -> None:
    """Import the shipped readers so they register themselves."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_loaded = False


def readers() -> dict[str, DocumentReader]:
    """The registered document readers (shipped ones loaded on first use)."""
    global _loaded
    if not _loaded:
        _load_builtin()
        _loaded = True
    return READERS


def directory_units(path: Path) -> str | None:
    """If a folder is one document (e.g. a Slack export), the reader's name."""
    best, best_score = None, 0.0
    for reader in readers().values():
        if getattr(reader, "directory", False):
            score = reader.detect(path)
            if score > best_score:
                best, best_score = reader.name, score
    return best if best_score >= 0.5 else None


Detector = Callable[[Path], float]
