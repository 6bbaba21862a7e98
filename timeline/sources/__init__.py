"""Reading evidence: files, folders and globs into one event table plus an account of every line."""

from __future__ import annotations

import bisect
import datetime as dt
import fnmatch
import itertools
import json
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from timeline._errors import FormatSpecError, InputError
from timeline._events import EventTable, counts_schema
from timeline.schema import conform, empty_events, in_event_order, sort_events
from timeline.sources import documents
from timeline.sources._account import FileAccount
from timeline.sources import _generic, _w3c, _zones
from timeline.sources._engine import engine_for
from timeline.sources._envelope import Envelope, cut_prefix, prefix_spec
from timeline.sources._inputs import InputFile, expand, source_name
from timeline.sources._lines import Consumed, LineBlocks, _empty_lines, read_line_blocks
from timeline.sources._parse import Block, Context, parse_csv_bytes, parse_jsonl_lines, parse_regex_lines
from timeline.sources._sink import CountingSink, ParquetSink, write_blocks
from timeline.sources._sniff import SAMPLE_LINES, score_events, sniff_lines
from timeline.sources._spec import Spec, SpecCatalog, load_specs, resolve_spec
from timeline.sources._tagging import tag_db_changes
from timeline.sources._time import TimeOptions, WholeFileNeeded, correct_year_against_mtime, get_zone

__all__ = ["read", "read_file", "read_file_blocks", "WholeFileNeeded", "load_specs", "Spec", "FileAccount"]

MIN_SNIFF_SCORE = 0.5
# The generic reader is tried when no spec reads this share of a file's first lines, and
# takes the file when it reads more of them than the best spec by this margin.
GENERIC_ABOVE = 0.8
GENERIC_MARGIN = 0.15
MAX_LINE_BYTES = 1 << 20

PerFile = str | Mapping[str, str] | None


def _per_file(value: Any, path: Path) -> Any:
    """A per-file option: one value for all (a string or a Spec), or {glob or name: value}."""
    if value is None or isinstance(value, (str, Spec)):
        return value
    for pattern, v in value.items():
        if fnmatch.fnmatch(str(path), pattern) or fnmatch.fnmatch(path.name, pattern) or pattern in str(path):
            return v
    return value.get("*")


def _parse_with(spec: Spec, lines: pl.DataFrame, ctx: Context, account: FileAccount, block: Block | None = None) -> pl.DataFrame:
    if spec.kind == "regex":
        with engine_for(lines.height):
            return parse_regex_lines(lines, spec, ctx, account, block)
    if spec.kind == "jsonl":
        with engine_for(lines.height):
            return parse_jsonl_lines(lines, spec, ctx, account, block)
    if spec.kind == "csv":
        data = "\n".join(lines["text"].to_list()).encode("utf-8")
        return parse_csv_bytes(data, spec, ctx, account)
    msg = f"format {spec.name} is a document format; it reads whole files, not lines"
    raise FormatSpecError(msg)


def _trial(spec: Spec, lines: pl.DataFrame, ctx: Context) -> tuple[float, FileAccount]:
    """A spec tried on a file's first lines: its score and the account of the trial."""
    account = FileAccount(file="<sniff>", format=spec.name)
    return score_events(spec, lines.head(SAMPLE_LINES), lambda ls, sp, acc: _parse_with(sp, ls, ctx, acc), account), account


def read_file(item: InputFile | str | Path, **options: Any) -> tuple[pl.DataFrame, FileAccount]:
    """Read one file (or one document folder) into events and its account.

    Takes the options of :func:`read_file_blocks` (format, tz, year, date,
    source, specs, zone_abbreviations, day_first, max_line_bytes, column_map).
    """
    try:
        blocks, account = read_file_blocks(item, **options)
        frames = list(blocks)
    except WholeFileNeeded:
        # Some time needs the whole file's order (the repeated hour of a DST change): read again in one block.
        blocks, account = read_file_blocks(item, whole=True, **options)
        frames = list(blocks)
    events = pl.concat(frames) if len(frames) > 1 else frames[0] if frames else empty_events()
    return events, account


def read_file_blocks(
    item: InputFile | str | Path,
    *,
    format: str | Spec | None = None,
    tz: str | None = None,
    year: int | None = None,
    date: dt.date | None = None,
    source: str | None = None,
    specs: Mapping[str, Spec] | None = None,
    zone_abbreviations: Mapping[str, int] | None = None,
    day_first: bool | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    column_map: Mapping[str, str] | None = None,
    whole: bool = False,
    progress: Callable[[int], object] | None = None,
    columns: frozenset[str] | None = None,
) -> tuple[Iterator[pl.DataFrame], FileAccount]:
    """Read one file as a sequence of event tables (one per block of lines) and its account.

    The account is complete once the blocks are exhausted; ``progress`` is
    called after each block with the bytes of the file read so far. ``columns``: the
    event columns wanted from a log (None: all); the others are null and the work only
    they need is skipped. Iterating may raise
    :class:`WholeFileNeeded` (a time only the whole file's order settles): read
    again with ``whole=True``, discarding the blocks already seen.
    """
    if not isinstance(item, InputFile):
        p = Path(item)
        item = InputFile(p, p.parent)
    path = item.path
    specs = specs if specs is not None else SpecCatalog()
    src = source or source_name(path, item.root)
    forced = resolve_spec(format, specs) if format is not None else None
    doc_options = documents.DocumentOptions(
        tz=tz, day_first=day_first, date=date, column_map=column_map,
        spec_options=dict(forced.document) if forced is not None and forced.kind == "document" else None,
    )
    reader_name = item.directory_reader
    if forced is not None and forced.kind == "document":
        reader_name = forced.document.get("reader", forced.name)
    if reader_name is None and forced is None:
        reader_name = _detect_document(path)
    if reader_name is not None:
        reader = documents.readers().get(reader_name)
        if reader is None:
            msg = f"{path}: no document reader named {reader_name!r}; known: {', '.join(sorted(documents.readers()))}"
            raise InputError(msg)
        frame, account = reader.read(path, doc_options)
        account.format = account.format or reader_name
        account.source = account.source or src
        account.bytes = account.bytes or _size(path)
        events = conform(frame.with_columns(pl.col("source").fill_null(src)) if "source" in frame.columns else frame.with_columns(pl.lit(src).alias("source")))
        _finish_account(account, events)
        return iter([events]), account

    zone = get_zone(tz)
    options = TimeOptions(tz=zone, year=year, date=date, mtime=path.stat().st_mtime, zone_abbreviations=zone_abbreviations)
    raw = read_line_blocks(path, block_bytes=0 if whole else None)
    account = FileAccount(file=str(path), format=None, source=src, bytes=raw.size, compression=raw.compression)
    blocks = _line_file_blocks(raw, account, forced, specs, options, max_line_bytes, explicit_year=year is not None, whole=whole,
                               columns=columns)
    if progress is not None:
        blocks = _reporting(blocks, raw.consumed, progress)
    return blocks, account


def _reporting(blocks: Iterator[pl.DataFrame], consumed: Consumed, progress: Callable[[int], object]) -> Iterator[pl.DataFrame]:
    for block in blocks:
        progress(consumed.bytes)
        yield block


def _line_file_blocks(
    raw: LineBlocks,
    account: FileAccount,
    forced: Spec | None,
    specs: Mapping[str, Spec],
    options: TimeOptions,
    max_line_bytes: int,
    *,
    explicit_year: bool,
    whole: bool,
    columns: frozenset[str] | None = None,
) -> Iterator[pl.DataFrame]:
    """Read a line-oriented log, block by block, into event tables, filling its account.

    Blocks keep memory bounded whatever the file's size: each is parsed and
    reduced to events before the next is read, and a record that runs over a
    block's end is carried into the next block whole.
    """
    if raw.binary:
        account.warnings.extend(raw.warnings)
        account.lines = raw.binary_lines
        account.reject_group("binary file: not text", raw.binary_lines, [])
        return
    blocks = iter(raw.blocks)
    # The format is recognised from the same first lines whatever the block size.
    head = [next(blocks, _empty_lines())]
    while sum(b.height for b in head) < SAMPLE_LINES and (more := next(blocks, None)) is not None:
        head.append(more)
    first = _drop_too_long(pl.concat(head) if len(head) > 1 else head[0], max_line_bytes, account)
    ctx = Context(file=account.file, source=account.source or "", time=options)
    account.tz = options.tz or "UTC"
    account.tz_given = options.tz is not None

    if _opens_document(first) and (forced is None or forced.kind == "jsonl"):
        # Pretty-printed JSON (a webhook body, an API object, `jq` output): each object read whole, as one record.
        # Read on only as far as a document may go: a larger file is read as lines, from what was taken.
        taken, size, whole = [first], int(first["text"].str.len_bytes().sum() or 0), True
        for b in blocks:
            taken.append(_drop_too_long(b, max_line_bytes, account))
            size += int(taken[-1]["text"].str.len_bytes().sum() or 0)
            if size > MAX_DOCUMENT_BYTES:
                whole = False
                break
        whole_lines = pl.concat(taken) if len(taken) > 1 else first
        found = _json_objects(whole_lines) if whole else None
        if found is not None:
            yield from _json_document(found[0], whole_lines, account, forced, specs, ctx, found[1])
            account.warnings.extend(raw.warnings)
            return
        first = whole_lines

    first_day: dt.date | None = None
    declared = _w3c.spec_from_directives(first) if forced is None else None
    if declared is not None:
        # The file names its own fields (#Fields: of W3C logs, #fields of Zeek): read by them.
        forced, utc, day = declared
        if day is not None and options.date is None:
            # The #Date directive dates the file's first line (a date option dates its last).
            options = replace(options, date=day)
            ctx = replace(ctx, time=options)
            first_day = day
        if utc and options.tz is None:
            options = replace(options, tz="UTC")
            ctx = replace(ctx, time=options)
            account.tz, account.tz_given = "UTC", True
            account.warnings.append("W3C extended log: times are UTC by the format's definition")
    wrapper = prefix_spec(first, specs) if forced is None and declared is None else None
    if wrapper is not None:
        # docker compose's 'service-1  | ' before each container's own lines: each container read as a file of its own.
        rest_lines = (_drop_too_long(b, max_line_bytes, account) for b in blocks)
        yield from _prefixed_file(wrapper, pl.concat([first, *rest_lines]), account, specs, options, max_line_bytes,
                                  explicit_year=explicit_year, columns=columns)
        account.warnings.extend(raw.warnings)
        return
    if forced is not None:
        spec = forced
        account.confidence = 1.0
        account.sniff = [(spec.name, 1.0)]
    else:
        ranked = sniff_lines(first, specs, lambda ls, sp, acc: _parse_with(sp, ls, ctx, acc))
        account.sniff = ranked[:3]
        best_score = ranked[0][1] if ranked else 0.0
        fallback = None
        if best_score < GENERIC_ABOVE:
            # No spec reads the first lines well: the generic reader takes the file if it reads them better.
            fallback = _generic.choose(first, lambda sp: _trial(sp, first, ctx))
            if fallback is not None and best_score and fallback[1] <= best_score:
                # A spec reading as many of the first lines as the last resort does (a file opening with lines
                # that belong to no record, say) reads them with its own fields.
                best_score, fallback = max(best_score, MIN_SNIFF_SCORE), None
            elif fallback is not None and not (fallback[1] > best_score + GENERIC_MARGIN or best_score < MIN_SNIFF_SCORE):
                fallback = None
        if fallback is not None:
            spec, account.confidence = fallback
            account.generic = True
            account.sniff = [(spec.name, fallback[1]), *ranked[:3]]
            account.warnings.append(_generic.note(spec, ranked))
        elif not ranked or best_score < MIN_SNIFF_SCORE:
            best = f" (closest: {', '.join(f'{n} read {sc:.0%}' for n, sc in ranked[:3])} of the first lines)" if ranked else ""
            reason = (
                f"no known format recognised and no line starts with a time{best}; name one with --format NAME (CLI) or "
                "format='NAME' (Python), a logging pattern ('python:...', 'log4j:...', 'postgres:...') or a spec file (--formats-dir / formats_dir=)"
            )
            for lines in itertools.chain([first], (_drop_too_long(b, max_line_bytes, account) for b in blocks)):
                nonblank = lines.filter(pl.col("text").str.strip_chars() != "")
                account.lines += lines.height
                account.blank += lines.height - nonblank.height
                if nonblank.height:
                    account.reject_group(reason, nonblank.height, [(int(r[0]), r[1]) for r in nonblank.head(3).iter_rows()])
            account.warnings.extend(raw.warnings)
            return
        else:
            spec = specs[ranked[0][0]]
            account.confidence = ranked[0][1]
    account.format = spec.name
    account.kind = spec.event_kind
    # The format was recognised on whole events; now only what is wanted (an envelope's inner lines need its messages).
    ctx = replace(ctx, columns=None if spec.raw.get("envelope") else columns)
    rest = (_drop_too_long(b, max_line_bytes, account) for b in blocks)
    span = _Span()
    # A container runtime's envelope: the lines inside it are read by their own format where one fits.
    envelope = Envelope(spec, specs, ctx, lambda ls, sp, acc: _parse_with(sp, ls, ctx, acc), account) if spec.raw.get("envelope") else None
    unwrap = envelope.apply if envelope is not None else _unchanged
    if spec.kind == "csv" or spec.timestamp.get("missing"):
        # CSV fields may hold newlines, and year/date inference counts rollovers over the whole file.
        frame = _parse_with(spec, pl.concat([first, *rest]), ctx, account)
        if spec.timestamp.get("missing") == "year" and frame.height:
            frame = frame.with_columns(correct_year_against_mtime(frame["ts"], options.mtime, explicit_year).alias("ts"))
        if first_day is not None and frame.height:
            frame = _from_first_day(frame, first_day, options.tz)
        yield span.add(unwrap(conform(frame)))
    else:
        ctx = replace(ctx, time=replace(options, in_blocks=not whole))
        carry: pl.DataFrame | None = None
        # Every block holds its last record back for the next; what is held after the last block is read last.
        for lines in itertools.chain([first], rest):
            block = None if whole else Block(last=False)
            yield span.add(unwrap(conform(_parse_with(spec, lines if carry is None else pl.concat([carry, lines]), ctx, account, block))))
            carry = block.held if block is not None else None
        if carry is not None:
            yield span.add(unwrap(conform(_parse_with(spec, carry, ctx, account))))
    if envelope is not None:
        envelope.note(account)
    if account.rejected and forced is None and not account.generic:
        account.warnings.append(_poorly_read(account, spec))
    account.warnings.extend(raw.warnings)
    if account.tz_assumed and options.tz is None:
        account.warnings.append("times carry no zone and no tz was given: read as UTC")
    span.finish(account)


def _prefixed_file(
    wrapper: Spec, lines: pl.DataFrame, account: FileAccount, specs: Mapping[str, Spec], options: TimeOptions,
    max_line_bytes: int, *, explicit_year: bool, columns: frozenset[str] | None,
) -> Iterator[pl.DataFrame]:
    """Read a file whose lines carry a name prefix (docker compose): each name's lines as a file of its own.

    The name is the events' host, and their service where the line names none. Lines without the prefix
    (compose's own 'Attaching to ...', 'web-1 exited with code 1') carry no time and are rejected, counted.
    """
    parts = cut_prefix(lines, wrapper)
    account.format, account.kind, account.confidence = wrapper.name, wrapper.event_kind, 1.0
    account.sniff = [(wrapper.name, 1.0)]
    outside = parts.filter(pl.col("name").is_null())
    blank = outside.filter(pl.col("text").str.strip_chars() == "")
    account.lines += outside.height
    account.blank += blank.height
    own = outside.filter(pl.col("text").str.strip_chars() != "")
    if own.height:
        account.reject_group(f"a line of {wrapper.name} itself, outside any container's output: no time", own.height,
                             [(int(r[0]), r[1]) for r in own.head(3).select("line", "text").iter_rows()])
    read_as: list[str] = []
    span = _Span()
    for (name,), group in parts.filter(pl.col("name").is_not_null()).group_by("name", maintain_order=True):
        sub = FileAccount(file=account.file, format=None, source=account.source, bytes=0)
        # Lines the wrapper's own patterns read carry the runtime's time (--timestamps): read by it, its envelope
        # reading what is inside by the format that fits this container; other lines are read without their prefix.
        wrapped = group.head(SAMPLE_LINES).filter(pl.col("whole").str.strip_chars() != "")["whole"].to_list()
        own = sum(1 for t in wrapped if any(p.compiled.match(t) for p in wrapper.patterns))
        timed = bool(wrapped) and own >= 0.8 * len(wrapped)
        sub_raw = LineBlocks(blocks=iter([group.select("line", pl.col("whole" if timed else "text").alias("text"))]), size=0)
        frames = list(_line_file_blocks(sub_raw, sub, wrapper if timed else None, specs, options, max_line_bytes,
                                        explicit_year=explicit_year, whole=True, columns=columns))
        events = pl.concat(frames) if frames else conform(empty_events())
        events = events.with_columns(pl.col("host").fill_null(pl.lit(name)), pl.col("service").fill_null(pl.lit(name)))
        account.lines += sub.lines
        account.events += sub.events
        account.continuation_lines += sub.continuation_lines
        account.blank += sub.blank
        for reason, count in sub.rejected_reasons.items():
            shown = [(r.line, r.text) for r in sub.examples if (r.reason.split(":")[0] if len(r.reason) > 80 else r.reason) == reason]
            account.reject_group(f"{name}: {reason}", count, shown)
        account.tz_assumed |= sub.tz_assumed
        account.generic |= sub.generic
        account.zones_seen.extend(z for z in sub.zones_seen if z not in account.zones_seen)
        account.warnings.extend(f"{name}: {w}" for w in sub.warnings)
        inner = next((w.split(" read as ", 1)[1].split(":")[0] for w in sub.warnings if " envelope read as " in w), None) if timed else None
        what = inner or ("its own text with the runtime's time" if timed else sub.format or "nothing")
        read_as.append(f"{name} as {what}{' (generic reader)' if sub.generic else ''}")
        yield span.add(events)
    account.tz = options.tz or "UTC"
    account.warnings.insert(0, f"{wrapper.name}: each container's lines read on their own: {', '.join(read_as)}")
    span.finish(account)


def _from_first_day(frame: pl.DataFrame, day: dt.date, tz: str | None) -> pl.DataFrame:
    """Time-only events dated so that the first of them falls on ``day`` (read as dating the last)."""
    first = frame.sort("line")["ts"].drop_nulls()
    if first.len() == 0:
        return frame
    local = first[0].astimezone(ZoneInfo(tz)) if tz else first[0]
    shift = (day - local.date()).days
    return frame.with_columns((pl.col("ts") + pl.duration(days=shift)).alias("ts")) if shift else frame


def _poorly_read(account: FileAccount, spec: Spec) -> str:
    """The note for a file its format left lines of: the other formats that came close, and how to name one."""
    others = [(n, sc) for n, sc in account.sniff if n != spec.name][:3]
    closest = f"; other close formats: {', '.join(f'{n} ({sc:.0%})' for n, sc in others)}" if others else ""
    return (
        f"{account.rejected:,} lines not read as {spec.name}{closest}. To read it another way: --format NAME (CLI) or "
        "format='NAME' (Python), a logging pattern (--format 'python:%(asctime)s %(levelname)s %(message)s', 'log4j:...', "
        "'postgres:<log_line_prefix>'), or a spec file of your own (--formats-dir DIR / formats_dir=DIR)"
    )


# A file opening like a pretty-printed JSON object, and no larger than this, is tried as one document.
MAX_DOCUMENT_BYTES = 64 << 20


def _opens_document(lines: pl.DataFrame) -> bool:
    """True when a file's first non-blank line opens a JSON document rather than being one JSON line.

    That is: an object it does not close (pretty-printed), an array of objects (``[`` alone or ``[{``),
    or one whole object that only holds a list of records (a CloudTrail file written on one line).
    """
    for text in lines["text"].head(20).to_list():
        s = text.strip()
        if not s:
            continue
        if s.startswith("{"):
            if not s.endswith("}"):
                return True
            try:
                return _generic.record_list(json.loads(s)) is not None
            except ValueError:
                return False
        return s == "[" or (s.startswith("[") and s[1:].lstrip().startswith("{"))
    return False


_WS = re.compile(r"[ \t\r\n]*")


def _array_items(text: str, pos: int, decoder: json.JSONDecoder) -> list[tuple[int, int, Any]]:
    """The values of the JSON array opening at ``text[pos]``, each as (start, end, value)."""
    out: list[tuple[int, int, Any]] = []
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    if text[pos : pos + 1] == "]":
        return out
    while True:
        value, end = decoder.raw_decode(text, pos)
        out.append((pos, end, value))
        pos = _WS.match(text, end).end()  # type: ignore[union-attr]
        if text[pos : pos + 1] == "]":
            return out
        if text[pos : pos + 1] != ",":
            raise ValueError(f"expected ',' or ']' at {pos}")
        pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]


def _member_start(text: str, pos: int, key: str, decoder: json.JSONDecoder) -> int:
    """Where the value of top-level member ``key`` of the JSON object opening at ``text[pos]`` starts."""
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    while text[pos : pos + 1] == '"':
        name, end = decoder.raw_decode(text, pos)
        pos = _WS.match(text, end).end()  # type: ignore[union-attr]
        if text[pos : pos + 1] != ":":
            break
        pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
        if name == key:
            return pos
        _, end = decoder.raw_decode(text, pos)
        pos = _WS.match(text, end).end()  # type: ignore[union-attr]
        if text[pos : pos + 1] == ",":
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    raise ValueError(f"member {key!r} not found")


def _json_objects(lines: pl.DataFrame) -> tuple[list[tuple[int, int, dict]], list[str]] | None:
    """The file's lines as JSON records (one document, pretty-printed records, or lists of records).

    Each record as (row of its first line, rows it spans, object), and where records came out of
    lists, how those lists were held (``'Records'``, ``'[...]'``); None when the lines are no such stream.
    """
    texts = lines["text"].to_list()
    text = "\n".join(texts)
    starts = list(itertools.accumulate((len(t) + 1 for t in texts[:-1]), initial=0))
    decoder = json.JSONDecoder()
    out: list[tuple[int, int, dict]] = []
    lists: list[str] = []

    def add(start: int, end: int, value: Any) -> None:
        first, last = bisect.bisect_right(starts, start) - 1, bisect.bisect_right(starts, end - 1) - 1
        out.append((first, last - first + 1, value))

    pos = 0
    try:
        while True:
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if pos >= len(text):
                break
            value, end = decoder.raw_decode(text, pos)
            key = _generic.record_list(value)
            if isinstance(value, list) or key is not None:
                # A list of records, bare or under a key of an object with no time of its own: each one a record.
                items = _array_items(text, pos if key is None else _member_start(text, pos, key, decoder), decoder)
                if not all(isinstance(v, dict) for _, _, v in items):
                    return None
                for start, stop, item in items:
                    add(start, stop, item)
                lists.append("[...]" if key is None else repr(key))
            elif isinstance(value, dict):
                add(pos, end, value)
            else:
                return None
            pos = end
    except ValueError:
        return None
    return (out, lists) if out or lists else None


def _json_document(
    objects: list[tuple[int, int, dict]], lines: pl.DataFrame, account: FileAccount, forced: Spec | None,
    specs: Mapping[str, Spec], ctx: Context, lists: Sequence[str] = (),
) -> Iterator[pl.DataFrame]:
    """Read pretty-printed JSON objects, each as one record: its first line the event, the others its continuation.

    Records that came out of a list (``lists``: a JSON array, CloudTrail's ``Records``) may share lines, so such a
    file is accounted by records, as other documents are: ``lines`` counts the records, each an event or rejected.
    """
    rows = lines["line"].to_list()
    blank = lines["text"].str.strip_chars() == ""
    records = pl.DataFrame(
        {"line": [rows[first] for first, _, _ in objects], "text": [json.dumps(o, ensure_ascii=False) for _, _, o in objects]},
        schema={"line": lines.schema["line"], "text": pl.String},
    )
    parse = lambda ls, sp, acc: _parse_with(sp, ls, ctx, acc)  # noqa: E731
    spec: Spec | None = forced
    if spec is None:
        ranked = sniff_lines(records, {n: s for n, s in specs.items() if s.kind == "jsonl"}, parse)
        account.sniff = ranked[:3]
        if ranked and ranked[0][1] >= MIN_SNIFF_SCORE:
            spec, account.confidence = specs[ranked[0][0]], ranked[0][1]
        else:
            fallback = _generic.choose(records, lambda sp: _trial(sp, records, ctx))
            if fallback is not None:
                spec, account.confidence = fallback
                account.generic = True
                account.warnings.append(_generic.note(spec, ranked))
    if lists:
        account.records = records.height
        held = ", ".join(sorted(set(lists)))
        account.warnings.append(
            f"{records.height:,} JSON records from a list ({'a top-level array' if held == '[...]' else 'under ' + held}) in "
            f"{lines.height:,} lines, each read as one event; this file is counted in records, not lines"
        )
        if spec is None:
            if records.height:
                account.lines += records.height
                account.reject_group("JSON record with no time field the generic reader knows; name one with format= or column_map=",
                                     records.height, [(int(r[0]), r[1]) for r in records.head(1).iter_rows()])
            return
        account.format, account.kind = spec.name, spec.event_kind
        span_ = _Span()
        yield span_.add(conform(_parse_with(spec, records, ctx, account)))
        span_.finish(account)
        return
    # Every line that is not a record's first is blank, continues its record, or goes with a rejected one.
    account.lines += lines.height - records.height
    account.blank += int(blank.sum())
    if spec is None:
        account.lines += records.height
        nonblank = lines.filter(~blank)
        account.reject_group("JSON document(s) with no time field the generic reader knows; name one with format= or column_map=",
                             nonblank.height, [(int(r[0]), r[1]) for r in nonblank.head(1).iter_rows()])
        return
    account.format, account.kind = spec.name, spec.event_kind
    events = conform(_parse_with(spec, records, ctx, account))
    read = set(events["line"].to_list())
    rest_read = rest_rejected = 0
    for first, span, _ in objects:
        others = span - 1 - int(blank.slice(first + 1, span - 1).sum()) if span > 1 else 0
        if rows[first] in read:
            rest_read += others
        else:
            rest_rejected += others
    account.continuation_lines += rest_read
    if rest_rejected:
        account.reject_group("the rest of a JSON record whose time could not be read", rest_rejected, [])
    shape = "one JSON document" if len(objects) == 1 else f"{len(objects):,} pretty-printed JSON records"
    account.warnings.append(f"{shape} in {lines.height:,} lines, each read whole as one record")
    span_ = _Span()
    yield span_.add(events)
    span_.finish(account)


class _Span:
    """The first and last time over a file's blocks, for its account."""

    def __init__(self) -> None:
        self.first: dt.datetime | None = None
        self.last: dt.datetime | None = None

    def add(self, events: pl.DataFrame) -> pl.DataFrame:
        lo, hi = events["ts"].min(), events["ts"].max()
        if lo is not None:
            self.first = lo if self.first is None else min(self.first, lo)  # type: ignore[type-var]
            self.last = hi if self.last is None else max(self.last, hi)  # type: ignore[type-var]
        return events

    def finish(self, account: FileAccount) -> None:
        if self.first is not None and self.last is not None:
            account.first_ts = self.first.isoformat()
            account.last_ts = self.last.isoformat()


def _drop_too_long(lines: pl.DataFrame, max_line_bytes: int, account: FileAccount) -> pl.DataFrame:
    """Reject (and count) lines longer than the limit; the rest go on."""
    long = lines["text"].str.len_bytes() > max_line_bytes
    if not long.any():
        return lines
    too_long = lines.filter(long)
    examples = [(int(r[0]), r[1][:200] + "...") for r in too_long.head(3).iter_rows()]
    account.reject_group(f"line longer than {max_line_bytes:,} bytes", too_long.height, examples)
    account.lines += too_long.height
    return lines.filter(~long)


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _detect_document(path: Path) -> str | None:
    best, best_score = None, 0.0
    archive = path.is_file() and _is_zip(path)
    for reader in documents.readers().values():
        # Readers of whole folders also read a zip of one, recognised by its magic bytes, whatever its name.
        if getattr(reader, "directory", False) and not path.is_dir() and not archive:
            continue
        try:
            s = reader.detect(path)
        except Exception:  # noqa: BLE001 - a detector that cannot read the file simply does not claim it
            s = 0.0
        if s > best_score:
            best, best_score = reader.name, s
    return best if best_score >= MIN_SNIFF_SCORE else None


def _is_zip(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _finish_account(account: FileAccount, events: pl.DataFrame) -> None:
    if account.events == 0:
        account.events = events.height
    if events.height:
        ts = events["ts"].drop_nulls()
        if ts.len():
            account.first_ts = ts.min().isoformat()  # type: ignore[union-attr]
            account.last_ts = ts.max().isoformat()  # type: ignore[union-attr]
        if account.kind is None:
            kinds = events["kind"].drop_nulls().unique().to_list()
            account.kind = ",".join(sorted(str(k) for k in kinds)) or None


def read(
    paths: str | Path | Sequence[str | Path],
    *,
    format: PerFile = None,
    tz: PerFile = None,
    year: int | None = None,
    date: dt.date | str | None = None,
    formats_dir: str | Path | Sequence[str | Path] | None = None,
    sources: Mapping[str, str] | None = None,
    zone_abbreviations: Mapping[str, int] | None = None,
    day_first: bool | None = None,
    column_map: Mapping[str, str] | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    quiet: bool | None = None,
    events_path: str | Path | None = None,
    keep_events: bool = True,
    engine: str = "polars",
    spark: Any = None,
) -> EventTable:
    """Read files, folders and globs into one event table, sorted by time.

    Parameters
    ----------
    paths
        Files, folders (read recursively) and glob patterns; ``.gz``, ``.bz2``
        and ``.xz`` are read in place; rotated sets are read oldest first.
    format
        Force a format: one name for every file, or ``{glob: name}``. By default
        each file's format is recognised from its content.
    tz
        Zone of naive local times: one IANA name, or ``{glob: zone}``. Times that
        carry a zone or offset ignore it. Default UTC (and the account says so).
    year, date
        For formats without a year (RFC 3164 syslog) or without a date
        (time-only log4j): default the file's modification time.
    formats_dir
        Folder(s) of extra spec files (``*.toml``), e.g. your own formats.
    sources
        ``{glob: source name}`` to name streams yourself.
    zone_abbreviations
        Extra or overriding zone abbreviations, in seconds east of UTC
        (``{"IST": 7200}`` for Israel Standard Time).
    day_first
        For human-written dates in exports (12/08/2024): day first or month first
        (by default decided from each column's values, and reported when it cannot be).
    column_map
        For ``format="generic"`` ticket/change exports: our column -> your column,
        e.g. ``{"ts": "Opened", "message": "Title", "ref": "Key", "actor": "Reporter"}``.
    max_line_bytes
        Lines longer than this are rejected (and counted).
    quiet
        Hide the progress bar (shown by default on a terminal or in a notebook
        when reading takes more than a moment).
    events_path
        Write the event table to this Parquet file as it is read, block by
        block, instead of holding it in memory: memory then stays bounded
        whatever the size of the logs. The returned table reads the file when
        its ``df`` is first used (``.lazy()`` scans it without loading).
    keep_events
        False to count the events per source and level as they are read and
        keep none of them: memory stays bounded and ``summary()`` and the
        account are all the table holds (what ``timeline read`` without
        ``--events`` prints).
    engine, spark
        ``engine="spark"`` runs reading and parsing on Apache Spark (``spark``:
        the session; default a local one) and returns a
        :class:`~timeline.engines.spark.SparkEventTable` (see :mod:`timeline.engines.spark`).

    Returns
    -------
    EventTable
        ``.df`` the polars event table, ``.account`` one
        :class:`FileAccount` per file.

    Examples
    --------
    >>> import timeline as tl
    >>> events = tl.read("data/incidents/2024-08-12-db-outage/", tz="America/Los_Angeles")  # doctest: +SKIP
    >>> events.account[0].format  # doctest: +SKIP
    'python_logging'
    """
    if engine != "polars":
        from timeline.engines import read_on

        return read_on(engine, spark, paths, format=format, tz=tz, year=year, date=date, formats_dir=formats_dir,
                       sources=sources, zone_abbreviations=zone_abbreviations, day_first=day_first,
                       column_map=column_map, max_line_bytes=max_line_bytes, events_path=events_path)
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    dirs = [formats_dir] if isinstance(formats_dir, (str, Path)) else list(formats_dir or [])
    specs = SpecCatalog(dirs)
    notes: list[str] = []
    items = expand(list(paths), notes, documents.directory_units)
    frames: list[pl.DataFrame] = []
    accounts: list[FileAccount] = []
    total = sum(_size(i.path) for i in items)
    sink: ParquetSink | CountingSink | None = None
    if events_path is not None:
        sink = ParquetSink(events_path)
    elif not keep_events:
        sink = CountingSink()
    with _progress(total, len(items), quiet) as bar:
        for item in items:
            options: dict[str, Any] = dict(
                format=_per_file(format, item.path), tz=_per_file(tz, item.path), year=year, date=date,
                source=_per_file(sources, item.path) if sources else None, specs=specs,
                zone_abbreviations=zone_abbreviations, day_first=day_first, max_line_bytes=max_line_bytes,
                column_map=column_map,
            )
            try:
                shown = _Shown(bar)
                if sink is None:
                    events, account = read_file(item, progress=shown.update, **options)
                    frames.append(events)
                else:
                    account = write_blocks(
                        sink,
                        lambda whole, item=item, options=options, shown=shown: read_file_blocks(
                            item, whole=whole, progress=shown.update, columns=sink.columns, **options
                        ),
                        # Change evidence is tagged in what is kept; counts do not depend on it.
                        WholeFileNeeded, tag_db_changes if events_path is not None else _unchanged,
                    )  # type: ignore[assignment]
            except (OSError, pl.exceptions.PolarsError) as exc:
                account = FileAccount(file=str(item.path), format=None)
                account.warnings.append(f"could not be read: {exc}")
            except BaseException:
                if sink is not None:
                    sink.abort()
                raise
            accounts.append(account)
            shown.update(account.bytes or 0)
    if isinstance(sink, CountingSink):
        return _warned(EventTable(account=accounts, notes=notes, counts=sink.finish(counts_schema)))
    if sink is not None:
        sink.finish(empty_events)
        return _warned(EventTable(account=accounts, notes=notes, path=sink.out))
    df = pl.concat(frames, how="vertical") if frames else empty_events()
    if not in_event_order(df):
        df = sort_events(df)
    # Configuration reloads, parameter changes and restarts in database logs are change evidence too.
    df = tag_db_changes(df)
    return _warned(EventTable(df, accounts, notes))


def _warned(table: EventTable) -> EventTable:
    """Say, as a Python warning too (shown in notebooks), when naive times were read as UTC."""
    warning = table.zone_warning
    if warning:
        warnings.warn(warning, _zones.NaiveTimeWarning, stacklevel=3)
    return table


def _unchanged(block: pl.DataFrame) -> pl.DataFrame:
    return block


class _Shown:
    """Moves the bar by one file's bytes as its blocks are read (a file read again whole moves it no further)."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.done = 0

    def update(self, total: int) -> None:
        if total > self.done:
            self.bar.update(total - self.done)
            self.done = total


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except AttributeError:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _progress(total: int, files: int, quiet: bool | None) -> Any:
    if quiet or (quiet is None and not (sys.stderr.isatty() or _in_notebook())):
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=f"reading {files} files", delay=0.5, file=sys.stderr, leave=False)
