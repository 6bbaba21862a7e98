"""Timesketch JSONL export of an incident's timeline entries and evidence."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from _incident_factory import make_incident

from timeline.reconstruct._model import MILESTONES
from timeline.report import to_timesketch


@pytest.fixture(name="incident")
def fixture_incident():
    """The hand-built outage, without its big tables (the export needs none)."""
    return make_incident(with_tables=False)


def read(path):
    """Every line of a JSONL file as a dict."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_record_has_the_required_fields(incident, tmp_path):
    """Each line is one JSON object with message, datetime (ISO 8601 with offset) and timestamp_desc."""
    out = tmp_path / "inc.jsonl"
    n = to_timesketch(incident, out)
    recs = read(out)
    assert n == len(recs) > 0
    for r in recs:
        assert r["message"] and r["timestamp_desc"]
        when = dt.datetime.fromisoformat(r["datetime"])
        assert when.utcoffset() == dt.timedelta(0)
        assert r["timestamp"] == int(when.timestamp() * 1_000_000)


def test_each_milestone_is_one_entry(incident, tmp_path):
    """Every milestone found is exported once as an incident milestone."""
    out = tmp_path / "inc.jsonl"
    to_timesketch(incident, out)
    ms = [r["milestone"] for r in read(out) if r["timestamp_desc"] == "Incident milestone"]
    assert sorted(ms) == sorted(MILESTONES)


def test_attempts_say_whether_they_worked(incident, tmp_path):
    """Mitigation attempts carry effective true or false."""
    out = tmp_path / "inc.jsonl"
    to_timesketch(incident, out)
    att = {r["action"]: r["effective"] for r in read(out) if r["timestamp_desc"] == "Mitigation attempt"}
    assert att == {"rollback": False, "failover": True}


def test_evidence_events_are_exported_once_with_what_they_support(incident, tmp_path):
    """An evidence event cited by several statements is one record listing them all."""
    out = tmp_path / "inc.jsonl"
    to_timesketch(incident, out)
    ev = [r for r in read(out) if r["data_type"] == "timeline:incident:evidence"]
    keys = [(r["file"], r["line"], r["datetime"]) for r in ev]
    assert len(keys) == len(set(keys))
    failover = next(r for r in ev if "failing over" in r["message"])
    assert set(failover["supports"].split(",")) == {"mitigated", "attempt:failover"}
    assert failover["file"] == "chat/slack-incident-db.jsonl" and failover["line"] == 30


def test_records_are_in_time_order(incident, tmp_path):
    """Records are sorted by timestamp, so the file reads as a timeline."""
    out = tmp_path / "inc.jsonl"
    to_timesketch(incident, out)
    stamps = [r["timestamp"] for r in read(out)]
    assert stamps == sorted(stamps)


def test_override_is_exported_at_the_corrected_time(incident, tmp_path):
    """A milestone set by a person is exported at its new time and flagged as overridden."""
    incident.set("detected", "2024-08-12T14:26:00", note="seen on the dashboard")
    out = tmp_path / "inc.jsonl"
    to_timesketch(incident, out)
    det = next(r for r in read(out) if r.get("milestone") == "detected" and r["timestamp_desc"] == "Incident milestone")
    assert det["datetime"] == "2024-08-12T21:26:00+00:00"
    assert det["overridden"] is True and det["note"] == "seen on the dashboard"


def test_unicode_and_markup_are_kept_verbatim(incident, tmp_path):
    """Text is written as it was read (Timesketch escapes on display), in UTF-8."""
    from timeline.reconstruct._model import Entry

    incident.entries.append(Entry(incident.window[0], "Größe <b>x</b> | 🚀", kind="chat", source="slack"))
    out = tmp_path / "inc.jsonl"
    to_timesketch(incident, out)
    assert any(r["message"] == "Größe <b>x</b> | 🚀" for r in read(out))
