"""The event table in a notebook: short prints, the account as a polars table, filters that keep the account."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import SAMPLE_INCIDENT

import timeline as tl
from timeline.reconstruct import reconstruct
from timeline.testing import outage

TZ = "America/Los_Angeles"


@pytest.fixture(name="events", scope="module")
def fixture_events():
    """The sample outage as read."""
    return tl.read(str(SAMPLE_INCIDENT), tz=TZ, quiet=True)


def test_account_is_a_polars_table(events):
    """events.account shows as a table and gives a polars frame with one row per file, counts traced to the read."""
    frame = events.account.frame
    assert isinstance(frame, pl.DataFrame)
    assert frame.height == len(events.account) == 10
    assert int(frame["events"].sum()) == len(events)
    assert {"file", "format", "lines", "events", "rejected"} <= set(frame.columns)
    assert "nginx_access" in repr(events.account)
    assert events.account[0].format  # still the FileAccount objects, one per file


def test_print_of_a_table_is_short(events):
    """print(events) is one line: counts, files, rejections and the span, not the frame."""
    text = str(events)
    assert len(text.splitlines()) == 1 and len(text) < 250
    assert text.startswith("EventTable(11,932 events from 10 files, 0 lines rejected")


def test_filter_keeps_the_account_and_reconstruct_reports_the_files(events):
    """A filtered table is still an EventTable with its account; reconstructing from it reports the files read."""
    late = events.filter(pl.col("ts") >= pl.datetime(2024, 8, 12, 20, 0, time_zone="UTC"))
    assert isinstance(late, tl.EventTable)
    assert len(late.account) == 10 and len(late) < len(events)
    assert any("filtered" in n for n in late.notes)
    inc = reconstruct(late, tz=TZ)
    assert len(inc.ingest) == 10


def test_unknown_attribute_points_at_the_frame(events):
    """Attributes outside the table's own are not silently delegated: the message names events.df."""
    with pytest.raises(AttributeError, match=r"events\.df"):
        events.not_a_method  # noqa: B018
    assert events.height == len(events)


def test_print_of_an_incident_is_short():
    """print(incident) is a summary of a dozen lines; repr is one line."""
    ev, _ = outage(seed=5)
    inc = reconstruct(ev, tz=TZ)
    assert len(str(inc).splitlines()) <= 20 and len(str(inc)) < 2000
    assert len(repr(inc).splitlines()) == 1 and repr(inc).startswith("Incident(")
