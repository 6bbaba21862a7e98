"""Reading a file into a table of lines, whatever state the file is in.

Compression is recognised by its magic bytes (a ``.gz`` that is not gzip is read
as text, with a warning); a truncated ``.gz``/``.bz2`` keeps what could be
decompressed; bad UTF-8 is replaced and counted; a binary file is reported, not
parsed. The line numbers are the file's own, starting at 1.
"""

from __future__ import annotations

import bz2
import itertools
import lzma
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import polars as pl

_CHUNK = 1 << 20
BLOCK_BYTES = 6 << 20
"""About how much text one block of lines holds: the unit of bounded-memory reading.

A block's working set is about eight times its size. Measured on 100 MB logs
(bench/run_read.py): 6 MB blocks peak at 2.2-2.4x the input where 8 MB blocks
peak at 2.5-2.7x, at the same speed for text logs and about 8% slower for JSON
lines, whose long lines make fewer rows per block; 4 MB blocks cost 10-30%.
"""
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ": "xz"}
_DECOMPRESS_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError)


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


def _decompressed_chunks(path: Path, kind: str, warnings: list[str], max_bytes: int, consumed: Consumed) -> Iterator[bytes]:
    """Decompress a file chunk by chunk, keeping every byte decoded before a damaged or missing end.

    Streams the compressed bytes through a decompressor object (a file wrapper
    drops the last chunk when the stream is cut) and follows concatenated
    members, as gzip and bzip2 allow.
    """
    total = 0
    dec = _decompressor(kind)
    fed = False  # the current member has input that did not reach its end marker yet
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                consumed.bytes = fh.tell()
                while chunk:
                    out = dec.decompress(chunk)
                    fed = True
                    if out:
                        yield out
                    total += len(out)
                    chunk = b""
                    if dec.eof:
                        chunk = dec.unused_data
                        dec, fed = _decompressor(kind), False
                if total > max_bytes:
                    warnings.append(
                        f"decompressed size passed the limit of {max_bytes:,} bytes; the rest of the file was not read"
                    )
                    return
        if fed:
            warnings.append(
                f"{kind} stream is damaged or truncated after {total:,} decompressed bytes (it ends before its end marker); "
                "the lines before it were kept"
            )
    except _DECOMPRESS_ERRORS as exc:
        warnings.append(
            f"{kind} stream is damaged or truncated after {total:,} decompressed bytes ({exc}); the lines before it were kept"
        )


def _plain_chunks(path: Path, size: int) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(min(_CHUNK, max(size, 1))):
            yield chunk


def _plain_blocks(path: Path, block_bytes: int, warnings: list[str], consumed: Consumed) -> Iterator[pl.DataFrame]:
    """Blocks of a plain file, each read straight from its place in the file and cut at a line end.

    A block's bytes go to the line reader as read when they end a line;
    otherwise up to their last line end, and the next block is read from
    there (the partial line is read again rather than carried in a buffer).
    """
    bad = _Utf8()
    next_line = 1
    last = b""
    with path.open("rb") as fh:
        pos = 0
        want = block_bytes or -1  # 0: the whole file in one block
        while data := fh.read(want):
            last = data[-1:]
            cut = data.rfind(b"\n")
            if cut < 0 and len(data) == want:
                fh.seek(pos)
                want *= 2  # one line longer than a block: read until it ends
                continue
            if 0 <= cut < len(data) - 1 and len(data) == want:
                data = data[: cut + 1]
                fh.seek(pos + cut + 1)
            pos += len(data)
            consumed.bytes = pos
            want = block_bytes or -1
            frame = _lines_from_bytes(data, next_line, bad)
            next_line += frame.height
            yield frame
    if bad.count:
        warnings.append(bad.warning())
    if last != b"\n":
        warnings.append("the last line has no newline: the file may have been cut while being written")


def _looks_binary(head: bytes) -> bool:
    if not head:
        return False
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return control / len(head) > 0.1


@dataclass
class _Utf8:
    """Lines with bytes that are not UTF-8, counted over a file's blocks."""

    count: int = 0
    first: list[int] = field(default_factory=list)

    def warning(self) -> str:
        return f"{self.count:,} lines hold bytes that are not valid UTF-8 (shown as U+FFFD), first at lines {self.first}"


def _lines_from_bytes(data: bytes, first_line: int, bad: _Utf8) -> pl.DataFrame:
    try:
        frame = pl.scan_lines(data, row_index_name="line", row_index_offset=first_line, name="text").collect()
    except pl.exceptions.ComputeError:
        text = data.decode("utf-8", errors="replace")
        frame = pl.scan_lines(text.encode("utf-8"), row_index_name="line", row_index_offset=first_line, name="text").collect()
        found = frame.filter(pl.col("text").str.contains("\ufffd", literal=True))
        bad.count += found.height
        bad.first = (bad.first + found["line"].head(5).to_list())[:5]
    return frame.select(pl.col("line").cast(pl.UInt32), pl.col("text"))


@dataclass
class Consumed:
    """How many bytes of the file on disk the blocks read so far (for a progress bar)."""

    bytes: int = 0


@dataclass
class LineBlocks:
    """The lines of one file as a sequence of tables, and what was noticed while reading them.

    ``blocks`` yields tables of about ``BLOCK_BYTES`` each (columns ``line``,
    ``text``), cut at line ends, so a file of any size is read in bounded
    memory. ``warnings`` is complete once ``blocks`` is exhausted.
    """

    blocks: Iterator[pl.DataFrame]
    size: int  # bytes on disk
    compression: str | None = None
    binary: bool = False
    binary_lines: int = 0
    warnings: list[str] = field(default_factory=list)
    consumed: Consumed = field(default_factory=Consumed)


def _empty_lines() -> pl.DataFrame:
    return pl.DataFrame(schema={"line": pl.UInt32, "text": pl.String})


def read_line_blocks(path: str | Path, *, block_bytes: int | None = None, max_decompressed: int = 64 << 30) -> LineBlocks:
    """Read a file's lines block by block, recording anything odd.

    Parameters
    ----------
    path
        The file; gzip, bzip2 and xz are recognised by content.
    block_bytes
        About how many bytes of text each block holds (default ``BLOCK_BYTES``,
        0 for the whole file in one block); a line longer than that makes its
        block longer, never cut.
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
    consumed = Consumed()
    chunks = _decompressed_chunks(path, kind, warnings, max_decompressed, consumed) if kind is not None else _plain_chunks(path, size)
    head = b""
    pending: list[bytes] = []
    for chunk in chunks:
        pending.append(chunk)
        head += chunk[: 65536 - len(head)]
        if len(head) >= 65536:
            break
    if not head:
        if size == 0:
            warnings.append("empty file")
        return LineBlocks(iter(()), size, kind, False, 0, warnings)
    if _looks_binary(head):
        count = 0
        last = b""
        for chunk in itertools.chain(pending, chunks):
            count += chunk.count(b"\n")
            last = chunk[-1:] or last
        count += 0 if last == b"\n" else 1
        return LineBlocks(iter(()), size, kind, True, count, [*warnings, "binary content (NUL or control bytes); not parsed"])
    block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
    if kind is None:
        chunks.close()  # the head was peeked at; blocks read the file from its start, in place
        blocks = _plain_blocks(path, block_bytes, warnings, consumed)
    else:
        blocks = _blocks(itertools.chain(pending, chunks), block_bytes, warnings)
    return LineBlocks(blocks, size, kind, False, 0, warnings, consumed)


def _blocks(chunks: Iterator[bytes], block_bytes: int, warnings: list[str]) -> Iterator[pl.DataFrame]:
    buffer = bytearray()
    next_line = 1
    bad = _Utf8()
    last = b""
    for chunk in chunks:
        buffer += chunk
        last = chunk[-1:] or last
        if not block_bytes or len(buffer) < block_bytes:
            continue
        cut = buffer.rfind(b"\n")
        if cut < 0:
            continue  # one very long line so far: keep reading until it ends
        frame = _lines_from_bytes(bytes(buffer[: cut + 1]), next_line, bad)
        del buffer[: cut + 1]
        next_line += frame.height
        yield frame
    if buffer:
        yield _lines_from_bytes(bytes(buffer), next_line, bad)
    if bad.count:
        warnings.append(bad.warning())
    if last != b"\n":
        warnings.append("the last line has no newline: the file may have been cut while being written")
