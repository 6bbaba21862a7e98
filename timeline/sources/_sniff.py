"""Recognising a file's format from its content.

Every spec is tried on the first lines of the file with the real parser (so a
spec that matches the shape but not the time scores low); the best share of
lines read wins, ties going to the more specific spec.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import polars as pl

from timeline.sources._account import FileAccount
from timeline.sources._spec import Spec

SAMPLE_LINES = 200


def _quick_regex_hits(spec: Spec, lines: list[str]) -> int:
    hits = 0
    for line in lines:
        if any(p.compiled.search(line) for p in spec.patterns):
            hits += 1
    return hits


def _is_json_object(line: str) -> dict | None:
    s = line.strip()
    if not (s.startswith("{") and s.endswith("}")):
        return None
    try:
        value = json.loads(s)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _has_key(record: dict, key: str) -> bool:
    if key in record:
        return True
    node: object = record
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def candidates(sample: list[str], specs: Mapping[str, Spec]) -> list[Spec]:
    """The specs worth a full trial on these lines."""
    text = [s for s in sample if s.strip()][:50]
    if not text:
        return []
    objects = [_is_json_object(s) for s in text]
    n_obj = sum(o is not None for o in objects)
    out: list[Spec] = []
    for spec in specs.values():
        if spec.kind == "regex":
            if _quick_regex_hits(spec, text) > 0:
                out.append(spec)
        elif spec.kind == "jsonl" and n_obj:
            required = list(spec.sniff.get("required", spec.ts_fields[:1]))
            hit = sum(1 for o in objects if o is not None and all(_has_key(o, k) for k in required))
            if hit:
                out.append(spec)
        elif spec.kind == "csv" and not n_obj:
            widths = {len(c) for c in spec.csv.get("columns", [])}
            try:
                rows = list(csv.reader(io.StringIO("\n".join(text[:10]))))
            except csv.Error:
                continue
            if rows and any(len(r) in widths for r in rows):
                out.append(spec)
    return out


def score(spec: Spec, lines: pl.DataFrame, parse) -> float:  # noqa: ANN001 - parse is the reader's dispatch
    """Share of non-blank sample lines the spec reads as events or continuation lines (see :func:`score_events`)."""
    return score_events(spec, lines, parse, FileAccount(file="<sniff>", format=spec.name))


def score_events(spec: Spec, lines: pl.DataFrame, parse, account: FileAccount) -> float:  # noqa: ANN001
    """Share of non-blank sample lines the spec reads as events or continuation lines, judged on its events.

    A spec that reads the lines but fills the events with nothing is marked down (see
    :func:`emptiness`), so that a reader that understands them wins.
    """
    try:
        events = parse(lines, spec, account)
    except Exception:  # noqa: BLE001 - a spec that fails on the sample simply does not fit
        return 0.0
    nonblank = account.lines - account.blank
    if nonblank <= 0 or account.events == 0:
        return 0.0
    read = account.events + 0.9 * account.continuation_lines
    return read / nonblank * (1.0 - emptiness(spec, events))


# A message shared by this share of a sample's events says the message key holds a label, not the message.
CONSTANT_MESSAGE_SHARE = 0.8
MIN_EVENTS_JUDGED = 5


def emptiness(spec: Spec, events: pl.DataFrame) -> float:
    """How much of a spec's reading is empty (0 none, up to 0.5): confidently wrong is worse than unread.

    One message on most events of a JSON log (an envelope whose ``msg`` is "record"), or one
    level throughout while the messages say ERROR or FATAL.
    """
    if not isinstance(events, pl.DataFrame) or events.height < MIN_EVENTS_JUDGED or "message" not in events.columns:
        return 0.0
    penalty = 0.0
    messages = events["message"].drop_nulls()
    # Only a JSON key can hold a label in place of the message; a message cut from a line that is the
    # same on every line (a periodic "ASL Sender Statistics") is what the log says.
    if messages.len() and spec.kind == "jsonl" and spec.column("message") and not spec.raw.get("message_template"):
        top = messages.value_counts(sort=True).row(0)[1]
        if top >= CONSTANT_MESSAGE_SHARE * events.height:
            penalty += 0.4
    levels = events["level"].drop_nulls().unique()
    if spec.column("level") and levels.len() == 1 and levels[0] not in ("error", "critical"):
        says = messages.str.contains(r"\b(?:ERROR|FATAL|PANIC|CRITICAL)\b").sum()
        if says >= 2:
            penalty += 0.1
    return min(penalty, 0.5)


def specificity(spec: Spec) -> float:
    """Tie-break: explicit weight, then how many fields the spec extracts."""
    return float(spec.sniff.get("weight", 0.0)) + 0.01 * (len(spec.groups) + len(spec.columns))


def sniff_lines(lines: pl.DataFrame, specs: Mapping[str, Spec], parse) -> list[tuple[str, float]]:  # noqa: ANN001
    """Rank the specs for a file's first lines: [(name, score)], best first."""
    sample = lines.head(SAMPLE_LINES)
    texts = sample["text"].to_list()
    ranked: list[tuple[float, float, str]] = []
    for spec in candidates(texts, specs):
        s = score(spec, sample, parse)
        if s > 0:
            ranked.append((s, specificity(spec), spec.name))
    ranked.sort(key=lambda r: (-round(r[0], 2), -r[1], r[2]))
    ranked = _strict_first(ranked, specs, sample, parse)
    return [(name, s) for s, _, name in ranked]


LENIENT = "lenient"
"""The name of a spec's last-resort pattern (a cut user agent, a stray quote): what it reads is a weaker explanation."""


def _strict_first(ranked: list[tuple[float, float, str]], specs: Mapping[str, Spec], sample: pl.DataFrame, parse) -> list[tuple[float, float, str]]:  # noqa: ANN001
    """Among specs that tie at the top, the one whose strict patterns read the most lines goes first
    (an Apache common-log file is read by nginx's lenient pattern too, and by Apache's strict one)."""
    if len(ranked) < 2:
        return ranked
    top = round(ranked[0][0], 2)
    tied = [r for r in ranked if round(r[0], 2) == top]
    if len(tied) < 2 or not any(any(p.name == LENIENT for p in specs[r[2]].patterns) for r in tied):
        return ranked
    strict = {}
    for r in tied:
        spec = specs[r[2]]
        patterns = tuple(p for p in spec.patterns if p.name != LENIENT)
        strict[r[2]] = score(replace(spec, patterns=patterns), sample, parse) if patterns else 0.0
    tied.sort(key=lambda r: (-round(strict[r[2]], 2), -r[1], r[2]))
    return tied + [r for r in ranked if r not in tied]


_LOOKS_TEXT = re.compile(r"^[\x09\x0a\x0d\x20-\x7e\u00a0-\uffff]*$")


def looks_like_document(path: Path) -> bool:
    """True for a file that is one JSON document (not JSON lines): tickets, payloads, exports."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    stripped = head.lstrip()
    if stripped[:1] == b"[":
        return True
    if stripped[:1] == b"{":
        first = stripped.split(b"\n", 1)[0].strip()
        return not (first.endswith(b"}") and len(first) > 2)
    return False
