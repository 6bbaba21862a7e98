"""Writing the event table to Parquet as it is read, block by block, in bounded memory.

Each file's event blocks go to a part file of their own; at the end the parts
become one Parquet file in event order (time, file, line). When every part is
already in order and the parts follow one another in time (the usual case: one
log, or logs of consecutive periods), the parts are concatenated as they are;
otherwise they are sorted by the engine. Nothing but the current block is held
in memory while reading.

When only the summary is wanted, ``CountingSink`` takes the blocks instead and
keeps their counts per source and level, no events.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from timeline.schema import EVENT_COLUMNS, EVENT_SCHEMA, in_event_order

_SORT_KEYS = ["ts", "file", "line"]


@dataclass
class _Part:
    """One file's events on disk, and what is known of their order."""

    path: Path
    rows: int = 0
    first: tuple[dt.datetime, str, int] | None = None  # (ts, file, line) of the first row
    last: tuple[dt.datetime, str, int] | None = None
    ordered: bool = True  # rows in (ts, file, line) order, no null in a key


class PartWriter:
    """Tracks whether one file's event blocks, on their way to a part, are in event order."""

    def __init__(self, path: Path) -> None:
        self.part = _Part(path)

    def track(self, block: pl.DataFrame) -> None:
        if block.height == 0:
            return
        keys = block.select(_SORT_KEYS)
        if keys.null_count().sum_horizontal().item() or not in_event_order(keys):
            self.part.ordered = False
        first, last = keys.row(0), keys.row(-1)
        if self.part.last is not None and self.part.ordered and _after(self.part.last, first):
            self.part.ordered = False
        self.part.first = self.part.first or first
        self.part.last = last
        self.part.rows += block.height

    def write(self, blocks: Iterator[pl.DataFrame]) -> _Part:
        """Write the blocks to the part through the engine's streaming Parquet writer.

        The blocks become a lazy source that the writer pulls from: each is
        parsed when the writer asks for it and encoded by the engine's own
        threads, so no more than a block or two is held at a time. An
        exception raised while reading a block comes out of here unchanged.
        """
        from polars.io.plugins import register_io_source

        def source(with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
                   batch_size: int | None) -> Iterator[pl.DataFrame]:
            for block in blocks:
                block = block.select(EVENT_COLUMNS)
                # The writer would store a naive time as UTC without a word: check every column's type.
                wrong = [f"{k} is {block.schema[k]}, not {v}" for k, v in EVENT_SCHEMA.items() if block.schema[k] != v]
                if wrong:
                    msg = f"{self.part.path.name}: a block of events does not have the event schema: {'; '.join(wrong)}"
                    raise TypeError(msg)
                self.track(block)
                if predicate is not None:
                    block = block.filter(predicate)
                yield block if with_columns is None else block.select(with_columns)

        register_io_source(source, schema=EVENT_SCHEMA).sink_parquet(
            self.part.path, compression="zstd", compression_level=1
        )
        return self.part


def _after(a: tuple, b: tuple) -> bool:
    """Whether key ``a`` sorts after key ``b`` (so b cannot follow a)."""
    return a > b


class ParquetSink:
    """Collects parts in a temporary folder beside the output, then writes the output in event order."""

    columns: frozenset[str] | None = None  # every event column is written

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._dir = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", dir=self.out.parent))
        self._parts: list[_Part] = []

    def part(self) -> PartWriter:
        return PartWriter(self._dir / f"{len(self._parts) + 1:06d}.parquet")

    def add(self, part: _Part) -> None:
        if part.rows:
            self._parts.append(part)
        else:
            part.path.unlink(missing_ok=True)

    def discard(self, writer: PartWriter) -> None:
        writer.part.path.unlink(missing_ok=True)

    def finish(self, empty: Callable[[], pl.DataFrame]) -> None:
        """Write the output from the parts (an empty table when there are none) and remove the parts."""
        try:
            parts = sorted(self._parts, key=lambda p: (p.first is None, p.first or ()))
            in_sequence = all(p.ordered for p in parts) and all(
                a.last is not None and b.first is not None and not _after(a.last, b.first) for a, b in zip(parts, parts[1:])
            )
            if not parts:
                empty().write_parquet(self.out)
            elif len(parts) == 1 and in_sequence:
                os.replace(parts[0].path, self.out)
            elif in_sequence:
                pl.scan_parquet([p.path for p in parts]).sink_parquet(self.out, compression="zstd", compression_level=1)
            else:
                # The same order as sort_events: read order kept for ties, source and message
                # settling ties only when some row has no provenance.
                scan = pl.scan_parquet([p.path for p in self._parts])
                nulls = scan.select(pl.col("file").null_count() + pl.col("line").null_count()).collect().item()
                keys = [*_SORT_KEYS, "source", "message"] if nulls else _SORT_KEYS
                scan.sort(keys, nulls_last=True, maintain_order=True).sink_parquet(
                    self.out, compression="zstd", compression_level=1
                )
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def write_blocks(sink: ParquetSink | CountingSink, read_blocks: Callable[[bool], tuple[Iterator[pl.DataFrame], object]], retry: type[Exception],
                 transform: Callable[[pl.DataFrame], pl.DataFrame]) -> object:
    """Write one file's blocks to a part; read it again whole if the blocks call for it (``retry``)."""
    for whole in (False, True):
        writer = sink.part()
        try:
            blocks, account = read_blocks(whole)
            sink.add(writer.write(transform(block) for block in blocks))
        except retry:
            if whole:
                raise
            sink.discard(writer)
            continue
        except BaseException:
            sink.discard(writer)
            raise
        return account
    raise AssertionError("unreachable")


class CountingWriter:
    """Reduces one file's event blocks to counts per source and level as they are read, keeping no events."""

    def __init__(self) -> None:
        self.counts: list[pl.DataFrame] = []

    def write(self, blocks: Iterator[pl.DataFrame]) -> list[pl.DataFrame]:
        for block in blocks:
            if block.height:
                self.counts.append(
                    block.group_by("source", "level").agg(
                        pl.len().cast(pl.UInt32).alias("len"), pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last")
                    )
                )
        return self.counts


class CountingSink:
    """Where events go when only their counts are wanted: memory holds one block and the counts so far."""

    columns: frozenset[str] | None = frozenset({"ts", "source", "level"})  # what counting reads of an event

    def __init__(self) -> None:
        self._counts: list[pl.DataFrame] = []

    def part(self) -> CountingWriter:
        return CountingWriter()

    def add(self, counts: list[pl.DataFrame]) -> None:
        self._counts.extend(counts)

    def discard(self, writer: CountingWriter) -> None:
        writer.counts.clear()

    def finish(self, empty: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        """One row per source and level: how many events, the first and the last time."""
        if not self._counts:
            return empty()
        return (
            pl.concat(self._counts)
            .group_by("source", "level")
            .agg(pl.col("len").sum(), pl.col("first").min(), pl.col("last").max())
            .sort("source", "level")
        )

    def abort(self) -> None:
        self._counts.clear()
