"""The event schema: one table for every source.

Every reader (log lines, database logs, tickets, alerts, changes, chat) produces
rows of this shape, so everything downstream works on one table.
"""

from __future__ import annotations

from typing import Any

import polars as pl

LEVELS: tuple[str, ...] = ("debug", "info", "notice", "warning", "error", "critical")
"""Normalised severity levels, in increasing order."""

KINDS: tuple[str, ...] = ("log", "db", "ticket", "alert", "change", "chat", "note")
"""What kind of evidence an event is."""

Level = pl.Enum(list(LEVELS))
Kind = pl.Enum(list(KINDS))

EVENT_SCHEMA: dict[str, Any] = {
    "ts": pl.Datetime("us", "UTC"),
    "source": pl.String,
    "kind": Kind,
    "level": Level,
    "host": pl.String,
    "service": pl.String,
    "message": pl.String,
    "actor": pl.String,
    "ref": pl.String,
    "action": pl.String,
    "attrs": pl.String,
    "file": pl.String,
    "line": pl.UInt32,
}
"""Column name to polars dtype, in the canonical column order."""

EVENT_COLUMNS: tuple[str, ...] = tuple(EVENT_SCHEMA)


def empty_events() -> pl.DataFrame:
    """Return an empty event table with the canonical schema."""
    return pl.DataFrame(schema=EVENT_SCHEMA)


def conform(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Cast a frame to the event schema: add missing columns as nulls, order columns.

    Parameters
    ----------
    frame
        A polars frame holding some or all of the event columns.

    Returns
    -------
    polars.DataFrame
        The same rows with exactly the columns of :data:`EVENT_SCHEMA`.
    """
    lazy = frame.lazy()
    names = lazy.collect_schema().names()
    exprs = []
    for name, dtype in EVENT_SCHEMA.items():
        if name in names:
            exprs.append(pl.col(name).cast(dtype))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    return lazy.select(exprs).collect()


def sort_events(frame: pl.DataFrame) -> pl.DataFrame:
    """Sort events by time, then provenance, so any input order gives the same table."""
    # (file, line) identifies a read event, so it settles every tie; tables built by hand
    # without provenance fall back to source and message, which cost more to compare.
    keys = ["ts", "file", "line"]
    if frame.height and (frame["file"].null_count() or frame["line"].null_count()):
        keys += ["source", "message"]
    return frame.sort(keys, nulls_last=True, maintain_order=True)


def as_polars(table: Any) -> pl.DataFrame:
    """Accept a polars or pandas table (or an :class:`~timeline.EventTable`) and return polars."""
    if isinstance(table, pl.DataFrame):
        return table
    if isinstance(table, pl.LazyFrame):
        return table.collect()
    df = getattr(table, "df", None)
    if isinstance(df, pl.DataFrame):
        return df
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(table, pd.DataFrame):
        return pl.from_pandas(table)
    msg = f"expected a polars or pandas DataFrame, got {type(table).__name__}"
    raise TypeError(msg)


def in_event_order(df: pl.DataFrame) -> bool:
    """Whether the table is already in :func:`sort_events` order (time, file, line).

    A log is usually written in time order, so a sort, which copies the whole
    table, can be skipped when one pass shows it would change nothing.
    """
    if df.height < 2:
        return True
    if df["ts"].null_count() or df["file"].null_count() or df["line"].null_count():
        return False

    def prev(c: str) -> pl.Expr:
        return pl.col(c).shift(1)

    later = (pl.col("ts") > prev("ts")) | (
        (pl.col("ts") == prev("ts"))
        & ((pl.col("file") > prev("file")) | ((pl.col("file") == prev("file")) & (pl.col("line") >= prev("line"))))
    )
    return bool(df.lazy().select(later.slice(1).all()).collect().item())
