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
        self.account = Account(account or [])
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

    # Row-keeping polars methods: they return an EventTable with the same account, so a filtered
    # table still says what was read (and reconstructing from it reports the files read).
    def _keep(self, df: pl.DataFrame, what: str) -> EventTable:
        note = f"{what}: {df.height:,} of {self.df.height:,} events kept"
        return EventTable(df, self.account, [*self.notes, note])

    def filter(self, *predicates: Any, **constraints: Any) -> EventTable:
        """Rows matching the predicates (as ``polars.DataFrame.filter``), with the account kept."""
        return self._keep(self.df.filter(*predicates, **constraints), "filtered")

    def head(self, n: int = 5) -> EventTable:
        """The first ``n`` events, with the account kept."""
        return self._keep(self.df.head(n), f"head({n})")

    def tail(self, n: int = 5) -> EventTable:
        """The last ``n`` events, with the account kept."""
        return self._keep(self.df.tail(n), f"tail({n})")

    def slice(self, offset: int, length: int | None = None) -> EventTable:
        """A slice of the events, with the account kept."""
        return self._keep(self.df.slice(offset, length), "sliced")

    def sort(self, by: Any, *more_by: Any, **kwargs: Any) -> EventTable:
        """The events sorted (as ``polars.DataFrame.sort``), with the account kept."""
        return EventTable(self.df.sort(by, *more_by, **kwargs), self.account, self.notes)

    def with_columns(self, *exprs: Any, **named: Any) -> EventTable:
        """The events with columns added or replaced, with the account kept."""
        return EventTable(self.df.with_columns(*exprs, **named), self.account, self.notes)

    def sample(self, n: int | None = None, **kwargs: Any) -> EventTable:
        """A random sample of the events, with the account kept."""
        return self._keep(self.df.sample(n, **kwargs), "sampled")

    # Read-only views of the frame; anything else is asked of ``events.df`` explicitly.
    _FRAME_ATTRIBUTES = frozenset({
        "height", "width", "shape", "columns", "schema", "dtypes", "is_empty", "iter_rows", "rows", "row", "to_dicts",
        "to_dict", "to_arrow", "to_numpy", "get_column", "get_columns", "item", "describe", "glimpse", "estimated_size",
        "select", "group_by", "group_by_dynamic", "join", "join_asof", "unique", "n_unique", "null_count", "pivot",
        "unpivot", "write_parquet", "write_csv", "write_ndjson", "write_json", "write_ipc", "partition_by", "drop",
        "rename", "cast", "collect_schema", "equals", "clone", "plot", "style", "sql", "vstack", "hstack", "max", "min",
    })

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or self.counted_only:
            raise AttributeError(name)
        if name in self._FRAME_ATTRIBUTES:
            return getattr(self.df, name)
        msg = f"'EventTable' has no attribute {name!r}: the polars frame is events.df (events.df.{name})"
        raise AttributeError(msg)

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
        files = f"{len(self.account)} file{'s' if len(self.account) != 1 else ''}"
        if self.counted_only:
            return f"EventTable({len(self):,} events counted, not kept, from {files}, {self.rejected:,} lines rejected)"
        span = ""
        if self.df.height:
            lo, hi = self.df["ts"].min(), self.df["ts"].max()
            span = f", {lo:%Y-%m-%d %H:%M:%S} to {hi:%Y-%m-%d %H:%M:%S} UTC"
        return (
            f"EventTable({self.df.height:,} events from {files}, {self.rejected:,} lines rejected{span})"
            " - events.df is the polars table, events.account the files read"
        )

    __str__ = __repr__

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


class Account(list):  # type: ignore[type-arg]
    """The per-file account of a read: a list of FileAccount, shown and queried as a polars table.

    ``account.frame`` (or ``to_polars()``) is one row per file with its format,
    how sure the sniffing was, lines, events, continuation lines, blank lines and
    rejected lines; ``to_pandas()`` the same for pandas. Iterating gives the
    FileAccount objects with every detail (rejected lines, warnings).
    """

    COLUMNS = ("file", "format", "confidence", "kind", "lines", "events", "continuation_lines", "blank", "rejected", "tz", "tz_assumed")

    @property
    def frame(self) -> pl.DataFrame:
        """The account as a polars DataFrame, one row per file."""
        rows = [{k: getattr(a, k, None) for k in self.COLUMNS} for a in self]
        schema = {"file": pl.String, "format": pl.String, "confidence": pl.Float64, "kind": pl.String, "lines": pl.Int64,
                  "events": pl.Int64, "continuation_lines": pl.Int64, "blank": pl.Int64, "rejected": pl.Int64,
                  "tz": pl.String, "tz_assumed": pl.Boolean}
        return pl.DataFrame(rows, schema=schema)

    def to_polars(self) -> pl.DataFrame:
        """The account as a polars DataFrame."""
        return self.frame

    def to_pandas(self) -> Any:
        """The account as a pandas DataFrame."""
        return self.frame.to_pandas()

    def __repr__(self) -> str:
        shown = self.frame.select("file", "format", "lines", "events", "continuation_lines", "rejected")
        with pl.Config(tbl_rows=50, tbl_width_chars=160, fmt_str_lengths=70, tbl_hide_dataframe_shape=True,
                       tbl_hide_column_data_types=True):
            return repr(shown)

    def _repr_html_(self) -> str:
        return self.frame._repr_html_()
