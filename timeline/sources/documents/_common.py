"""Shared helpers for the document readers.

- :class:`Rows` collects event rows (one dict per event) and builds the frame;
- :func:`machine_time` reads ISO 8601 / RFC 3339 and epoch values (no dateparser);
- :class:`HumanTimes` reads human-written times with dateparser, once per
  distinct string, deciding day-first or month-first per column;
- :func:`load_json`, :func:`json_document`, :func:`head_text`, :func:`csv_records`
  read files with errors that name the file and the place;
- :func:`html_to_text` turns HTML bodies (Freshdesk, Zendesk) into plain text.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import html
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dateparser
import polars as pl

from timeline._errors import InputError
from timeline.sources._account import FileAccount
from timeline.sources._time import ZONE_ABBREVIATIONS, get_zone
from timeline.sources.documents import DocumentOptions

HEAD_BYTES = 64 * 1024
MAX_SNIFF_JSON_BYTES = 32 * 1024 * 1024
UTC = dt.UTC

# --------------------------------------------------------------------------- rows


@dataclass
class Rows:
    """Event rows being built by a reader, plus the reader's account.

    Each call to :meth:`add` appends one event; ``attrs`` is kept as JSON.
    """

    account: FileAccount
    kind: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        ts: dt.datetime | None,
        action: str,
        message: str | None,
        *,
        line: int,
        actor: str | None = None,
        ref: str | None = None,
        level: str = "info",
        kind: str | None = None,
        host: str | None = None,
        service: str | None = None,
        source: str | None = None,
        file: str | None = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one event (``ts`` must be aware; it is stored in UTC)."""
        self.rows.append(
            {
                "ts": ts.astimezone(UTC) if ts is not None else None,
                "kind": kind or self.kind,
                "level": level,
                "action": action,
                "message": _clean_message(message),
                "actor": text_of(actor),
                "ref": text_of(ref),
                "host": text_of(host),
                "service": text_of(service),
                "source": source,
                "file": file or self.account.file,
                "line": line,
                "attrs": json.dumps(_compact(attrs or {}), default=str, ensure_ascii=False, sort_keys=True),
            }
        )

    def frame(self) -> pl.DataFrame:
        """The events as a polars frame (the caller conforms it to the schema)."""
        schema = {
            "ts": pl.Datetime("us", "UTC"),
            "kind": pl.String,
            "level": pl.String,
            "action": pl.String,
            "message": pl.String,
            "actor": pl.String,
            "ref": pl.String,
            "host": pl.String,
            "service": pl.String,
            "source": pl.String,
            "file": pl.String,
            "line": pl.UInt32,
            "attrs": pl.String,
        }
        if not self.rows:
            return pl.DataFrame(schema=schema)
        return pl.DataFrame(self.rows, schema=schema)

    def finish(self) -> tuple[pl.DataFrame, FileAccount]:
        """The frame and the account (events counted, records set)."""
        frame = self.frame()
        self.account.events = frame.height
        if self.account.records is None:
            self.account.records = self.account.lines
        return frame, self.account


def text_of(value: Any) -> str | None:
    """A value as stripped text (a reference object gives its display name); None when empty."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        for key in ("display_value", "displayName", "name", "summary", "login", "email", "value", "id"):
            if value.get(key) not in (None, ""):
                return str(value[key])
        return None
    s = str(value).strip()
    return s or None


def _clean_message(message: str | None) -> str:
    if message is None:
        return ""
    return str(message).replace("\r\n", "\n").replace("\r", "\n").strip()


def _compact(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if v not in (None, "", [], {})}


def new_account(path: Path, reader: str, kind: str, options: DocumentOptions) -> FileAccount:
    """A fresh account for a document file."""
    return FileAccount(file=str(path), format=reader, confidence=1.0, kind=kind, tz=options.tz or "UTC")


def first(mapping: Mapping[str, Any] | None, *keys: str) -> Any:
    """The first present, non-empty value among ``keys`` (dotted keys descend)."""
    if not isinstance(mapping, Mapping):
        return None
    for key in keys:
        value: Any = mapping
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value not in (None, "", [], {}):
            return value
    return None


def join_text(*parts: Any, sep: str = "\n") -> str:
    """Join the non-empty parts (stripped)."""
    return sep.join(str(p).strip() for p in parts if p not in (None, "") and str(p).strip())


# --------------------------------------------------------------------------- machine times

_ISO = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?\s*(Z|z|UTC|GMT|[+-]\d{2}:?\d{2}|[+-]\d{2})?$"
)
_ZERO_TIMES = ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00")


def machine_time(value: Any, tz: str | None = None, *, epoch_unit: str | None = None) -> dt.datetime | None:
    """Read an ISO 8601 / RFC 3339 time or an epoch number; None when absent or the zero time.

    Parameters
    ----------
    value
        ``2024-08-12T21:31:00Z``, ``2018-08-03T09:52:26.739266876+02:00``,
        ``2015-07-17T08:42:58.315+0000``, ``2023-10-09 14:44:05`` (naive: ``tz``),
        or an epoch number / numeric string (unit by magnitude unless given).
    tz
        Zone for naive times (default UTC).
    epoch_unit
        ``s``, ``ms``, ``us`` or ``ns`` to force the unit of a number.

    Raises
    ------
    ValueError
        When the value is present but is not such a time.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\d{9,19}(\.\d+)?", value.strip())):
        number: float = value if isinstance(value, int) else int(value) if isinstance(value, str) and value.strip().isdigit() else float(value)
        return epoch_time(number, epoch_unit)
    text = str(value).strip()
    if text.startswith("0001-01-01"):
        return None
    m = _ISO.match(text)
    if not m:
        raise ValueError(f"not an ISO 8601 time: {text!r}")
    date, clock, frac, zone = m.groups()
    if len(clock) == 5:
        clock += ":00"
    micro = (frac or "")[:6].ljust(6, "0")
    naive = dt.datetime.fromisoformat(f"{date}T{clock}.{micro}")
    if zone is None:
        return naive.replace(tzinfo=ZoneInfo(tz or "UTC"), fold=0).astimezone(UTC)
    if zone in ("Z", "z", "UTC", "GMT"):
        return naive.replace(tzinfo=UTC)
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    offset = dt.timedelta(hours=hours, minutes=minutes) * sign
    return (naive - offset).replace(tzinfo=UTC)


def epoch_time(number: float, unit: str | None = None) -> dt.datetime:
    """An epoch number to UTC; the unit is s, ms, us or ns, or judged by magnitude."""
    if unit is None:
        mag = abs(number)
        unit = "ns" if mag > 1e17 else "us" if mag > 1e14 else "ms" if mag > 1e11 else "s"
    if unit == "ns":
        micros = int(number) // 1000
    elif isinstance(number, int) and unit in ("ms", "us"):
        micros = number * (1000 if unit == "ms" else 1)
    else:
        micros = round(number * {"s": 1_000_000, "ms": 1_000, "us": 1}[unit])
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=micros)


def time_or_reject(value: Any, account: FileAccount, line: int, what: str, tz: str | None = None, **kw: Any) -> dt.datetime | None:
    """:func:`machine_time`, recording a rejection (and returning None) when it fails."""
    try:
        return machine_time(value, tz, **kw)
    except ValueError as exc:
        account.reject(line, f"{what}: {exc}", str(value))
        return None


# --------------------------------------------------------------------------- human times

_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b")
_TRAILING_ZONE = re.compile(r"^(.*\S)\s+\(?([A-Z]{2,5})\)?$")


class HumanTimes:
    """Human-written times of one file, parsed once per distinct string.

    Register every column's values with :meth:`column` before asking for
    times; the day-first/month-first order of ``12/08/2024`` is taken from the
    option, else decided per column from values that only read one way
    (``14/08/2024``), else the value is reported as ambiguous, never guessed.

    Parameters
    ----------
    options
        The reader's options (``tz`` for naive times, ``day_first``).
    time_format
        A strptime format tried before dateparser (e.g. Jira's
        ``%d/%b/%y %I:%M %p``); values it reads skip dateparser.
    """

    def __init__(self, options: DocumentOptions, time_format: str | None = None) -> None:
        self.tz = get_zone(options.tz) or "UTC"
        self.day_first = options.day_first
        self.time_format = time_format
        self.order: dict[str, bool | None] = {}
        self.cache: dict[tuple[bool | None, str], dt.datetime | str] = {}
        self.naive_seen = False
        self.parsed = 0

    def column(self, name: str, values: Iterable[Any]) -> None:
        """Decide the day order of one column from all its values."""
        if self.day_first is not None:
            self.order[name] = self.day_first
            return
        day, month = False, False
        for v in values:
            m = _NUMERIC_DATE.match(str(v)) if v else None
            if m:
                a, b = int(m.group(1)), int(m.group(2))
                day |= a > 12
                month |= b > 12
        self.order[name] = True if day and not month else False if month and not day else None

    def get(self, value: Any, column: str = "") -> dt.datetime | None:
        """The UTC time of ``value`` (None when blank).

        Raises
        ------
        ValueError
            When the value cannot be read, or reads two ways and the column
            does not decide which.
        """
        if value is None:
            return None
        text = str(value).strip()
        if not text:
            return None
        order = self.order.get(column, self.day_first)
        key = (order, text)
        hit = self.cache.get(key)
        if hit is None:
            hit = self._parse(text, order)
            self.cache[key] = hit
        if isinstance(hit, str):
            raise ValueError(hit)
        return hit

    def _parse(self, text: str, order: bool | None) -> dt.datetime | str:
        try:
            return machine_time(text, self.tz)
        except ValueError:
            pass
        m = _NUMERIC_DATE.match(text)
        if m and order is None:
            a, b = int(m.group(1)), int(m.group(2))
            if a <= 12 and b <= 12 and a != b:
                return f"ambiguous date {text!r}: day-first or month-first? pass day_first= to say"
        base, offset = text, None
        zm = _TRAILING_ZONE.match(text)
        if zm and zm.group(2) in ZONE_ABBREVIATIONS:
            base, offset = zm.group(1), ZONE_ABBREVIATIONS[zm.group(2)]
        parsed: dt.datetime | None = None
        if self.time_format:
            try:
                parsed = dt.datetime.strptime(base, self.time_format)
            except ValueError:
                parsed = None
        if parsed is None:
            settings: dict[str, Any] = {"PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False, "STRICT_PARSING": True}
            if order is not None:
                settings["DATE_ORDER"] = "DMY" if order else "MDY"
            self.parsed += 1
            try:
                parsed = dateparser.parse(base, languages=["en"], settings=settings)
            except Exception:  # noqa: BLE001 - dateparser raises assorted errors on odd input
                parsed = None
            if parsed is None and not re.search(r"\d{1,2}:\d{2}", base):
                # a date without a time is fine too ("2024-08-12", "Aug 12, 2024")
                try:
                    parsed = dateparser.parse(base, languages=["en"], settings={**settings, "STRICT_PARSING": False, "REQUIRE_PARTS": ["day", "month", "year"]})
                except Exception:  # noqa: BLE001
                    parsed = None
        if parsed is None:
            return f"not a time: {text!r}"
        if parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
        if offset is not None:
            return (parsed - dt.timedelta(seconds=offset)).replace(tzinfo=UTC)
        self.naive_seen = True
        return parsed.replace(tzinfo=ZoneInfo(self.tz)).astimezone(UTC)


def human_or_reject(times: HumanTimes, value: Any, column: str, account: FileAccount, line: int) -> dt.datetime | None:
    """:meth:`HumanTimes.get`, recording a rejection reason (and returning None) when it fails."""
    try:
        return times.get(value, column)
    except ValueError as exc:
        account.reject(line, f"{column}: {exc}", str(value))
        return None


# --------------------------------------------------------------------------- files


def head_bytes(path: Path, n: int = HEAD_BYTES) -> bytes:
    """The first ``n`` bytes of a file (empty for a folder or an unreadable file)."""
    try:
        with path.open("rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


def head_text(path: Path, n: int = HEAD_BYTES) -> str:
    """The first ``n`` bytes of a file as text (BOM dropped, bad bytes replaced)."""
    return head_bytes(path, n).decode("utf-8-sig", errors="replace")


def load_json(path: Path) -> Any:
    """Parse a JSON file, or JSON lines (a list of the objects), with an error naming the place."""
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    return parse_json_text(text, str(path))


def parse_json_text(text: str, where: str) -> Any:
    """Parse JSON text; a file of JSON lines becomes a list of its objects."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            out = []
            for i, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError as inner:
                        msg = f"{where}: line {i}: not JSON ({inner.msg} at column {inner.colno})"
                        raise InputError(msg) from inner
            return out
        msg = f"{where}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise InputError(msg) from exc


@functools.lru_cache(maxsize=8)
def _cached_json(path: str, mtime_ns: int, size: int) -> Any:
    try:
        return load_json(Path(path))
    except (InputError, OSError):
        return None


def load_document(path: Path) -> Any:
    """The parsed JSON of a document file: the cached parse when detection already read it, else a
    full parse that raises with the place of a syntax error."""
    doc = json_document(path)
    return doc if doc is not None else load_json(path)


def json_document(path: Path) -> Any:
    """The parsed JSON of a file that looks like one JSON document (or JSON lines of documents), else None.

    Cached by path, mtime and size, so detection and reading parse a file once.
    Never raises.
    """
    try:
        st = path.stat()
    except OSError:
        return None
    if not path.is_file() or st.st_size > MAX_SNIFF_JSON_BYTES or st.st_size == 0:
        return None
    start = head_bytes(path, 4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start not in (b"{", b"["):
        return None
    return _cached_json(str(path), st.st_mtime_ns, st.st_size)


def json_head(path: Path) -> Any:
    """What detection looks at: the whole document, or for JSON lines only the first object (as a list).

    Keeps recognising a large JSON-lines log cheap: only its first line is parsed.
    Never raises; None when the file is not JSON.
    """
    head = head_bytes(path, HEAD_BYTES)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] not in (b"{", b"["):
        return None
    first_line, _, rest = stripped.partition(b"\n")
    if first_line.strip().startswith(b"{") and rest.strip():
        try:
            obj = json.loads(first_line)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            return [obj]
    return json_document(path)


def records_of(doc: Any, *keys: str) -> list[Any] | None:
    """The list under the first of ``keys`` in a mapping, or the document itself if a list."""
    if isinstance(doc, Mapping):
        for key in keys:
            value = doc.get(key)
            if isinstance(value, list):
                return value
        return None
    if isinstance(doc, list):
        return doc
    return None


def csv_records(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and rows of a CSV file, each row with the physical line it starts on.

    Cells may hold quoted newlines and doubled quotes; repeated header names
    (Jira's ``Comment``) are kept as separate columns.
    """
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    return csv_text_records(text, str(path))


def csv_text_records(text: str, where: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """As :func:`csv_records`, on text (comma, semicolon, tab or pipe separated: see :func:`csv_delimiter`)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text.split("\n", 1)[0]))
    try:
        header = next(reader)
    except StopIteration:
        return [], []
    except csv.Error as exc:
        msg = f"{where}: line 1: not CSV: {exc}"
        raise InputError(msg) from exc
    header = [h.strip() for h in header]
    rows: list[tuple[int, list[str]]] = []
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            msg = f"{where}: line {start}: not CSV: {exc}"
            raise InputError(msg) from exc
        if any(cell.strip() for cell in row):
            rows.append((start, row))
        start = reader.line_num + 1
    return header, rows


def csv_header(path: Path) -> list[str]:
    """The header row of a CSV file (from its first bytes); empty if it is not CSV-like."""
    text = head_text(path, 16 * 1024)
    first_line = text.split("\n", 1)[0]
    if "," not in first_line and ";" not in first_line and "\t" not in first_line:
        return []
    try:
        row = next(csv.reader(io.StringIO(first_line), delimiter=csv_delimiter(first_line)))
    except (csv.Error, StopIteration):
        return []
    return [h.strip() for h in row]


CSV_DELIMITERS = (",", ";", "\t", "|")


def csv_delimiter(header: str) -> str:
    """The separator of a CSV export, from its header line: the candidate that cuts it into the most cells.

    Spreadsheets in many locales export with semicolons, and some tools with tabs; a
    quoted header cell may hold any of them, so only separators outside quotes count.
    """
    outside = re.sub(r'"[^"]*"', "", header)
    counts = {d: outside.count(d) for d in CSV_DELIMITERS}
    best = max(CSV_DELIMITERS, key=lambda d: (counts[d], -CSV_DELIMITERS.index(d)))
    return best if counts[best] else ","


def by_name(header: Sequence[str], row: Sequence[str]) -> dict[str, str]:
    """A CSV row as {header: value}; for repeated headers the first non-empty wins."""
    out: dict[str, str] = {}
    for name, value in zip(header, row):
        if name not in out or (not out[name] and value):
            out[name] = value
    return out


def repeated(header: Sequence[str], row: Sequence[str], name: str) -> list[str]:
    """Every non-empty value of a repeated column (Jira's ``Comment``, ``Labels``)."""
    return [v for h, v in zip(header, row) if h == name and v.strip()]


def norm(name: str) -> str:
    """A header name normalised for matching: lower case, words joined by ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


# --------------------------------------------------------------------------- text


class _TextExtractor(HTMLParser):
    _BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "br":
            return
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(value: Any) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, blank runs collapsed."""
    if value in (None, ""):
        return ""
    text = str(value)
    if "<" not in text and "&" not in text:
        return text.strip()
    parser = _TextExtractor()
    try:
        parser.feed(text)
        parser.close()
        out = "".join(parser.parts)
    except Exception:  # noqa: BLE001 - fall back to a crude strip on broken markup
        out = html.unescape(re.sub(r"<[^>]+>", " ", text))
    out = out.replace("\xa0", " ")
    out = re.sub(r"[ \t]+", " ", out)
    out = re.sub(r" *\n *", "\n", out)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


def adf_to_text(node: Any) -> str:
    """Plain text of an Atlassian Document Format body (Jira Cloud REST v3), or the string itself."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    parts: list[str] = []

    def walk(n: Any) -> None:
        if isinstance(n, Mapping):
            if n.get("type") == "text":
                parts.append(str(n.get("text", "")))
            elif n.get("type") in ("hardBreak",):
                parts.append("\n")
            elif n.get("type") == "mention":
                parts.append(str(n.get("attrs", {}).get("text", "")))
            for child in n.get("content", []) or []:
                walk(child)
            if n.get("type") in ("paragraph", "heading", "listItem", "codeBlock"):
                parts.append("\n")
        elif isinstance(n, list):
            for child in n:
                walk(child)

    walk(node)
    return re.sub(r"\n{3,}", "\n\n", "".join(parts)).strip()


def iter_records(items: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    """(1-based record number, record) pairs."""
    return enumerate(items, 1)


def level_from(value: Any, mapping: Mapping[str, str], default: str = "info") -> str:
    """A normalised level from a raw severity/priority value."""
    if value is None:
        return default
    return mapping.get(str(value).strip().lower(), default)


def finish_tz_note(account: FileAccount, times: HumanTimes | None, options: DocumentOptions) -> None:
    """Say in the account when naive human times were read in a zone nobody named."""
    if times is not None and times.naive_seen and options.tz is None:
        account.tz_assumed = True
        account.warnings.append("times carry no zone and no tz was given: read as UTC")
