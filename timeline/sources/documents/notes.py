"""Plain incident notes kept by hand: ``14:35 lee: escalating to engineering``.

One note per line that starts with a time (``14:35``, ``14:35:10``,
``[14:35]``, ``- 14:35``, optionally a zone abbreviation ``14:35 PDT``), a name
and a colon. Lines that do not start a note continue the note before them.
The date comes from the ``date`` option, else a date written in the heading
lines (``# Incident 2024-08-12``, ``Date: Aug 12, 2024``), else the file name,
else the file's modification time (and the account says so). A time that goes
back by more than twelve hours means the notes ran past midnight.
Times are local to the ``tz`` option unless a zone is written.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import dateparser
import polars as pl

from timeline.sources._account import FileAccount
from timeline.sources._time import ZONE_ABBREVIATIONS
from timeline.sources.documents import DocumentOptions, register
from timeline.sources.documents._common import Rows, head_text, new_account

NOTE = re.compile(
    r"^\s*(?:[-*•]\s*)?\[?(?P<time>\d{1,2}:\d{2}(?::\d{2})?)(?:\s?(?P<ampm>[AaPp][Mm]))?(?:\s+(?P<zone>[A-Z]{2,5}))?\]?\s*[-–]?\s+"
    r"(?P<who>[A-Za-z@][\w.@'\- ]{0,40}?)\s*:\s+(?P<text>\S.*)$"
)
_NOT_NAMES = {"debug", "info", "notice", "warning", "warn", "error", "critical", "fatal", "log", "trace", "detail", "hint", "statement"}
_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_WORDY_DATE = re.compile(r"\b((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}|\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]* \d{4})\b")


def _match(line: str) -> re.Match[str] | None:
    m = NOTE.match(line)
    if m is None or m.group("who").strip().lower() in _NOT_NAMES:
        return None
    return m


class NotesReader:
    """Reads hand-kept incident notes."""

    name = "notes"
    directory = False

    def detect(self, path: Path) -> float:
        """Likely when most of the first lines are ``HH:MM name: text`` notes."""
        text = head_text(path, 16 * 1024)
        if not text or text.lstrip()[:1] in ("{", "[") or "\x00" in text:
            return 0.0
        lines = [ln for ln in text.splitlines()[:60] if ln.strip()]
        if len(lines) > 1 and not text.endswith("\n"):
            lines = lines[:-1]
        notes = sum(1 for ln in lines if _match(ln))
        if notes < 2:
            return 0.0
        started = next(i for i, ln in enumerate(lines) if _match(ln))
        body = lines[started:]
        share = notes / max(len(body), 1)
        return 0.9 if share >= 0.6 else 0.6 if share >= 0.4 else 0.0

    def read(self, path: Path, options: DocumentOptions) -> tuple[pl.DataFrame, FileAccount]:
        """Read every note into one event."""
        account = new_account(path, self.name, "note", options)
        rows = Rows(account, "note")
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        lines = text.splitlines()
        account.lines = len(lines)
        base = _base_date(options, lines, path, account)
        tz = ZoneInfo(options.tz or "UTC")
        if options.tz is None:
            account.tz_assumed = True
        day_offset = 0
        prev: dt.datetime | None = None
        seen_note = False
        headings = 0
        current: dict | None = None
        notes: list[dict] = []
        for i, line in enumerate(lines, 1):
            if not line.strip():
                account.blank += 1
                continue
            m = _match(line)
            if m is None:
                if current is None:
                    headings += 1
                    account.blank += 1
                else:
                    current["text"] += "\n" + line.strip()
                    account.continuation_lines += 1
                continue
            seen_note = True
            clock = m.group("time")
            fmt = "%H:%M:%S" if clock.count(":") == 2 else "%H:%M"
            try:
                t = dt.datetime.strptime(clock, fmt).time()
            except ValueError:
                account.reject(i, f"not a time of day: {clock}", line)
                current = None
                continue
            if m.group("ampm"):
                hour = t.hour % 12 + (12 if m.group("ampm").lower() == "pm" else 0)
                t = t.replace(hour=hour)
            naive = dt.datetime.combine(base + dt.timedelta(days=day_offset), t)
            if prev is not None and naive < prev - dt.timedelta(hours=12):
                day_offset += 1
                naive += dt.timedelta(days=1)
            prev = naive
            zone = m.group("zone")
            if zone and zone in ZONE_ABBREVIATIONS:
                when = (naive - dt.timedelta(seconds=ZONE_ABBREVIATIONS[zone])).replace(tzinfo=dt.UTC)
            elif zone:
                account.reject(i, f"unknown time zone {zone}", line)
                current = None
                continue
            else:
                when = naive.replace(tzinfo=tz)
            current = {"when": when, "who": m.group("who").strip(), "text": m.group("text").strip(), "line": i}
            notes.append(current)
        for n in notes:
            rows.add(n["when"], "said", n["text"], line=n["line"], actor=n["who"], ref=None, attrs={})
        if headings and seen_note:
            account.warnings.append(f"{headings} heading line(s) before the first note read for the date only")
        frame, account = rows.finish()
        account.records = len(notes)
        if account.tz_assumed:
            account.warnings.append("note times carry no zone and no tz was given: read as UTC")
        return frame, account


def _base_date(options: DocumentOptions, lines: list[str], path: Path, account: FileAccount) -> dt.date:
    if options.date is not None:
        return options.date if isinstance(options.date, dt.date) else dt.date.fromisoformat(str(options.date))
    for line in lines[:20]:
        if _match(line):
            break
        m = _ISO_DATE.search(line)
        if m:
            return dt.date.fromisoformat(m.group(1))
        m = _WORDY_DATE.search(line)
        if m:
            parsed = dateparser.parse(m.group(1), languages=["en"])
            if parsed is not None:
                return parsed.date()
    m = _ISO_DATE.search(path.name)
    if m:
        return dt.date.fromisoformat(m.group(1))
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()
    account.warnings.append(f"no date given, written in the notes or in the file name: the file's modification date {mtime} was used (pass date= to set it)")
    return mtime


register(NotesReader())
