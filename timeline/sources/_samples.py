"""Checking a spec against its own samples (as lnav does with its formats).

Every sample must parse into exactly the events it describes (one by default),
with nothing rejected, and with the expected values it names. A pattern that
no sample exercises is a warning.
"""

from __future__ import annotations

import datetime as dt
import warnings

import polars as pl

from timeline._errors import FormatSpecError
from timeline.sources._account import FileAccount
from timeline.sources._parse import Context, parse_csv_bytes, parse_jsonl_lines, parse_regex_lines
from timeline.sources._spec import Sample, Spec
from timeline.sources._time import TimeOptions

_SAMPLE_MTIME = dt.datetime(2024, 12, 31, 12, tzinfo=dt.UTC).timestamp()
_CHECKED = ("level", "service", "host", "actor", "ref", "action", "source", "kind")


def parse_sample(spec: Spec, sample: Sample) -> tuple[pl.DataFrame, FileAccount]:
    """Parse one sample with its spec; times without a zone are read in the sample's ``tz`` (default UTC)."""
    tz = sample.expect.get("tz")
    options = TimeOptions(tz=tz, year=sample.expect.get("year"), mtime=_SAMPLE_MTIME,
                          date=dt.date.fromisoformat(sample.expect["date"]) if "date" in sample.expect else None)
    ctx = Context(file=f"<sample of {spec.name}>", source="sample", time=options)
    account = FileAccount(file=ctx.file, format=spec.name)
    lines = pl.DataFrame(
        {"line": pl.Series(range(1, sample.text.count("\n") + 2), dtype=pl.UInt32), "text": sample.text.split("\n")}
    )
    if spec.kind == "regex":
        events = parse_regex_lines(lines, spec, ctx, account)
    elif spec.kind == "jsonl":
        events = parse_jsonl_lines(lines, spec, ctx, account)
    elif spec.kind == "csv":
        events = parse_csv_bytes(sample.text.encode(), spec, ctx, account)
    else:
        msg = f"format spec '{spec.name}': document specs are checked by their reader's tests"
        raise FormatSpecError(msg)
    return events, account


def check_spec(spec: Spec) -> None:
    """Parse every sample of a spec and compare with its expectations.

    Raises
    ------
    FormatSpecError
        Naming the spec, the sample and what did not match.
    """
    if spec.kind == "document":
        return
    used: set[str] = set()
    for i, sample in enumerate(spec.samples):
        where = f"format spec '{spec.name}' sample {i + 1} ({sample.text.splitlines()[0][:80]!r})"
        try:
            events, account = parse_sample(spec, sample)
        except (pl.exceptions.PolarsError, ValueError) as exc:
            raise FormatSpecError(f"{where}: could not be parsed: {exc}") from exc
        if account.rejected:
            reasons = "; ".join(f"line {r.line}: {r.reason}" for r in account.rejected_lines)
            raise FormatSpecError(f"{where}: sample does not match: {reasons}")
        want_events = int(sample.expect.get("events", 1))
        if events.height != want_events:
            raise FormatSpecError(f"{where}: expected {want_events} event(s), parsed {events.height}")
        if "continuation_lines" in sample.expect and account.continuation_lines != sample.expect["continuation_lines"]:
            raise FormatSpecError(
                f"{where}: expected {sample.expect['continuation_lines']} continuation lines, got {account.continuation_lines}"
            )
        if events.height == 0:
            continue
        row = events.row(0, named=True)
        for key in _CHECKED:
            if key in sample.expect and str(row[key]) != str(sample.expect[key]):
                raise FormatSpecError(f"{where}: expected {key} = {sample.expect[key]!r}, parsed {row[key]!r}")
        if "ts" in sample.expect:
            want = dt.datetime.fromisoformat(str(sample.expect["ts"]).replace("Z", "+00:00"))
            if row["ts"] is None or row["ts"] != want:
                raise FormatSpecError(f"{where}: expected ts {want.isoformat()}, parsed {row['ts']}")
        if "message" in sample.expect and sample.expect["message"] not in (row["message"] or ""):
            raise FormatSpecError(f"{where}: expected message containing {sample.expect['message']!r}, parsed {row['message']!r}")
        for pat in spec.patterns:
            # Any line of a sample counts: block formats match their later lines with their own patterns.
            if any(pat.compiled.search(line) for line in sample.text.split("\n")):
                used.add(pat.name)
    for pat in spec.patterns:
        if spec.kind == "regex" and pat.name not in used:
            warnings.warn(
                f"format spec '{spec.name}': pattern '{pat.name}' matches no sample; every pattern should have at least one sample that it matches",
                stacklevel=2,
            )
