"""Each finder on small hand-built tables: a minute of traffic, a burst, and the records that matter."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from timeline.reconstruct import _finders as fd
from timeline.reconstruct import _signals as sg
from timeline.reconstruct._rules import load_rules
from timeline.reduce import choose_bucket
from timeline.testing import event, events_table

T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
S = dt.timedelta(seconds=1)


def _traffic(until: float, *, fail_from: float, fail_to: float, every: float = 0.5) -> list[dict]:
    """Requests every half second; failing with a connection error between fail_from and fail_to."""
    rows, t = [], 0.0
    while t < until:
        if fail_from <= t < fail_to:
            rows.append(event(T0 + t * S, f"GET /orders/{int(t * 7) % 97} 500: connection to db-main refused (req {int(t * 10)})",
                              level="error", source="web"))
        else:
            rows.append(event(T0 + t * S, f"GET /orders/{int(t * 7) % 97} 200 in 12ms", source="web"))
        t += every
    return rows


def _chat(at: float, text: str, who: str = "kim", **attrs) -> dict:
    return event(T0 + at * S, text, kind="chat", action="said", actor=who, source="slack#ops",
                 attrs=json.dumps({"ts": f"{(T0 + at * S).timestamp():.6f}", **attrs}))


def _context(rows: list[dict]) -> fd.Context:
    df = events_table(rows)
    errors = sg.with_templates(sg.machine_errors(df))
    span = (df["ts"].min(), df["ts"].max())
    every, bucket_s = choose_bucket(*span)
    burst = sg.find_bursts(sg.excess_rate(errors, every, span), bucket_s)[0]
    return fd.build_context(df, errors, burst, load_rules(), sg.Settings())


def _run(rows: list[dict]) -> fd.Context:
    ctx = _context(rows)
    with fd.display_zone("UTC"):
        fd.run(ctx)
    return ctx


# --- impact and recovery -------------------------------------------------------------------------


def test_impact_and_mitigation_are_the_first_and_last_failures():
    ctx = _run(_traffic(900, fail_from=300, fail_to=500))
    assert ctx.found["impact_start"].at == T0 + 300 * S
    assert ctx.found["mitigated"].at == T0 + 499.5 * S
    assert ctx.found["mitigated"].confidence == "medium"


def test_recovery_seen_until_evidence_ends_is_low_confidence():
    """Evidence cut 20 s after the last failure: recovery is found, and says it was seen only so long."""
    ctx = _run(_traffic(520, fail_from=300, fail_to=500))
    m = ctx.found["mitigated"]
    assert m.at == T0 + 499.5 * S and m.confidence == "low"
    assert "until the evidence ends" in m.rule


def test_a_pause_shorter_than_the_burst_is_not_recovery():
    rows = [r for r in _traffic(900, fail_from=300, fail_to=600) if not (T0 + 400 * S <= r["ts"] < T0 + 404 * S)]
    ctx = _run(rows)
    assert ctx.found["mitigated"].at == T0 + 599.5 * S


# --- trigger -------------------------------------------------------------------------------------


def test_the_database_record_right_before_impact_beats_an_earlier_change_log_row():
    rows = _traffic(900, fail_from=300, fail_to=500)
    rows += [
        event(T0 + 60 * S, "CHG-7 step 1: raise log level on db-main", kind="change", action="changed", source="changes", attrs='{"target": "db-main"}'),
        event(T0 + 299.9 * S, "received SIGHUP, reloading configuration files", kind="db", action="config_reload", source="db-main"),
        event(T0 + 299.95 * S, 'connection refused: pg_hba.conf rejects connection for host "10.0.0.5"', kind="db", level="error", source="db-main"),
    ]
    ctx = _run(rows)
    trig = ctx.found["trigger"]
    assert trig.at == T0 + 299.9 * S, trig.rule
    assert "normal operation went on" in trig.rule  # the change-log row was passed over, and why


def test_a_restart_before_impact_is_the_trigger_not_an_attempt():
    rows = _traffic(900, fail_from=300.5, fail_to=500)
    rows += [
        event(T0 + 299.0 * S, "received fast shutdown request", kind="db", action="shutdown", source="db-main"),
        event(T0 + 299.4 * S, "database system is shut down", kind="db", action="shutdown", source="db-main"),
        event(T0 + 300.2 * S, "database system is ready to accept connections", kind="db", action="startup", source="db-main"),
        event(T0 + 300.6 * S, "sorry, too many clients already", kind="db", level="error", source="db-main"),
    ]
    ctx = _run(rows)
    assert ctx.found["trigger"].at == T0 + 299.0 * S
    assert all(a.action != "restart" for a in ctx.attempts), ctx.attempts


def test_no_change_at_all_says_so():
    ctx = _run(_traffic(900, fail_from=300, fail_to=500))
    assert ctx.found["trigger"] is None
    assert "no change" in ctx.missing["trigger"]


# --- people --------------------------------------------------------------------------------------


def test_a_question_reporting_the_symptom_is_detection_by_staff():
    rows = _traffic(900, fail_from=300, fail_to=500) + [
        _chat(200, "anyone else seeing 500s from web?"),  # before impact: not detection
        _chat(320, "deploybot: web v2 deployed", who="deploybot", subtype="bot_message"),
        _chat(330, "anyone else seeing 500s from web?", who="sam"),
    ]
    ctx = _run(rows)
    det = ctx.found["detected"]
    assert det.at == T0 + 330 * S and det.by == "staff"


def test_a_hypothetical_is_not_detection_and_an_unrelated_ticket_is_not_a_customer():
    rows = _traffic(900, fail_from=300, fail_to=500) + [
        _chat(320, "if checkout fails again we should page someone"),
        event(T0 + 325 * S, "How do I reset my password?", kind="ticket", action="created", source="tickets", ref="1"),
        event(T0 + 360 * S, "Orders page shows an error", kind="ticket", action="created", source="tickets", ref="2"),
    ]
    det = _run(rows).found["detected"]
    assert det.at == T0 + 360 * S and det.by == "customer"


def test_escalation_acknowledgement_and_identification_by_structure():
    esc_ts = f"{(T0 + 340 * S).timestamp():.6f}"
    rows = _traffic(900, fail_from=300, fail_to=500) + [
        _chat(330, "checkout is down for me"),
        _chat(335, "should we escalate this to the db folks?", who="pm"),
        _chat(340, "escalating to DB on-call, paging @sam", who="kim"),
        _chat(352, "here", who="sam", thread_ts=esc_ts),  # a reply in the escalation's thread
        _chat(380, "root cause was an expired cert on staging", who="lee"),  # names nothing the evidence shows
        _chat(400, "got it: db-main refuses every connection since the reload", who="sam"),
        _chat(520, "not resolved yet?", who="pm"),
        _chat(530, "error rate is back to normal", who="kim"),
        _chat(560, "all clear, closing the incident", who="kim"),
    ]
    ctx = _run(rows)
    f = ctx.found
    assert f["escalated"].at == T0 + 340 * S
    assert f["acknowledged"].at == T0 + 352 * S and "thread" in f["acknowledged"].rule
    assert f["identified"].at == T0 + 400 * S and "db-main" in f["identified"].rule
    assert f["resolved"].at == T0 + 560 * S  # the declaration, not the observation before it


def test_a_ticket_escalation_counts_only_for_the_incidents_tickets():
    rows = _traffic(900, fail_from=300, fail_to=500) + [
        event(T0 + 310 * S, "Orders page shows an error", kind="ticket", action="created", source="tickets", ref="2"),
        event(T0 + 320 * S, "group Support -> Billing", kind="ticket", action="escalated", source="tickets", ref="9"),
        event(T0 + 330 * S, "group Support -> Engineering", kind="ticket", action="escalated", source="tickets", ref="2"),
    ]
    assert _run(rows).found["escalated"].at == T0 + 330 * S


# --- attempts ------------------------------------------------------------------------------------


def test_the_attempt_after_which_errors_stopped_is_the_effective_one():
    rows = _traffic(900, fail_from=300, fail_to=500) + [
        _chat(420, "rolling back the config change on db-main"),
        event(T0 + 421 * S, "received SIGHUP, reloading configuration files", kind="db", action="config_reload", source="db-main"),
        _chat(499.8, "failing over to db-replica now"),
        _chat(450, "should we fail over?"),
    ]
    ctx = _run(rows)
    got = [(a.action, a.effective) for a in ctx.attempts]
    assert got == [("rollback", False), ("failover", True)], [a.rule for a in ctx.attempts]
    assert ctx.attempts[0].at == T0 + 421 * S  # dated by its strongest record, the database's own line


def test_a_restart_that_names_nothing_is_still_the_closest_change_with_low_confidence():
    """A listener that stops after a restart: only the application fails, and nothing names the
    database's log; the restart right before impact is the trigger, said to be weak."""
    rows = _traffic(900, fail_from=300.3, fail_to=500)
    rows += [
        event(T0 + 100 * S, "deploy search v7", kind="change", action="deployed", source="changes", attrs='{"target": "search"}'),
        event(T0 + 299.8 * S, "received fast shutdown request", kind="db", action="shutdown", source="pg-main"),
        event(T0 + 300.1 * S, "database system is ready to accept connections", kind="db", action="startup", source="pg-main"),
    ]
    trig = _run(rows).found["trigger"]
    assert trig.at == T0 + 299.8 * S
    assert trig.confidence == "low" and "closest change" in trig.rule
