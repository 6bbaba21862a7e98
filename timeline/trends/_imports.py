"""Importers: our JSON contract, Statuspage, PagerDuty and a CSV, into incident rows.

Each importer maps the tool's own timestamps onto our milestones as
``reference/metrics.md`` §6 describes, and notes every field it could not
fill or had to fill from a stand-in. None of them drops an incident silently:
a record that cannot be used at all becomes a note of kind ``"excluded"``.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from timeline._errors import InputError
from timeline.trends._model import GAPS, MILESTONES, Note, RowBuilder, parse_time

Rows = tuple[list[dict[str, Any]], list[Note]]

#: A Statuspage started_at this much before created_at counts as back-dated.
BACKDATED_S = 60.0


def _time(b: RowBuilder, name: str, value: Any, tz: dt.tzinfo | None = None) -> dt.datetime | None:
    """Parse a time for field ``name``; note and return None when it is not one."""
    try:
        return parse_time(value, tz=tz)
    except ValueError as exc:
        b.note(name, "invalid", str(exc))
        return None


def _note_missing(b: RowBuilder, fields: Iterable[str], why: str) -> None:
    for f in fields:
        if b.times.get(f) is None:
            b.note(f, "missing", why)


# --------------------------------------------------------------------------
# Our JSON contract (DESIGN.md), as `timeline reconstruct --json` writes it


def from_contract(doc: Mapping[str, Any], *, file: str | None, default_id: str) -> Rows:
    """Read one incident written in the DESIGN.md JSON contract.

    Gaps are recomputed from the milestone times; where the file's own
    ``gaps`` disagree by more than a second, a ``disagreement`` note says so.

    Parameters
    ----------
    doc
        The parsed JSON object (keys ``incident``, ``milestones``, ``gaps``...).
    file
        Where it was read, for provenance.
    default_id
        Id used when ``incident.id`` is absent (the file name's stem).
    """
    inc = doc.get("incident") or {}
    b = RowBuilder(id=str(inc.get("id") or default_id), source_kind="store", file=file)
    b.title = inc.get("title")
    b.severity = None if inc.get("severity") is None else str(inc.get("severity"))
    b.service = inc.get("service")
    tags = inc.get("tags") or []
    b.tags = [str(t) for t in tags] if isinstance(tags, list) else [str(tags)]
    milestones = doc.get("milestones") or {}
    for m in MILESTONES:
        ms = milestones.get(m)
        if ms is None:
            continue
        if not isinstance(ms, Mapping):
            b.note(m, "invalid", f"milestones.{m} is {ms!r}; expected an object with 'at' or null")
            continue
        b.times[m] = _time(b, m, ms.get("at"))
        if m == "detected":
            b.detected_by = ms.get("by")
    attempts = doc.get("mitigation_attempts")
    b.mitigation_attempts = len(attempts) if isinstance(attempts, list) else None
    _note_missing(b, ("impact_start", "detected", "mitigated", "resolved"), "null in the file")
    if b.times.get("detected") is not None and b.detected_by is None:
        b.note("detected.by", "missing", "detected has no 'by' (alert, customer or staff)")
    row = b.finish()
    file_gaps = doc.get("gaps") or {}
    for gap in GAPS:
        key = f"{gap}_s"
        if key not in file_gaps:
            continue
        theirs, ours = file_gaps[key], row[key]
        if theirs is None and ours is None:
            continue
        if theirs is None or ours is None or abs(float(theirs) - ours) > 1.0:
            b.note(
                gap,
                "disagreement",
                f"gaps.{key} in the file is {theirs}, the milestone times give {ours}; "
                "using the milestone times",
            )
    return [row], b.notes


# --------------------------------------------------------------------------
# Atlassian Statuspage: /api/v2/incidents.json


def is_statuspage(doc: Any) -> bool:
    """Whether a parsed JSON document has the Statuspage incidents shape."""
    items = _statuspage_items(doc)
    return bool(items) and all(isinstance(i, Mapping) for i in items[:5]) and any(
        "incident_updates" in i or "shortlink" in i for i in items[:5]
    )


def _statuspage_items(doc: Any) -> list[Any]:
    if isinstance(doc, Mapping):
        if isinstance(doc.get("incidents"), list):
            return list(doc["incidents"])
        if isinstance(doc.get("incident"), Mapping) and "incident_updates" in doc["incident"]:
            return [doc["incident"]]
        if "incident_updates" in doc:
            return [doc]
        return []
    if isinstance(doc, list):
        return doc
    return []


def from_statuspage(doc: Any, *, file: str | None) -> Rows:
    """Read Statuspage incidents (``/api/v2/incidents.json`` or one incident).

    Mapping (reference/metrics.md §6): ``created_at`` -> declared, and it
    stands in for impact start and detection, which Statuspage does not know
    (a ``started_at`` more than a minute before ``created_at``, a back-dated
    start, is taken as impact start instead);
    the first ``identified`` update -> identified; ``monitoring_at`` (else the
    first ``monitoring`` update) -> mitigated; ``resolved_at`` (else the first
    ``resolved`` update) -> resolved; ``impact`` -> severity; the first
    component -> service, every component -> a ``component:`` tag.
    Scheduled maintenance is excluded (metrics.md §5.6) and noted.
    These are public communication times, not internal ones.
    """
    rows: list[dict[str, Any]] = []
    notes: list[Note] = []
    for k, inc in enumerate(_statuspage_items(doc)):
        if not isinstance(inc, Mapping):
            notes.append(Note(None, file, "incident", "excluded", f"item {k} is not an object"))
            continue
        b = RowBuilder(id=str(inc.get("id") or f"statuspage-{k}"), source_kind="statuspage", file=file)
        if inc.get("scheduled_for") or inc.get("impact") == "maintenance":
            b.note("incident", "excluded", "scheduled maintenance is not an incident")
            notes.extend(b.notes)
            continue
        b.title = inc.get("name")
        b.severity = inc.get("impact")
        comps = [c.get("name") for c in inc.get("components") or [] if isinstance(c, Mapping)]
        comps = [c for c in comps if c]
        if comps:
            b.service = comps[0]
            if len(comps) > 1:
                b.note("service", "fallback", f"{len(comps)} components; service is the first, {comps[0]!r}")
        b.tags = [f"component:{c}" for c in comps] + [f"status:{inc.get('status')}"]
        created = _time(b, "declared", inc.get("created_at"))
        b.times["declared"] = created
        started = _time(b, "impact_start", inc.get("started_at"))
        if started is not None and created is not None and (created - started).total_seconds() > BACKDATED_S:
            # a back-dated start: the page says when impact began. Statuspage
            # sets started_at a few milliseconds before created_at on its own.
            b.stand_in("impact_start", started, "statuspage.started_at")
        else:
            b.stand_in("impact_start", created, "statuspage.created_at")
        b.stand_in("detected", created, "statuspage.created_at")
        updates = [u for u in inc.get("incident_updates") or [] if isinstance(u, Mapping)]

        def first_update(status: str, *, b: RowBuilder = b, updates: list[Any] = updates) -> dt.datetime | None:
            ts = [
                t
                for u in updates
                if u.get("status") == status
                and (t := _time(b, status, u.get("created_at") or u.get("display_at"))) is not None
            ]
            return min(ts) if ts else None

        b.times["identified"] = first_update("identified")
        monitoring = _time(b, "mitigated", inc.get("monitoring_at"))
        if monitoring is None and (monitoring := first_update("monitoring")) is not None:
            b.note("mitigated", "fallback", "mitigated taken from the first 'monitoring' update")
        b.times["mitigated"] = monitoring
        resolved = _time(b, "resolved", inc.get("resolved_at"))
        if resolved is None and (resolved := first_update("resolved")) is not None:
            b.note("resolved", "fallback", "resolved taken from the first 'resolved' update")
        b.times["resolved"] = resolved
        _note_missing(b, ("identified", "mitigated", "resolved"), "no such Statuspage update")
        _note_missing(b, ("escalated", "acknowledged"), "Statuspage does not record it")
        b.note("detected.by", "missing", "Statuspage does not record who detected it")
        rows.append(b.finish())
        notes.extend(b.notes)
    return rows, notes


# --------------------------------------------------------------------------
# PagerDuty: incidents (REST API v2 shape) with their log entries

_PD_ENTRY_TYPES = (
    "trigger_log_entry",
    "acknowledge_log_entry",
    "escalate_log_entry",
    "resolve_log_entry",
)


def is_pagerduty(doc: Any) -> bool:
    """Whether a parsed JSON document has the PagerDuty incidents shape."""
    items = doc.get("incidents") if isinstance(doc, Mapping) else doc
    if not isinstance(items, list) or not items or not isinstance(items[0], Mapping):
        return False
    first = items[0]
    return "incident_number" in first or "urgency" in first or first.get("type") == "incident"


def from_pagerduty(doc: Any, *, file: str | None) -> Rows:
    """Read PagerDuty incidents and their log entries.

    Accepts ``{"incidents": [...], "log_entries": [...]}`` (entries point to
    their incident through ``incident.id``), incidents that each carry a
    ``log_entries`` list, or a bare list of incidents.

    Mapping: the first ``trigger_log_entry`` (else ``created_at``) -> detected,
    by ``alert`` when an integration triggered it and ``staff`` when a user
    did; it also stands in for impact start, which PagerDuty does not know.
    First ``acknowledge_log_entry`` -> acknowledged, first
    ``escalate_log_entry`` -> escalated, ``resolve_log_entry`` (else
    ``resolved_at``) -> resolved. PagerDuty has no mitigation or
    identification time; those stay empty and are noted.
    ``priority.summary`` (else ``urgency``) -> severity, ``service.summary`` -> service.
    """
    items = doc.get("incidents") if isinstance(doc, Mapping) else doc
    entries_by_incident: dict[str, list[Mapping[str, Any]]] = {}
    top_entries = doc.get("log_entries") if isinstance(doc, Mapping) else None
    for e in top_entries or []:
        inc_ref = e.get("incident") or {}
        entries_by_incident.setdefault(str(inc_ref.get("id")), []).append(e)
    rows: list[dict[str, Any]] = []
    notes: list[Note] = []
    for k, inc in enumerate(items or []):
        if not isinstance(inc, Mapping):
            notes.append(Note(None, file, "incident", "excluded", f"item {k} is not an object"))
            continue
        iid = str(inc.get("id") or f"pagerduty-{k}")
        b = RowBuilder(id=iid, source_kind="pagerduty", file=file)
        b.title = inc.get("title") or inc.get("summary")
        service = inc.get("service") or {}
        b.service = service.get("summary") or service.get("name") if isinstance(service, Mapping) else None
        priority = inc.get("priority") or {}
        if isinstance(priority, Mapping) and priority.get("summary"):
            b.severity = str(priority["summary"])
        elif inc.get("urgency"):
            b.severity = str(inc["urgency"])
            b.note("severity", "fallback", "no priority; severity is the urgency")
        b.tags = [f"urgency:{inc.get('urgency')}"] if inc.get("urgency") else []
        b.tags += [f"team:{t.get('summary')}" for t in inc.get("teams") or [] if isinstance(t, Mapping)]
        entries = list(inc.get("log_entries") or []) + entries_by_incident.get(iid, [])
        first: dict[str, tuple[dt.datetime, Mapping[str, Any]]] = {}
        for e in entries:
            etype = e.get("type")
            if etype not in _PD_ENTRY_TYPES:
                continue
            t = _time(b, str(etype), e.get("created_at"))
            if t is not None and (etype not in first or t < first[etype][0]):
                first[etype] = (t, e)
        if "trigger_log_entry" in first:
            t, e = first["trigger_log_entry"]
            b.times["detected"] = t
            agent = (e.get("agent") or {}).get("type", "")
            b.detected_by = "staff" if agent.startswith("user") else "alert"
        else:
            b.stand_in("detected", _time(b, "detected", inc.get("created_at")), "pagerduty.created_at")
        b.stand_in("impact_start", b.times.get("detected"), "pagerduty trigger")
        for etype, milestone in (
            ("acknowledge_log_entry", "acknowledged"),
            ("escalate_log_entry", "escalated"),
            ("resolve_log_entry", "resolved"),
        ):
            if etype in first:
                b.times[milestone] = first[etype][0]
        if b.times.get("resolved") is None and inc.get("resolved_at"):
            b.times["resolved"] = _time(b, "resolved", inc.get("resolved_at"))
        if not entries:
            b.note("log_entries", "missing", "no log entries for this incident")
        _note_missing(b, ("acknowledged", "escalated", "resolved"), "no such log entry")
        _note_missing(b, ("identified", "mitigated"), "PagerDuty does not record it")
        rows.append(b.finish())
        notes.extend(b.notes)
    return rows, notes


# --------------------------------------------------------------------------
# CSV: one row per incident, with a column mapping

CSV_FIELDS: tuple[str, ...] = ("id", "title", "severity", "service", "tags", "detected_by", *MILESTONES)


def from_csv(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    tz: dt.tzinfo | None = None,
) -> Rows:
    """Read a CSV with one row per incident.

    Parameters
    ----------
    path
        The CSV file.
    mapping
        Our field -> the CSV's column, e.g. ``{"impact_start": "Started",
        "detected": "Detected At", "service": "Component"}``. Fields not mapped
        are read from a column of the same name when there is one. Our fields:
        ``id, title, severity, service, tags`` (separated by ``;`` or ``,``),
        ``detected_by`` (alert, customer, staff) and every milestone.
    tz
        Zone for times written without an offset (UTC when not given).

    Raises
    ------
    InputError
        When a mapped field is not ours or its column is not in the file.
    """
    path = Path(path)
    try:
        df = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        msg = f"{path}: cannot read as CSV ({exc}); expected one row per incident with a header line"
        raise InputError(msg) from exc
    mapping = dict(mapping or {})
    for ours, theirs in mapping.items():
        if ours not in CSV_FIELDS:
            close = difflib.get_close_matches(ours, CSV_FIELDS, n=1)
            hint = f"; closest match is {close[0]!r}" if close else ""
            msg = f"{path}: mapping names field {ours!r}, expected one of {', '.join(CSV_FIELDS)}{hint}"
            raise InputError(msg)
        if theirs not in df.columns:
            close = difflib.get_close_matches(theirs, df.columns, n=1)
            hint = f"; closest match is {close[0]!r}" if close else ""
            msg = f"{path}: mapping {ours}={theirs!r} but the file has no column {theirs!r}{hint}"
            raise InputError(msg)
    columns = {f: mapping.get(f, f) for f in CSV_FIELDS if mapping.get(f, f) in df.columns}
    rows: list[dict[str, Any]] = []
    notes: list[Note] = []
    tz_note = tz is None
    for k, rec in enumerate(df.select(list(dict.fromkeys(columns.values()))).iter_rows(named=True)):
        line = k + 2  # header is line 1

        def get(f: str, rec: dict[str, Any] = rec) -> str | None:
            col = columns.get(f)
            v = rec.get(col) if col else None
            return None if v is None or not str(v).strip() else str(v).strip()

        b = RowBuilder(id=get("id") or f"{path.stem}:{line}", source_kind="csv", file=f"{path}:{line}")
        b.title, b.severity, b.service = get("title"), get("severity"), get("service")
        tags = get("tags")
        b.tags = [t.strip() for t in tags.replace(";", ",").split(",") if t.strip()] if tags else []
        by = get("detected_by")
        b.detected_by = by.lower() if by else None
        for m in MILESTONES:
            raw = get(m)
            t = _time(b, m, raw, tz)
            b.times[m] = t
            if t is not None and tz_note and raw is not None and _is_naive(raw):
                b.note(m, "fallback", f"{raw!r} has no offset; read as UTC")
        _note_missing(b, ("impact_start", "detected", "mitigated", "resolved"), "empty or no column")
        if b.detected_by is None:
            b.note("detected.by", "missing", "empty or no column")
        rows.append(b.finish())
        notes.extend(b.notes)
    return rows, notes


def _is_naive(text: str) -> bool:
    try:
        return dt.datetime.fromisoformat(text).tzinfo is None
    except ValueError:
        return True
