"""The incident table: one row per incident, whatever it was imported from.

Every importer (store folder, Statuspage, PagerDuty, CSV) produces rows of the
same shape, built by :func:`incident_row`, and :func:`rows_to_table` turns them
into one polars table with :data:`INCIDENT_SCHEMA`. Gaps are always computed
here, from the milestone times, so that every source is measured the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

#: Milestones an incident can carry, in lifecycle order (DESIGN.md).
MILESTONES: tuple[str, ...] = (
    "trigger",
    "impact_start",
    "detected",
    "declared",
    "escalated",
    "acknowledged",
    "identified",
    "mitigated",
    "resolved",
)

#: The gaps of DESIGN.md: name -> (start milestone, end milestone), one definition shared
#: with the reconstruction. Each gap is named together with the point it is measured from,
#: because vendors disagree on start points (reference/metrics.md §2).
from timeline.reconstruct._model import GAPS  # noqa: E402

#: Who noticed first, as the reconstruction records it under ``detected.by``.
DETECTED_BY: tuple[str, ...] = ("alert", "customer", "staff")

UTC_TS = pl.Datetime("us", "UTC")

#: Columns of the incident table.
INCIDENT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "title": pl.String(),
    "source_kind": pl.String(),
    "file": pl.String(),
    "severity": pl.String(),
    "service": pl.String(),
    "tags": pl.List(pl.String()),
    **{m: UTC_TS for m in MILESTONES},
    "detected_by": pl.String(),
    "impact_start_from": pl.String(),
    "detected_from": pl.String(),
    "mitigation_attempts": pl.Int32(),
    **{f"{g}_s": pl.Float64() for g in GAPS},
}


def describe_gap(name: str) -> str:
    """Say what a gap measures, naming its start point.

    Parameters
    ----------
    name
        A key of :data:`GAPS`, e.g. ``"time_to_detect"``.

    Returns
    -------
    str
        e.g. ``"time_to_detect = detected - impact_start"``.
    """
    start, end = GAPS[name]
    return f"{name} = {end} - {start}"


@dataclass
class Note:
    """Something an import could not fill, fell back on, or found inconsistent."""

    incident_id: str | None
    file: str | None
    field: str
    kind: str  # "missing", "fallback", "disagreement", "invalid", "duplicate"
    message: str


NOTE_SCHEMA: dict[str, pl.DataType] = {
    "incident_id": pl.String(),
    "file": pl.String(),
    "field": pl.String(),
    "kind": pl.String(),
    "message": pl.String(),
}


@dataclass
class RowBuilder:
    """Collects one incident's fields and the notes made while reading it."""

    id: str
    source_kind: str
    file: str | None
    title: str | None = None
    severity: str | None = None
    service: str | None = None
    tags: list[str] = field(default_factory=list)
    times: dict[str, dt.datetime | None] = field(default_factory=dict)
    detected_by: str | None = None
    impact_start_from: str | None = None
    detected_from: str | None = None
    mitigation_attempts: int | None = None
    stand_ins: dict[str, str] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)

    def stand_in(self, milestone: str, value: dt.datetime | None, source_field: str) -> None:
        """Fill a milestone with a later, known time because nothing earlier is known.

        The row records where the value came from, and a gap whose two ends
        are the same stand-in is not a measurement: it is left empty.
        """
        if value is None:
            return
        self.times[milestone] = value
        self.stand_ins[milestone] = source_field
        if milestone == "impact_start":
            self.impact_start_from = source_field
        elif milestone == "detected":
            self.detected_from = source_field
        self.note(milestone, "fallback", f"{milestone} taken from {source_field}")

    def note(self, field_name: str, kind: str, message: str) -> None:
        """Record a note about this incident."""
        self.notes.append(Note(self.id, self.file, field_name, kind, message))

    def finish(self) -> dict[str, Any]:
        """Compute gaps from milestone times and return the table row.

        A gap whose start or end is missing is null. A negative gap is null
        too, and noted as invalid: a milestone cannot precede its start.
        """
        times = {m: self.times.get(m) for m in MILESTONES}
        if self.detected_by is not None and self.detected_by not in DETECTED_BY:
            self.note(
                "detected.by",
                "invalid",
                f"detected.by is {self.detected_by!r}; expected one of {', '.join(DETECTED_BY)}",
            )
            self.detected_by = None
        row: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "source_kind": self.source_kind,
            "file": self.file,
            "severity": self.severity,
            "service": self.service,
            "tags": list(self.tags),
            **times,
            "detected_by": self.detected_by,
            "impact_start_from": self.impact_start_from,
            "detected_from": self.detected_from,
            "mitigation_attempts": self.mitigation_attempts,
        }
        for gap, (start, end) in GAPS.items():
            t0, t1 = times[start], times[end]
            value: float | None = None
            same = self.stand_ins.get(start)
            if same is not None and same == self.stand_ins.get(end):
                self.note(
                    gap,
                    "not_measured",
                    f"{start} and {end} both stand in as {same}; {gap} left empty",
                )
            elif t0 is not None and t1 is not None:
                value = (t1 - t0).total_seconds()
                if value < 0:
                    self.note(
                        gap,
                        "invalid",
                        f"{end} ({t1.isoformat()}) is before {start} ({t0.isoformat()}); "
                        f"{gap} left empty instead of negative",
                    )
                    value = None
            row[f"{gap}_s"] = value
        return row


def rows_to_table(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Build the incident table from finished rows, in :data:`INCIDENT_SCHEMA`."""
    if not rows:
        return pl.DataFrame(schema=INCIDENT_SCHEMA)
    return pl.DataFrame(list(rows), schema=INCIDENT_SCHEMA)


def notes_to_table(notes: Sequence[Note]) -> pl.DataFrame:
    """Build the notes table from :class:`Note` objects."""
    return pl.DataFrame(
        {k: [getattr(n, k) for n in notes] for k in NOTE_SCHEMA},
        schema=NOTE_SCHEMA,
    )


def parse_time(value: Any, *, tz: dt.tzinfo | None = None) -> dt.datetime | None:
    """Parse one timestamp from an incident record into an aware UTC datetime.

    Incident records are few (hundreds), so this runs once per field value;
    it is never used on log lines.

    Parameters
    ----------
    value
        ISO 8601 text (``Z`` or an offset), epoch seconds, a datetime, or None.
    tz
        Zone for naive times; UTC when not given.

    Returns
    -------
    datetime or None
        Aware, in UTC; None for a missing value.

    Raises
    ------
    ValueError
        When the text is not a timestamp.
    """
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from pandas
        return None
    if isinstance(value, dt.datetime):
        ts = value
    elif isinstance(value, int | float):
        ts = dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
    else:
        text = str(value).strip()
        if not text or text.lower() in {"null", "none", "nan", "nat", "-"}:
            return None
        try:
            ts = dt.datetime.fromisoformat(text)
        except ValueError:
            parsed = _parse_human(text)
            if parsed is None:
                msg = f"{text!r} is not a timestamp; expected ISO 8601 such as 2024-08-12T21:30:00Z"
                raise ValueError(msg) from None
            ts = parsed
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=tz or dt.UTC)
    return ts.astimezone(dt.UTC)


@functools.lru_cache(maxsize=4096)
def _parse_human(text: str) -> dt.datetime | None:
    """Parse a human-written time with dateparser, once per distinct string."""
    import dateparser

    return dateparser.parse(
        text, settings={"PREFER_DATES_FROM": "past"}
    )
