"""Every common shape of a written time reads to the right UTC instant, on whichever path it takes.

The staged time reader picks cheap branches from the values it sees (a zone
cut off by position, fixed-width fractions, epochs beside text); these tests
write times the way real loggers do (``datetime.isoformat()``, ``Z``, offsets
with and without a colon, abbreviations, no zone; 0, 3, 6 and 9 fraction
digits) and check the UTC values against Python's own reading, and that the
staged reader equals the reference expressions of ``time_exprs``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from timeline.sources import read
from timeline.sources._time import ISO_FORMATS, TimeOptions, add_time_columns, time_exprs

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LA = ZoneInfo("America/Los_Angeles")
UTC = dt.UTC

# Abbreviations with the offset they name in timeline's table.
_ABBREVIATIONS = {"PDT": -7, "PST": -8, "CEST": 2, "UTC": 0, "JST": 9}
# The shapes a zone is written in; "none" is a naive local time in America/Los_Angeles.
_ZONE_SHAPES = ["colon", "nocolon", "Z", "abbr", "none"]
_DIGITS = [0, 3, 6, 9]


def _fraction(instant: dt.datetime, digits: int) -> str:
    return "" if digits == 0 else "." + f"{instant.microsecond:06d}000"[:digits]


def _truncated(instant: dt.datetime, digits: int) -> dt.datetime:
    micro = 0 if digits == 0 else instant.microsecond // 10 ** max(0, 6 - digits) * 10 ** max(0, 6 - digits)
    return instant.replace(microsecond=micro)


def _write(instant: dt.datetime, shape: str, digits: int, sep: str = "T", abbr: str = "PDT") -> tuple[str, dt.datetime]:
    """``instant`` (UTC) written in a zone shape; returns the text and the UTC instant it names."""
    instant = _truncated(instant, digits)
    if shape == "none":
        local = instant.astimezone(LA)
        # A naive time in a repeated hour is ambiguous: the reader takes file order, so pick the first pass.
        if local.fold:
            local = local.replace(fold=0)
            instant = local.astimezone(UTC)
        return local.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + _fraction(local, digits), instant
    if shape == "Z":
        return instant.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + _fraction(instant, digits) + "Z", instant
    if shape == "abbr":
        local = instant.astimezone(dt.timezone(dt.timedelta(hours=_ABBREVIATIONS[abbr])))
        return local.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + _fraction(local, digits) + " " + abbr, instant
    local = instant.astimezone(LA)
    offset = local.strftime("%z")
    if shape == "colon":
        offset = offset[:3] + ":" + offset[3:]
    return local.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + _fraction(local, digits) + offset, instant


instants = st.datetimes(
    min_value=dt.datetime(2015, 1, 1), max_value=dt.datetime(2030, 12, 31), timezones=st.just(UTC),
)


def _read_column(values: list[str | None], epoch: str | None = None) -> pl.DataFrame:
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    return add_time_columns(
        frame, pl.col("raw"), formats=ISO_FORMATS, epoch=epoch, options=TimeOptions(tz="America/Los_Angeles"),
    )


@SETTINGS
@given(
    st.lists(instants, min_size=1, max_size=40),
    st.sampled_from(_ZONE_SHAPES), st.sampled_from(_DIGITS), st.sampled_from(["T", " "]),
    st.sampled_from(sorted(_ABBREVIATIONS)), st.sampled_from([None, "s", "ms", "auto"]),
)
def test_a_column_of_one_shape_reads_to_the_instants_written(moments, shape, digits, sep, abbr, epoch):
    """One shape per column (as one logger writes it): the fast paths that shape picks give the right UTC."""
    written = [_write(m, shape, digits, sep, abbr) for m in moments]
    out = _read_column([w for w, _ in written], epoch=epoch)
    assert out["_terr"].null_count() == out.height, out.filter(pl.col("_terr").is_not_null())
    assert out["ts"].to_list() == [i for _, i in written]


@SETTINGS
@given(
    st.lists(st.tuples(instants, st.sampled_from(_ZONE_SHAPES), st.sampled_from(_DIGITS)), min_size=1, max_size=40),
    st.sampled_from([None, "s"]),
)
def test_a_column_of_mixed_shapes_reads_to_the_instants_written(items, epoch):
    """Shapes mixed in one column (several writers, or isoformat dropping zero microseconds) read right too."""
    written = [_write(m, shape, digits) for m, shape, digits in items]
    out = _read_column([w for w, _ in written], epoch=epoch)
    assert out["_terr"].null_count() == out.height
    assert out["ts"].to_list() == [i for _, i in written]


@SETTINGS
@given(st.lists(instants, min_size=1, max_size=30), st.sampled_from([None, "-07:00", "Z", "+00:00"]))
def test_isoformat_reads_to_the_instant(moments, zone):
    """``datetime.isoformat()``: six digits, or none when the microseconds are zero (and so a column mixes both)."""
    values, expected = [], []
    for i, m in enumerate(moments):
        m = m.replace(microsecond=0) if i % 3 == 0 else m
        if zone is None:
            local = m.astimezone(LA).replace(tzinfo=None)
            if m.astimezone(LA).fold:
                continue
            values.append(local.isoformat())
        else:
            tz = dt.timezone(dt.timedelta(hours=-7)) if zone == "-07:00" else UTC
            text = m.astimezone(tz).isoformat()
            values.append(text.replace("+00:00", "Z") if zone == "Z" else text)
        expected.append(m)
    out = _read_column(values)
    assert out["ts"].to_list() == expected


@st.composite
def epoch_or_text(draw):
    moment = draw(instants)
    kind = draw(st.sampled_from(["s", "text", "none", "junk"]))
    if kind == "s":
        return f"{moment.timestamp():.3f}"
    if kind == "none":
        return None
    if kind == "junk":
        return draw(st.sampled_from(["", "yesterday", "2024-13-45T00:00:00Z", "inf", "12:00 PDTX"]))
    text, _ = _write(moment, draw(st.sampled_from(_ZONE_SHAPES)), draw(st.sampled_from(_DIGITS)))
    return text


@SETTINGS
@given(st.lists(epoch_or_text(), min_size=1, max_size=40), st.sampled_from(["s", "ms", "auto"]))
def test_epochs_beside_text_read_as_the_reference_expressions(values, epoch):
    """A format taking epochs and ISO text (zap, structlog, pino, logfmt) reads, and rejects, as the reference does."""
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    options = TimeOptions(tz="America/Los_Angeles")
    staged = add_time_columns(frame, pl.col("raw"), formats=ISO_FORMATS, epoch=epoch, options=options)
    ts, zone, error = time_exprs(pl.col("raw"), formats=ISO_FORMATS, epoch=epoch, options=options)
    direct = frame.select(ts.alias("ts"), zone.alias("_zone"), error.alias("_terr"))
    assert_frame_equal(staged.select("ts", "_zone", "_terr"), direct)


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 364), st.integers(0, 86399), st.sampled_from([0, 3, 6])), min_size=1, max_size=30),
    st.sampled_from(["year", "date"]),
)
def test_times_without_a_year_or_date_read_as_the_reference_expressions(items, missing):
    """syslog's and glog's year-less times, log4j's time-only ones: the staged reading equals the reference."""
    base = dt.datetime(2023, 1, 1)
    values = []
    for day, second, digits in items:
        moment = base + dt.timedelta(days=day, seconds=second, microseconds=123456)
        frac = "" if digits == 0 else "." + f"{moment.microsecond:06d}"[:digits]
        values.append(moment.strftime("%b %e %H:%M:%S" if missing == "year" else "%H:%M:%S") + frac)
    formats = ("%b %e %H:%M:%S%.f",) if missing == "year" else ("%H:%M:%S%.f",)
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    options = TimeOptions(tz="Europe/Berlin", year=2023, date=dt.date(2023, 5, 1))
    staged = add_time_columns(frame, pl.col("raw"), formats=formats, missing=missing, options=options)
    ts, zone, error = time_exprs(pl.col("raw"), formats=formats, missing=missing, options=options)
    direct = frame.select(ts.alias("ts"), zone.alias("_zone"), error.alias("_terr"))
    assert_frame_equal(staged.select("ts", "_zone", "_terr"), direct)


def _jsonl(path: Path, n: int, zone: dt.tzinfo | None, *, z_suffix: bool = False, key: str = "ts") -> list[dt.datetime]:
    """A JSON-lines log as Python's logging JSON formatters write it; returns the UTC instants."""
    start = dt.datetime(2024, 8, 12, 0, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    instants_ = []
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            moment = start + dt.timedelta(milliseconds=137 * i + (i % 7))
            local = moment.astimezone(zone) if zone is not None else moment.astimezone(LA).replace(tzinfo=None)
            text = local.isoformat(timespec="milliseconds")
            if z_suffix:
                text = text.replace("+00:00", "Z")
            record = {key: text, "level": "info", "logger": "orders", "msg": f"POST /api/v2/search?q=sho%C3%A9s 200 {i % 500}.6ms",
                      "request_id": f"{i:032x}", "latency_ms": 19.02}
            fh.write(json.dumps(record) + "\n")
            instants_.append(moment.astimezone(UTC))
    return instants_


@pytest.mark.parametrize(
    ("zone", "z_suffix"),
    [(dt.timezone(dt.timedelta(hours=-7)), False), (UTC, True), (UTC, False), (None, False)],
    ids=["offset", "Z", "plus-zero", "naive"],
)
@pytest.mark.parametrize("fmt", [None, "structlog_json", "zap_json"])
def test_isoformat_json_lines_read_in_blocks_to_the_instants(tmp_path, monkeypatch, zone, z_suffix, fmt):
    """The issue's file: ``{"ts": "2024-08-12T00:00:00.000-07:00", ...}`` read in many blocks, sniffed or named."""
    from timeline.sources import _lines as lines_module

    monkeypatch.setattr(lines_module, "BLOCK_BYTES", 64_000)
    path = tmp_path / "orders.jsonl"
    expected = _jsonl(path, 3000, zone, z_suffix=z_suffix)
    table = read(path, format=fmt, tz="America/Los_Angeles", quiet=True)
    account = table.account[0] if isinstance(table.account, list) else table.account
    assert account.rejected == 0
    assert table.df.sort("line")["ts"].to_list() == expected


@SETTINGS
@given(
    st.sampled_from(["America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo", "UTC"]),
    st.sampled_from([dt.datetime(2024, 3, 10, 1), dt.datetime(2024, 11, 3, 0, 30), dt.datetime(2024, 3, 31, 1, 30),
                     dt.datetime(2024, 10, 27, 1), dt.datetime(2024, 4, 7, 1), dt.datetime(2024, 10, 6, 1, 45), dt.datetime(2024, 7, 1)]),
    st.lists(st.integers(-3 * 86400, 3 * 86400), min_size=1, max_size=40),
)
def test_naive_local_times_near_a_dst_change_read_as_the_reference(tz, around, seconds):
    """One offset by arithmetic when the span holds no change of offset, the zone's rules otherwise: same instants."""
    values = [(around + dt.timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S") for s in sorted(seconds)]
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    options = TimeOptions(tz=tz)
    staged = add_time_columns(frame, pl.col("raw"), formats=ISO_FORMATS, options=options)
    ts, zone, error = time_exprs(pl.col("raw"), formats=ISO_FORMATS, options=options)
    direct = frame.select(ts.alias("ts"), zone.alias("_zone"), error.alias("_terr"))
    assert_frame_equal(staged.select("ts", "_zone", "_terr"), direct)


def test_records_with_object_values_read_each_key_as_python_does(tmp_path):
    """OpenTelemetry records hold objects (Resource, Attributes): every line's time, trace id and message are its own."""
    import random

    rng = random.Random(3)
    path = tmp_path / "otel.jsonl"
    expected = []
    with path.open("w", encoding="utf-8") as fh:
        for i in range(5000):
            ns = 1723497364512000000 + i * 1_234_567_000  # whole microseconds: the reader keeps microseconds
            service = rng.choice(["checkout", "orders", "billing"])
            body = rng.choice(["GET /a 200", "payment {declined}", "[worker] started", "x = [1]"])
            rec = {"Timestamp": str(ns), "SeverityText": rng.choice(["INFO", "ERROR"]), "Body": body,
                   "Resource": {"service.name": service, "host": {"name": f"h{i % 3}"}}, "Attributes": {"n": i, "list": [1, 2]},
                   "TraceId": f"{i:032x}"}
            fh.write(json.dumps(rec) + "\n")
            moment = dt.datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(microsecond=(ns // 1000) % 1_000_000)
            expected.append((moment, f"{i:032x}", body))
    df = read(path, format="otel_json", quiet=True).df.sort("line")
    assert list(zip(df["ts"].to_list(), df["ref"].to_list(), df["message"].to_list(), strict=True)) == expected
