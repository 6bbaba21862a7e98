"""The reconstructed incident: milestones with evidence, attempts, gaps, and the JSON contract."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from timeline._errors import ReconstructError

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


@dataclass(repr=False)
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
    _undo_stack: list[tuple[str, Milestone | None, str | None]] = field(default_factory=list, repr=False, compare=False)

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

    def set(
        self,
        name: str,
        at: str | dt.datetime,
        *,
        note: str | None = None,
        by: str | None = None,
        source: str = "note",
    ) -> Incident:
        """Correct a milestone; the inferred value is kept beside it and the gaps follow.

        Parameters
        ----------
        name
            A milestone name (see :data:`MILESTONES`).
        at
            The corrected time: a datetime, ISO 8601 (``2024-08-12T14:28:00-07:00``),
            a local date and time (``2024-08-12 14:28``) or a time of day
            (``14:28``, ``2:28 PM``), which is that time on the incident's date;
            times without a zone are read in the incident's time zone.
        note
            Why: the corrected milestone cites it as its evidence.
        by
            For ``detected``: ``alert``, ``customer`` or ``staff``.
        source
            What the note is (``note`` from Python, the annotations file's path).

        Raises
        ------
        ReconstructError
            For an unknown milestone or ``by`` value, a time that cannot be read, or
            a time out of the lifecycle's order (mitigated before impact start,
            resolved before mitigated...). Nothing is changed then.

        Examples
        --------
        >>> incident.set("detected", "14:28", by="staff", note="seen on the dashboard")  # doctest: +SKIP
        """
        self._set(name, at, note=note, by=by, source=source)
        try:
            check_order(self, [name])
        except ReconstructError:
            self._undo(name)
            raise
        return self

    def _set(self, name: str, at: str | dt.datetime, *, note: str | None, by: str | None, source: str = "note") -> None:
        if name not in MILESTONES:
            close = difflib.get_close_matches(name, MILESTONES, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            msg = f"unknown milestone {name!r}{hint} (expected one of {', '.join(MILESTONES)})"
            raise ReconstructError(msg)
        old = self.milestones.get(name)
        if by is not None:
            if name != "detected":
                msg = f"by={by!r} applies to 'detected' only (who noticed: {', '.join(DETECTED_BY)}), not to {name!r}"
                raise ReconstructError(msg)
            if by not in DETECTED_BY:
                close = difflib.get_close_matches(str(by), DETECTED_BY, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                msg = f"by={by!r} is not who can detect an incident{hint} (expected one of {', '.join(DETECTED_BY)})"
                raise ReconstructError(msg)
        when = parse_when(at, self.timezone, self.local_date(), what=f"{name} time")
        inferred = old.inferred if old is not None and old.inferred is not None else old
        cite = Evidence(at=when, source=source, file=None, line=None, message=note or "corrected by hand (no note given)", kind="note")
        self._undo_stack.append((name, old, self.missing.get(name)))
        self.milestones[name] = Milestone(
            name=name,
            at=when,
            confidence="high",
            rule="set by a person" + (f": {note}" if note else ""),
            evidence=(cite,),
            by=by or (old.by if old else None),
            note=note,
            inferred=inferred,
        )
        self.missing.pop(name, None)

    def _undo(self, name: str) -> None:
        """Put back what the last ``_set`` of ``name`` replaced."""
        for i in range(len(self._undo_stack) - 1, -1, -1):
            n, old, why = self._undo_stack[i]
            if n == name:
                del self._undo_stack[i]
                self.milestones[name] = old
                if why is not None:
                    self.missing[name] = why
                return

    def annotate(self, annotations: str | Path | Mapping[str, Any]) -> Incident:
        """Apply an annotations file (TOML or JSON) or mapping: a ``title`` and milestone corrections.

        The file looks like::

            title = "Database connection failures on db-primary after CHG-2231"
            [milestones.detected]
            at = "14:28"            # a time of day is on the incident's date, in its zone
            by = "staff"
            note = "seen on the dashboard"

        Every correction is read and checked before any is applied, and the
        lifecycle order is checked once all are in, so moving impact start and
        mitigation together works. Corrected milestones cite the file and the note.
        """
        data, where = load_annotations(annotations)
        saved = (dict(self.milestones), dict(self.missing), self.title)
        try:
            if "title" in data:
                self.title = data["title"]
            for name, value in data.get("milestones", {}).items():
                self._set(name, value["at"], note=value.get("note"), by=value.get("by"), source=where)
            check_order(self, list(data.get("milestones", {})))
        except ReconstructError as exc:
            self.milestones, self.missing, self.title = saved[0], saved[1], saved[2]
            msg = f"{where}: {exc}"
            raise ReconstructError(msg) from None
        self._undo_stack.clear()
        return self

    def default_title(self) -> str:
        """A short title in words from the evidence (see :func:`default_title`)."""
        return default_title(self)

    def local_date(self) -> dt.date:
        """The incident's date in its own zone: the day of impact start (else of the window's start)."""
        from zoneinfo import ZoneInfo

        anchor = self.at("impact_start") or self.window[0]
        return _aware(anchor).astimezone(ZoneInfo(self.timezone)).date()

    def __repr__(self) -> str:
        found = sum(1 for m in self.milestones.values() if m is not None)
        span = ""
        start, end = self.at("impact_start"), self.at("mitigated") or self.at("resolved")
        if start is not None:
            span = f", impact {_local_text(start, self.timezone)}"
            if end is not None:
                span += f" for {_short_duration((end - start).total_seconds())}"
        det = self.milestone("detected")
        who = f", detected by {det.by}" if det is not None and det.by else ""
        effective = sum(1 for a in self.attempts if a.effective)
        return (
            f"Incident({self.title!r}{span}{who}, {found}/{len(MILESTONES)} milestones, "
            f"{len(self.attempts)} mitigation attempts ({effective} effective))"
        )

    def __str__(self) -> str:
        lines = [self.title]
        for name in MILESTONES:
            m = self.milestones.get(name)
            if m is None:
                lines.append(f"  {name:13} not found")
                continue
            by = f" by {m.by}" if m.by else ""
            fixed = " (corrected)" if m.inferred is not None else ""
            lines.append(f"  {name:13} {_local_text(m.at, self.timezone)}{by}{fixed}")
        for a in self.attempts:
            verdict = "effective" if a.effective else ("not effective" if a.effective is False else "effect unknown")
            lines.append(f"  attempt       {_local_text(a.at, self.timezone)} {a.action} ({verdict})")
        lines.append("incident.postmortem() for the draft, incident.plot() for the chart")
        return "\n".join(lines)

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


DETECTED_BY: tuple[str, ...] = ("alert", "customer", "staff")
"""Who can detect an incident (``detected.by``)."""

# Lifecycle order: (earlier, later) pairs a correction must keep. Detection may come
# after mitigation (an incident noticed only afterwards), so that pair is not here.
ORDER: tuple[tuple[str, str], ...] = (
    ("trigger", "impact_start"),
    *(("impact_start", later) for later in ("detected", "escalated", "acknowledged", "identified", "mitigated", "resolved")),
    ("detected", "escalated"),
    ("detected", "acknowledged"),
    ("mitigated", "resolved"),
)
"""(earlier, later) milestone pairs whose order :meth:`Incident.set` checks."""

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?\s*([AaPp]\.?[Mm]\.?)?$")


def _aware(ts: dt.datetime) -> dt.datetime:
    return ts.replace(tzinfo=dt.UTC) if ts.tzinfo is None else ts


def _local_text(ts: dt.datetime, tz: str) -> str:
    from zoneinfo import ZoneInfo

    return f"{_aware(ts).astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M:%S %Z}"


def _short_duration(seconds: float) -> str:
    m = round(abs(seconds) / 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m"


def parse_when(at: str | dt.datetime, tz: str, date: dt.date | None = None, *, what: str = "time") -> dt.datetime:
    """Read a person's time as UTC: a datetime, ISO 8601, a local date and time, or a time of day.

    A time of day (``14:28``, ``14:28:05``, ``2:28 PM``) is that time on ``date``
    in ``tz``; anything without a zone is read in ``tz``. Written words
    (``Aug 12, 2024 2:28 PM PDT``) go through dateparser.

    Raises
    ------
    ReconstructError
        When the text is none of these, naming what was expected.
    """
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    if isinstance(at, dt.datetime):
        when = at
    elif isinstance(at, dt.date):
        msg = f"{what} {at!r} is a date without a time of day; expected e.g. '{at.isoformat()} 14:28'"
        raise ReconstructError(msg)
    else:
        text = str(at).strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            msg = f"{what} {text!r} is a date without a time of day; expected e.g. '{text} 14:28'"
            raise ReconstructError(msg)
        clock = _CLOCK.match(text)
        when = None
        if clock is not None:
            hour, minute = int(clock.group(1)), int(clock.group(2))
            second = int(clock.group(3) or 0)
            micro = int((clock.group(4) or "0").ljust(6, "0"))
            ampm = (clock.group(5) or "").lower().replace(".", "")
            if ampm and not 1 <= hour <= 12:
                hour = 99
            elif ampm:
                hour = hour % 12 + (12 if ampm == "pm" else 0)
            if date is None or hour > 23 or minute > 59 or second > 59:
                when = None
            else:
                when = dt.datetime.combine(date, dt.time(hour, minute, second, micro))
        if when is None and clock is None:
            try:
                when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                when = _parse_words(text, tz, date)
        if when is None:
            day = f", the incident's date {date.isoformat()} in {tz}" if date else ""
            msg = (
                f"{what} {text!r} is not a time; expected ISO 8601 ('2024-08-12T14:28:00-07:00'), a local date and "
                f"time ('2024-08-12 14:28') or a time of day ('14:28'{day})"
            )
            raise ReconstructError(msg)
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.astimezone(dt.UTC)


def _parse_words(text: str, tz: str, date: dt.date | None) -> dt.datetime | None:
    """A written date and time ('Aug 12, 2024 2:28 PM PDT') with dateparser; None unless it holds a time of day."""
    if not re.search(r"\d", text) or not re.search(r"\d:\d\d|\d\s*[AaPp][Mm]\b", text):
        return None
    import dateparser

    base = dt.datetime.combine(date, dt.time(12)) if date else None
    parsed = dateparser.parse(text, settings={"TIMEZONE": tz, "RELATIVE_BASE": base} if base else {"TIMEZONE": tz})
    return parsed


ANNOTATION_KEYS: tuple[str, ...] = ("at", "note", "by")


def load_annotations(annotations: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """Read and check an annotations file or mapping; return ``({"title"?, "milestones"}, where)``.

    Milestones may sit under ``[milestones]`` or at the top level; each is a
    time or a table with ``at`` and optional ``note`` and ``by``. Nothing about
    the incident is needed, so the CLI checks the file before reading evidence.

    Raises
    ------
    ReconstructError
        A missing or unreadable file, an unknown key (with the closest valid one), a
        value of the wrong type.
    """
    import tomllib
    from collections.abc import Mapping as _Mapping

    if isinstance(annotations, _Mapping):
        raw, where = dict(annotations), "annotations"
    else:
        path = Path(annotations)
        where = str(path)
        if not path.is_file():
            msg = f"annotations file {path} does not exist" if not path.exists() else f"annotations file {path} is not a file"
            raise ReconstructError(msg)
        text = path.read_text(encoding="utf-8")
        try:
            raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
            msg = f"annotations file {path} is not valid {kind}: {exc}"
            raise ReconstructError(msg) from None
        if not isinstance(raw, dict):
            msg = f"annotations file {path}: expected a table of milestones, got {type(raw).__name__}"
            raise ReconstructError(msg)
    out: dict[str, Any] = {}
    if "title" in raw:
        if not isinstance(raw["title"], str) or not raw["title"].strip():
            msg = f"{where}: title must be a non-empty string"
            raise ReconstructError(msg)
        out["title"] = raw["title"].strip()
    table = raw.get("milestones", {k: v for k, v in raw.items() if k != "title"})
    extra = set(raw) - {"title", "milestones"} if "milestones" in raw else set()
    milestones: dict[str, dict[str, Any]] = {}
    for name in [*table, *sorted(extra)]:
        if name not in MILESTONES:
            close = difflib.get_close_matches(name, [*MILESTONES, "title", "milestones"], n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            msg = f"{where}: unknown key {name!r}{hint} (expected title, or a milestone: {', '.join(MILESTONES)})"
            raise ReconstructError(msg)
        value = table[name]
        if isinstance(value, _Mapping):
            bad = [k for k in value if k not in ANNOTATION_KEYS]
            if bad:
                close = difflib.get_close_matches(bad[0], ANNOTATION_KEYS, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                msg = f"{where}: {name}: unknown key {bad[0]!r}{hint} (expected at, note, by)"
                raise ReconstructError(msg)
            if "at" not in value:
                msg = f"{where}: {name} has no 'at': give the corrected time, e.g. at = \"14:28\""
                raise ReconstructError(msg)
            milestones[name] = dict(value)
        elif isinstance(value, (str, dt.datetime)):
            milestones[name] = {"at": value}
        else:
            msg = f"{where}: {name} = {value!r}: expected a time such as \"14:28\" or a table with at, note, by"
            raise ReconstructError(msg)
    out["milestones"] = milestones
    return out, where


def check_order(incident: Incident, names: list[str] | None = None) -> None:
    """Check the lifecycle order of the milestones (those involving ``names``, or all).

    Raises
    ------
    ReconstructError
        Naming both milestones, their times in the incident's zone and how to fix it.
    """
    for early, late in ORDER:
        if names is not None and early not in names and late not in names:
            continue
        a, b = incident.milestones.get(early), incident.milestones.get(late)
        if a is None or b is None or _aware(a.at) <= _aware(b.at):
            continue
        changed = late if names is not None and late in names else early
        other = early if changed == late else late
        rel = "before" if changed == late else "after"
        when = incident.milestones[changed].at  # type: ignore[union-attr]
        then = incident.milestones[other].at  # type: ignore[union-attr]
        msg = (
            f"{changed} at {_local_text(when, incident.timezone)} would be {rel} {other} "
            f"({_local_text(then, incident.timezone)}): {late} cannot come before {early}; "
            f"give a time {rel.replace('before', 'after') if rel == 'before' else 'before'} it, or correct {other} as well"
        )
        raise ReconstructError(msg)


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


# ---------------------------------------------------------------- words and signals

_CHANGE_ID = re.compile(r"\b[A-Z][A-Z0-9]{1,11}-\d{1,9}\b")
_CONNECTION = r"(?i)\bconnect|connection|too many clients|pool (?:exhausted|timed? ?out)|refused"
_TIMEOUT = r"(?i)timed? ?out\b|timeout"
TITLE_LIMIT = 80
"""Longest default title (characters); longer parts are cut at a word."""


def time_precision(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with ``precision_us``: the resolution of each source's times (1 s, 1 ms or 1 µs).

    A source whose every time falls on a whole second writes seconds; on a whole
    millisecond, milliseconds. A line at 14:14:37 from such a source happened
    somewhere in [14:14:37, 14:14:38).
    """
    us = pl.col("ts").dt.microsecond()
    per = rows.group_by("source").agg(
        pl.when((us == 0).all()).then(1_000_000).when((us % 1000 == 0).all()).then(1000).otherwise(1).alias("precision_us")
    )
    return rows.join(per, on="source", how="left")


def during(rows: pl.DataFrame, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """The rows that may have happened in [start, end], knowing each source's precision: a line
    stamped 14:14:37 by a source that writes whole seconds may be from 14:14:37.412 on."""
    if rows.height == 0:
        return rows
    return (
        time_precision(rows)
        .filter(((pl.col("ts") + pl.duration(microseconds=pl.col("precision_us"))) > _aware(start)) & (pl.col("ts") <= _aware(end)))
        .drop("precision_us")
    )


def earliest_signal(rows: pl.DataFrame, detected_at: dt.datetime | None = None) -> MachineSignal | None:
    """The first row of the bursting templates, knowing each source's time precision.

    ``rows`` are signature errors (``ts``, ``source``, ``template``, ``file``,
    ``line``, ``message``). A line stamped to the whole second may have been
    written up to a second later, so rows are ordered by the latest moment each
    could have happened: nginx's ``14:14:37`` does not come before PostgreSQL's
    ``14:14:37.412``, while ``14:14:36`` does.
    """
    if rows.height == 0:
        return None
    ranked = time_precision(rows).with_columns(
        (pl.col("ts") + pl.duration(microseconds=pl.col("precision_us"))).alias("_latest")
    ).sort("_latest", "precision_us", "ts", nulls_last=True)
    first = ranked.head(1)
    r = first.row(0, named=True)
    lead = (_aware(detected_at) - _aware(r["ts"])).total_seconds() if detected_at is not None else None
    return MachineSignal(r["ts"], r["template"], r["source"], lead, (Evidence.from_row(r),))


def cut_words(text: str, limit: int) -> str:
    """The first line of ``text`` cut at a word boundary, with an ellipsis when cut."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:(-–—") + "…"


def component_name(source: str, kind: str | None) -> str:
    """What to call a source in words: a database log's server (``db-primary``), else the source."""
    if kind == "db" and "/" in source:
        return source.split("/", 1)[0]
    return source


def signature_rows(incident: Incident) -> pl.DataFrame:
    """The errors of the incident's bursting templates during impact, with their template.

    Columns of the event table plus ``template_id`` and ``template``; empty when
    the incident carries no events or templates.
    """
    ev = incident.events
    tpl = incident.templates
    start = incident.at("impact_start")
    if ev is None or tpl is None or start is None:
        return pl.DataFrame()
    ev = getattr(ev, "df", ev)
    if not isinstance(ev, pl.DataFrame):
        ev = pl.from_pandas(ev)
    tpl = tpl if isinstance(tpl, pl.DataFrame) else pl.from_pandas(tpl)
    if "bursting" not in tpl.columns or "template_id" not in tpl.columns:
        return pl.DataFrame()
    end = incident.at("mitigated") or incident.at("resolved") or incident.window[1]
    errs = ev.filter(
        pl.col("kind").cast(pl.String).is_in(["log", "db"])
        & pl.col("level").cast(pl.String).is_in(["error", "critical"])
    )
    if errs.height == 0:
        return pl.DataFrame()
    from timeline.templates import templates

    # Template ids depend on the whole set mined together: mine the same rows the reconstruction did.
    errs = templates(errs)
    burst = tpl.filter(pl.col("bursting"))
    ids = burst["template_id"].cast(pl.String)
    texts = burst["template"].cast(pl.String) if "template" in burst.columns else pl.Series([], dtype=pl.String)
    errs = during(errs, start, max(start, end))
    ours = pl.col("template_id").is_in(ids.implode()) | pl.col("template").is_in(texts.implode())
    if texts.len():
        # A templates table written by hand (or by another miner) matches by its masked text.
        from timeline.templates import mask

        masked = mask(texts)
        ours = ours | mask(pl.col("message")).is_in(masked.implode())  # type: ignore[union-attr]
    return errs.filter(ours)


def default_title(incident: Incident) -> str:
    """A short title in words: what failed, where, after which change.

    ``Database connection failures on db-primary after CHG-2231``: the kind of
    failure from the bursting templates (connection failures, timeouts, errors),
    the component that failed first (a database log names its server), and the
    trigger's change id (``ABC-123``) or its first words.
    """
    sig = signature_rows(incident)
    parts: list[str] = []
    if sig.height:
        first = earliest_signal(sig)
        src = first.source if first else sig["source"][0]
        kind_rows = sig.filter(pl.col("source") == src)
        kind = str(kind_rows["kind"][0]) if kind_rows.height else None
        # What failed, in the failing component's own words (its rows, not the callers' echoes of them).
        texts = kind_rows["template"].fill_null("") if kind_rows.height else sig["template"].fill_null("")
        conn = int(texts.str.contains(_CONNECTION).sum())
        tout = int(texts.str.contains(_TIMEOUT).sum())
        noun = "connection failures" if conn * 2 >= texts.len() else "timeouts" if tout * 2 >= texts.len() else "errors"
        if kind == "db":
            what = f"Database {noun}"
        else:
            what = noun.capitalize()
        parts.append(f"{what} on {component_name(src, kind)}")
    else:
        parts.append("Error burst")
    trig = incident.milestone("trigger")
    if trig is not None:
        texts = [e.message for e in trig.evidence] + [trig.rule]
        ident = next((m.group(0) for t in texts for m in [_CHANGE_ID.search(t or "")] if m), None)
        if ident:
            parts.append(f"after {ident}")
        elif trig.evidence:
            parts.append("after " + cut_words(trig.evidence[0].message, 40))
    return cut_words(" ".join(parts), TITLE_LIMIT)
