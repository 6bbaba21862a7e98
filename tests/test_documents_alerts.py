"""Alerts, on-call and change events: Alertmanager, PagerDuty, Opsgenie, change logs, GitHub deployments."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from timeline.sources import read_file

UTC = dt.UTC


def _events(frame: pl.DataFrame) -> list[tuple[str, str, str | None]]:
    return [(r["ts"].isoformat(), r["action"], r["ref"]) for r in frame.sort("ts", maintain_order=True).iter_rows(named=True)]


def _am_alert(status, starts, ends, fp="5c1b2f7a9e0d3b44"):
    return {
        "status": status,
        "labels": {"alertname": "PostgresTooManyConnections", "severity": "critical", "instance": "db-primary:9187", "job": "postgres"},
        "annotations": {"summary": "connections at max_connections on db-primary"},
        "startsAt": starts,
        "endsAt": ends,
        "generatorURL": "http://prometheus:9090/graph?g0.expr=pg_stat_activity_count",
        "fingerprint": fp,
    }


def _am_payload(status, alerts):
    return {
        "version": "4",
        "groupKey": '{}:{alertname="PostgresTooManyConnections"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "oncall-pager",
        "groupLabels": {"alertname": "PostgresTooManyConnections"},
        "commonLabels": {"alertname": "PostgresTooManyConnections"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }


def test_alertmanager_firing_then_resolved_payloads(tmp_path):
    """A firing payload (zero endsAt), its repeat, and the resolved payload give one fired and one resolved event."""
    starts = "2024-08-12T14:16:10.118812345-07:00"
    lines = [
        _am_payload("firing", [_am_alert("firing", starts, "0001-01-01T00:00:00Z")]),
        _am_payload("firing", [_am_alert("firing", starts, "0001-01-01T00:00:00Z")]),
        _am_payload("resolved", [_am_alert("resolved", starts, "2024-08-12T15:47:40.5-07:00")]),
    ]
    path = tmp_path / "webhook-receiver.log"
    path.write_text("\n".join(json.dumps(p) for p in lines) + "\n")
    events, account = read_file(path)
    assert account.format == "alertmanager" and account.rejected == 0
    assert _events(events) == [
        ("2024-08-12T21:16:10.118812+00:00", "fired", "5c1b2f7a9e0d3b44"),
        ("2024-08-12T22:47:40.500000+00:00", "resolved", "5c1b2f7a9e0d3b44"),
    ]
    fired = events.row(0, named=True)
    assert fired["level"] == "critical" and fired["host"] == "db-primary:9187"
    assert "connections at max_connections" in fired["message"]
    assert account.records == 3
    assert any("merged" in w for w in account.warnings)


PD_LOG_ENTRIES = {
    "log_entries": [
        {"id": "R1", "type": "trigger_log_entry", "summary": "Triggered through the API.", "created_at": "2024-08-12T21:16:10Z", "agent": {"id": "P1", "type": "generic_events_api_inbound_integration_reference", "summary": "Prometheus"}, "channel": {"type": "api", "summary": "PostgresTooManyConnections"}, "service": {"id": "S1", "type": "service_reference", "summary": "checkout-db"}, "incident": {"id": "PT4KHLK", "type": "incident_reference", "summary": "[#1234] PostgresTooManyConnections"}, "event_details": {"description": "PostgresTooManyConnections"}},
        {"id": "R2", "type": "notify_log_entry", "summary": "Notified Dana Ortiz by SMS.", "created_at": "2024-08-12T21:16:12Z", "agent": {"type": "user_reference", "summary": "Dana Ortiz"}, "channel": {"type": "sms"}, "service": {"summary": "checkout-db"}, "incident": {"id": "PT4KHLK", "summary": "[#1234] PostgresTooManyConnections"}},
        {"id": "R3", "type": "acknowledge_log_entry", "summary": "Acknowledged by Dana Ortiz.", "created_at": "2024-08-12T21:20:00Z", "agent": {"type": "user_reference", "summary": "Dana Ortiz"}, "channel": {"type": "mobile"}, "service": {"summary": "checkout-db"}, "incident": {"id": "PT4KHLK", "summary": "[#1234] PostgresTooManyConnections"}, "acknowledgement_timeout": 1800},
        {"id": "R4", "type": "escalate_log_entry", "summary": "Escalated to Level 2.", "created_at": "2024-08-12T21:35:00Z", "agent": {"type": "user_reference", "summary": "Dana Ortiz"}, "channel": {"type": "website"}, "service": {"summary": "checkout-db"}, "incident": {"id": "PT4KHLK", "summary": "[#1234] PostgresTooManyConnections"}, "assignees": [{"type": "user_reference", "summary": "Priya Raman"}]},
        {"id": "R5", "type": "annotate_log_entry", "summary": "Note added", "created_at": "2024-08-12T22:00:00Z", "agent": {"type": "user_reference", "summary": "Priya Raman"}, "channel": {"type": "note", "summary": "root cause: max_connections lowered in CHG-2231"}, "service": {"summary": "checkout-db"}, "incident": {"id": "PT4KHLK", "summary": "[#1234] PostgresTooManyConnections"}},
        {"id": "R6", "type": "resolve_log_entry", "summary": "Resolved by Priya Raman.", "created_at": "2024-08-12T23:00:30Z", "agent": {"type": "user_reference", "summary": "Priya Raman"}, "channel": {"type": "website"}, "service": {"summary": "checkout-db"}, "incident": {"id": "PT4KHLK", "summary": "[#1234] PostgresTooManyConnections"}},
    ],
    "limit": 100,
    "offset": 0,
    "more": False,
}


def test_pagerduty_log_entries(tmp_path):
    """Trigger, notify, acknowledge, escalate, annotate and resolve entries become alert lifecycle events."""
    path = tmp_path / "entries.json"
    path.write_text(json.dumps(PD_LOG_ENTRIES))
    events, account = read_file(path)
    assert account.format == "pagerduty" and account.rejected == 0
    assert [a for _, a, _ in _events(events)] == ["fired", "notified", "acknowledged", "escalated", "annotated", "resolved"]
    assert set(events["ref"].to_list()) == {"PT4KHLK"}
    assert events.filter(pl.col("action") == "acknowledged")["actor"].to_list() == ["Dana Ortiz"]
    assert events.filter(pl.col("action") == "annotated")["message"].to_list() == ["root cause: max_connections lowered in CHG-2231"]


def test_pagerduty_incidents_with_assignments_and_acks(tmp_path):
    """An incident gives fired, assigned, acknowledged and (when resolved) resolved."""
    doc = {"incidents": [{
        "id": "PT4KHLK", "type": "incident", "summary": "[#1234] DB down", "incident_number": 1234, "title": "DB down",
        "created_at": "2024-08-12T21:16:10Z", "updated_at": "2024-08-12T23:00:30Z", "status": "resolved", "urgency": "high",
        "last_status_change_at": "2024-08-12T23:00:30Z", "incident_key": "baf7cf21b1da41b4b0db2524ac79a3b8",
        "service": {"id": "S1", "type": "service_reference", "summary": "checkout-db"},
        "assignments": [{"at": "2024-08-12T21:16:11Z", "assignee": {"id": "U1", "type": "user_reference", "summary": "Dana Ortiz"}}],
        "acknowledgements": [{"at": "2024-08-12T21:20:00Z", "acknowledger": {"id": "U1", "type": "user_reference", "summary": "Dana Ortiz"}}],
    }], "limit": 25, "offset": 0, "more": False}
    path = tmp_path / "incidents.json"
    path.write_text(json.dumps(doc))
    events, account = read_file(path)
    assert [a for _, a, _ in _events(events)] == ["fired", "assigned", "acknowledged", "resolved"]
    assert events.filter(pl.col("action") == "fired")["level"].to_list() == ["critical"]


def test_pagerduty_webhook_v3_and_v2(tmp_path):
    """v3 deliveries use occurred_at and event_type; legacy v2 messages use created_on."""
    v3 = [
        {"event": {"id": "01", "event_type": "incident.triggered", "resource_type": "incident", "occurred_at": "2024-08-12T21:16:10.326Z", "agent": None, "client": None, "data": {"id": "PT4KHLK", "type": "incident", "number": 1234, "title": "DB down", "status": "triggered", "urgency": "high", "service": {"summary": "checkout-db"}}}},
        {"event": {"id": "02", "event_type": "incident.acknowledged", "resource_type": "incident", "occurred_at": "2024-08-12T21:20:00.000Z", "agent": {"id": "U1", "type": "user_reference", "summary": "Dana Ortiz"}, "data": {"id": "PT4KHLK", "type": "incident", "title": "DB down", "status": "acknowledged"}}},
        {"event": {"id": "03", "event_type": "incident.annotated", "resource_type": "incident", "occurred_at": "2024-08-12T22:00:00.000Z", "agent": {"summary": "Priya Raman"}, "data": {"incident": {"id": "PT4KHLK", "type": "incident_reference", "summary": "DB down"}, "id": "N1", "content": "failing over", "type": "incident_note"}}},
    ]
    path = tmp_path / "v3.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in v3) + "\n")
    events, account = read_file(path)
    assert account.rejected == 0
    assert _events(events) == [
        ("2024-08-12T21:16:10.326000+00:00", "fired", "PT4KHLK"),
        ("2024-08-12T21:20:00+00:00", "acknowledged", "PT4KHLK"),
        ("2024-08-12T22:00:00+00:00", "annotated", "PT4KHLK"),
    ]
    v2 = {"messages": [{"id": "m1", "event": "incident.resolve", "created_on": "2024-08-12T23:00:30+00:00", "incident": {"id": "PT4KHLK", "incident_number": 1234, "status": "resolved", "service": {"name": "checkout-db"}, "trigger_summary_data": {"subject": "DB down"}, "last_status_change_by": {"name": "Priya Raman"}}}]}
    path2 = tmp_path / "v2.json"
    path2.write_text(json.dumps(v2))
    events2, _ = read_file(path2)
    assert _events(events2) == [("2024-08-12T23:00:30+00:00", "resolved", "PT4KHLK")]


def test_pagerduty_events_v2_acknowledge_without_time_is_reported(tmp_path):
    """A trigger event is read; an acknowledge event (no timestamp in the API) is a reported rejection."""
    events_doc = [
        {"routing_key": "R0123", "event_action": "trigger", "dedup_key": "pg-conn-max", "payload": {"summary": "Too many connections", "source": "db-primary", "severity": "critical", "timestamp": "2024-08-12T21:16:10.118+0000", "component": "postgres", "group": "checkout"}},
        {"routing_key": "R0123", "event_action": "acknowledge", "dedup_key": "pg-conn-max"},
    ]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events_doc))
    events, account = read_file(path)
    assert _events(events) == [("2024-08-12T21:16:10.118000+00:00", "fired", "pg-conn-max")]
    assert account.records == 2 and account.rejected == 1
    assert "no timestamp" in account.rejected_lines[0].reason


def test_pagerduty_change_event_is_a_change(tmp_path):
    """A change event (no event_action) is kind change; a rollback summary is rolled_back."""
    doc = [
        {"routing_key": "R0123", "payload": {"summary": "Deploy web v3.14.1", "source": "ci", "timestamp": "2024-08-12T17:20:00.000-07:00", "custom_details": {"build_num": "4812", "user": "ci-bot"}}, "links": [{"href": "https://ci/4812", "text": "build"}]},
        {"routing_key": "R0123", "payload": {"summary": "Rolled back web to v3.14.0", "source": "ci", "timestamp": "2024-08-12T17:40:00.000-07:00", "custom_details": {"build_num": "4813"}}},
    ]
    path = tmp_path / "change.json"
    path.write_text(json.dumps(doc))
    events, _ = read_file(path)
    assert events["kind"].cast(pl.String).to_list() == ["change", "change"]
    assert [a for _, a, _ in _events(events)] == ["deployed", "rolled_back"]
    assert events["actor"].to_list()[0] == "ci-bot"


def test_opsgenie_webhook_ms_and_ns(tmp_path):
    """Create uses createdAt in ms; later actions use updatedAt in ns."""
    alert = {"alertId": "70413a06-38d6-4c85-92b8-5ebc900d42e2", "message": "Postgres too many connections", "tags": ["db"], "tinyId": "1791", "entity": "db-primary", "alias": "pg-conn-max", "createdAt": 1723497370118, "username": "Alertmanager", "userId": "", "priority": "P1"}
    deliveries = [
        {"action": "Create", "alert": {**alert, "updatedAt": 1723497370118000000}, "source": {"name": "", "type": "API"}, "integrationName": "Webhook"},
        {"action": "Acknowledge", "alert": {**alert, "updatedAt": 1723497600250000000, "username": "dana@example.com"}, "source": {"name": "iOS", "type": "mobile"}, "integrationName": "Webhook"},
        {"action": "Close", "alert": {**alert, "updatedAt": 1723503630412000000, "username": "priya@example.com"}, "source": {"name": "web", "type": "web"}, "integrationName": "Webhook"},
    ]
    path = tmp_path / "og.json"
    path.write_text(json.dumps(deliveries))
    events, account = read_file(path)
    assert account.format == "opsgenie" and account.rejected == 0
    assert _events(events) == [
        ("2024-08-12T21:16:10.118000+00:00", "fired", "pg-conn-max"),
        ("2024-08-12T21:20:00.250000+00:00", "acknowledged", "pg-conn-max"),
        ("2024-08-12T23:00:30.412000+00:00", "resolved", "pg-conn-max"),
    ]


def test_opsgenie_rest_report_durations_are_not_times(tmp_path):
    """report.ackTime / closeTime are milliseconds after createdAt, not epoch times."""
    doc = {"data": [{"id": "70413a06", "tinyId": "1791", "alias": "pg-conn-max", "message": "Postgres too many connections", "status": "closed", "acknowledged": True, "isSeen": True, "tags": [], "snoozed": False, "count": 3, "lastOccurredAt": "2024-08-12T21:30:00.000Z", "createdAt": "2024-08-12T21:16:10.118Z", "updatedAt": "2024-08-12T23:00:30.412Z", "source": "Alertmanager", "owner": "dana@example.com", "priority": "P1", "report": {"ackTime": 230132, "closeTime": 6260294, "acknowledgedBy": "dana@example.com", "closedBy": "priya@example.com"}}], "took": 0.05, "requestId": "x"}
    path = tmp_path / "alerts.json"
    path.write_text(json.dumps(doc))
    events, _ = read_file(path)
    assert _events(events) == [
        ("2024-08-12T21:16:10.118000+00:00", "fired", "pg-conn-max"),
        ("2024-08-12T21:20:00.250000+00:00", "acknowledged", "pg-conn-max"),
        ("2024-08-12T23:00:30.412000+00:00", "resolved", "pg-conn-max"),
    ]


CHANGES = """time,who,what,target
2024-08-12T14:05:00-07:00,tom.becker,"Deploy frontend v2024.08.12.2 (commit a41c9e2): static assets, checkout copy",frontend
2024-08-12T14:12:00-07:00,dmitri.kovalenko,"Maintenance window CHG-2231: postgresql.conf tuning (max_connections 400->40) and PostgreSQL restart",db-primary
2024-08-12T15:30:00-07:00,dmitri.kovalenko,Roll back CHG-2231: restore previous postgresql.conf and reload,db-primary
2024-08-12T15:45:00-07:00,dmitri.kovalenko,Fail over: promote db-backup to primary,db-backup
"""


def test_change_log_actions_refs_and_targets(tmp_path):
    """A time,who,what,target log gives deployed, config_change, rolled_back and failover with refs from the text."""
    path = tmp_path / "changes.csv"
    path.write_text(CHANGES)
    events, account = read_file(path)
    assert account.format == "changes" and account.rejected == 0
    assert _events(events) == [
        ("2024-08-12T21:05:00+00:00", "deployed", "a41c9e2"),
        ("2024-08-12T21:12:00+00:00", "config_change", "CHG-2231"),
        ("2024-08-12T22:30:00+00:00", "rolled_back", "CHG-2231"),
        ("2024-08-12T22:45:00+00:00", "failover", None),
    ]
    assert events["actor"].to_list()[1] == "dmitri.kovalenko"
    assert events["service"].to_list()[1] == "db-primary"


def test_change_log_variant_header_and_naive_times(tmp_path):
    """Close header variants (timestamp,user,action,service) and naive times in the given zone."""
    path = tmp_path / "ops.csv"
    path.write_text("timestamp,user,description,service\n2024-08-12 14:12,dmitri,restart postgres,db-primary\n")
    events, account = read_file(path, tz="America/Los_Angeles")
    assert account.format == "changes"
    assert _events(events) == [("2024-08-12T21:12:00+00:00", "restarted", None)]


def test_github_deployment_status_webhook(tmp_path):
    """deployment_status deliveries: success is deployed, a rollback task rolled_back, failure deploy_failed."""
    def delivery(sid, state, at, task="deploy", desc=""):
        return {
            "action": "created",
            "deployment_status": {"id": sid, "state": state, "environment": "production", "description": desc, "target_url": "https://ci/x", "created_at": at, "creator": {"login": "deploy-bot"}},
            "deployment": {"id": 1001, "sha": "a41c9e2b7c", "ref": "main", "task": task, "environment": "production", "created_at": "2024-08-12T21:04:30Z", "creator": {"login": "tom"}},
            "repository": {"full_name": "shop/frontend"},
            "sender": {"login": "deploy-bot"},
        }

    path = tmp_path / "gh.json"
    path.write_text(json.dumps([delivery(1, "in_progress", "2024-08-12T21:04:40Z"), delivery(2, "success", "2024-08-12T21:05:00Z"), delivery(3, "failure", "2024-08-12T21:50:00Z"), delivery(4, "success", "2024-08-12T22:00:00Z", task="deploy:rollback")]))
    events, account = read_file(path)
    assert account.format == "changes" and account.rejected == 0
    assert [a for _, a, _ in _events(events)] == ["deploying", "deployed", "deploy_failed", "rolled_back"]
    assert set(events["ref"].to_list()) == {"1001"}
    assert set(events["kind"].cast(pl.String).to_list()) == {"change"}
