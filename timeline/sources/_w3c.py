"""Logs that name their own fields: W3C extended log files (IIS, proxies, CDNs) and Zeek/Bro logs.

Their ``#Fields:`` (W3C) or ``#fields`` (Zeek) directive lists the fields
each line holds, in order, and it differs from server to server. A spec is
built from the directive: one group per field, the date and time fields read
together as the event's time (W3C writes them in UTC), Zeek's ``ts`` as epoch
seconds, and the usual fields mapped to event columns by the table below.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import polars as pl

from timeline.sources._spec import Spec, parse_spec

# Event column <- the first of these fields the directive names.
COLUMNS = {
    "level": ("sc-status", "status", "status_code"),
    "actor": ("c-ip", "cs-username", "id.orig_h"),
    "host": ("s-computername", "s-ip", "id.resp_h"),
    "service": ("s-sitename", "cs-host", "service", "host"),
}
# The message, built from the fields present (the first template whose fields all are).
TEMPLATES = (
    ("cs-method", "cs-uri-stem", "sc-status"),
    ("cs-method", "cs-uri", "sc-status"),
    ("method", "host", "uri", "status_code"),
)
_DIRECTIVE_LINES = 60


def _group(name: str, used: set[str]) -> str:
    base = "f_" + re.sub(r"\W", "_", name).strip("_").lower()
    out, i = base, 2
    while out in used:
        out, i = f"{base}_{i}", i + 1
    used.add(out)
    return out


def directives(lines: pl.DataFrame) -> tuple[list[str], str, dict[str, str]] | None:
    """The field names, separator and other directives a file declares, or None when it declares no fields."""
    texts = lines["text"].head(_DIRECTIVE_LINES).to_list()
    if not any(t.startswith("#") for t in texts[:10]):
        return None
    sep = " "
    found: list[str] | None = None
    other: dict[str, str] = {}
    for t in texts:
        if t.startswith("#separator") and ("\\x09" in t or "\t" in t[10:]):
            sep = "\t"
        elif t.startswith("#Fields:") and found is None:
            found = t[len("#Fields:"):].split()
        elif t.startswith("#fields") and found is None:
            found = [f for f in re.split(r"[\t ]+", t[len("#fields"):].strip()) if f]
        elif t.startswith("#") and ":" in t:
            key, _, value = t[1:].partition(":")
            other.setdefault(key.strip().lower(), value.strip())
    return (found, sep, other) if found else None


_DATE = re.compile(r"^date(?:-local|-utc)?$")
_TIME = re.compile(r"^time(?:-local|-utc)?$")


def spec_from_directives(lines: pl.DataFrame) -> tuple[Spec, bool, dt.date | None] | None:
    """A spec for a file that declares its fields; whether its times are UTC (W3C's rule); the date of time-only lines."""
    found = directives(lines)
    if found is None:
        return None
    names, sep, other = found
    value = r"[^\t]*" if sep == "\t" else r'"[^"]*"|\S+'
    local = any(n.endswith("-local") for n in names) or other.get("gmt-offset", "+0000").lstrip("+-") not in ("0000", "00:00", "")
    day: dt.date | None = None
    used: set[str] = set()
    parts: list[str] = []
    groups: dict[str, str] = {}
    timestamp: dict[str, Any] | None = None
    i = 0
    while i < len(names):
        name = names[i]
        if _DATE.match(name) and i + 1 < len(names) and _TIME.match(names[i + 1]):
            parts.append(r'(?P<ts>"?\d{4}-\d{2}-\d{2}"?[ \t]+"?\d{1,2}:\d{2}:\d{2}(?:\.\d+)?"?)')
            timestamp = {"field": "ts", "formats": ["%Y-%m-%d %H:%M:%S%.f", '"%Y-%m-%d" "%H:%M:%S%.f"', "%Y-%m-%d\t%H:%M:%S%.f"]}
            i += 2
            continue
        if _TIME.match(name) and timestamp is None and not any(_DATE.match(n) for n in names):
            # Time-only lines: the date is the one the #Date directive gives.
            when = re.match(r"\d{4}-\d{2}-\d{2}", other.get("date", "") or other.get("start-date", ""))
            if when:
                day = dt.date.fromisoformat(when.group(0))
                parts.append(r'(?P<ts>"?\d{1,2}:\d{2}:\d{2}(?:\.\d+)?"?)')
                timestamp = {"field": "ts", "formats": ["%H:%M:%S%.f"], "missing": "date"}
                i += 1
                continue
        if name == "ts" and timestamp is None:
            parts.append(r"(?P<ts>\d+(?:\.\d+)?)")
            timestamp = {"field": "ts", "epoch": "s"}
            i += 1
            continue
        group = _group(name, used)
        groups[name] = group
        last = i == len(names) - 1
        parts.append(f"(?P<{group}>.*)" if last else f"(?P<{group}>{value})")
        i += 1
    if timestamp is None:
        return None
    regex = "^" + ("\t" if sep == "\t" else "[ \t]+").join(parts) + "$"
    columns = {target: groups[f] for target, fields in COLUMNS.items() for f in fields[:1] if f in groups}
    for target, fields in COLUMNS.items():
        present = [groups[f] for f in fields if f in groups]
        if present:
            columns[target] = present  # type: ignore[assignment]
    data: dict[str, Any] = {
        "name": "w3c",
        "kind": "regex",
        "description": "fields named by the file's own #Fields directive: " + " ".join(names),
        "patterns": [{"name": "declared", "regex": regex}],
        "timestamp": timestamp,
        "columns": columns,
        "level_patterns": {"error": r"^5\d\d$", "warning": r"^4\d\d$"},
        "multiline": {"ignore": "^#"},
        "samples": [{"text": next((t for t in lines["text"].to_list() if t and not t.startswith("#")), "-")}],
    }
    template = next((t for t in TEMPLATES if all(f in groups for f in t)), None)
    if template is not None:
        data["message_template"] = " ".join("{" + groups[f] + "}" for f in template)
    return parse_spec(data), "epoch" not in timestamp and not local, day
