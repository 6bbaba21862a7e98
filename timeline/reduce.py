"""The heavy, engine-neutral pass: per-bucket counts of the event table.

Written against narwhals, so the same code runs on a polars LazyFrame here, and
on DuckDB or PySpark frames where the events are too many for one machine:
one group-by over (bucket, source, level[, template]) with first/last times and
one sample message per cell. Everything after this pass is small and polars.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals as nw
import polars as pl

# Bucket sizes a person reads easily, smallest first.
NICE_BUCKETS: tuple[tuple[str, int], ...] = (
    ("1s", 1), ("5s", 5), ("10s", 10), ("15s", 15), ("30s", 30),
    ("1m", 60), ("2m", 120), ("5m", 300), ("10m", 600), ("15m", 900), ("30m", 1800),
    ("1h", 3600), ("2h", 7200), ("6h", 21600), ("12h", 43200), ("1d", 86400),
)


def choose_bucket(start: dt.datetime, end: dt.datetime, *, target: int = 240) -> tuple[str, int]:
    """A bucket size that cuts ``[start, end]`` into about ``target`` buckets.

    An incident compressed into ten minutes gets 5-second buckets; one spread
    over two days gets 10-minute ones.
    """
    span = max((end - start).total_seconds(), 1.0)
    want = span / target
    for every, seconds in NICE_BUCKETS:
        if seconds >= want:
            return every, seconds
    return NICE_BUCKETS[-1]


def reduce(events: Any, every: str, *, by: tuple[str, ...] = ("source", "level"), sample: bool = True) -> Any:
    """Count events per time bucket and group, with first/last times and a sample message.

    Parameters
    ----------
    events
        Any frame narwhals accepts (polars, pandas, DuckDB, PySpark) with the
        event schema's ``ts`` and the ``by`` columns.
    every
        Bucket size, e.g. ``"1m"``.
    by
        Grouping columns besides the bucket (e.g. add ``"template_id"``).
    sample
        Keep one message per cell (the first).

    Returns
    -------
    The same kind of frame as given (native), with ``bucket``, the ``by``
    columns, ``n``, ``first``, ``last`` and ``sample``.
    """
    frame = _with_bucket(nw.from_native(events), every)
    aggs = [nw.len().alias("n"), nw.col("ts").min().alias("first"), nw.col("ts").max().alias("last")]
    if sample:
        aggs.append(nw.col("message").min().alias("sample"))
    out = (
        frame.group_by("bucket", *by)
        .agg(*aggs)
        .sort("bucket", *by)
    )
    return out.to_native()


def _with_bucket(frame: Any, every: str) -> Any:
    """Add ``bucket``, the start of each event's ``every``-long bucket (UTC, aligned on the epoch).

    narwhals truncates on every engine for one unit (``1m``, ``1h``); Spark's
    frames take no multiple (``5m``), and there the engine's own epoch
    arithmetic gives the same buckets (see :func:`timeline.engines.add_bucket`).
    """
    try:
        return frame.with_columns(nw.col("ts").dt.truncate(every).alias("bucket"))
    except (NotImplementedError, ValueError):
        from timeline.engines import add_bucket

        return nw.from_native(add_bucket(frame.to_native(), every))


def reduce_polars(events: pl.DataFrame, every: str, *, by: tuple[str, ...] = ("source", "level")) -> pl.DataFrame:
    """:func:`reduce` on a polars table, collected, with categorical columns as strings."""
    lazy = events.lazy().with_columns([pl.col(c).cast(pl.String) for c in by if c in events.columns])
    out = reduce(lazy, every, by=by)
    return out.collect() if isinstance(out, pl.LazyFrame) else out
