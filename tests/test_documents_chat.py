"""Chat: Slack exports (folder and zip, safely) and hand-kept incident notes."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import polars as pl
import pytest

from timeline._errors import InputError
from timeline.sources import read, read_file
from timeline.sources.documents import slack as slack_module

UTC = dt.UTC

USERS = [
    {"id": "U01MAYA", "team_id": "T1", "name": "maya.ortiz", "deleted": False, "real_name": "Maya Ortiz", "tz": "America/Los_Angeles", "profile": {"real_name": "Maya Ortiz", "display_name": "maya"}, "is_bot": False},
    {"id": "U02PRIYA", "team_id": "T1", "name": "priya", "deleted": False, "profile": {"real_name": "Priya Raman", "display_name": "priya"}, "is_bot": False},
]
CHANNELS = [{"id": "C07INC", "name": "incident-db", "created": 1723498500, "creator": "U01MAYA", "is_archived": False, "is_general": False, "members": ["U01MAYA", "U02PRIYA"], "topic": {"value": "", "creator": "", "last_set": 0}, "purpose": {"value": "", "creator": "", "last_set": 0}}]
DAY = [
    {"type": "message", "subtype": "channel_join", "ts": "1723498520.118000", "user": "U01MAYA", "text": "<@U01MAYA> has joined the channel"},
    {"client_msg_id": "a1", "type": "message", "text": "escalating to engineering: customers get 503 on /account &amp; /orders, cc <@U02PRIYA> <!here>", "user": "U01MAYA", "ts": "1723498541.442000", "team": "T1", "thread_ts": "1723498541.442000", "reply_count": 1, "reply_users_count": 1, "latest_reply": "1723500418.000100", "reply_users": ["U02PRIYA"], "replies": [{"user": "U02PRIYA", "ts": "1723500418.000100"}], "reactions": [{"name": "eyes", "users": ["U02PRIYA"], "count": 1}]},
    {"client_msg_id": "a2", "type": "message", "text": "found it: the max_connections change from the maintenance window. see <https://wiki.example.com/CHG-2231|CHG-2231>", "user": "U02PRIYA", "ts": "1723500008.391000", "team": "T1", "edited": {"user": "U02PRIYA", "ts": "1723500061.000000"}},
    {"client_msg_id": "a3", "type": "message", "text": "on it", "user": "U02PRIYA", "ts": "1723500418.000100", "thread_ts": "1723498541.442000", "parent_user_id": "U01MAYA"},
    {"type": "message", "subtype": "tombstone", "text": "This message was deleted.", "user": "USLACKBOT", "ts": "1723500500.000200", "thread_ts": "1723500500.000200", "reply_count": 1},
    {"type": "message", "subtype": "bot_message", "text": "New ticket #48209 *Checkout failing* (chat) -&gt; Support", "username": "Zendesk", "bot_id": "B01ZD", "ts": "1723498736.300000"},
]


def _write_export(root):
    (root / "incident-db").mkdir(parents=True)
    (root / "users.json").write_text(json.dumps(USERS))
    (root / "channels.json").write_text(json.dumps(CHANNELS))
    (root / "integration_logs.json").write_text(json.dumps({"logs": []}))
    (root / "incident-db" / "2024-08-12.json").write_text(json.dumps(DAY, indent=4))
    return root


@pytest.fixture(name="slack_dir")
def fixture_slack_dir(tmp_path):
    """An unpacked Slack export with one channel and one day."""
    return _write_export(tmp_path / "Acme Slack export Aug 12 2024")


def test_slack_folder_messages_resolved(slack_dir):
    """Every message is a chat event at its ts, with user names, readable mentions and links."""
    events, account = read_file(slack_dir)
    assert account.format == "slack" and account.rejected == 0 and account.records == len(DAY)
    said = events.filter(pl.col("action") == "said").sort("ts")
    first = said.row(0, named=True)
    assert first["ts"] == dt.datetime(2024, 8, 12, 21, 35, 41, 442000, tzinfo=UTC)
    assert first["actor"] == "Maya Ortiz"
    assert first["message"] == "escalating to engineering: customers get 503 on /account & /orders, cc @Priya Raman @here"
    assert first["source"] == "slack#incident-db"
    assert first["ref"] == "incident-db:1723498541.442000"
    assert said.filter(pl.col("actor") == "Zendesk")["message"].to_list() == ["New ticket #48209 *Checkout failing* (chat) -> Support"]


def test_slack_thread_reply_keeps_parent_ref(slack_dir):
    """A thread reply carries its parent's ref, and its own ts in attrs."""
    events, _ = read_file(slack_dir)
    reply = events.filter(pl.col("message") == "on it").row(0, named=True)
    assert reply["ref"] == "incident-db:1723498541.442000"
    assert json.loads(reply["attrs"])["ts"] == "1723500418.000100"


def test_slack_edited_message_keeps_original_time(slack_dir):
    """An edited message is its final text at the time it was posted, with the edit in attrs."""
    events, _ = read_file(slack_dir)
    found = events.filter(pl.col("message").str.starts_with("found it")).row(0, named=True)
    assert found["ts"] == dt.datetime(2024, 8, 12, 22, 0, 8, 391000, tzinfo=UTC)
    assert found["message"].endswith("see CHG-2231")
    assert json.loads(found["attrs"])["edited"] == {"by": "Priya Raman", "at": "2024-08-12T22:01:01+00:00"}


def test_slack_deleted_and_join_messages(slack_dir):
    """A deleted thread parent is a deleted event; a join is a quiet joined event."""
    events, _ = read_file(slack_dir)
    assert events.filter(pl.col("action") == "deleted")["message"].to_list() == ["This message was deleted."]
    joined = events.filter(pl.col("action") == "joined").row(0, named=True)
    assert joined["level"] == "debug"


def test_slack_zip_read_in_place(tmp_path, slack_dir):
    """A zipped export (with its top folder) reads the same events as the folder, nothing unpacked."""
    zpath = tmp_path / "export.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(slack_dir.rglob("*.json")):
            zf.write(p, f"acme/{p.relative_to(slack_dir).as_posix()}")
    before = {p for p in tmp_path.rglob("*")}
    zipped, account = read_file(zpath)
    folder, _ = read_file(slack_dir)
    assert account.format == "slack" and account.rejected == 0
    assert zipped.select("ts", "actor", "message", "ref", "action").equals(folder.select("ts", "actor", "message", "ref", "action"))
    assert {p for p in tmp_path.rglob("*")} == before
    assert zipped["file"][0].startswith(f"{zpath}!acme/incident-db/")


def test_slack_zip_path_traversal_refused(tmp_path, slack_dir):
    """A member named ../../evil.json is refused and reported, never read or written."""
    zpath = tmp_path / "export.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in sorted(slack_dir.rglob("*.json")):
            zf.write(p, p.relative_to(slack_dir).as_posix())
        zf.writestr("../../incident-db/2024-08-13.json", json.dumps([{"type": "message", "user": "U01MAYA", "text": "smuggled", "ts": "1723590000.000000"}]))
        zf.writestr("/etc/cron.d/evil.json", "[]")
    events, account = read_file(zpath)
    assert "smuggled" not in events["message"].to_list()
    assert account.rejected == 2
    assert all("leaves the archive" in r.reason for r in account.rejected_lines)
    assert not (tmp_path.parent / "incident-db").exists()


def test_slack_zip_bomb_member_refused(tmp_path, slack_dir):
    """A member that would unpack to an absurd size stops the read with a clear error."""
    zpath = tmp_path / "export.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(slack_dir.rglob("*.json")):
            zf.write(p, p.relative_to(slack_dir).as_posix())
        zf.writestr("incident-db/2024-08-13.json", b" " * (8 * 1024 * 1024))
    with pytest.raises(InputError, match=r"2024-08-13\.json would unpack to 8,388,608 bytes.*zip bomb"):
        read_file(zpath)


def test_slack_member_larger_than_declared_refused(tmp_path, slack_dir, monkeypatch):
    """A member whose data runs past the size limit while reading is refused too."""
    monkeypatch.setattr(slack_module, "MAX_MEMBER_BYTES", 1000)
    monkeypatch.setattr(slack_module, "RATIO_FLOOR_BYTES", 10**9)
    zpath = tmp_path / "export.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(slack_dir.rglob("*.json")):
            zf.write(p, p.relative_to(slack_dir).as_posix())
    with pytest.raises(InputError, match="refused"):
        read_file(zpath)


def test_slack_bad_day_file_is_reported(slack_dir):
    """A day file that is not JSON is one reported rejection; the other days are read."""
    (slack_dir / "incident-db" / "2024-08-13.json").write_text('[{"type": "message", "ts": ')
    events, account = read_file(slack_dir)
    assert account.rejected == 1 and "not valid JSON" in account.rejected_lines[0].reason
    assert events.height == len(DAY)


def test_slack_folder_inside_incident_folder_is_one_input(tmp_path):
    """Reading a parent folder treats the export folder as one document, whatever it is called."""
    _write_export(tmp_path / "incident" / "chat-dump")
    table = read(tmp_path / "incident", quiet=True)
    assert [a.format for a in table.account] == ["slack"]
    assert table.df.height == len(DAY)


NOTES = """# Incident 2024-08-12: checkout 503s
Scribe: lee

14:35 lee: escalating to engineering
14:40 priya: investigating, db refuses connections
  pg_stat_activity shows 40 backends
23:55 lee: still watching
00:10 lee: all quiet, closing the notes
"""


def test_incident_notes_dated_by_heading_and_rolled_over_midnight(tmp_path):
    """Notes take their date from the heading, join indented lines, and cross midnight."""
    path = tmp_path / "scribe.txt"
    path.write_text(NOTES)
    events, account = read_file(path, tz="America/Los_Angeles")
    assert account.format == "notes" and account.rejected == 0 and account.records == 4
    assert [(r["ts"].isoformat(), r["actor"]) for r in events.iter_rows(named=True)] == [
        ("2024-08-12T21:35:00+00:00", "lee"),
        ("2024-08-12T21:40:00+00:00", "priya"),
        ("2024-08-13T06:55:00+00:00", "lee"),
        ("2024-08-13T07:10:00+00:00", "lee"),
    ]
    assert events["message"][1] == "investigating, db refuses connections\npg_stat_activity shows 40 backends"
    assert events["kind"].cast(pl.String).unique().to_list() == ["note"]
    assert account.events + account.continuation_lines + account.blank == account.lines


def test_incident_notes_date_option(tmp_path):
    """The date option dates notes that carry no date."""
    path = tmp_path / "notes.txt"
    path.write_text("14:35 lee: escalating to engineering\n14:41 dana: on it\n")
    events, _ = read_file(path, date=dt.date(2024, 8, 12), tz="UTC")
    assert events["ts"].to_list()[0] == dt.datetime(2024, 8, 12, 14, 35, tzinfo=UTC)


def test_slack_zip_recognised_whatever_its_name(tmp_path, slack_dir):
    """A zipped export saved under another name is still recognised by its content."""
    zpath = tmp_path / "slack-download.bin"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(slack_dir.rglob("*.json")):
            zf.write(f, f"acme/{f.relative_to(slack_dir).as_posix()}")
    events, account = read_file(zpath)
    assert account.format == "slack"
    assert account.rejected == 0
    assert events.height > 0
