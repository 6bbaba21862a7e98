"""Per-line Python baseline reader: ``re`` + ``strptime``, one line at a time.

This is the reader a careful user writes by hand without a dataframe library,
and the floor that ``timeline read`` is compared with in ``bench/run_read.py``.
It does the same work as ``timeline read`` on the generated files: find each
record's prefix with a regular expression, parse its time with
``datetime.strptime``, convert it to UTC, join continuation lines to their
record (traceback lines; TAB lines and DETAIL/HINT/CONTEXT/STATEMENT lines for
PostgreSQL), and keep ``ts, level, logger/user, message, line`` per event.
JSON lines go through ``json.loads`` and ``strptime`` on ``@timestamp``.

It prints one JSON object with the counts, so the runner can check it read
every line.  It is deliberately a per-line loop: it is the baseline, never a
code path of timeline.

Usage::

    python bench/baseline_re.py python_logging bench/data/app.log --tz America/Los_Angeles
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
#: PostgreSQL ``log_timezone`` abbreviations that the generated files use.
PG_ABBREVIATIONS = {
    "UTC": timedelta(0), "GMT": timedelta(0),
    "PDT": timedelta(hours=-7), "PST": timedelta(hours=-8),
    "EDT": timedelta(hours=-4), "EST": timedelta(hours=-5),
    "CEST": timedelta(hours=2), "CET": timedelta(hours=1),
}
PG_SECONDARY = frozenset(("DETAIL", "HINT", "CONTEXT", "STATEMENT", "QUERY", "LOCATION"))

PY_RE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ([A-Z]+) \[([^\]]+)\] (.*)")
PG_RE = re.compile(
    r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) ([A-Z]{2,5}|[+-]\d+) \[(\d+)\] "
    r"(?:([^@ ]*)@(\S*) )?([A-Z0-9]+):  (.*)"
)


def read_python_logging(path: str, tz: str) -> dict[str, int]:
    """Read Python logging text line by line.

    Parameters
    ----------
    path : str
        The log file.
    tz : str
        IANA zone of the naive local times.

    Returns
    -------
    dict of str to int
        ``lines``, ``events``, ``continuation_lines``, ``rejected``.
    """
    zone = ZoneInfo(tz)
    events: list[list[object]] = []
    n = cont = rejected = 0
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, start=1):
            line = raw.rstrip("\n")
            m = PY_RE.match(line)
            if m is None:
                if events:
                    events[-1][3] = f"{events[-1][3]}\n{line}"
                    cont += 1
                else:
                    rejected += 1
                continue
            ts = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=zone).astimezone(UTC)
            events.append([ts, m.group(2), m.group(3), m.group(4), n])
    return {"lines": n, "events": len(events), "continuation_lines": cont, "rejected": rejected}


def read_postgres_stderr(path: str, tz: str) -> dict[str, int]:
    """Read PostgreSQL stderr (``'%m [%p] %q%u@%d '``) line by line.

    Parameters
    ----------
    path : str
        The log file.
    tz : str
        Unused: PostgreSQL writes its zone abbreviation on every line.

    Returns
    -------
    dict of str to int
        ``lines``, ``events``, ``continuation_lines`` (TAB lines),
        ``secondary_lines`` (DETAIL/HINT/... joined to their primary line),
        ``rejected``.
    """
    del tz
    events: list[list[object]] = []
    n = cont = secondary = rejected = 0
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, start=1):
            line = raw.rstrip("\n")
            if line.startswith("\t"):
                if events:
                    events[-1][4] = f"{events[-1][4]}\n{line}"
                    cont += 1
                else:
                    rejected += 1
                continue
            m = PG_RE.match(line)
            if m is None:
                rejected += 1
                continue
            level = m.group(6)
            if level in PG_SECONDARY and events:
                events[-1][4] = f"{events[-1][4]}\n{level}:  {m.group(7)}"
                secondary += 1
                continue
            offset = PG_ABBREVIATIONS.get(m.group(2))
            if offset is None:
                rejected += 1
                continue
            ts = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone(offset))
            events.append([ts.astimezone(UTC), level, m.group(4), m.group(5), m.group(7), n])
    return {"lines": n, "events": len(events), "continuation_lines": cont,
            "secondary_lines": secondary, "rejected": rejected}


def read_jsonl(path: str, tz: str) -> dict[str, int]:
    """Read JSON lines with ``json.loads`` and ``strptime`` line by line.

    Parameters
    ----------
    path : str
        The log file.
    tz : str
        Unused: the times carry their offset.

    Returns
    -------
    dict of str to int
        ``lines``, ``events``, ``rejected``, ``keys`` (distinct keys seen).
    """
    del tz
    events: list[tuple[object, ...]] = []
    keys: set[str] = set()
    n = rejected = 0
    loads = json.loads
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                rec = loads(raw)
                ts = datetime.strptime(rec["@timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
            except (ValueError, KeyError):
                rejected += 1
                continue
            keys.update(rec)
            events.append((ts, rec.get("log.level"), rec.get("log.logger"), rec.get("message"), n, rec))
    return {"lines": n, "events": len(events), "rejected": rejected, "keys": len(keys)}


READERS = {
    "python_logging": read_python_logging,
    "postgres_stderr": read_postgres_stderr,
    "jsonl": read_jsonl,
}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    ap = argparse.ArgumentParser(description="Per-line re + strptime baseline reader.")
    ap.add_argument("family", choices=sorted(READERS))
    ap.add_argument("file")
    ap.add_argument("--tz", default="America/Los_Angeles")
    args = ap.parse_args(argv)
    counts = READERS[args.family](args.file, args.tz)
    json.dump(counts, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
