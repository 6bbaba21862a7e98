"""The user's own log format, given the way they already wrote it down.

A Python ``logging`` format string (``%(asctime)s %(levelname)s [%(name)s] %(message)s``)
or a log4j/logback ``PatternLayout`` (``%d{HH:mm:ss.SSS} [%t] %-5level %logger{36} - %msg%n``)
is turned into a format spec: a regex with named groups, the right time format
(and ``missing = "date"`` for a time-only pattern), the level map, and the
multi-line rule for tracebacks and stack traces. The spec carries a sample line
rendered from the same format, so it passes :func:`~timeline.sources._samples.check_spec`.

Use them as ``read(path, format="python:%(asctime)s %(levelname)s %(message)s")``,
``format="log4j:%d [%t] %-5p %c - %m%n"``, or build the spec yourself and pass it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from timeline._errors import FormatSpecError
from timeline.sources._spec import Spec, parse_spec
from timeline.sources._time import strptime_to_regex

__all__ = ["spec_from_python_logging", "spec_from_log4j"]

_SAMPLE_TIME = dt.datetime(2024, 8, 12, 21, 16, 4, 512000, tzinfo=dt.UTC)
_LEVELS = {
    "debug": ["DEBUG", "TRACE", "NOTSET", "FINE", "FINER", "FINEST"],
    "info": ["INFO", "CONFIG"],
    "warning": ["WARNING", "WARN"],
    "error": ["ERROR", "SEVERE"],
    "critical": ["CRITICAL", "FATAL"],
}
_LEVEL_RE = r"[A-Za-z]+"


@dataclass
class _Piece:
    """One part of a format: literal text, or a field with its regex and padding."""

    literal: str | None = None
    field: str | None = None
    regex: str = ""
    padded: bool = False


def _assemble_regex(pieces: list[_Piece]) -> str:
    """Join pieces into one anchored regex; literal spaces match runs of spaces (padding)."""
    out = ["^"]
    seen: set[str] = set()
    for i, piece in enumerate(pieces):
        if piece.literal is not None:
            for chunk in re.split(r"( +)", piece.literal):
                if not chunk:
                    continue
                out.append(" +" if chunk.startswith(" ") else re.escape(chunk))
            continue
        is_last_field = all(p.literal is not None and not p.literal.strip() for p in pieces[i + 1 :])
        regex = piece.regex
        if regex == ".*" and not is_last_field:
            regex = ".*?"
        body = f"(?P<{piece.field}>{regex})" if piece.field and piece.field not in seen else f"(?:{regex})"
        if piece.field:
            seen.add(piece.field)
        out.append(f" *{body} *" if piece.padded else body)
    out.append(r"\s*$")
    return "".join(out)


def _group_name(raw: str) -> str:
    name = re.sub(r"\W", "_", raw).strip("_") or "field"
    return name if re.match(r"[A-Za-z_]", name) else f"f_{name}"


def _spec_dict(
    name: str,
    description: str,
    regex: str,
    ts_field: str,
    ts_format: str | None,
    epoch: str | None,
    missing: str | None,
    fields: set[str],
    roles: dict[str, str],
    samples: list[dict[str, Any]],
    level_ranges: dict[str, list[float]] | None = None,
) -> dict[str, Any]:
    timestamp: dict[str, Any] = {"field": ts_field}
    if ts_format:
        timestamp["formats"] = [ts_format]
    if epoch:
        timestamp["epoch"] = epoch
    if missing:
        timestamp["missing"] = missing
    data: dict[str, Any] = {
        "name": name,
        "kind": "regex",
        "description": description,
        "event_kind": "log",
        "patterns": [{"name": "pattern", "regex": regex}],
        "timestamp": timestamp,
        "columns": {target: field for target, field in roles.items() if field in fields},
        "levels": _LEVELS,
        # Tracebacks, stack traces and any other line that does not start a record join the record before it.
        "multiline": {"continuation": "."},
        "samples": samples,
    }
    if level_ranges:
        data["level_ranges"] = level_ranges
    return data


# --------------------------------------------------------------------------------------------
# Python logging


_PY_ESCAPE = re.compile(r"%\((?P<key>[^)]+)\)(?P<flags>[-#0 +]*)(?P<width>\d+)?(?:\.(?P<prec>\d+))?(?P<conv>[sdifFeEgGxXocr])|%%")
_BRACE_ESCAPE = re.compile(r"\{(?P<key>[A-Za-z_]\w*)(?:![rsa])?(?::(?P<spec>[^{}]*))?\}|\{\{|\}\}")
_PY_FIELDS = {
    "levelname": _LEVEL_RE,
    "levelno": r"\d+",
    "name": r"\S+",
    "module": r"\S+",
    "funcName": r"\S+",
    "filename": r"\S+",
    "pathname": r"\S+",
    "lineno": r"\d+",
    "process": r"\d+",
    "thread": r"\d+",
    "threadName": ".*",
    "processName": ".*",
    "taskName": r"\S+",
    "created": r"\d+(?:\.\d+)?",
    "relativeCreated": r"\d+(?:\.\d+)?",
    "msecs": r"\d+",
    "message": ".*",
}
_DEFAULT_DATEFMT = "%Y-%m-%d %H:%M:%S"


def _chrono(datefmt: str) -> str:
    """A Python strftime format as the polars (chrono) format that reads it back."""
    out = datefmt.replace("%f", "%6f")
    # A trailing zone is split off and applied per line before parsing.
    return re.sub(r"\s*%[zZ]$", "", out)


def _py_tokens(fmt: str) -> list[tuple[str, str | None, bool]]:
    """(literal or key, None for a literal / the key, padded) in order, for % or {} style."""
    tokens: list[tuple[str, str | None, bool]] = []
    if "%(" in fmt or "{" not in fmt:
        pattern, style = _PY_ESCAPE, "%"
    else:
        pattern, style = _BRACE_ESCAPE, "{"
    pos = 0
    for m in pattern.finditer(fmt):
        if m.start() > pos:
            tokens.append((fmt[pos : m.start()], None, False))
        text = m.group(0)
        if text in ("%%", "{{", "}}"):
            tokens.append((text[0] if style == "%" else text[0], None, False))
        else:
            key = m.group("key")
            if style == "%":
                padded = bool(m.group("width"))
            else:
                padded = bool(re.search(r"\d", m.group("spec") or ""))
            tokens.append((key, key, padded))
        pos = m.end()
    if pos < len(fmt):
        tokens.append((fmt[pos:], None, False))
    return tokens


def spec_from_python_logging(fmt: str, *, name: str = "python_custom", datefmt: str | None = None) -> Spec:
    """Build a format spec from a Python ``logging`` format string.

    Parameters
    ----------
    fmt
        The ``format=`` given to ``logging.basicConfig`` or ``logging.Formatter``,
        in ``%`` style (``%(asctime)s %(levelname)-8s %(name)s: %(message)s``) or
        ``{`` style (``{asctime} {levelname} {message}``).
    name
        The format's name in accounts and reports.
    datefmt
        The ``datefmt=`` given with it (default: logging's ``2024-08-12 14:16:04,512``).

    Returns
    -------
    Spec
        With a sample rendered by :class:`logging.Formatter` itself, plus one
        with a traceback, so the spec is checked against real output.

    Raises
    ------
    FormatSpecError
        When the format has no time (``%(asctime)s`` or ``%(created)f``): lines
        without a time cannot be placed on a timeline.
    """
    tokens = _py_tokens(fmt)
    keys = [key for _, key, _ in tokens if key]
    if "asctime" not in keys and "created" not in keys:
        msg = (
            f"Python logging format {fmt!r} has no time (%(asctime)s or %(created)f); "
            "lines without a time cannot be placed on a timeline"
        )
        raise FormatSpecError(msg)
    chrono = _chrono(datefmt or _DEFAULT_DATEFMT)
    merge_msecs = False
    pieces: list[_Piece] = []
    i = 0
    while i < len(tokens):
        text, key, padded = tokens[i]
        if key is None:
            pieces.append(_Piece(literal=text))
        elif key == "asctime":
            if datefmt is None:
                regex, ts_format = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}", "%Y-%m-%d %H:%M:%S,%3f"
            else:
                regex, ts_format = strptime_to_regex(datefmt), chrono
                # "%(asctime)s.%(msecs)03d": the milliseconds belong to the time.
                if i + 2 < len(tokens) and tokens[i + 1][1] is None and len(tokens[i + 1][0]) == 1 and tokens[i + 2][1] == "msecs":
                    sep = tokens[i + 1][0]
                    regex += re.escape(sep) + r"\d{3}"
                    ts_format = chrono + sep + "%3f"
                    merge_msecs = True
                    i += 2
            pieces.append(_Piece(field="ts", regex=regex, padded=padded))
            chrono = ts_format
        else:
            field = "ts" if key == "created" and "asctime" not in keys else _group_name(key)
            pieces.append(_Piece(field=field, regex=_PY_FIELDS.get(key, ".*?" if key != "message" else ".*"), padded=padded))
        i += 1
    regex = _assemble_regex(pieces)
    fields = {p.field for p in pieces if p.field}
    uses_epoch = "asctime" not in keys
    roles = {"level": "levelname" if "levelname" in fields else "levelno", "message": "message", "service": "name"}
    samples = _python_samples(fmt, datefmt, fields, uses_epoch)
    ranges = {"debug": [0, 19], "info": [20, 29], "warning": [30, 39], "error": [40, 49], "critical": [50, 100]}
    data = _spec_dict(
        name,
        f"Python logging format {fmt!r}" + (f" with datefmt {datefmt!r}" if datefmt else ""),
        regex,
        "ts",
        None if uses_epoch else chrono,
        "s" if uses_epoch else None,
        None,
        fields,
        roles,
        samples,
        ranges if "levelno" in fields else None,
    )
    data["attrs_exclude"] = ["msecs"] if merge_msecs else []
    return parse_spec(data)


def _python_samples(fmt: str, datefmt: str | None, fields: set[str], uses_epoch: bool) -> list[dict[str, Any]]:
    """Render sample lines with logging.Formatter itself (UTC clock, fixed values)."""
    style = "%" if ("%(" in fmt or "{" not in fmt) else "{"
    formatter = logging.Formatter(fmt, datefmt=datefmt, style=style)  # type: ignore[arg-type]
    formatter.converter = time.gmtime
    samples: list[dict[str, Any]] = []
    for level, message, exc_text, level_name in (
        (logging.ERROR, "connection to db-primary refused", None, "error"),
        (logging.WARNING, "retrying in 5s", "Traceback (most recent call last):\n  File \"/srv/app/db.py\", line 41, in connect\n    return psycopg2.connect(dsn)\npsycopg2.OperationalError: connection refused", "warning"),
    ):
        record = logging.LogRecord("app.db", level, "/srv/app/db.py", 41, message, None, None, func="connect")
        record.created = _SAMPLE_TIME.timestamp()
        record.msecs = 512.0
        record.relativeCreated = 1234.5
        record.process, record.thread, record.threadName, record.processName = 4242, 140245, "MainThread", "MainProcess"
        for key in re.findall(r"%\(([^)]+)\)|\{([A-Za-z_]\w*)", fmt):
            k = key[0] or key[1]
            if not hasattr(record, k) and k not in ("asctime", "message"):
                setattr(record, k, f"{k}-1")
        record.exc_text = exc_text
        text = formatter.format(record)
        sample: dict[str, Any] = {"text": text}
        if "levelname" in fields or "levelno" in fields:
            sample["level"] = level_name
        if exc_text:
            sample["continuation_lines"] = exc_text.count("\n") + 1
        if uses_epoch or datefmt is None:
            sample["ts"] = _SAMPLE_TIME.isoformat()
        samples.append(sample)
    return samples


# --------------------------------------------------------------------------------------------
# log4j / logback PatternLayout


_J_DATE_NAMED = {
    "DEFAULT": "yyyy-MM-dd HH:mm:ss,SSS",
    "ISO8601": "yyyy-MM-dd'T'HH:mm:ss,SSS",
    "ISO8601_BASIC": "yyyyMMdd'T'HHmmss,SSS",
    "ISO8601_OFFSET_DATE_TIME_HHCMM": "yyyy-MM-dd'T'HH:mm:ss,SSSXXX",
    "ABSOLUTE": "HH:mm:ss,SSS",
    "DATE": "dd MMM yyyy HH:mm:ss,SSS",
    "COMPACT": "yyyyMMddHHmmssSSS",
}
_J_TOKENS = [
    ("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"), ("d", "%d"),
    ("HH", "%H"), ("H", "%H"), ("hh", "%I"), ("mm", "%M"), ("ss", "%S"), ("SSSSSSSSS", "%9f"), ("SSSSSS", "%6f"),
    ("SSS", "%3f"), ("EEEE", "%A"), ("EEE", "%a"), ("a", "%p"), ("XXX", "%z"), ("XX", "%z"), ("X", "%z"),
    ("ZZ", "%z"), ("Z", "%z"), ("z", "%Z"),
]
_J_WORDS: dict[str, tuple[str, str]] = {}
for _words, _field, _regex in (
    (("d", "date"), "ts", ""),
    (("p", "level", "le"), "level", _LEVEL_RE),
    (("t", "thread", "tn", "threadName"), "thread", ".*"),
    (("c", "logger", "lo"), "logger", r"\S+"),
    (("C", "class"), "class", r"\S+"),
    (("M", "method"), "method", r"\S+"),
    (("L", "line"), "lineno", r"\d+"),
    (("F", "file"), "file", r"\S+"),
    (("m", "msg", "message"), "message", ".*"),
    (("r", "relative"), "relative", r"\d+"),
    (("pid", "processId"), "pid", r"\d+"),
    (("X", "mdc", "MDC"), "mdc", ".*"),
    (("marker",), "marker", r"\S*"),
    (("sn", "sequenceNumber"), "sequence", r"\d+"),
):
    for _w in _words:
        _J_WORDS[_w] = (_field, _regex)
_J_SILENT = {"n", "ex", "exception", "throwable", "xEx", "xException", "xThrowable", "rEx", "rException", "rThrowable", "wEx", "wex", "nopex", "nopexception"}
_J_WRAPPERS = {"highlight", "style", "clr", "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white", "gray", "boldRed", "boldGreen", "boldYellow", "boldBlue", "boldMagenta", "boldCyan", "boldWhite", "faint"}
_J_CONVERSION = re.compile(r"%(?P<mod>-?\d*(?:\.-?\d+)?)(?P<word>[A-Za-z]+)")


def _java_date(pattern: str) -> tuple[str, str, str | None]:
    """(strptime format, regex, missing) for a SimpleDateFormat/DateTimeFormatter pattern.

    A trailing zone is left out of the format (it is split off and applied per line).
    """
    fmt = _java_strftime(pattern)
    regex = strptime_to_regex(fmt)
    missing = None
    if not any(c in fmt for c in ("%d", "%j")):
        missing = "date"
    elif not any(c in fmt for c in ("%Y", "%y")):
        missing = "year"
    return re.sub(r"\s*%[zZ]$", "", fmt), regex, missing


def _java_strftime(pattern: str) -> str:
    """A Java date pattern (or a named one such as ISO8601) as a strftime format."""
    pattern = _J_DATE_NAMED.get(pattern, pattern)
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            end = len(pattern) if end < 0 else end
            out.append(pattern[i + 1 : end] or "'")
            i = end + 1
            continue
        for token, code in _J_TOKENS:
            if pattern.startswith(token, i):
                out.append(code)
                i += len(token)
                break
        else:
            out.append("%%" if ch == "%" else ch)
            i += 1
    return "".join(out)


def _java_pieces(pattern: str, state: dict[str, Any]) -> list[_Piece]:
    """Parse a PatternLayout into pieces (recursing into %highlight{...}, %clr(...){...})."""
    pieces: list[_Piece] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch != "%":
            j = pattern.find("%", i)
            j = len(pattern) if j < 0 else j
            literal = pattern[i:j].replace("\\n", "").replace("\\t", "\t")
            # ${PID} and other properties substituted when the logger starts.
            pos = 0
            for prop in re.finditer(r"\$\{([^}]+)\}", literal):
                pieces.append(_Piece(literal=literal[pos : prop.start()]))
                pieces.append(_Piece(field=_group_name(prop.group(1).split(":")[0]), regex=r"\S+"))
                pos = prop.end()
            pieces.append(_Piece(literal=literal[pos:]))
            i = j
            continue
        if pattern.startswith("%%", i):
            pieces.append(_Piece(literal="%"))
            i += 2
            continue
        m = _J_CONVERSION.match(pattern, i)
        if not m:
            pieces.append(_Piece(literal="%"))
            i += 1
            continue
        word, mod = m.group("word"), m.group("mod")
        i = m.end()
        options: list[str] = []
        inner: str | None = None
        if i < len(pattern) and pattern[i] == "(":
            inner, i = _balanced(pattern, i, "(", ")")
        while i < len(pattern) and pattern[i] == "{":
            opt, i = _balanced(pattern, i, "{", "}")
            options.append(opt)
        if word in _J_WRAPPERS:
            body = inner if inner is not None else (options[0] if options else "")
            pieces.extend(_java_pieces(body, state))
            continue
        if word in _J_SILENT:
            continue
        padded = bool(re.search(r"\d", mod.split(".")[0])) if mod else False
        if word in _J_WORDS:
            field, regex = _J_WORDS[word]
            if field == "ts":
                date_pattern = options[0] if options else "DEFAULT"
                if date_pattern in ("UNIX", "UNIX_MILLIS"):
                    state["epoch"] = "s" if date_pattern == "UNIX" else "ms"
                    state["ts_format"] = None
                    regex = r"\d+"
                else:
                    ts_format, regex, missing = _java_date(date_pattern)
                    state["ts_format"], state["missing"], state["java_date"] = ts_format, missing, date_pattern
            if field == "mdc" and options:
                field = _group_name(f"mdc_{options[0]}")
            pieces.append(_Piece(field=field, regex=regex, padded=padded))
        else:
            pieces.append(_Piece(field=_group_name(word), regex=".*?", padded=padded))
    return pieces


def _balanced(text: str, start: int, open_ch: str, close_ch: str) -> tuple[str, int]:
    depth = 0
    for j in range(start, len(text)):
        if text[j] == open_ch:
            depth += 1
        elif text[j] == close_ch:
            depth -= 1
            if depth == 0:
                return text[start + 1 : j], j + 1
    msg = f"log4j pattern: '{open_ch}' at position {start} in {text!r} is never closed"
    raise FormatSpecError(msg)


def spec_from_log4j(pattern: str, *, name: str = "log4j_custom") -> Spec:
    """Build a format spec from a log4j/log4j2/logback ``PatternLayout`` pattern.

    Parameters
    ----------
    pattern
        The layout pattern, e.g. ``%d{yyyy-MM-dd HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg%n``.
        Colour wrappers (``%highlight{...}``, ``%clr(...){faint}``) are unwrapped;
        ``%d`` takes its date pattern or a named one (``ISO8601``, ``ABSOLUTE``...);
        a time-only ``%d{HH:mm:ss.SSS}`` is dated from ``date=`` or the file's
        modification time, midnight rollovers counted.
    name
        The format's name in accounts and reports.

    Raises
    ------
    FormatSpecError
        When the pattern has no ``%d``/``%date``.
    """
    state: dict[str, Any] = {}
    pieces = _java_pieces(pattern, state)
    if not any(p.field == "ts" for p in pieces):
        msg = f"log4j pattern {pattern!r} has no %d (date): lines without a time cannot be placed on a timeline"
        raise FormatSpecError(msg)
    # Trailing literals (often a newline) do not take part in the line.
    while pieces and pieces[-1].literal is not None and not pieces[-1].literal.strip():
        pieces.pop()
    regex = _assemble_regex(pieces)
    fields = {p.field for p in pieces if p.field}
    roles = {"level": "level", "message": "message", "service": "logger"}
    samples = _java_samples(pieces, state, fields)
    data = _spec_dict(
        name, f"log4j/logback pattern {pattern!r}", regex, "ts", state.get("ts_format"),
        state.get("epoch"), state.get("missing"), fields, roles, samples,
    )
    return parse_spec(data)


def _render_java_date(date_pattern: str, when: dt.datetime) -> str:
    fmt = _java_strftime(date_pattern)
    text = fmt.replace("%3f", f"{when.microsecond // 1000:03d}").replace("%6f", f"{when.microsecond:06d}")
    text = text.replace("%9f", f"{when.microsecond:06d}000")
    return when.strftime(text)


_J_SAMPLE_VALUES = {
    "level": "ERROR", "thread": "http-nio-8080-exec-4", "logger": "com.example.checkout.OrderRepository",
    "class": "com.example.checkout.OrderRepository", "method": "find", "lineno": "41", "file": "OrderRepository.java",
    "message": "Could not open JDBC connection", "relative": "12345", "pid": "4242", "marker": "SQL", "sequence": "7",
}
_J_STACK = (
    "org.postgresql.util.PSQLException: FATAL: sorry, too many clients already\n"
    "\tat org.postgresql.core.v3.ConnectionFactoryImpl.doAuthentication(ConnectionFactoryImpl.java:646)\n"
    "Caused by: java.net.SocketTimeoutException: Read timed out\n"
    "\t... 12 more"
)


def _java_samples(pieces: list[_Piece], state: dict[str, Any], fields: set[str]) -> list[dict[str, Any]]:
    """Render sample lines from the pieces with fixed values (padding to 5 for levels)."""
    when = _SAMPLE_TIME
    samples: list[dict[str, Any]] = []
    for level, level_name, with_stack in (("ERROR", "error", False), ("WARN", "warning", True)):
        parts: list[str] = []
        for piece in pieces:
            if piece.literal is not None:
                parts.append(piece.literal)
            elif piece.field == "ts":
                if state.get("epoch"):
                    seconds = int(_SAMPLE_TIME.timestamp())
                    parts.append(str(seconds if state["epoch"] == "s" else seconds * 1000 + 512))
                else:
                    parts.append(_render_java_date(state["java_date"], when))
            elif piece.field == "level":
                parts.append(level.ljust(5) if piece.padded else level)
            else:
                parts.append(_J_SAMPLE_VALUES.get(str(piece.field), f"{piece.field}-1"))
        text = "".join(parts)
        sample: dict[str, Any] = {"text": text + ("\n" + _J_STACK if with_stack else "")}
        if "level" in fields:
            sample["level"] = level_name
        if with_stack:
            sample["continuation_lines"] = _J_STACK.count("\n") + 1
        if state.get("missing") == "date":
            sample["date"] = when.date().isoformat()
        elif state.get("missing") == "year":
            sample["year"] = when.year
        java_date = str(state.get("java_date", ""))
        if state.get("epoch"):
            seconds_only = state["epoch"] == "s"
            sample["ts"] = (_SAMPLE_TIME.replace(microsecond=0) if seconds_only else _SAMPLE_TIME).isoformat()
        elif "ss" in _java_date(java_date)[0] or "%S" in _java_date(java_date)[0]:
            precise = "%3f" in _java_date(java_date)[0] or "%6f" in _java_date(java_date)[0]
            sample["ts"] = (_SAMPLE_TIME if precise else _SAMPLE_TIME.replace(microsecond=0)).isoformat()
        samples.append(sample)
    return samples


def _register() -> None:
    """Offer ``format="python:..."`` and ``format="log4j:..."`` where the spec layer takes translators."""
    from timeline.sources import _spec

    register = getattr(_spec, "register_translator", None)
    if register is None:
        return
    register("python", spec_from_python_logging, example="python:%(asctime)s %(levelname)s [%(name)s] %(message)s")
    register("log4j", spec_from_log4j, example="log4j:%d [%t] %-5level %logger{36} - %msg%n")


_register()
