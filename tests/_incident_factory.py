"""Build realistic :class:`~timeline.reconstruct._model.Incident` objects by hand.

The shape follows the 2024-08-12 database outage of the seed postmortem: a
configuration change restarts the primary, connections are refused, customers
notice first, a rollback does not help and a failover does. Tests of the
report, the charts and the exports use it, so they do not depend on the
reconstruction rules.

Example
-------
>>> from _incident_factory import make_incident  # tests/ is on sys.path under pytest
>>> inc = make_incident(n_requests=2_000)
>>> inc.milestone("detected").by
'customer'
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import polars as pl

from timeline.reconstruct._model import Attempt, Entry, Evidence, Incident, MachineSignal, Milestone
from timeline.schema import EVENT_SCHEMA, conform, sort_events

TZ = "America/Los_Angeles"
PDT = dt.timezone(dt.timedelta(hours=-7))

APP_LOG = "app/app.log"
DB_LOG = "postgres/postgresql-2024-08-12.log"
TICKETS = "tickets/zendesk-export.csv"
CHAT = "chat/slack-incident-db.jsonl"
CHANGES = "changes/changes.csv"

ENDPOINTS = ("/api/orders", "/api/account", "/api/cart", "/api/login", "/healthz")


def local(hhmmss: str) -> dt.datetime:
    """2024-08-12 at a PDT wall-clock time, as an aware UTC datetime."""
    h, m, *s = (int(x) for x in hhmmss.split(":"))
    return dt.datetime(2024, 8, 12, h, m, s[0] if s else 0, tzinfo=PDT).astimezone(dt.UTC)


# The human and ops events of the outage: (time, source, kind, level, message, actor, ref, action, file, line)
HUMAN: list[tuple[str, str, str, str, str, str | None, str | None, str | None, str, int]] = [
    ("14:05:00", "changes", "change", "notice", "maintenance: apply tuned postgresql.conf (max_connections 500 -> 50)",
     "dba-oncall", "CHG-2291", "deployed", CHANGES, 2),
    ("14:12:03", "postgres-primary", "db", "info", "database system is ready to accept connections", None, None, None, DB_LOG, 4181),
    ("14:30:12", "tickets", "ticket", "warning", "ZD-4812 Can't open my account page, error 500 since 2:20",
     "customer:m.lee", "ZD-4812", "created", TICKETS, 2),
    ("14:33:50", "tickets", "ticket", "warning", "ZD-4815 Checkout fails | order not placed", "customer:k.ng", "ZD-4815", "created", TICKETS, 3),
    ("14:35:40", "tickets", "ticket", "warning", "ZD-4812 escalated to engineering: database errors suspected",
     "support:j.diaz", "ZD-4812", "escalated", TICKETS, 4),
    ("14:40:05", "slack#incident-db", "chat", "info", "investigating: db not responding to connection requests",
     "alice", None, "said", CHAT, 7),
    ("15:00:30", "slack#incident-db", "chat", "info",
     "root cause: the maintenance config change lowered max_connections to 50", "bob", None, "said", CHAT, 15),
    ("15:30:10", "slack#incident-db", "chat", "info", "rolling back postgresql.conf to the previous version", "bob", None, "said", CHAT, 21),
    ("15:30:40", "changes", "change", "notice", "rollback CHG-2291", "bob", "CHG-2291", "rolled_back", CHANGES, 3),
    ("15:45:02", "slack#incident-db", "chat", "info", "failing over traffic to the backup database db-replica-2",
     "alice", None, "said", CHAT, 30),
    ("16:00:15", "tickets", "ticket", "info", "ZD-4812 solved: service restored", "support:j.diaz", "ZD-4812", "resolved", TICKETS, 9),
    ("16:00:40", "slack#incident-db", "chat", "info", "resolved: all services back, primary online again", "alice", None, "said", CHAT, 41),
]

WINDOW = (local("13:50"), local("16:15"))
IMPACT = (local("14:22:41"), local("15:47:00"))


def _human_events() -> pl.DataFrame:
    rows = [
        {"ts": local(t), "source": src, "kind": kind, "level": lvl, "message": msg, "actor": actor, "ref": ref,
         "action": action, "file": f, "line": ln, "attrs": "{}"}
        for t, src, kind, lvl, msg, actor, ref, action, f, ln in HUMAN
    ]
    return conform(pl.DataFrame(rows, schema_overrides={"ts": pl.Datetime("us", "UTC")}, infer_schema_length=None))


def make_events(n_requests: int = 3_000, seed: int = 7) -> pl.DataFrame:
    """The outage's event table: app request logs, database errors, tickets, chat and changes.

    Parameters
    ----------
    n_requests
        How many application log lines to generate across the window (vectorised,
        so a million is fine).
    seed
        Random seed.
    """
    rng = np.random.default_rng(seed)
    start_us = int(WINDOW[0].timestamp() * 1e6)
    end_us = int(WINDOW[1].timestamp() * 1e6)
    ts = np.sort(rng.integers(start_us, end_us, n_requests))
    imp0, imp1 = (int(x.timestamp() * 1e6) for x in IMPACT)
    in_impact = (ts >= imp0) & (ts < imp1)
    failing = in_impact & (rng.random(n_requests) < 0.6)
    # The first line of the burst is exactly at impact start.
    if n_requests:
        first = int(np.searchsorted(ts, imp0))
        if first < n_requests:
            ts[first] = imp0
            failing[first] = True
    endpoint = np.array(ENDPOINTS)[rng.integers(0, len(ENDPOINTS), n_requests)]
    ms = rng.integers(3, 250, n_requests)
    app = pl.DataFrame(
        {
            "ts": pl.Series(ts).cast(pl.Datetime("us", "UTC")),
            "endpoint": endpoint,
            "ms": ms,
            "failing": failing,
        }
    ).with_columns(
        source=pl.lit("app"),
        kind=pl.lit("log"),
        host=pl.lit("web-1"),
        service=pl.when(pl.col("endpoint") == "/api/orders").then(pl.lit("orders")).otherwise(pl.lit("web")),
        level=pl.when("failing").then(pl.lit("error")).otherwise(pl.lit("info")),
        message=pl.when("failing")
        .then(pl.format("GET {} 500: psycopg2.OperationalError: could not connect to server: Connection refused", "endpoint"))
        .otherwise(pl.format("GET {} 200 {}ms", "endpoint", "ms")),
        file=pl.lit(APP_LOG),
        line=pl.int_range(1, pl.len() + 1).cast(pl.UInt32),
        attrs=pl.lit("{}"),
    )
    n_db = max(10, n_requests // 20)
    dts = np.sort(rng.integers(imp0, imp1, n_db))
    db = pl.DataFrame({"ts": pl.Series(dts).cast(pl.Datetime("us", "UTC"))}).with_columns(
        source=pl.lit("postgres-primary"),
        kind=pl.lit("db"),
        host=pl.lit("db-1"),
        level=pl.lit("critical"),
        message=pl.lit("FATAL:  sorry, too many clients already"),
        file=pl.lit(DB_LOG),
        line=(pl.int_range(0, pl.len()) + 4200).cast(pl.UInt32),
        attrs=pl.lit("{}"),
    )
    return sort_events(pl.concat([conform(app), conform(db), _human_events()], how="vertical"))


def make_rates(events: pl.DataFrame, every: str = "1m") -> pl.DataFrame:
    """Per-bucket counts: ``bucket`` (UTC), ``source``, ``level``, ``n``."""
    return (
        events.lazy()
        .with_columns(bucket=pl.col("ts").dt.truncate(every), level=pl.col("level").cast(pl.String))
        .group_by("bucket", "source", "level")
        .agg(n=pl.len().cast(pl.UInt32))
        .sort("bucket", "source", "level")
        .collect()
    )


def make_templates() -> pl.DataFrame:
    """Per-template summary as reconstruct fills ``incident.templates``."""
    return pl.DataFrame(
        {
            "template_id": [1, 2, 3, 4],
            "template": [
                "GET <*> 200 <NUM>ms",
                "GET <*> 500: psycopg2.OperationalError: could not connect to server: Connection refused",
                "FATAL: sorry, too many clients already",
                "database system is ready to accept connections",
            ],
            "first_seen": [WINDOW[0], IMPACT[0], local("14:22:44"), local("14:12:03")],
            "count": [1800, 1100, 150, 1],
            "bursting": [False, True, True, False],
            "new": [False, True, True, False],
        },
        schema_overrides={"first_seen": pl.Datetime("us", "UTC")},
    )


def _ev(t: str, source: str, file: str, line: int, message: str, kind: str = "log", level: str = "info", actor: str | None = None) -> Evidence:
    return Evidence(at=local(t), source=source, file=file, line=line, message=message, kind=kind, level=level, actor=actor)


def make_incident(n_requests: int = 3_000, *, seed: int = 7, with_tables: bool = True) -> Incident:
    """A reconstructed outage with every milestone, two attempts (one failed), a silent period and a signal.

    Parameters
    ----------
    n_requests
        Application log lines in the event table.
    seed
        Random seed for the generated log lines.
    with_tables
        Fill ``events``, ``rates`` and ``templates`` (set False to test a bare incident).
    """
    h = {row[0]: row for row in HUMAN}

    def hev(t: str) -> Evidence:
        _, src, kind, lvl, msg, actor, _ref, _action, f, ln = h[t]
        return _ev(t, src, f, ln, msg, kind, lvl, actor)

    err_msg = "GET /api/account 500: psycopg2.OperationalError: could not connect to server: Connection refused"
    ms: dict[str, Milestone | None] = {
        "trigger": Milestone("trigger", local("14:12:03"), "high", "db restart before the error burst", (hev("14:12:03"), hev("14:05:00"))),
        "impact_start": Milestone("impact_start", IMPACT[0], "high", "first event of the error burst",
                                  (_ev("14:22:41", "app", APP_LOG, 1012, err_msg, level="error"),)),
        "detected": Milestone("detected", local("14:30:12"), "high", "first customer ticket", (hev("14:30:12"),), by="customer"),
        "escalated": Milestone("escalated", local("14:35:40"), "high", "ticket escalated", (hev("14:35:40"),)),
        "acknowledged": Milestone("acknowledged", local("14:40:05"), "high", "text rule: investigating", (hev("14:40:05"),)),
        "identified": Milestone("identified", local("15:00:30"), "high", "text rule: root cause", (hev("15:00:30"),)),
        "mitigated": Milestone("mitigated", IMPACT[1], "medium", "error rate back near baseline for 10 min after failover",
                               (hev("15:45:02"),)),
        "resolved": Milestone("resolved", local("16:00:15"), "high", "ticket solved after sustained baseline", (hev("16:00:15"),)),
    }
    attempts = [
        Attempt(local("15:30:10"), "rollback", "rolling back postgresql.conf to the previous version", False,
                "text rule: rolling back", (hev("15:30:10"), hev("15:30:40")), 312.0, 298.0),
        Attempt(local("15:45:02"), "failover", "failing over traffic to the backup database db-replica-2", True,
                "text rule: failover", (hev("15:45:02"),), 305.0, 1.5),
    ]
    signal = MachineSignal(
        at=IMPACT[0],
        template="GET <*> 500: psycopg2.OperationalError: could not connect to server: Connection refused",
        source="app",
        lead_time_s=(local("14:30:12") - IMPACT[0]).total_seconds(),
        evidence=(_ev("14:22:41", "app", APP_LOG, 1012, err_msg, level="error"),),
    )
    entries: list[Entry] = []
    for name, m in ms.items():
        assert m is not None
        e = m.evidence[0]
        text = e.message if name != "mitigated" else "error rate back near baseline"
        entries.append(Entry(m.at, text, milestone=name, kind="milestone", source=e.source, file=e.file, line=e.line))
    for a in attempts:
        e = a.evidence[0]
        entries.append(Entry(a.at, a.text, kind="attempt", source=e.source, file=e.file, line=e.line, failed=a.effective is False))
    for t in ("14:05:00", "14:33:50"):
        e = hev(t)
        entries.append(Entry(e.at, e.message, kind=e.kind, source=e.source, file=e.file, line=e.line))
    entries.sort(key=lambda x: x.at)
    inc = Incident(
        title="Outage due to database connection issues",
        timezone=TZ,
        window=WINDOW,
        milestones=ms,
        attempts=attempts,
        signal=signal,
        entries=entries,
        silent_periods=[(local("15:00:30"), local("15:30:10"))],
        ingest=[
            {"file": APP_LOG, "format": "python_logging", "lines": n_requests + 12, "events": n_requests, "continuation_lines": 12, "rejected": 0},
            {"file": DB_LOG, "format": "postgres_stderr", "lines": 4400, "events": 4350, "continuation_lines": 50, "rejected": 0},
            {"file": TICKETS, "format": "zendesk_csv", "lines": 10, "events": 5, "continuation_lines": 0, "rejected": 1},
            {"file": CHAT, "format": "slack_jsonl", "lines": 41, "events": 41, "continuation_lines": 0, "rejected": 0},
            {"file": CHANGES, "format": "changes_csv", "lines": 4, "events": 3, "continuation_lines": 0, "rejected": 0},
        ],
        extra={"severity": "SEV-1", "service": "web"},
    )
    if with_tables:
        inc.events = make_events(n_requests, seed)
        inc.rates = make_rates(inc.events)
        inc.templates = make_templates()
    return inc


def hostile_entry(at: dt.datetime | None = None) -> Entry:
    """A log line that tries to break out of a table cell and run a script."""
    return Entry(
        at or local("14:50:00"),
        "user said <script>alert(1)</script> | piped\nsecond line of a traceback",
        kind="log",
        source="app",
        file=APP_LOG,
        line=1500,
    )


def event_row(**overrides: Any) -> dict[str, Any]:
    """One event as a dict with the schema's columns (for building small tables)."""
    row: dict[str, Any] = {k: None for k in EVENT_SCHEMA}
    row.update(ts=local("14:50:00"), source="app", kind="log", level="error", message="boom", file=APP_LOG, line=1, attrs=json.dumps({}))
    row.update(overrides)
    return row
