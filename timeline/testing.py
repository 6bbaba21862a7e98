"""Helpers for testing your own rules and pipelines: build event tables and incidents from a few facts.

>>> from timeline.testing import outage
>>> events, truth = outage()
>>> sorted(truth)[:3]
['acknowledged', 'attempts', 'detected']
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

import polars as pl

from timeline.schema import conform, sort_events


def event(ts: dt.datetime, message: str, *, kind: str = "log", level: str = "info", source: str = "app",
          actor: str | None = None, action: str | None = None, ref: str | None = None, host: str | None = None,
          service: str | None = None, attrs: str | None = None, file: str | None = None, line: int | None = None) -> dict[str, Any]:
    """One event row (a dict in the event schema)."""
    return {
        "ts": ts, "source": source, "kind": kind, "level": level, "host": host, "service": service,
        "message": message, "actor": actor, "ref": ref, "action": action, "attrs": attrs,
        "file": file or f"{source}.log", "line": line,
    }


def events_table(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """An event table from event dicts, sorted, with line numbers filled per file."""
    df = pl.DataFrame(list(rows), infer_schema_length=None)
    df = conform(df).sort("ts", maintain_order=True)
    df = df.with_columns(
        pl.when(pl.col("line").is_null()).then(pl.int_range(1, pl.len() + 1).over("file").cast(pl.UInt32)).otherwise(pl.col("line")).alias("line")
    )
    return sort_events(df)


def outage(
    *,
    start: dt.datetime = dt.datetime(2024, 8, 12, 19, 0, tzinfo=dt.UTC),
    hours: float = 6.0,
    trigger_after: dt.timedelta = dt.timedelta(hours=2, minutes=12),
    impact_delay: dt.timedelta = dt.timedelta(minutes=2, seconds=37),
    detect_delay: dt.timedelta = dt.timedelta(minutes=15),
    escalate_delay: dt.timedelta = dt.timedelta(minutes=5),
    ack_delay: dt.timedelta = dt.timedelta(minutes=10),
    identify_delay: dt.timedelta = dt.timedelta(minutes=30),
    failed_attempt_after: dt.timedelta | None = dt.timedelta(minutes=75),
    fix_after: dt.timedelta = dt.timedelta(minutes=90),
    resolve_delay: dt.timedelta = dt.timedelta(minutes=14),
    detected_by: str = "customer",
    error_rate_per_min: float = 30.0,
    background_errors_per_hour: float = 6.0,
    decoy_deploy_before: dt.timedelta | None = dt.timedelta(minutes=7),
    tail_after: dt.timedelta | None = None,
    seed: int = 0,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """A database outage as an event table, with its ground truth.

    Traffic logs all along, a steady background of unrelated errors, an
    unrelated deploy shortly before the real trigger (a config change on
    ``db-primary``), a burst of connection errors, a customer ticket or a staff
    chat report, escalation, acknowledgement, identification, an optional
    rollback that does not help, a failover that does, and a resolution message.

    ``tail_after`` ends the evidence that long after the last error (an export
    cut soon after the fix); by default it runs to ``start + hours``, or past
    the incident when that is later. Milestones that fall after the evidence
    ends are ``None`` in the truth.

    Returns
    -------
    (events, truth)
        ``truth`` maps milestone names to UTC datetimes, plus ``by`` and
        ``attempts`` (a list of ``(at, action, effective)``).
    """
    rng = random.Random(seed)
    trig = start + trigger_after
    impact = trig + impact_delay
    fix = impact + fix_after
    gap = 60.0 / error_rate_per_min
    errors_until = fix + dt.timedelta(seconds=min(40.0, 2 * gap))
    if tail_after is not None:
        end = errors_until + tail_after
    else:
        end = max(start + dt.timedelta(hours=hours), fix + fix_after + dt.timedelta(minutes=30))
    hours = (end - start).total_seconds() / 3600
    rows: list[dict[str, Any]] = []
    t = start
    while t < end:
        rows.append(event(t, f"GET /orders/{rng.randint(1, 9999)} 200 in {rng.randint(5, 80)}ms", source="web"))
        t += dt.timedelta(seconds=rng.uniform(2, 6))
    n_bg = int(background_errors_per_hour * hours)
    for _ in range(n_bg):
        ts = start + dt.timedelta(seconds=rng.uniform(0, hours * 3600))
        rows.append(event(ts, f"payment provider timeout after {rng.randint(10, 30)}s (order {rng.randint(1, 9999)})", level="error", source="web"))
    t = impact
    last_error = impact
    while t < errors_until:
        rows.append(event(t, f'connection to server at "db-primary" (10.0.3.5), port 5432 failed: FATAL:  sorry, too many clients already (req {rng.randint(1, 99999)})',
                          level="error", source="web"))
        last_error = t
        t += dt.timedelta(seconds=rng.expovariate(1 / gap))
    if decoy_deploy_before is not None:
        rows.append(event(trig - decoy_deploy_before, "Deploy frontend v2.14.0", kind="change", action="deployed", actor="ci-bot",
                          source="changes", attrs='{"target": "frontend"}'))
    rows.append(event(trig, "Maintenance CHG-2231: lower max_connections on db-primary", kind="change", action="config_change",
                      actor="dba", source="changes", attrs='{"target": "db-primary"}'))
    detected = impact + detect_delay
    if detected_by == "customer":
        rows.append(event(detected, "Orders page shows an error", kind="ticket", action="created", actor="customer-1", source="tickets", ref="1001"))
    else:
        rows.append(event(detected, "anyone else seeing errors on /orders?", kind="chat", action="said", actor="sam", source="slack#general"))
    rows.append(event(detected + escalate_delay, "escalating to engineering", kind="chat", action="said", actor="lee", source="slack#incident"))
    rows.append(event(detected + ack_delay, "investigating, db refuses connections", kind="chat", action="said", actor="dmitri", source="slack#incident"))
    rows.append(event(impact + identify_delay, "found it: the max_connections change on db-primary", kind="chat", action="said", actor="dmitri", source="slack#incident"))
    rows.append(event(impact + fix_after * 0.2, "should we roll back?", kind="chat", action="said", actor="lee", source="slack#incident"))
    attempts: list[tuple[dt.datetime, str, bool]] = []
    if failed_attempt_after is not None and failed_attempt_after < fix_after * 0.9:
        at = impact + failed_attempt_after
        rows.append(event(at, "Roll back CHG-2231 (reload only)", kind="change", action="rolled_back", actor="dba", source="changes",
                          attrs='{"target": "db-primary"}'))
        attempts.append((at, "rollback", False))
    rows.append(event(fix, "Fail over to db-backup", kind="change", action="failover", actor="dba", source="changes", attrs='{"target": "db-backup"}'))
    attempts.append((fix, "failover", True))
    resolved: dt.datetime | None = last_error + resolve_delay
    rows.append(event(resolved, "resolved, all green", kind="chat", action="said", actor="lee", source="slack#incident"))
    rows.append(event(resolved - dt.timedelta(minutes=3), "standup reminder: post your updates", kind="chat", action="said", actor="standup-bot", source="slack#general"))
    rows = [r for r in rows if r["ts"] <= end]
    if resolved > end:
        resolved = None
    truth = {
        "trigger": trig, "impact_start": impact, "detected": detected, "by": detected_by,
        "escalated": detected + escalate_delay, "acknowledged": detected + ack_delay, "identified": impact + identify_delay,
        "mitigated": last_error, "resolved": resolved, "attempts": attempts,
    }
    return events_table(rows), truth
