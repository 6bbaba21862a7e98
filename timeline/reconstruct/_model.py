"""The reconstructed incident: milestones with evidence, attempts, gaps, and the JSON contract."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

MILESTONES: tuple[str, ...] = (
    "trigger",
    "impact_start",
    "detected",
    "escalated",
    "acknowledged",
    "identified",
    "mitigated",
    "resolved",
)
"""Milestone names, in lifecycle order (the JSON contract's keys)."""

GAPS: dict[str, tuple[str, str]] = {
    "time_to_detect": ("impact_start", "detected"),
    "time_to_escalate": ("detected", "escalated"),
    "time_to_acknowledge": ("detected", "acknowledged"),
    "time_to_identify": ("impact_start", "identified"),
    "time_to_mitigate": ("impact_start", "mitigated"),
    "time_to_resolve": ("impact_start", "resolved"),
}
"""Gap name -> (from milestone, to milestone)."""


def iso(ts: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with offset, or None."""
    if ts is None:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)
    return ts.astimezone(dt.UTC).isoformat()


@dataclass(frozen=True)
class Evidence:
    """One event that supports a statement, with where it was read."""

    at: dt.datetime
    source: str
    file: str | None
    line: int | None
    message: str
    kind: str | None = None
    level: str | None = None
    actor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "source": self.source,
            "file": self.file,
            "line": self.line,
            "message": self.message,
        }

    @property
    def where(self) -> str:
        """``file:line`` for citing."""
        return f"{self.file}:{self.line}" if self.file else self.source

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Evidence:
        return cls(
            at=row["ts"],
            source=row.get("source") or "",
            file=row.get("file"),
            line=row.get("line"),
            message=(row.get("message") or "")[:500],
            kind=str(row["kind"]) if row.get("kind") is not None else None,
            level=str(row["level"]) if row.get("level") is not None else None,
            actor=row.get("actor"),
        )


@dataclass(frozen=True)
class Milestone:
    """A point in the incident's life, the events that prove it, and how sure we are."""

    name: str
    at: dt.datetime
    confidence: str  # high | medium | low
    rule: str
    evidence: tuple[Evidence, ...] = ()
    by: str | None = None  # for `detected`: alert | customer | staff
    note: str | None = None
    inferred: Milestone | None = None  # set when a user overrode the inferred value

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "at": iso(self.at),
            "confidence": self.confidence,
            "rule": self.rule,
            "evidence": [e.to_dict() for e in self.evidence],
        }
        if self.name == "detected":
            out["by"] = self.by
        if self.note:
            out["note"] = self.note
        if self.inferred is not None:
            out["overridden"] = True
            out["inferred"] = self.inferred.to_dict()
        return out


@dataclass(frozen=True)
class Attempt:
    """A mitigation attempt and whether the error rate fell to near baseline after it."""

    at: dt.datetime
    action: str  # rollback | restart | failover | scale_up | flag | other
    text: str
    effective: bool | None
    rule: str
    evidence: tuple[Evidence, ...] = ()
    error_rate_before: float | None = None  # errors per minute
    error_rate_after: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "action": self.action,
            "text": self.text,
            "effective": self.effective,
            "rule": self.rule,
            "error_rate_before_per_min": self.error_rate_before,
            "error_rate_after_per_min": self.error_rate_after,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class Entry:
    """One line of the postmortem timeline."""

    at: dt.datetime
    text: str
    milestone: str | None = None
    kind: str | None = None  # milestone | attempt | change | alert | ticket | chat | template | log
    source: str | None = None
    file: str | None = None
    line: int | None = None
    failed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "milestone": self.milestone,
            "text": self.text,
            "kind": self.kind,
            "source": self.source,
            "file": self.file,
            "line": self.line,
            "failed": self.failed,
        }


@dataclass(frozen=True)
class MachineSignal:
    """The earliest template that burst at or after the trigger."""

    at: dt.datetime
    template: str
    source: str
    lead_time_s: float | None
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "template": self.template,
            "source": self.source,
            "lead_time_s": self.lead_time_s,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass
class Incident:
    """A reconstructed incident.

    Attributes
    ----------
    title, timezone, window
        What it is, the zone for display, and the (start, end) UTC window.
    milestones
        Name -> :class:`Milestone` or None (with ``missing[name]`` saying why).
    attempts
        Every mitigation attempt, effective or not.
    signal
        The earliest machine signal, or None.
    entries
        The lines a postmortem timeline keeps.
    ingest
        The per-file account of the read.
    events
        The event table the incident was reconstructed from (polars).
    """

    title: str
    timezone: str
    window: tuple[dt.datetime, dt.datetime]
    milestones: dict[str, Milestone | None]
    attempts: list[Attempt] = field(default_factory=list)
    signal: MachineSignal | None = None
    entries: list[Entry] = field(default_factory=list)
    ingest: list[dict[str, Any]] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    silent_periods: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    events: pl.DataFrame | None = field(default=None, repr=False)
    rates: pl.DataFrame | None = field(default=None, repr=False)
    templates: pl.DataFrame | None = field(default=None, repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    def milestone(self, name: str) -> Milestone | None:
        """One milestone by name (None when not found)."""
        return self.milestones.get(name)

    def at(self, name: str) -> dt.datetime | None:
        m = self.milestones.get(name)
        return m.at if m else None

    @property
    def gaps(self) -> dict[str, float | None]:
        """Gap name -> seconds (None when an end is missing; never negative)."""
        out: dict[str, float | None] = {}
        for name, (a, b) in GAPS.items():
            start, end = self.at(a), self.at(b)
            if start is None or end is None:
                out[name] = None
            else:
                out[name] = max(0.0, (end - start).total_seconds())
        return out

    def set(self, name: str, at: str | dt.datetime, *, note: str | None = None, by: str | None = None) -> Incident:
        """Override a milestone; the inferred value is kept beside it and gaps follow the override.

        Parameters
        ----------
        name
            A milestone name (see :data:`MILESTONES`).
        at
            The corrected time: a datetime or an ISO 8601 string (naive strings
            are read in the incident's time zone).
        note
            Why (shown in the report).
        by
            For ``detected``: alert, customer or staff.
        """
        from timeline._errors import ReconstructError

        if name not in MILESTONES:
            import difflib

            close = difflib.get_close_matches(name, MILESTONES, n=1)
            hint = f"; closest is '{close[0]}'" if close else ""
            msg = f"unknown milestone {name!r}{hint}; expected one of {', '.join(MILESTONES)}"
            raise ReconstructError(msg)
        when = _parse_when(at, self.timezone)
        old = self.milestones.get(name)
        inferred = old.inferred if old is not None and old.inferred is not None else old
        self.milestones[name] = Milestone(
            name=name,
            at=when,
            confidence="high",
            rule="set by a person" + (f": {note}" if note else ""),
            evidence=old.evidence if old else (),
            by=by or (old.by if old else None),
            note=note,
            inferred=inferred,
        )
        self.missing.pop(name, None)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of DESIGN.md as a dict."""
        gaps = self.gaps
        return {
            "incident": {
                "title": self.title,
                "timezone": self.timezone,
                "window": {"start": iso(self.window[0]), "end": iso(self.window[1])},
                **{k: v for k, v in self.extra.items() if k in ("severity", "service", "tags")},
            },
            "milestones": {name: (m.to_dict() if m else None) for name, m in self.milestones.items()},
            "missing": dict(self.missing),
            "mitigation_attempts": [a.to_dict() for a in self.attempts],
            "gaps": {f"{k}_s": v for k, v in gaps.items()},
            "silent_periods": [{"start": iso(a), "end": iso(b), "duration_s": (b - a).total_seconds()} for a, b in self.silent_periods],
            "earliest_machine_signal": self.signal.to_dict() if self.signal else None,
            "entries": [e.to_dict() for e in self.entries],
            "ingest": [
                {k: f.get(k) for k in ("file", "format", "lines", "events", "continuation_lines", "rejected")} for f in self.ingest
            ],
        }

    def to_json(self, path: str | None = None, *, indent: int = 2) -> str:
        """The JSON contract as text (and written to ``path`` if given)."""
        text = json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
        if path is not None:
            from pathlib import Path

            Path(path).write_text(text + "\n", encoding="utf-8")
        return text


def _parse_when(at: str | dt.datetime, tz: str) -> dt.datetime:
    from zoneinfo import ZoneInfo

    when = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when.astimezone(dt.UTC)


def _attach_report_methods() -> None:
    """Give Incident the report verbs (implemented in timeline.report, imported on use)."""

    def to_markdown(self: Incident, tz: str | None = None) -> str:
        """The postmortem "Timeline of Events" section as Markdown."""
        from timeline.report import to_markdown as f

        return f(self, tz=tz)

    def postmortem(self: Incident, tz: str | None = None) -> str:
        """A full postmortem draft as Markdown, for a person to edit."""
        from timeline.report import postmortem as f

        return f(self, tz=tz)

    def to_html(self: Incident, path: str | None = None, tz: str | None = None) -> str:
        """A standalone HTML report (plotly embedded; works offline)."""
        from timeline.report import to_html as f

        return f(self, path=path, tz=tz)

    def plot(self: Incident, tz: str | None = None, kind: str = "swimlane") -> Any:
        """A chart of the incident as a plotly Figure: ``kind`` is swimlane, rates or templates."""
        from timeline.report import plot as f

        return f(self, tz=tz, kind=kind)

    def to_timesketch(self: Incident, path: str) -> Any:
        """Write entries and evidence as Timesketch JSONL."""
        from timeline.report import to_timesketch as f

        return f(self, path)

    def _repr_html_(self: Incident) -> str:
        try:
            from timeline.report import incident_repr_html
        except ImportError:
            return "<pre>" + __import__("html").escape(self.to_json()) + "</pre>"
        return incident_repr_html(self)

    for fn in (to_markdown, postmortem, to_html, plot, to_timesketch, _repr_html_):
        setattr(Incident, fn.__name__, fn)


_attach_report_methods()
