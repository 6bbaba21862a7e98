"""Incident notes kept in an evidence folder are read by their content, whatever their name; real documentation is skipped with a note."""

from __future__ import annotations

import timeline as tl

NOTES = "# Incident 2024-08-12\n\n14:28 lee: dashboard shows 503s on /account\n14:35 lee: escalating to engineering\n14:41 sam: investigating\n"


def test_notes_named_like_documentation_are_read(tmp_path):
    """notes.txt and incident-notes.md holding timed notes are evidence: every note becomes an event."""
    (tmp_path / "notes.txt").write_text(NOTES)
    (tmp_path / "incident-notes.md").write_text(NOTES)
    (tmp_path / "app.log").write_text("2024-08-12 14:14:37,421 ERROR [app.db] could not connect\n")
    events = tl.read(tmp_path, tz="America/Los_Angeles", quiet=True)
    formats = {a.file.rsplit("/", 1)[-1]: a.format for a in events.account}
    assert formats["notes.txt"] == "notes" and formats["incident-notes.md"] == "notes"
    notes = events.df.filter(events.df["kind"].cast(str) == "note")
    assert notes.height == 6
    assert not any("notes" in n and "skipped" in n for n in events.notes)


def test_documentation_is_skipped_and_the_note_says_which(tmp_path):
    """A README without timed notes is skipped, and the read's notes name it and say why."""
    (tmp_path / "README.md").write_text("# Evidence\n\nCollected by the on-call engineer.\n")
    (tmp_path / "app.log").write_text("2024-08-12 14:14:37,421 ERROR [app.db] could not connect\n")
    events = tl.read(tmp_path, tz="UTC", quiet=True)
    assert [a.file.rsplit("/", 1)[-1] for a in events.account] == ["app.log"]
    assert any("README.md: documentation (no timed incident notes in it), skipped" in n for n in events.notes)
