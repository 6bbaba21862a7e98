"""Helpers shared by the report writers and the charts: time zones, durations, spans."""

from __future__ import annotations

import datetime as dt
import difflib
import os
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from timeline._errors import InputError

if TYPE_CHECKING:
    from timeline.reconstruct._model import Incident

LABELS: dict[str, str] = {
    "trigger": "TRIGGER",
    "impact_start": "IMPACT STARTS",
    "detected": "DETECTED",
    "escalated": "ESCALATED",
    "acknowledged": "ACKNOWLEDGED",
    "identified": "IDENTIFIED",
    "mitigated": "MITIGATED",
    "resolved": "RESOLVED",
}
"""Milestone name -> the bold label of the postmortem table."""

SHORT: dict[str, str] = {
    "trigger": "trigger",
    "impact_start": "impact",
    "detected": "detected",
    "escalated": "escalated",
    "acknowledged": "ack",
    "identified": "identified",
    "mitigated": "mitigated",
    "resolved": "resolved",
}
"""Milestone name -> the short label on charts."""


def label(name: str, by: str | None = None) -> str:
    """The bold label of a milestone, with who detected it."""
    base = LABELS.get(name, name.replace("_", " ").upper())
    return f"{base} ({by})" if name == "detected" and by else base


def resolve_tz(incident: Incident, tz: str | None) -> tuple[ZoneInfo, str]:
    """The display zone: ``tz`` if given, else the incident's, else UTC.

    Raises
    ------
    InputError
        When the name is not an IANA zone; the message names the closest one.
    """
    name = tz or getattr(incident, "timezone", None) or "UTC"
    try:
        return ZoneInfo(name), name
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        close = difflib.get_close_matches(str(name), sorted(available_timezones()), n=1)
        hint = f"; closest is {close[0]!r}" if close else ""
        msg = f"time zone {name!r} is not an IANA zone name{hint}; expected e.g. 'America/Los_Angeles' or 'UTC'"
        raise InputError(msg) from None


def utc(ts: dt.datetime) -> dt.datetime:
    """An aware UTC datetime (naive values are taken as UTC)."""
    return ts.replace(tzinfo=dt.UTC) if ts.tzinfo is None else ts.astimezone(dt.UTC)


def to_local(ts: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """``ts`` in the display zone."""
    return utc(ts).astimezone(zone)


def naive_local(ts: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """Wall-clock time in the display zone without tzinfo (what the chart axes show)."""
    return to_local(ts, zone).replace(tzinfo=None)


def zone_caption(zone: ZoneInfo, name: str, times: list[dt.datetime]) -> str:
    """'America/Los_Angeles (PDT, UTC-07:00)': the zone with the abbreviations and offsets seen."""
    seen: list[str] = []
    for ts in times:
        loc = to_local(ts, zone)
        off = loc.strftime("%z")
        off = f"UTC{off[:3]}:{off[3:]}" if off else "UTC"
        abbr = loc.tzname() or ""
        text = f"{abbr}, {off}" if abbr and not abbr.startswith(("+", "-")) and abbr != "UTC" else off
        if text not in seen:
            seen.append(text)
    if name == "UTC" or not seen:
        return "UTC"
    return f"{name} ({'; '.join(seen)})"


def duration(seconds: float | None) -> str:
    """A compact duration: 45s, 8m, 1h24m, 2d3h; 'n/a' when unknown."""
    if seconds is None:
        return "n/a"
    s = abs(float(seconds))
    if s < 60:
        return f"{s:.0f}s"
    m = round(s / 60)
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h}h{m:02d}m" if m else f"{h}h"
    d, h = divmod(h, 24)
    return f"{d}d{h}h" if h else f"{d}d"


def impact_span(incident: Incident) -> tuple[dt.datetime, dt.datetime] | None:
    """(impact start, end of impact): end is mitigated, else resolved, else the window end."""
    start = incident.at("impact_start")
    if start is None:
        return None
    end = incident.at("mitigated") or incident.at("resolved") or incident.window[1]
    return (start, max(start, end))


def short_paths(files: list[str | None]) -> dict[str, str]:
    """Map each file to its path relative to the files' common folder (the basename for one file)."""
    real = sorted({f for f in files if f})
    if not real:
        return {}
    if len(real) == 1:
        return {real[0]: os.path.basename(real[0]) or real[0]}
    try:
        root = os.path.commonpath(real)
    except ValueError:
        return {f: f for f in real}
    if root in real:  # every file is the same or nested under one of them
        root = os.path.dirname(root)
    out = {}
    for f in real:
        rel = os.path.relpath(f, root) if root else f
        out[f] = rel if not rel.startswith("..") else f
    return out
