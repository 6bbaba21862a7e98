"""Hand-off to Timesketch: the incident's timeline entries and evidence events as JSONL.

Timesketch imports JSON lines with at least ``message``, ``datetime`` (ISO 8601)
and ``timestamp_desc``; any other key becomes a searchable attribute. We add
``timestamp`` (microseconds since the epoch, which Timesketch prefers when
present) and our own columns, so a team that keeps investigations in Timesketch
can import the file as it is.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timeline.reconstruct._model import MILESTONES
from timeline.report._common import label, utc

if TYPE_CHECKING:
    from timeline.reconstruct._model import Evidence, Incident

DATA_TYPE_ENTRY = "timeline:incident:entry"
DATA_TYPE_EVIDENCE = "timeline:incident:evidence"


def _stamp(ts: dt.datetime) -> tuple[str, int]:
    u = utc(ts)
    micros = (u - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    return u.isoformat(), int(micros)


def _record(at: dt.datetime, message: str, desc: str, **cols: Any) -> dict[str, Any]:
    iso, micros = _stamp(at)
    rec: dict[str, Any] = {"message": message, "datetime": iso, "timestamp": micros, "timestamp_desc": desc}
    rec.update({k: v for k, v in cols.items() if v is not None})
    return rec


def records(incident: Incident) -> list[dict[str, Any]]:
    """The Timesketch records: one per timeline entry (milestones, attempts, notes), one per evidence event."""
    title = incident.title
    out: list[dict[str, Any]] = []
    present = set()
    for name in MILESTONES:
        m = incident.milestones.get(name)
        if m is None:
            continue
        present.add(name)
        ev = m.evidence[0] if m.evidence else None
        text = ev.message if ev else m.rule
        out.append(_record(
            m.at, f"{label(name, m.by)}: {text}", "Incident milestone", data_type=DATA_TYPE_ENTRY, incident=title,
            milestone=name, confidence=m.confidence, rule=m.rule, detected_by=m.by if name == "detected" else None,
            overridden=True if m.inferred is not None or m.rule.startswith("set by a person") else None, note=m.note,
            source=ev.source if ev else None, file=ev.file if ev else None, line=ev.line if ev else None,
        ))
    for a in incident.attempts:
        ev = a.evidence[0] if a.evidence else None
        verdict = {True: "stopped the errors", False: "did not stop the errors", None: "effect unknown"}[a.effective]
        out.append(_record(
            a.at, f"MITIGATION ATTEMPT ({a.action}): {a.text} — {verdict}", "Mitigation attempt", data_type=DATA_TYPE_ENTRY,
            incident=title, action=a.action, effective=a.effective, rule=a.rule, error_rate_before_per_min=a.error_rate_before,
            error_rate_after_per_min=a.error_rate_after, source=ev.source if ev else None, file=ev.file if ev else None,
            line=ev.line if ev else None,
        ))
    for e in incident.entries:
        if e.milestone in present or (e.kind == "attempt" and incident.attempts):
            continue
        out.append(_record(
            e.at, e.text, "Incident timeline entry", data_type=DATA_TYPE_ENTRY, incident=title, milestone=e.milestone,
            entry_kind=e.kind, failed=e.failed or None, source=e.source, file=e.file, line=e.line,
        ))
    for start, end in incident.silent_periods:
        minutes = (utc(end) - utc(start)).total_seconds() / 60
        out.append(_record(start, f"gap: {minutes:.0f} min without recorded action", "Silent period start",
                           data_type=DATA_TYPE_ENTRY, incident=title, entry_kind="gap", duration_s=(utc(end) - utc(start)).total_seconds()))
    if incident.signal is not None:
        s = incident.signal
        out.append(_record(s.at, f"earliest machine signal: {s.template} burst in {s.source}", "Earliest machine signal",
                           data_type=DATA_TYPE_ENTRY, incident=title, template=s.template, source=s.source, lead_time_s=s.lead_time_s))

    # Evidence events, each once, with every statement it supports.
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}

    def add(ev: Evidence, supports: str) -> None:
        key = (ev.file, ev.line, utc(ev.at), ev.source, ev.message)
        rec = seen.get(key)
        if rec is None:
            rec = _record(ev.at, ev.message, "Event recorded", data_type=DATA_TYPE_EVIDENCE, incident=title, source=ev.source,
                          kind=ev.kind, level=ev.level, actor=ev.actor, file=ev.file, line=ev.line, supports=[])
            seen[key] = rec
        if supports not in rec["supports"]:
            rec["supports"].append(supports)

    for name in MILESTONES:
        m = incident.milestones.get(name)
        for ev in m.evidence if m else ():
            add(ev, name)
    for a in incident.attempts:
        for ev in a.evidence:
            add(ev, f"attempt:{a.action}")
    if incident.signal is not None:
        for ev in incident.signal.evidence:
            add(ev, "earliest_machine_signal")
    for rec in seen.values():
        rec["supports"] = ",".join(rec["supports"])
    out.extend(seen.values())
    out.sort(key=lambda r: (r["timestamp"], r["data_type"]))
    return out


def to_timesketch(incident: Incident, path: str | Path) -> int:
    """Write the incident's timeline entries and evidence events in Timesketch's JSONL import format.

    Parameters
    ----------
    incident
        A reconstructed incident.
    path
        The ``.jsonl`` file to write (UTF-8, one JSON object per line).

    Returns
    -------
    int
        The number of records written.

    Examples
    --------
    >>> to_timesketch(incident, "incident.jsonl")  # doctest: +SKIP
    21
    """
    recs = records(incident)
    with Path(path).open("w", encoding="utf-8") as fh:
        for rec in recs:
            fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
    return len(recs)
