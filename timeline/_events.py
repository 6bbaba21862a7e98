"""The event table as users hold it: a polars frame plus the account of how it was read."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from timeline.sources._account import FileAccount


def counts_schema() -> pl.DataFrame:
    """An empty table of event counts: per source and level, how many, the first and the last time."""
    from timeline.schema import EVENT_SCHEMA

    return pl.DataFrame(schema={"source": pl.String, "level": EVENT_SCHEMA["level"], "len": pl.UInt32,
                                "first": EVENT_SCHEMA["ts"], "last": EVENT_SCHEMA["ts"]})


class EventTable:
    """Events read from evidence, with the per-file account beside them.

    ``df`` is the polars event table (see :mod:`timeline.schema`); ``account``
    has one :class:`FileAccount` per file read; ``notes`` holds what was skipped
    while walking folders. Unknown attributes go to ``df``, so
    ``events.filter(...)`` works as on a polars frame (and returns one).
    """

    def __init__(
        self,
        df: pl.DataFrame | None = None,
        account: list[FileAccount] | None = None,
        notes: list[str] | None = None,
        *,
        path: str | Path | None = None,
        counts: pl.DataFrame | None = None,
    ) -> None:
        if df is None and path is None and counts is None:
            msg = "an EventTable needs a frame, the Parquet file holding it, or its counts"
            raise ValueError(msg)
        self._df = df
        self.path = Path(path) if path is not None else None
        self.account = account or []
        self.notes = notes or []
        # Events counted as they were read and not kept (read(..., keep_events=False)):
        # one row per (source, level) with len, first and last time.
        self.counts = counts

    @property
    def df(self) -> pl.DataFrame:
        """The event table; when it was written to a Parquet file as it was read, loaded on first use."""
        if self._df is None:
            if self.path is None:
                msg = "these events were counted as they were read and not kept (keep_events=False): only summary() is available"
                raise ValueError(msg)
            self._df = pl.read_parquet(self.path)
        return self._df

    @df.setter
    def df(self, value: pl.DataFrame) -> None:
        self._df = value

    def lazy(self) -> pl.LazyFrame:
        """The event table as a lazy frame (a scan of its Parquet file when it has one and is not loaded)."""
        if self._df is None and self.path is not None:
            return pl.scan_parquet(self.path)
        return self.df.lazy()

    @property
    def counted_only(self) -> bool:
        """Whether the events were counted as they were read and not kept (``keep_events=False``)."""
        return self._df is None and self.path is None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or self.counted_only:
            raise AttributeError(name)
        return getattr(self.df, name)

    def __len__(self) -> int:
        if self.counted_only:
            return int(self.counts["len"].sum()) if self.counts is not None and self.counts.height else 0
        return self.df.height

    def __iter__(self) -> Iterator[Any]:
        return iter(self.df)

    def __getitem__(self, key: Any) -> Any:
        return self.df[key]

    def to_polars(self) -> pl.DataFrame:
        """The event table as a polars DataFrame."""
        return self.df

    def to_pandas(self) -> Any:
        """The event table as a pandas DataFrame."""
        return self.df.to_pandas()

    def report(self) -> list[dict[str, Any]]:
        """The per-file account as JSON-ready dicts (the ``--report-json`` contract)."""
        return [a.to_dict() for a in self.account]

    def report_json(self) -> str:
        return json.dumps(self.report(), indent=2)

    @property
    def zone_warning(self) -> str | None:
        """A warning naming the files whose times carried no zone and were read as UTC (None if none)."""
        from timeline.sources._zones import naive_time_warning

        return naive_time_warning(self.account)

    @property
    def rejected(self) -> int:
        """Lines rejected across all files."""
        return sum(a.rejected for a in self.account)

    def summary(self) -> str:
        """A short text summary: span, counts by source and level, and rejections."""
        # One row per source and level, with its count: kept as read, or counted from the table.
        if self.counted_only and self.counts is not None:
            counts = self.counts
            span = counts.select(pl.col("len").sum().alias("n"), pl.col("first").min().alias("lo"), pl.col("last").max().alias("hi")).row(0, named=True)
        else:
            lf = self.lazy()
            span = lf.select(pl.len().alias("n"), pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")).collect().row(0, named=True)
            counts = lf.group_by("source", "level").len().collect() if span["n"] else counts_schema()
        lines = []
        if span["n"]:
            lines.append(f"{span['n']:,} events from {span['lo']:%Y-%m-%d %H:%M:%S} to {span['hi']:%Y-%m-%d %H:%M:%S} UTC")
            by = counts.pivot(on="level", index="source", values="len").fill_null(0).sort("source")
            levels = [c for c in ("debug", "info", "notice", "warning", "error", "critical") if c in by.columns]
            lines.append(f"{'source':32} " + " ".join(f"{c:>8}" for c in levels))
            for row in by.iter_rows(named=True):
                lines.append(f"{row['source'][:32]:32} " + " ".join(f"{row[c]:>8,}" for c in levels))
        else:
            lines.append("no events")
        total = sum(a.lines for a in self.account)
        lines.append(f"{len(self.account)} files, {total:,} lines read, {self.rejected:,} rejected")
        return "\n".join(lines)

    def __repr__(self) -> str:
        if self.counted_only:
            return f"EventTable({len(self):,} events counted, not kept, from {len(self.account)} files, {self.rejected:,} lines rejected)"
        return f"EventTable({self.df.height:,} events from {len(self.account)} files, {self.rejected:,} lines rejected)\n{self.df!r}"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(a.file)}</td><td>{html.escape(a.format or '?')}</td><td>{a.confidence:.0%}</td>"
            f"<td>{a.lines:,}</td><td>{a.events:,}</td><td>{a.continuation_lines:,}</td><td>{a.rejected:,}</td></tr>"
            for a in self.account[:50]
        )
        warning = self.zone_warning
        shown = f"<p style='color:#b00'><b>{html.escape(warning)}</b></p>" if warning else ""
        head = "<tr><th>file</th><th>format</th><th>sure</th><th>lines</th><th>events</th><th>continuation</th><th>rejected</th></tr>"
        if self.counted_only:
            return shown + (
                f"<p><b>{len(self):,} events</b> counted (not kept) from {len(self.account)} files; "
                f"{self.rejected:,} lines rejected</p><table>{head}{rows}</table><pre>{html.escape(self.summary())}</pre>"
            )
        return shown + (
            f"<p><b>{self.df.height:,} events</b> from {len(self.account)} files; {self.rejected:,} lines rejected</p>"
            f"<table>{head}{rows}</table>" + self.df.head(20)._repr_html_()
        )
