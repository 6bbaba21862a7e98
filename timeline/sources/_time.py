"""Time: turning the many ways logs write a time into one UTC column, vectorised.

Everything here is a polars expression over a whole column: no per-line Python.

- A zone written on the line (``Z``, ``+02:00``, ``-0700``, ``+03``, ``PDT``,
  ``CEST``...) is split off and applied per line as an offset (polars' ``%Z``
  silently ignores abbreviations, so we map them ourselves).
- A naive local time takes the source's ``tz``; the repeated hour of a DST
  fall-back is resolved by file order (the first pass is the earlier instant).
- A format without a year or a date takes it from an option or the file's
  modification time, and a file that runs over New Year (or midnight) keeps
  its order.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from timeline._errors import InputError
from timeline.sources._engine import engine

# Offsets in seconds east of UTC. Ambiguous abbreviations take their most
# common meaning in server logs; override with ``zone_abbreviations=``.
ZONE_ABBREVIATIONS: dict[str, int] = {
    "UTC": 0, "GMT": 0, "Z": 0, "UT": 0, "WET": 0,
    "WEST": 3600, "BST": 3600, "CET": 3600, "MET": 3600,
    "CEST": 7200, "MEST": 7200, "EET": 7200, "SAST": 7200, "IST": 19800,
    "EEST": 10800, "MSK": 10800, "TRT": 10800,
    "GST": 14400, "PKT": 18000, "ICT": 25200, "WIB": 25200,
    "SGT": 28800, "HKT": 28800, "AWST": 28800, "PHT": 28800,
    "JST": 32400, "KST": 32400, "ACST": 34200, "ACDT": 37800,
    "AEST": 36000, "AEDT": 39600, "NZST": 43200, "NZDT": 46800,
    "HST": -36000, "AKST": -32400, "AKDT": -28800,
    "PST": -28800, "PDT": -25200, "MST": -25200, "MDT": -21600,
    "CST": -21600, "CDT": -18000, "EST": -18000, "EDT": -14400,
    "AST": -14400, "ADT": -10800, "NST": -12600, "NDT": -9000,
    "BRT": -10800, "ART": -10800,
}
AMBIGUOUS_ABBREVIATIONS = frozenset({"CST", "IST", "BST", "AST", "GST"})

# A trailing zone: Z, a numeric offset, or a 2-5 letter abbreviation after a space.
_ZONE_SPLIT = r"^(.*?)\s*(Z|z|[+-]\d{2}:?\d{2}|[+-]\d{2}|\s[A-Z]{2,5}|(?:UTC|GMT)[+-]\d{1,2}(?::?\d{2})?)$"

_ZONE_SUFFIX = (
    r"(?P<sfx>\s*(?P<z>Z|z|[+-][0-9]{2}:?[0-9]{2}|[+-][0-9]{2}|(?:UTC|GMT)[+-][0-9]{1,2}(?::?[0-9]{2})?)|\s+(?P<w>[A-Z]{2,5}))$"
)
# A letters-only zone (group w) must follow a space ("... 09:14:07 PDT"), not touch the digits.
ISO_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")
EPOCH_UNITS = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}


def get_zone(tz: str | None) -> str | None:
    """Check an IANA zone name (or ``UTC``) and return it; None stays None."""
    if tz is None:
        return None
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"unknown time zone {tz!r}: expected an IANA name such as 'America/Los_Angeles' or 'UTC'"
        raise InputError(msg) from exc
    return tz


@dataclass(frozen=True)
class TimeOptions:
    """Per-source options for reading times."""

    tz: str | None = None
    year: int | None = None
    date: dt.date | None = None
    mtime: float | None = None
    zone_abbreviations: Mapping[str, int] | None = None
    in_blocks: bool = False  # the lines are one block of a file: order-dependent times need the whole file


class WholeFileNeeded(Exception):  # noqa: N818 - a signal, not an error
    """A block holds a time only the whole file's order can settle (a DST fall-back's repeated hour)."""


def _offset_seconds(zone: pl.Expr, abbreviations: Mapping[str, int]) -> pl.Expr:
    """Offset in seconds east of UTC for a zone string; null when unknown or absent."""
    z = zone.str.strip_chars()
    z = pl.when(z.str.starts_with("UTC") & (z.str.len_chars() > 3)).then(z.str.slice(3)).otherwise(z)
    z = pl.when(z.str.starts_with("GMT") & (z.str.len_chars() > 3)).then(z.str.slice(3)).otherwise(z)
    numeric = z.str.extract_groups(r"^([+-])(\d{1,2}):?(\d{2})?$")
    sign = pl.when(numeric.struct.field("1") == "-").then(-1).otherwise(1)
    hours = numeric.struct.field("2").cast(pl.Int32, strict=False)
    minutes = numeric.struct.field("3").cast(pl.Int32, strict=False).fill_null(0)
    numeric_offset = sign * (hours * 3600 + minutes * 60)
    names = list(abbreviations)
    offsets = [abbreviations[n] for n in names]
    named = z.str.to_uppercase().replace_strict(names, offsets, default=None, return_dtype=pl.Int32)
    return pl.when(hours.is_not_null()).then(numeric_offset).otherwise(named).cast(pl.Int64)


def _parse_naive(text: pl.Expr, formats: Sequence[str]) -> pl.Expr:
    parsed = [text.str.to_datetime(f, strict=False, time_unit="us", cache=False) for f in formats]
    return parsed[0] if len(parsed) == 1 else pl.coalesce(parsed)


def _localize(naive: pl.Expr, tz: str) -> pl.Expr:
    """Naive local wall time to UTC, resolving the repeated hour of a DST fall-back by order.

    Rows are in file order. A row in a repeated hour is the later instant if the
    wall clock already went backwards earlier in the file on that date.
    """
    prev_max = naive.forward_fill().cum_max().shift(1)
    went_back = (naive < prev_max - pl.duration(minutes=10)).fill_null(False)
    day = naive.dt.date()
    second_pass = went_back.cast(pl.Int32).cum_max().over(day) > 0
    ambiguous = pl.when(second_pass).then(pl.lit("latest")).otherwise(pl.lit("earliest"))
    return naive.dt.replace_time_zone(tz, ambiguous=ambiguous, non_existent="null").dt.convert_time_zone("UTC")


_HAS_YEAR = ("%Y", "%y", "%G", "%F", "%D", "%c", "%s", "%+")
_HAS_DATE = ("%d", "%e", "%j", "%F", "%D", "%c", "%s", "%+")


def _split_formats(formats: Sequence[str], markers: Sequence[str]) -> tuple[list[str], list[str]]:
    """(complete, partial): the formats that carry the missing part, and those that lack it."""
    complete = [f for f in formats if any(m in f for m in markers)]
    return complete, [f for f in formats if f not in complete]


def _with_partial(text: pl.Expr, complete: Sequence[str], partial: pl.Expr | None) -> pl.Expr:
    if not complete:
        return partial if partial is not None else pl.lit(None, dtype=pl.Datetime("us"))
    full = _parse_naive(text, complete)
    return full if partial is None else pl.coalesce(full, partial)


def _fill_missing_year(text: pl.Expr, formats: Sequence[str], base_year: int) -> pl.Expr:
    """Parse year-less times, counting New Year rollovers in file order.

    Formats that carry a year are parsed as they are, so one spec can hold both.
    """
    complete, partial = _split_formats(formats, _HAS_YEAR)
    rolled_naive = None
    if partial:
        naive = _parse_naive(pl.lit(f"{base_year} ") + text, [f"%Y {f}" for f in partial])
        # A jump back of more than 180 days means the year turned over.
        prev = naive.forward_fill().shift(1)
        rolled = ((naive < prev - pl.duration(days=180)).fill_null(False)).cast(pl.Int32).cum_sum()
        total = rolled.max()
        rolled_naive = naive.dt.offset_by(pl.format("{}y", (rolled - total).cast(pl.String)))
    return _with_partial(text, complete, rolled_naive)


def _fill_missing_date(text: pl.Expr, formats: Sequence[str], base_date: dt.date) -> pl.Expr:
    """Parse time-only values, counting midnight rollovers in file order.

    Formats that carry a date are parsed as they are, so one spec can hold both.
    """
    complete, partial = _split_formats(formats, _HAS_DATE)
    rolled_naive = None
    if partial:
        naive = _parse_naive(pl.lit(f"{base_date.isoformat()} ") + text, [f"%Y-%m-%d {f}" for f in partial])
        prev = naive.forward_fill().shift(1)
        rolled = ((naive < prev - pl.duration(hours=12)).fill_null(False)).cast(pl.Int32).cum_sum()
        total = rolled.max()
        rolled_naive = naive + pl.duration(days=rolled - total)
    return _with_partial(text, complete, rolled_naive)


def time_exprs(
    raw: pl.Expr,
    *,
    formats: Sequence[str] = (),
    epoch: str | None = None,
    zone: pl.Expr | None = None,
    missing: str | None = None,
    options: TimeOptions,
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Build the expressions that read a raw time column.

    Parameters
    ----------
    raw
        The raw time text (or number, for epochs).
    formats
        strptime formats tried in order (polars/chrono syntax; use ``%3f`` for millis).
    epoch
        Unit of an epoch number: s, ms, us, ns or auto. With ``formats`` too,
        numeric values are epochs and text values go through the formats.
    zone
        A separate column holding a zone abbreviation or offset; when absent, a
        trailing zone is split off the raw text.
    missing
        ``"year"`` or ``"date"`` when a format lacks it; formats that carry it
        are parsed as they are.
    options
        The source's tz, year/date, mtime and abbreviation overrides.

    Returns
    -------
    (ts, zone_text, error)
        ``ts`` as Datetime(us, UTC), the zone text seen (for reports), and a
        String reason for rows whose time could not be read (null when fine).
    """
    abbreviations = dict(ZONE_ABBREVIATIONS)
    if options.zone_abbreviations:
        abbreviations.update({k.upper(): v for k, v in options.zone_abbreviations.items()})

    epoch_ts: pl.Expr | None = None
    number: pl.Expr | None = None
    if epoch is not None:
        number = raw.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
        if epoch == "auto":
            mag = number.abs()
            factor = (
                pl.when(mag > 1e17).then(0.001).when(mag > 1e14).then(1.0).when(mag > 1e11).then(1_000.0).otherwise(1_000_000.0)
            )
        else:
            factor = pl.lit(float(EPOCH_UNITS[epoch]))
        micros = (number * factor).round(0).cast(pl.Int64, strict=False)
        epoch_ts = pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC")
        if not formats:
            error = pl.when(epoch_ts.is_null()).then(pl.lit(f"not an epoch time in {epoch}"))
            return epoch_ts, pl.lit(None, dtype=pl.String), error

    text = raw.cast(pl.String).str.strip_chars()
    if zone is None:
        parts = text.str.extract_groups(_ZONE_SPLIT)
        base = pl.coalesce(parts.struct.field("1"), text)
        zone_text = parts.struct.field("2").str.strip_chars()
    else:
        base = text
        zone_text = zone.cast(pl.String).str.strip_chars()
        zone_text = pl.when(zone_text == "").then(None).otherwise(zone_text)

    if missing == "year":
        year = options.year or _year_from_mtime(options.mtime)
        naive = _fill_missing_year(base, formats, year)
    elif missing == "date":
        date = options.date or _date_from_mtime(options.mtime)
        naive = _fill_missing_date(base, formats, date)
    else:
        naive = _parse_naive(base, formats)

    offset = _offset_seconds(zone_text, abbreviations)
    zoned = (naive - pl.duration(seconds=offset)).dt.replace_time_zone("UTC")
    tz = options.tz or "UTC"
    local = _localize(naive, tz)
    ts = pl.when(zone_text.is_null()).then(local).otherwise(zoned)
    error = (
        pl.when(naive.is_null())
        .then(pl.lit(f"time does not match {' or '.join(formats)}" if formats else "no time"))
        .when(zone_text.is_not_null() & offset.is_null())
        .then(pl.format("unknown time zone {} (pass zone_abbreviations= to name it)", zone_text))
        .when(ts.is_null())
        .then(pl.lit(f"local time does not exist in {tz} (skipped by a DST change)"))
    )
    if epoch_ts is not None and number is not None:
        # Both an epoch unit and formats: numbers are epochs, text goes through the formats.
        is_number = number.is_not_null()
        ts = pl.when(is_number).then(epoch_ts).otherwise(ts)
        zone_text = pl.when(is_number).then(None).otherwise(zone_text)
        error = pl.when(is_number & epoch_ts.is_null()).then(pl.lit(f"not an epoch time in {epoch}")).when(~is_number).then(error)
    return ts, zone_text, error


def add_time_columns(
    frame: pl.DataFrame,
    raw: pl.Expr,
    *,
    formats: Sequence[str] = (),
    epoch: str | None = None,
    zone: pl.Expr | None = None,
    missing: str | None = None,
    options: TimeOptions,
    rows: pl.Expr | None = None,
) -> pl.DataFrame:
    """Read a raw time column into ``ts`` (UTC), ``_zone`` and ``_terr`` columns, in stages.

    The same reading as :func:`time_exprs`, but each intermediate (the text
    without its zone, the naive time, the offset) is computed once as a column
    and the costly branches run only when the data needs them: offsets only
    if some line carries a zone, the ordered DST resolution only if some time
    falls in a repeated hour. ``rows`` limits the work to record-start lines.

    Every kind of time takes these stages: text times, epoch numbers beside
    them (a format with ``epoch`` and ``formats``: each value is read as a
    number first, and only the others go through the formats), and formats
    without a year or a date. Building the whole reading as one expression
    instead (as :func:`time_exprs` does) repeats its shared parts many times
    over: an ISO time with an offset in a format that also takes epochs read
    at a few thousand lines a second that way.
    """
    work = frame.lazy().select(
        (rows if rows is not None else pl.lit(True)).alias("_rows"),
        (pl.when(rows).then(raw) if rows is not None else raw).alias("_traw"),
        *( [(pl.when(rows).then(zone) if rows is not None else zone).alias("_tzf")] if zone is not None else [] ),
    ).collect(engine=engine())
    if epoch is None:
        out = _read_text_times(work, formats=formats, zoned=zone is not None, missing=missing, options=options)
        return frame.with_columns(out.get_columns())
    # Numbers are epochs; text (if the format also has formats) is read by them.
    number = pl.col("_traw").cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    work = work.lazy().with_columns(number.alias("_tnum")).with_columns(
        (pl.col("_tnum").is_null() & pl.col("_traw").is_not_null()).any().alias("_q_text"),
    ).collect(engine=engine())
    some_text = bool(work["_q_text"][0]) if work.height else False
    work = work.drop("_q_text")
    if epoch == "auto":
        mag = pl.col("_tnum").abs()
        factor = pl.when(mag > 1e17).then(0.001).when(mag > 1e14).then(1.0).when(mag > 1e11).then(1_000.0).otherwise(1_000_000.0)
    else:
        factor = pl.lit(float(EPOCH_UNITS[epoch]))
    micros = (pl.col("_tnum") * factor).round(0).cast(pl.Int64, strict=False)
    epoch_ts = pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC")
    is_number = pl.col("_tnum").is_not_null()
    bad_epoch = pl.lit(f"not an epoch time in {epoch}")
    if formats and some_text:
        text_rows = work.lazy().select(
            "_rows", pl.when(is_number).then(None).otherwise(pl.col("_traw")).alias("_traw"),
            *(["_tzf"] if zone is not None else []),
        ).collect(engine=engine())
        text = _read_text_times(text_rows, formats=formats, zoned=zone is not None, missing=missing, options=options)
        out = pl.concat([work.select("_rows", "_tnum"), text], how="horizontal").lazy().select(
            pl.when(is_number).then(epoch_ts).otherwise(pl.col("ts")).alias("ts"),
            pl.when(is_number).then(None).otherwise(pl.col("_zone")).alias("_zone"),
            pl.when(is_number & epoch_ts.is_null()).then(bad_epoch).when(is_number).then(None)
            .otherwise(pl.col("_terr")).alias("_terr"),
        ).collect(engine=engine())
    else:
        # Every value is a number (or missing): no text to read.
        no_time = bad_epoch if not formats else pl.lit(f"time does not match {' or '.join(formats)}")
        out = work.lazy().select(
            epoch_ts.alias("ts"), pl.lit(None, dtype=pl.String).alias("_zone"),
            pl.when(pl.col("_rows") & epoch_ts.is_null()).then(pl.when(is_number).then(bad_epoch).otherwise(no_time)).alias("_terr"),
        ).collect(engine=engine())
    return frame.with_columns(out.get_columns())


def _read_text_times(
    work: pl.DataFrame, *, formats: Sequence[str], zoned: bool, missing: str | None, options: TimeOptions,
) -> pl.DataFrame:
    """``ts``, ``_zone`` and ``_terr`` for ``_traw`` (text times), ``_rows`` and ``_tzf`` (a zone column)."""
    abbreviations = dict(ZONE_ABBREVIATIONS)
    if options.zone_abbreviations:
        abbreviations.update({k.upper(): v for k, v in options.zone_abbreviations.items()})
    # Each stage is one query over the block; the facts that pick the next stage's cheap
    # branch (is there a zone on any line, did every time parse) are computed in the same
    # query, as columns of one repeated value, and read from its first row.
    text = pl.col("_traw").cast(pl.String).str.strip_chars()
    if not zoned:
        # The zone is found from the end of the value (the regex engine anchors at the end and
        # reads only the short suffix), then cut off by position.
        tt = pl.col("_ttext")
        work = work.lazy().with_columns(text.alias("_ttext")).with_columns(
            _cannot_end_in_zone(tt).all().alias("_q_none"), _ends_in_offset(tt).all().alias("_q_quick"),
        ).collect(engine=engine())
        facts = work.row(0, named=True) if work.height else {"_q_none": True, "_q_quick": True}
        work = work.drop("_q_none", "_q_quick")
        sample = _sample_values(work["_ttext"])
        if facts["_q_none"]:
            split = work.lazy().with_columns(tt.alias("_tbase"), pl.lit(None, dtype=pl.String).alias("_zone"))
        elif facts["_q_quick"]:
            # The suffix is ASCII, so its byte length from the end is its length in characters.
            n = (tt.str.len_bytes() - tt.str.find(_QUICK_SUFFIX)).cast(pl.Int64)
            split = work.lazy().with_columns(
                tt.str.head(-n).alias("_tbase"), tt.str.tail(n).str.strip_chars_start(" ").alias("_zone"),
            )
            sample = [re.sub(_QUICK_SUFFIX, "", v) for v in sample]
        else:
            work = work.lazy().with_columns(pl.col("_ttext").str.extract_groups(_ZONE_SUFFIX).alias("_parts")).collect(engine=engine())
            suffix = pl.col("_parts").struct.field("sfx")
            zone_found = pl.coalesce(pl.col("_parts").struct.field("z"), pl.col("_parts").struct.field("w"))
            not_zone = zone_found.str.to_uppercase().is_in(["AM", "PM"]).fill_null(False)
            work = work.lazy().with_columns(
                pl.when(suffix.is_null() | not_zone).then(pl.col("_ttext"))
                .otherwise(pl.col("_ttext").str.slice(0, pl.col("_ttext").str.len_chars() - suffix.str.len_chars()))
                .alias("_tbase"),
                pl.when(not_zone).then(None).otherwise(zone_found).alias("_zone"),
            ).drop("_parts").collect(engine=engine())
            split = work.lazy()
            sample = _sample_values(work["_tbase"])
        split = split.drop("_ttext")
    else:
        ztext = pl.col("_tzf").cast(pl.String).str.strip_chars()
        work = work.lazy().with_columns(
            text.alias("_tbase"), pl.when(ztext == "").then(None).otherwise(ztext).alias("_zone"),
        ).collect(engine=engine())
        sample = _sample_values(work["_tbase"])
        split = work.lazy()
    base = pl.col("_tbase")
    naive_read = pl.col("_naive").is_not_null()
    counts = [
        (pl.col("_naive").is_null() & base.is_not_null()).sum().alias("_q_todo"),
        pl.col("_zone").is_not_null().sum().alias("_q_zoned"),
        (pl.col("_zone").is_null() & naive_read).sum().alias("_q_naive"),
        pl.col("_zone").drop_nulls().unique().implode().alias("_q_zones"),
        pl.col("_naive").filter(pl.col("_zone").is_null()).min().alias("_q_min"),
        pl.col("_naive").filter(pl.col("_zone").is_null()).max().alias("_q_max"),
    ]
    if missing == "year":
        # The year (or date) is counted over rollovers in file order: one column, computed once.
        naive = _fill_missing_year(base, formats, options.year or _year_from_mtime(options.mtime))
        fmts: list[str] = []
    elif missing == "date":
        naive = _fill_missing_date(base, formats, options.date or _date_from_mtime(options.mtime))
        fmts = []
    else:
        # Formats are tried in order, each only on the values no earlier one read (usually the first reads all).
        fmts = _with_fixed_fractions(formats, sample)
        naive = base.str.to_datetime(fmts[0], strict=False, time_unit="us", cache=False) if fmts else pl.lit(None, dtype=pl.Datetime("us"))
    work = split.with_columns(naive.alias("_naive")).with_columns(counts).collect(engine=engine())
    for fmt in fmts[1:]:
        if not work.height or not work["_q_todo"][0]:
            break
        # Only the values still unread are parsed again (a value already read is a null here, read for free).
        parsed = pl.when(pl.col("_naive").is_null()).then(base).str.to_datetime(fmt, strict=False, time_unit="us", cache=False)
        work = work.lazy().with_columns(pl.coalesce(pl.col("_naive"), parsed).alias("_naive")).with_columns(counts).collect(engine=engine())
    facts = work.row(0, named=True) if work.height else {"_q_zoned": 0, "_q_naive": 0, "_q_zones": [], "_q_min": None, "_q_max": None}
    work = work.drop("_q_todo", "_q_zoned", "_q_naive", "_q_zones", "_q_min", "_q_max")
    tz = options.tz or "UTC"
    if facts["_q_zoned"]:
        # Few distinct zones: work their offsets out once each, then map.
        found = _zone_offsets(tuple(sorted(facts["_q_zones"])), tuple(sorted(abbreviations.items())))
        offset = pl.col("_zone").replace_strict(list(found), list(found.values()), default=None, return_dtype=pl.Int64)
        zoned_ts = (pl.col("_naive") - pl.duration(seconds=pl.col("_off"))).dt.replace_time_zone("UTC")
    else:
        offset = pl.lit(None, dtype=pl.Int64)
        zoned_ts = pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    local = pl.col("_naive").dt.replace_time_zone(tz, ambiguous="null", non_existent="null")
    unresolved = (pl.col("_local").is_null() & pl.col("_naive").is_not_null() & pl.col("_zone").is_null()).sum()
    local_utc = pl.col("_local").dt.convert_time_zone("UTC")
    if not facts["_q_naive"]:
        local, unresolved = pl.lit(None, dtype=pl.Datetime("us", tz)), pl.lit(0)
    else:
        fixed = _fixed_offset(tz, facts["_q_min"], facts["_q_max"])
        if fixed is not None:
            # No DST change in this span of local times: one offset for all, by arithmetic
            # (the zone's rules looked up per value cost as much as the parsing).
            local = (pl.col("_naive") - pl.duration(seconds=fixed)).dt.replace_time_zone("UTC")
            local_utc, unresolved = pl.col("_local"), pl.lit(0)
    error = (
        pl.when(pl.col("_naive").is_null())
        .then(pl.lit(f"time does not match {' or '.join(formats)}" if formats else "no time"))
        .when(pl.col("_zone").is_not_null() & pl.col("_off").is_null())
        .then(pl.format("unknown time zone {} (pass zone_abbreviations= to name it)", pl.col("_zone")))
        .when(pl.col("ts").is_null())
        .then(pl.lit(f"local time does not exist in {tz} (skipped by a DST change)"))
    )

    def finish(local_utc: pl.Expr) -> pl.LazyFrame:
        return (
            work.lazy()
            .with_columns(offset.alias("_off"), local.alias("_local"))
            .with_columns(unresolved.alias("_q_unresolved"))
            .with_columns(
                pl.when(pl.col("_zone").is_null()).then(local_utc).otherwise(zoned_ts).cast(pl.Datetime("us", "UTC")).alias("ts")
            )
            .select(
                pl.col("ts"), pl.col("_zone"), pl.when(pl.col("_rows")).then(error).alias("_terr"), pl.col("_q_unresolved"),
            )
        )

    out = finish(local_utc).collect(engine=engine())
    if out.height and out["_q_unresolved"][0]:
        # Some time is in a repeated or skipped hour: resolve by file order.
        if options.in_blocks:
            raise WholeFileNeeded
        out = finish(_localize(pl.col("_naive"), tz)).collect(engine=engine())
    return out.drop("_q_unresolved")


_FIXED_SPAN = dt.timedelta(days=2)


def _fixed_offset(tz: str, first: dt.datetime | None, last: dt.datetime | None) -> int | None:
    """The UTC offset (seconds east) of every local time from ``first`` to ``last`` in ``tz``, if one.

    None when a DST change (or any change of offset) falls in the span, when a
    time there is ambiguous or skipped, or when the span is over two days (then
    the zone's rules are looked up per value). The offset is read at both ends
    and at every whole hour between, both folds, so a change anywhere inside
    shows as two different offsets.
    """
    if first is None or last is None or last - first > _FIXED_SPAN or last < first:
        return None
    return _offset_over_hours(tz, first.replace(minute=0, second=0, microsecond=0), last)


@functools.lru_cache(maxsize=1024)
def _offset_over_hours(tz: str, start_hour: dt.datetime, last: dt.datetime) -> int | None:
    zone = ZoneInfo(tz)
    offsets = set()
    at = start_hour
    while True:
        for fold in (0, 1):
            off = at.replace(tzinfo=zone, fold=fold).utcoffset()
            offsets.add(None if off is None else int(off.total_seconds()))
        if len(offsets) > 1 or at > last:
            break
        at += dt.timedelta(minutes=30)
    return offsets.pop() if len(offsets) == 1 else None


@functools.lru_cache(maxsize=256)
def _zone_offsets(zones: tuple[str, ...], abbreviations: tuple[tuple[str, int], ...]) -> dict[str, int | None]:
    """Offsets of distinct zone strings, worked out once: a file's blocks write the same few zones."""
    frame = pl.DataFrame({"_zone": list(zones)}, schema={"_zone": pl.String})
    out = frame.select(pl.col("_zone"), _offset_seconds(pl.col("_zone"), dict(abbreviations)).alias("_o"))
    return dict(zip(out["_zone"].to_list(), out["_o"].to_list(), strict=True))


def _cannot_end_in_zone(tt: pl.Expr) -> pl.Expr:
    """True where a value cannot end in a zone (so no value needs the zone search).

    Every form ``_ZONE_SUFFIX`` reads ends in a letter, or in a sign followed
    by one to five digits and colons (``+05``, ``-0700``, ``+05:30``,
    ``UTC+5``); a column of ``2024-08-12 14:16:03,118`` values has neither.
    The test is anchored at the end, so the regex engine reads each value backwards
    from its end and stops within a few characters.
    """
    return tt.is_null() | ~tt.str.contains(r"(?:[+-][0-9:]{1,5}|[A-Za-z])$")


# The zone shapes cut off by position: Z, +HH:MM, +HHMM right after the seconds, or an
# abbreviation of 3-4 capitals after one space ("... 14:16:04 PDT", "CEST").
_QUICK_SUFFIX = r"(?:[Zz]|[+-][0-9]{2}:?[0-9]{2}| [A-Z]{3,4})$"


def _ends_in_offset(tt: pl.Expr) -> pl.Expr:
    """True where a value ends ``...:SS.ffffff-07:00``, ``...:SSZ``, ``-0700`` or `` PDT``: split by position.

    The same split as the ``_ZONE_SUFFIX`` regex gives for these shapes (a zone
    right after a digit, or an abbreviation after a single space), without its
    captures: the values are only tested and searched from their end.
    """
    return tt.str.contains(r"[0-9]" + _QUICK_SUFFIX) | tt.is_null()


_FRACTION = re.compile(r"([.,])([0-9]+)$")
_SAMPLE = 64


def _sample_values(values: pl.Series) -> list[str]:
    """A few of the first non-null values, which pick the fixed-width formats tried first."""
    head = values.head(4096).drop_nulls().head(_SAMPLE)
    if not head.len():
        head = values.drop_nulls().head(_SAMPLE)
    return [str(v) for v in head.to_list()]


def _with_fixed_fractions(formats: Sequence[str], sample: Sequence[str]) -> list[str]:
    """The formats, each ``%.f`` one preceded by its fixed-width twins (``.%6f``, none) for these values.

    ``%.f`` parses any number of digits (or none) but is several times slower
    than a fixed width; a fixed-width twin also fails slowly on a value of
    another width. The widths written in ``sample`` (the first values), most
    frequent first, become twins placed just before their ``%.f`` format:
    a twin reads only values that format would read, to the same instant, so
    the order of reading is unchanged. ``datetime.isoformat()`` writes six
    digits, or none when the microseconds are zero; JavaScript three; Go and
    Java up to nine: each gets a fixed form and the ``%.f`` form reads the rest.
    """
    if not any("%.f" in f for f in formats):
        return list(formats)
    widths: dict[int, int] = {}
    for value in sample:
        m = _FRACTION.search(value)
        width = 0 if m is None else len(m.group(2)) if m.group(1) == "." else -1
        if width in (0, 3, 6, 9):
            widths[width] = widths.get(width, 0) + 1
    order = sorted(widths, key=lambda w: -widths[w])
    out: list[str] = []
    for f in formats:
        if "%.f" in f:
            out.extend(f.replace("%.f", f".%{w}f" if w else "") for w in order)
        out.append(f)
    return out


def _year_from_mtime(mtime: float | None) -> int:
    if mtime is None:
        return dt.datetime.now(dt.UTC).year
    return dt.datetime.fromtimestamp(mtime, dt.UTC).year


def _date_from_mtime(mtime: float | None) -> dt.date:
    if mtime is None:
        return dt.datetime.now(dt.UTC).date()
    return dt.datetime.fromtimestamp(mtime, dt.UTC).date()


def correct_year_against_mtime(ts: pl.Series, mtime: float | None, explicit: bool) -> pl.Series:
    """If year-less times inferred from mtime land after the file was written, shift them a year back."""
    if explicit or mtime is None or ts.len() == 0:
        return ts
    last = ts.drop_nulls().max()
    limit = dt.datetime.fromtimestamp(mtime, dt.UTC) + dt.timedelta(days=2)
    if last is not None and last > limit:
        return ts.dt.offset_by("-1y")
    return ts


def strptime_to_regex(fmt: str) -> str:
    """A loose regex for the text a strptime format produces (for pattern building)."""
    pieces = {
        "%Y": r"\d{4}", "%y": r"\d{2}", "%m": r"\d{1,2}", "%d": r"\d{1,2}", "%e": r"\s?\d{1,2}",
        "%H": r"\d{1,2}", "%I": r"\d{1,2}", "%M": r"\d{2}", "%S": r"\d{2}", "%3f": r"\d{3}",
        "%6f": r"\d{6}", "%9f": r"\d{9}", "%f": r"\d+", "%.f": r"(?:\.\d+)?", "%b": r"[A-Za-z]{3}",
        "%B": r"[A-Za-z]+", "%a": r"[A-Za-z]{3}", "%A": r"[A-Za-z]+", "%p": r"[AaPp][Mm]",
        "%z": r"[+-]\d{2}:?\d{2}", "%Z": r"[A-Za-z]{1,5}", "%j": r"\d{3}", "%%": "%",
    }
    out = []
    i = 0
    while i < len(fmt):
        for key in sorted(pieces, key=len, reverse=True):
            if fmt.startswith(key, i):
                out.append(pieces[key])
                i += len(key)
                break
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return "".join(out)
