"""The warning for naive times read in an assumed zone, and the zone the other files suggest.

A log whose times carry no zone, read without ``tz``, is read as UTC: if it
was written in local time, every event is hours off. That deserves more than a
per-file note. When other files of the same read carry explicit zones, the
naive file's span is compared with theirs under every whole- and half-hour
offset; when exactly one offset puts it inside their span, that offset is
suggested (never applied).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from timeline.sources._account import FileAccount

class NaiveTimeWarning(UserWarning):
    """Times without a zone were read as UTC because no tz was given."""


# Zones named as examples for an offset (the first whose offset at that time matches).
_EXAMPLE_ZONES = (
    "America/Los_Angeles", "America/Denver", "America/Chicago", "America/New_York", "America/Sao_Paulo",
    "Europe/London", "Europe/Paris", "Europe/Helsinki", "Europe/Moscow", "Asia/Dubai", "Asia/Kolkata",
    "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland", "Pacific/Honolulu",
    "America/Anchorage", "America/Halifax",
)
# How far outside the zoned files' span a shifted naive file may start or end and still line up.
_SLACK = dt.timedelta(minutes=10)


def naive_files(accounts: Sequence[FileAccount]) -> list[FileAccount]:
    """The files whose times carried no zone and were read without a tz."""
    return [a for a in accounts if a.tz_assumed and not a.tz_given and a.events]


def suggested_offset(naive: FileAccount, accounts: Sequence[FileAccount]) -> dt.timedelta | None:
    """The one offset under which a naive file's span falls inside the explicitly zoned files' span, if exactly one."""
    zoned = [a for a in accounts if a.zones_seen and not a.tz_assumed and a.first_ts and a.last_ts]
    if not zoned or not naive.first_ts or not naive.last_ts:
        return None
    lo = min(dt.datetime.fromisoformat(a.first_ts) for a in zoned) - _SLACK
    hi = max(dt.datetime.fromisoformat(a.last_ts) for a in zoned) + _SLACK
    first, last = dt.datetime.fromisoformat(naive.first_ts), dt.datetime.fromisoformat(naive.last_ts)
    fits = []
    for half_hours in range(-24, 29):
        offset = dt.timedelta(minutes=30 * half_hours)
        # Local time = UTC + offset, so the true UTC instant is the naive reading minus the offset.
        if lo <= first - offset and last - offset <= hi:
            fits.append(offset)
    return fits[0] if len(fits) == 1 else None


def _offset_text(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _example_zone(offset: dt.timedelta, at: dt.datetime) -> str | None:
    for name in _EXAMPLE_ZONES:
        if ZoneInfo(name).utcoffset(at.replace(tzinfo=None)) == offset:
            return name
    return None


def naive_time_warning(accounts: Sequence[FileAccount]) -> str | None:
    """A prominent warning naming the files read in an assumed zone (None when there are none)."""
    naive = naive_files(accounts)
    if not naive:
        return None
    names = ", ".join(a.file for a in naive[:5]) + (f" and {len(naive) - 5} more" if len(naive) > 5 else "")
    lines = [
        f"WARNING: times in {len(naive)} file(s) carry no zone and no tz was given, so they were read as UTC: {names}. "
        "If they were written in local time, every event from them is off by that zone's offset.",
    ]
    for a in naive[:5]:
        offset = suggested_offset(a, accounts)
        if offset is None:
            continue
        at = dt.datetime.fromisoformat(a.first_ts or "") - offset
        example = _example_zone(offset, at)
        zone = example or f"Etc/GMT{'-' if offset.total_seconds() > 0 else '+'}{abs(int(offset.total_seconds() // 3600))}"
        lines.append(
            f"  {a.file}: its times line up with the files that carry zones only at {_offset_text(offset)}"
            f" (e.g. {zone}); if so, read it with --tz '{a.file}={zone}' (CLI) or tz={{'{a.file}': '{zone}'}} (Python)."
        )
    if len(lines) == 1:
        lines.append("  Name the zone they were written in: --tz ZONE (CLI) or tz='ZONE' (Python), e.g. America/Los_Angeles.")
    return "\n".join(lines)
