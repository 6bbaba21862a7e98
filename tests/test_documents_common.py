"""Shared document helpers: machine and human times, HTML text, DB change tagging."""

from __future__ import annotations

import datetime as dt

import dateparser
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from timeline.sources._account import FileAccount
from timeline.sources._tagging import CHANGE_ACTIONS, tag_db_changes
from timeline.sources.documents import DocumentOptions
from timeline.sources.documents._common import HumanTimes, html_to_text, human_or_reject, machine_time

UTC = dt.UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-08-12T21:31:00Z", dt.datetime(2024, 8, 12, 21, 31, tzinfo=UTC)),
        ("2018-08-03T09:52:26.739266876+02:00", dt.datetime(2018, 8, 3, 7, 52, 26, 739266, tzinfo=UTC)),
        ("2015-07-17T08:42:58.315+0000", dt.datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)),
        ("2024-05-02T09:14:07.118-0700", dt.datetime(2024, 5, 2, 16, 14, 7, 118000, tzinfo=UTC)),
        (1723498450118, dt.datetime(2024, 8, 12, 21, 34, 10, 118000, tzinfo=UTC)),
        (1723498450118000000, dt.datetime(2024, 8, 12, 21, 34, 10, 118000, tzinfo=UTC)),
        (1723498450, dt.datetime(2024, 8, 12, 21, 34, 10, tzinfo=UTC)),
    ],
)
def test_machine_time_reads_iso_and_epoch(text, expected):
    """ISO 8601 with Z, offsets with or without a colon, nanoseconds, and epoch s/ms/ns are read exactly."""
    assert machine_time(text) == expected


def test_zero_time_is_no_time():
    """Alertmanager's zero endsAt of a firing alert is None, not year 1."""
    assert machine_time("0001-01-01T00:00:00Z") is None


def test_naive_machine_time_takes_the_zone():
    """A naive ServiceNow time is local to the given zone."""
    assert machine_time("2024-08-12 14:31:00", "America/Los_Angeles") == dt.datetime(2024, 8, 12, 21, 31, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Aug 12, 2024 2:31 PM PDT", dt.datetime(2024, 8, 12, 21, 31, tzinfo=UTC)),
        ("14/Nov/18 10:39 AM", dt.datetime(2018, 11, 14, 10, 39, tzinfo=UTC)),
        ("2024-08-12T21:31:00Z", dt.datetime(2024, 8, 12, 21, 31, tzinfo=UTC)),
        ("12 August 2024 14:31", dt.datetime(2024, 8, 12, 14, 31, tzinfo=UTC)),
    ],
)
def test_human_times_read_what_people_write(text, expected):
    """Human-written times with month names, AM/PM and zone abbreviations are read in UTC."""
    times = HumanTimes(DocumentOptions())
    assert times.get(text) == expected


def test_dateparser_runs_once_per_distinct_string(monkeypatch):
    """A column of 300 values with 3 distinct strings calls dateparser 3 times."""
    calls: list[str] = []
    real = dateparser.parse

    def counting(text, *args, **kwargs):
        calls.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(dateparser, "parse", counting)
    values = ["Aug 12, 2024 2:31 PM", "Aug 12, 2024 2:35 PM", "Aug 12, 2024 3:00 PM"] * 100
    times = HumanTimes(DocumentOptions(tz="America/Los_Angeles"))
    times.column("Created", values)
    got = [times.get(v, "Created") for v in values]
    assert len(calls) == 3
    assert got[0] == dt.datetime(2024, 8, 12, 21, 31, tzinfo=UTC)


def test_day_first_decided_by_the_column():
    """12/08/2024 reads as 12 August when another value in the column (14/08/2024) only reads day-first."""
    times = HumanTimes(DocumentOptions())
    times.column("Opened", ["12/08/2024 14:31", "14/08/2024 09:00"])
    assert times.get("12/08/2024 14:31", "Opened") == dt.datetime(2024, 8, 12, 14, 31, tzinfo=UTC)


def test_month_first_decided_by_the_column():
    """12/08/2024 reads as 8 December when another value (08/25/2024) only reads month-first."""
    times = HumanTimes(DocumentOptions())
    times.column("Opened", ["12/08/2024 14:31", "08/25/2024 09:00"])
    assert times.get("12/08/2024 14:31", "Opened") == dt.datetime(2024, 12, 8, 14, 31, tzinfo=UTC)


def test_ambiguous_date_is_reported_with_its_row():
    """A column that cannot decide day order rejects 12/08/2024 with its row, never guessing."""
    times = HumanTimes(DocumentOptions())
    times.column("Opened", ["12/08/2024 14:31", "03/04/2024 09:00"])
    account = FileAccount(file="x.csv", format="generic")
    assert human_or_reject(times, "12/08/2024 14:31", "Opened", account, 7) is None
    assert account.rejected == 1
    assert account.rejected_lines[0].line == 7
    assert "ambiguous" in account.rejected_lines[0].reason and "day_first" in account.rejected_lines[0].reason


def test_day_first_option_wins():
    """day_first=True reads an undecidable column day-first."""
    times = HumanTimes(DocumentOptions(day_first=True))
    times.column("Opened", ["12/08/2024 14:31"])
    assert times.get("12/08/2024 14:31", "Opened") == dt.datetime(2024, 8, 12, 14, 31, tzinfo=UTC)


def test_unreadable_time_is_reported():
    """A value that is no time is rejected with the reason, not dropped."""
    times = HumanTimes(DocumentOptions())
    account = FileAccount(file="x.csv", format="generic")
    assert human_or_reject(times, "next blue moon-ish", "Created", account, 3) is None
    assert account.rejected == 1 and "not a time" in account.rejected_lines[0].reason


def test_html_to_text_keeps_words_and_lines():
    """Freshdesk HTML becomes text: tags gone, entities decoded, paragraphs on their own lines."""
    text = html_to_text('<div>Checkout shows <b>error&nbsp;500</b><br>since 2:30 &amp; after</div><p>Thanks,<br/>Ana</p><script>x()</script>')
    assert text == "Checkout shows error 500\nsince 2:30 & after\n\nThanks,\nAna" or text == "Checkout shows error 500\nsince 2:30 & after\nThanks,\nAna"


@given(st.integers(min_value=0, max_value=4_000_000_000), st.integers(min_value=0, max_value=999_999))
def test_epoch_and_iso_agree(seconds, micros):
    """An instant written as epoch microseconds and as ISO 8601 reads the same."""
    t = dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=seconds, microseconds=micros)
    iso = t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert machine_time(iso) == t
    if seconds > 100_000_000:
        assert machine_time(seconds * 1_000_000 + micros, epoch_unit="us") == t


DB_LINES = [
    ("received SIGHUP, reloading configuration files", "config_reload"),
    ('parameter "work_mem" changed to "64MB"', "config_change"),
    ('parameter "max_connections" cannot be changed without restarting the server', "config_change"),
    ("received fast shutdown request", "shutdown"),
    ("database system is shut down", "shutdown"),
    ("database system is ready to accept connections", "startup"),
    ("database system is ready to accept read-only connections", "startup"),
    ("received promote request", "promoted"),
    ("/usr/sbin/mysqld: ready for connections. Version: '8.0.36'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306", "startup"),
    ("sorry, too many clients already", None),
]


def test_db_change_evidence_is_tagged():
    """Reloads, parameter changes, shutdowns, startups and promotions in DB logs get their action."""
    df = pl.DataFrame({"kind": ["db"] * len(DB_LINES), "message": [m for m, _ in DB_LINES], "action": [None] * len(DB_LINES)}, schema_overrides={"action": pl.String})
    assert tag_db_changes(df)["action"].to_list() == [a for _, a in DB_LINES]
    assert {a for _, a in DB_LINES if a} <= CHANGE_ACTIONS


def test_db_tagging_keeps_actions_and_other_kinds():
    """An action a reader set stays, and app log lines are not tagged."""
    df = pl.DataFrame({"kind": ["db", "log"], "message": ["received SIGHUP, reloading configuration files"] * 2, "action": ["custom", None]})
    assert tag_db_changes(df)["action"].to_list() == ["custom", None]
