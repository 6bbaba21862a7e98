"""Exports are recognised by what they hold, whatever they are called; a user can force the reader."""

from __future__ import annotations

import json

import polars as pl
import pytest

from timeline.sources import read, read_file
from timeline.sources._spec import load_specs
from timeline.sources.documents import DocumentOptions, readers

DOCUMENT_SPECS = sorted(name for name, spec in load_specs().items() if spec.kind == "document")
SLACK_USERS = [{"id": "U02LEE", "name": "lee", "real_name": "Lee Park"}, {"id": "U03DANA", "name": "dana", "real_name": "Dana Ortiz"}]


def _materialise(name: str, text: str, folder):
    """Write a spec sample where a user might keep it, under a name that says nothing."""
    if name == "slack":
        root = folder / "dump"
        (root / "incident-db").mkdir(parents=True)
        (root / "users.json").write_text(json.dumps(SLACK_USERS))
        (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "incident-db"}]))
        (root / "incident-db" / "2024-08-12.json").write_text(text)
        return root
    path = folder / "attachment-3.dat"
    path.write_text(text)
    return path


def test_every_document_reader_has_a_spec():
    """Each registered reader is listed by a spec file of the same name, so format= can name it."""
    specs = load_specs()
    for name in readers():
        assert specs[name].kind == "document" and specs[name].document["reader"] == name


@pytest.mark.parametrize("name", DOCUMENT_SPECS)
def test_spec_sample_read_by_its_reader_with_nothing_rejected(name, tmp_path):
    """Every document spec's sample is read by its reader into events, nothing rejected."""
    spec = load_specs()[name]
    path = _materialise(name, spec.samples[0].text, tmp_path)
    options = DocumentOptions(column_map={"ref": "Case", "message": "Subject", "actor": "Owner", "created": "Opened", "solved": "Closed"}) if name == "generic" else DocumentOptions()
    events, account = readers()[name].read(path, options)
    assert events.height >= 1
    assert account.rejected == 0, account.rejected_lines
    assert events["ts"].null_count() == 0
    assert set(events["kind"].to_list()) == {spec.event_kind}


@pytest.mark.parametrize("name", [n for n in DOCUMENT_SPECS if n != "generic"])
def test_sample_recognised_by_content_whatever_its_name(name, tmp_path):
    """A sample saved as attachment-3.dat (or a folder called dump) is recognised by its content."""
    path = _materialise(name, load_specs()[name].samples[0].text, tmp_path)
    table = read(tmp_path, quiet=True)
    assert [a.format for a in table.account] == [name]
    assert table.account[0].rejected == 0


LOG_SAMPLES = {
    "app.log": "2024-08-12 14:16:03,118 INFO [web.request] GET /account 200 in 35ms\n2024-08-12 14:16:04,512 ERROR [web.db] request failed\n",
    "orders.jsonl": '{"event": "order placed", "level": "info", "timestamp": "2024-08-12T21:15:29.831000Z"}\n{"event": "db error", "level": "error", "timestamp": "2024-08-12T21:15:30.001000Z"}\n',
    "pg.log": "2024-08-12 14:14:37.411 PDT [4242] app@shop FATAL:  sorry, too many clients already\n",
}


@pytest.mark.parametrize("name", sorted(LOG_SAMPLES))
def test_log_files_are_not_claimed_by_document_readers(name, tmp_path):
    """Log files are left to the line readers: no document reader claims them."""
    path = tmp_path / name
    path.write_text(LOG_SAMPLES[name])
    scores = {r.name: r.detect(path) for r in readers().values() if not r.directory}
    assert max(scores.values()) < 0.5, scores


def test_forcing_a_reader_by_name(tmp_path):
    """format= forces a reader the content alone does not convince (a single note line)."""
    path = tmp_path / "scribble.txt"
    path.write_text("14:35 lee: escalating to engineering\n")
    assert max(r.detect(path) for r in readers().values() if not r.directory) < 0.5
    events, account = read_file(path, format="notes", date=None, tz="UTC")
    assert account.format == "notes"
    assert events["action"].to_list() == ["said"]


def test_forcing_the_wrong_reader_reports_every_record(tmp_path):
    """A Zendesk page forced through the PagerDuty reader is rejected record by record, not dropped."""
    path = tmp_path / "t.json"
    path.write_text(load_specs()["zendesk"].samples[0].text)
    events, account = read_file(path, format="pagerduty")
    assert events.height == 0 and account.rejected == account.lines == 1


def test_bad_json_export_names_the_place(tmp_path):
    """A truncated export forced to a reader fails with the file, line and column."""
    path = tmp_path / "tickets.json"
    path.write_text('{"tickets": [{"id": 1,\n "subject": ')
    with pytest.raises(ValueError, match=r"tickets\.json: not valid JSON: .* line 2, column"):
        read_file(path, format="zendesk")


def test_sample_incident_reads_with_nothing_rejected(sample_incident):
    """The sample outage folder: tickets, audits, Slack and the change log read with lifecycle events, nothing rejected."""
    if not sample_incident.exists():
        pytest.skip("sample incident folder not present")
    table = read(sample_incident, tz="America/Los_Angeles", quiet=True)
    formats = {a.format for a in table.account}
    assert {"zendesk", "slack", "changes"} <= formats
    assert sum(a.rejected for a in table.account) == 0
    df = table.df
    tickets = df.filter(pl.col("kind") == "ticket")
    assert {"created", "assigned", "escalated", "solved"} <= set(tickets["action"].to_list())
    escalated = tickets.filter((pl.col("ref") == "48207") & (pl.col("action") == "escalated"))
    assert escalated["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S").to_list() == ["2024-08-12T21:35:08"]
    changes = df.filter(pl.col("kind") == "change")
    assert {"config_change", "rolled_back", "failover"} <= set(changes["action"].to_list())
    chat = df.filter(pl.col("kind") == "chat")
    assert chat["actor"].null_count() == 0
    assert not chat["actor"].str.contains(r"^U[A-Z0-9]{6,}$").any()
