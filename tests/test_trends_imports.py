"""Imports from incident tools: Statuspage, PagerDuty and a CSV with a column mapping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from timeline._errors import InputError
from timeline.trends import load_incidents, trends
from timeline.trends._store import recognise

PAGE = {
    "id": "kctbh9vrtdwd",
    "name": "GitHub",
    "url": "https://www.githubstatus.com",
    "time_zone": "Etc/UTC",
    "updated_at": "2024-08-15T01:02:03.456Z",
}


def _update(uid: str, status: str, at: str, body: str, components: list[str]) -> dict[str, Any]:
    return {
        "id": uid,
        "status": status,
        "body": body,
        "incident_id": "inc",
        "created_at": at,
        "updated_at": at,
        "display_at": at,
        "affected_components": [
            {"code": f"c-{c}", "name": c, "old_status": "degraded_performance", "new_status": "operational"}
            for c in components
        ],
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def _component(name: str, pos: int) -> dict[str, Any]:
    return {
        "id": f"c-{name}",
        "name": name,
        "status": "operational",
        "created_at": "2017-01-31T20:05:05.370Z",
        "updated_at": "2024-08-14T23:20:11.120Z",
        "position": pos,
        "description": f"{name} service",
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": PAGE["id"],
        "group": False,
        "only_show_if_degraded": False,
    }


# Shaped as GET /api/v2/incidents.json returns it: page, then incidents newest first,
# each with updates newest first, offsets in milliseconds and Z.
STATUSPAGE: dict[str, Any] = {
    "page": PAGE,
    "incidents": [
        {
            "id": "x7b9k2m4p1qz",
            "name": "Incident with Actions and Pages",
            "status": "resolved",
            "created_at": "2024-08-14T22:59:27.396Z",
            "updated_at": "2024-08-14T23:51:02.114Z",
            "monitoring_at": "2024-08-14T23:31:40.925Z",
            "resolved_at": "2024-08-14T23:51:02.083Z",
            "impact": "major",
            "shortlink": "https://stspg.io/abcd1234",
            "started_at": "2024-08-14T22:59:27.389Z",
            "page_id": PAGE["id"],
            "incident_updates": [
                _update("u4", "resolved", "2024-08-14T23:51:02.083Z", "This incident has been resolved.", ["Actions", "Pages"]),
                _update("u3", "monitoring", "2024-08-14T23:31:40.925Z", "A fix has been applied.", ["Actions"]),
                _update("u2", "identified", "2024-08-14T23:12:05.000Z", "We found a misconfigured queue.", ["Actions"]),
                _update("u1", "investigating", "2024-08-14T22:59:27.574Z", "We are investigating reports of degraded performance.", []),
            ],
            "postmortem_body": None,
            "postmortem_published_at": None,
            "components": [_component("Actions", 6), _component("Pages", 9)],
            "reminder_intervals": None,
        },
        {
            "id": "r5t6y7u8i9o0",
            "name": "Disruption with some GitHub services",
            "status": "resolved",
            "created_at": "2024-08-12T14:45:10.001-07:00",
            "updated_at": "2024-08-12T15:20:00.000-07:00",
            "monitoring_at": None,
            "resolved_at": "2024-08-12T15:20:00.000-07:00",
            "impact": "minor",
            "shortlink": "https://stspg.io/efgh5678",
            "started_at": "2024-08-12T14:30:00.000-07:00",
            "page_id": PAGE["id"],
            "incident_updates": [
                _update("v2", "resolved", "2024-08-12T15:20:00.000-07:00", "Resolved.", []),
                _update("v1", "investigating", "2024-08-12T14:45:10.001-07:00", "Investigating.", []),
            ],
            "components": [],
            "reminder_intervals": None,
        },
        {
            "id": "m1a2i3n4t5e6",
            "name": "Scheduled database maintenance",
            "status": "resolved",
            "created_at": "2024-08-10T02:00:00.000Z",
            "monitoring_at": None,
            "resolved_at": "2024-08-10T03:00:00.000Z",
            "impact": "maintenance",
            "scheduled_for": "2024-08-10T02:00:00.000Z",
            "shortlink": "https://stspg.io/ijkl9012",
            "incident_updates": [],
            "components": [],
        },
    ],
}


@pytest.fixture(name="statuspage_file")
def fixture_statuspage_file(tmp_path: Path) -> Path:
    """A Statuspage incidents.json as the public API returns it."""
    path = tmp_path / "incidents.json"
    path.write_text(json.dumps(STATUSPAGE), encoding="utf-8")
    return path


def test_statuspage_recognised_by_content(statuspage_file: Path) -> None:
    """An incidents.json from Statuspage is recognised without source=."""
    assert recognise(statuspage_file) == "statuspage"


def test_statuspage_maps_timestamps(statuspage_file: Path) -> None:
    """created_at stands in for impact start; first identified update, monitoring_at and resolved_at map on."""
    t = load_incidents(statuspage_file).table
    row = t.filter(id="x7b9k2m4p1qz").row(0, named=True)
    assert row["impact_start_from"] == "statuspage.created_at"
    assert row["detected_from"] == "statuspage.created_at"
    assert row["time_to_detect_s"] is None  # both ends are the same stand-in
    assert row["identified"].isoformat() == "2024-08-14T23:12:05+00:00"
    assert row["time_to_mitigate_s"] == pytest.approx(32 * 60 + 13.529, abs=0.01)
    assert (row["severity"], row["service"]) == ("major", "Actions")
    assert "component:Pages" in row["tags"]


def test_statuspage_backdated_start_is_impact_start(statuspage_file: Path) -> None:
    """A started_at before created_at is the impact start, so time to detect is measured."""
    row = load_incidents(statuspage_file).table.filter(id="r5t6y7u8i9o0").row(0, named=True)
    assert row["impact_start_from"] == "statuspage.started_at"
    assert row["time_to_detect_s"] == pytest.approx(15 * 60 + 10.001)
    assert row["mitigated"] is None
    assert row["time_to_resolve_s"] == pytest.approx(50 * 60)


def test_statuspage_excludes_maintenance(statuspage_file: Path) -> None:
    """Scheduled maintenance is not an incident: left out and noted."""
    inc = load_incidents(statuspage_file)
    assert "m1a2i3n4t5e6" not in inc.table["id"].to_list()
    assert inc.notes.filter(kind="excluded")["incident_id"].to_list() == ["m1a2i3n4t5e6"]


def test_statuspage_report_says_stand_in(statuspage_file: Path) -> None:
    """The report says impact start was taken from created_at."""
    md = trends(load_incidents(statuspage_file)).to_markdown()
    assert "impact start taken from statuspage.created_at" in md


PAGERDUTY: dict[str, Any] = {
    "incidents": [
        {
            "id": "PT4KHLK",
            "type": "incident",
            "summary": "[#1234] Checkout error rate above 5%",
            "self": "https://api.pagerduty.com/incidents/PT4KHLK",
            "html_url": "https://acme.pagerduty.com/incidents/PT4KHLK",
            "incident_number": 1234,
            "title": "Checkout error rate above 5%",
            "created_at": "2024-08-12T21:31:00Z",
            "updated_at": "2024-08-12T23:00:00Z",
            "status": "resolved",
            "incident_key": "baf7cf21b1da41b4b0221008339ff357",
            "service": {"id": "PIJ90N7", "type": "service_reference", "summary": "checkout"},
            "assignments": [],
            "last_status_change_at": "2024-08-12T23:00:00Z",
            "first_trigger_log_entry": {"id": "Q02JTSNZWHSEKV", "type": "trigger_log_entry_reference"},
            "escalation_policy": {"id": "PT20YPA", "type": "escalation_policy_reference", "summary": "Checkout"},
            "teams": [{"id": "PQ9K7I8", "type": "team_reference", "summary": "Payments Eng"}],
            "priority": {"id": "P53ZZH5", "type": "priority_reference", "summary": "P2"},
            "urgency": "high",
        },
        {
            "id": "PX9QRST",
            "type": "incident",
            "incident_number": 1235,
            "title": "Search latency reported by support",
            "created_at": "2024-08-13T09:00:00Z",
            "status": "resolved",
            "service": {"id": "PSRCH01", "type": "service_reference", "summary": "search"},
            "urgency": "low",
            "log_entries": [
                {
                    "id": "R1",
                    "type": "trigger_log_entry",
                    "created_at": "2024-08-13T09:00:00Z",
                    "agent": {"id": "PUSER1", "type": "user_reference", "summary": "Support Desk"},
                    "channel": {"type": "web_trigger"},
                },
                {"id": "R2", "type": "resolve_log_entry", "created_at": "2024-08-13T10:30:00Z", "agent": {"type": "user_reference"}},
            ],
        },
    ],
    "log_entries": [
        {
            "id": "Q02JTSNZWHSEKV",
            "type": "trigger_log_entry",
            "summary": "Triggered through the API",
            "created_at": "2024-08-12T21:31:00Z",
            "agent": {"id": "PINT01", "type": "generic_events_api_inbound_integration_reference"},
            "channel": {"type": "api"},
            "incident": {"id": "PT4KHLK", "type": "incident_reference"},
        },
        {
            "id": "Q1NOTIFY",
            "type": "notify_log_entry",
            "created_at": "2024-08-12T21:31:05Z",
            "incident": {"id": "PT4KHLK", "type": "incident_reference"},
        },
        {
            "id": "Q2ESC",
            "type": "escalate_log_entry",
            "created_at": "2024-08-12T21:41:00Z",
            "incident": {"id": "PT4KHLK", "type": "incident_reference"},
        },
        {
            "id": "Q3ACK",
            "type": "acknowledge_log_entry",
            "created_at": "2024-08-12T21:43:30Z",
            "agent": {"id": "PUSER2", "type": "user_reference", "summary": "On-call Engineer"},
            "incident": {"id": "PT4KHLK", "type": "incident_reference"},
        },
        {
            "id": "Q4RES",
            "type": "resolve_log_entry",
            "created_at": "2024-08-12T23:00:00Z",
            "incident": {"id": "PT4KHLK", "type": "incident_reference"},
        },
    ],
}


@pytest.fixture(name="pagerduty_file")
def fixture_pagerduty_file(tmp_path: Path) -> Path:
    """A PagerDuty export: incidents plus log entries, some embedded per incident."""
    path = tmp_path / "pd-export.json"
    path.write_text(json.dumps(PAGERDUTY), encoding="utf-8")
    return path


def test_pagerduty_recognised_by_content(pagerduty_file: Path) -> None:
    """A PagerDuty export is recognised without source=."""
    assert recognise(pagerduty_file) == "pagerduty"


def test_pagerduty_log_entries_map_to_milestones(pagerduty_file: Path) -> None:
    """Trigger, escalate, acknowledge and resolve entries become milestones; priority is severity."""
    row = load_incidents(pagerduty_file).table.filter(id="PT4KHLK").row(0, named=True)
    assert row["detected_by"] == "alert"
    assert row["time_to_escalate_s"] == 600
    assert row["time_to_acknowledge_s"] == 750
    assert row["time_to_resolve_s"] == 89 * 60
    assert (row["severity"], row["service"]) == ("P2", "checkout")
    assert "team:Payments Eng" in row["tags"]


def test_pagerduty_user_trigger_is_staff(pagerduty_file: Path) -> None:
    """An incident a person triggered by hand counts as detected by staff; urgency stands in for severity."""
    inc = load_incidents(pagerduty_file)
    row = inc.table.filter(id="PX9QRST").row(0, named=True)
    assert (row["detected_by"], row["severity"]) == ("staff", "low")
    assert inc.notes.filter((inc.notes["incident_id"] == "PX9QRST") & (inc.notes["field"] == "severity")).height == 1


def test_pagerduty_reports_unfillable_mitigation(pagerduty_file: Path) -> None:
    """PagerDuty has no mitigation time: every incident is noted as missing it."""
    notes = load_incidents(pagerduty_file).notes.filter(field="mitigated", kind="missing")
    assert sorted(notes["incident_id"].to_list()) == ["PT4KHLK", "PX9QRST"]


CSV = """\
Ref,Component,Sev,Started,Detected At,Found By,Mitigated,Resolved,Labels
INC-1,checkout,SEV2,2024-08-12 14:30,2024-08-12 14:35,customer,2024-08-12 15:45,2024-08-12 16:00,db;config
INC-2,search,SEV3,2024-09-02 09:00,2024-09-02 09:02,alert,,2024-09-02 10:00,
INC-3,checkout,SEV1,"Aug 20, 2024 2:31 PM PDT","Aug 20, 2024 2:40 PM PDT",staff,"Aug 20, 2024 3:01 PM PDT",,
"""

MAPPING = {
    "id": "Ref",
    "service": "Component",
    "severity": "Sev",
    "impact_start": "Started",
    "detected": "Detected At",
    "detected_by": "Found By",
    "mitigated": "Mitigated",
    "resolved": "Resolved",
    "tags": "Labels",
}


@pytest.fixture(name="csv_file")
def fixture_csv_file(tmp_path: Path) -> Path:
    """A spreadsheet export: one row per incident, local times without offset, one human-written row."""
    path = tmp_path / "incidents.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_csv_with_mapping_and_zone(csv_file: Path) -> None:
    """Mapped columns fill our fields; naive times are read in the given zone."""
    t = load_incidents(csv_file, mapping=MAPPING, tz="America/Los_Angeles").table
    row = t.filter(id="INC-1").row(0, named=True)
    assert row["impact_start"].isoformat() == "2024-08-12T21:30:00+00:00"
    assert (row["time_to_detect_s"], row["time_to_mitigate_s"]) == (300, 75 * 60)
    assert (row["service"], row["severity"], row["detected_by"], row["tags"]) == ("checkout", "SEV2", "customer", ["db", "config"])


def test_csv_human_times_and_empty_ends(csv_file: Path) -> None:
    """Human-written times with a zone parse; an empty mitigation is missing and noted."""
    inc = load_incidents(csv_file, mapping=MAPPING, tz="America/Los_Angeles")
    row = inc.table.filter(id="INC-3").row(0, named=True)
    assert row["time_to_detect_s"] == 9 * 60
    assert inc.table.filter(id="INC-2")["time_to_mitigate_s"][0] is None
    assert "INC-2" in inc.notes.filter(field="mitigated", kind="missing")["incident_id"].to_list()


def test_csv_unknown_column_suggests_closest(csv_file: Path) -> None:
    """A mapping to a column the file lacks names the closest column."""
    with pytest.raises(InputError, match="closest match is 'Detected At'"):
        load_incidents(csv_file, mapping={"detected": "Detected_At"})


def test_mixed_inputs_load_into_one_table(statuspage_file: Path, pagerduty_file: Path) -> None:
    """Several inputs of different kinds land in one table, each row saying where it came from."""
    inc = load_incidents([statuspage_file, pagerduty_file])
    assert sorted(set(inc.table["source_kind"].to_list())) == ["pagerduty", "statuspage"]
    assert len(inc) == 4
