"""Reading a file into a table of lines, whatever state the file is in.

Compression is recognised by its magic bytes (a ``.gz`` that is not gzip is read
as text, with a warning); a truncated ``.gz``/``.bz2`` keeps what could be
decompressed; bad UTF-8 is replaced and counted; a binary file is reported, not
parsed. The line numbers are the file's own, starting at 1.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

_CHUNK = 1 << 20
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ": "xz"}
_DECOMPRESS_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError)


@dataclass
class RawLines:
    """The lines of one file and what was noticed while reading them."""

    lines: pl.DataFrame  # columns: line (UInt32, from 1), text (String)
    size: int  # bytes on disk
    compression: str | None = None
    binary: bool = False
    warnings: list[str] = field(default_factory=list)


def compression_of(path: Path) -> str | None:
    """The compression of a file by its magic bytes (None for plain)."""
    with path.open("rb") as fh:
        head = fh.read(6)
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def _decompressor(kind: str) -> Any:
    if kind == "gzip":
        return zlib.decompressobj(wbits=31)
    if kind == "bz2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor()


def _decompress(path: Path, kind: str, warnings: list[str], max_bytes: int) -> bytes:
    """Decompress a whole file, keeping every byte decoded before a damaged or missing end.

    Streams the compressed bytes through a decompressor object (a file wrapper
    drops the last chunk when the stream is cut) and follows concatenated
    members, as gzip and bzip2 allow.
    """
    parts: list[bytes] = []
    total = 0
    dec = _decompressor(kind)
    fed = False  # the current member has input that did not reach its end marker yet
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                while chunk:
                    out = dec.decompress(chunk)
                    fed = True
                    parts.append(out)
                    total += len(out)
                    chunk = b""
                    if dec.eof:
                        chunk = dec.unused_data
                        dec, fed = _decompressor(kind), False
                if total > max_bytes:
                    warnings.append(
                        f"decompressed size passed the limit of {max_bytes:,} bytes; the rest of the file was not read"
                    )
                    return b"".join(parts)
        if fed:
            warnings.append(
                f"{kind} stream is damaged or truncated after {total:,} decompressed bytes (it ends before its end marker); "
                "the lines before it were kept"
            )
    except _DECOMPRESS_ERRORS as exc:
        warnings.append(
            f"{kind} stream is damaged or truncated after {total:,} decompressed bytes ({exc}); the lines before it were kept"
        )
    return b"".join(parts)


def _looks_binary(head: bytes) -> bool:
    if not head:
        return False
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return control / len(head) > 0.1


def _lines_from_bytes(data: bytes, warnings: list[str]) -> pl.DataFrame:
    try:
        frame = pl.scan_lines(data, row_index_name="line", row_index_offset=1, name="text").collect()
    except pl.exceptions.ComputeError:
        text = data.decode("utf-8", errors="replace")
        frame = pl.scan_lines(text.encode("utf-8"), row_index_name="line", row_index_offset=1, name="text").collect()
        bad = frame.filter(pl.col("text").str.contains("\ufffd", literal=True))
        first = bad["line"].head(5).to_list()
        warnings.append(
            f"{bad.height:,} lines hold bytes that are not valid UTF-8 (shown as U+FFFD), first at lines {first}"
        )
    return frame


def read_lines(path: str | Path, *, max_decompressed: int = 64 << 30) -> RawLines:
    """Read a file's lines into a polars table, recording anything odd.

    Parameters
    ----------
    path
        The file; gzip, bzip2 and xz are recognised by content.
    max_decompressed
        Stop decompressing past this many bytes (a decompression bomb guard).
    """
    path = Path(path)
    size = path.stat().st_size
    warnings: list[str] = []
    kind = compression_of(path) if size else None
    suffix = path.suffix.lower()
    if kind is None and suffix in {".gz", ".bz2", ".xz"}:
        warnings.append(f"named {suffix} but not compressed that way; read as plain text")
    if kind is not None:
        data = _decompress(path, kind, warnings, max_decompressed)
        head = data[:65536]
        last = data[-1:]
    else:
        with path.open("rb") as fh:
            head = fh.read(65536)
            if size:
                fh.seek(size - 1)
                last = fh.read(1)
            else:
                last = b""
        data = None

    if size == 0 or (kind is not None and not data):
        if size == 0:
            warnings.append("empty file")
        return RawLines(pl.DataFrame(schema={"line": pl.UInt32, "text": pl.String}), size, kind, False, warnings)

    if _looks_binary(head):
        raw = data if data is not None else path.read_bytes()
        count = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
        lines = pl.DataFrame(
            {"line": pl.arange(1, count + 1, eager=True).cast(pl.UInt32), "text": pl.repeat("", count, eager=True)}
        )
        return RawLines(lines, size, kind, True, [*warnings, "binary content (NUL or control bytes); not parsed"])

    if data is None:
        try:
            frame = pl.scan_lines(path, row_index_name="line", row_index_offset=1, name="text").collect()
        except pl.exceptions.ComputeError:
            frame = _lines_from_bytes(path.read_bytes(), warnings)
    else:
        frame = _lines_from_bytes(data, warnings)
    if last != b"\n":
        warnings.append("the last line has no newline: the file may have been cut while being written")
    frame = frame.select(pl.col("line").cast(pl.UInt32), pl.col("text"))
    return RawLines(frame, size, kind, False, warnings)
