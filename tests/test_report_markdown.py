"""The postmortem "Timeline of Events" section and the full draft, in Markdown."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import pytest
from _incident_factory import hostile_entry, local, make_incident
from hypothesis import given, settings
from hypothesis import strategies as st

from timeline._errors import InputError
from timeline.reconstruct._model import MILESTONES
from timeline.report import postmortem, to_markdown
from timeline.report._common import label

LABELS = {name: f"**{label(name, 'customer' if name == 'detected' else None)}**" for name in MILESTONES}
CELL_SPLIT = re.compile(r"(?<!\\)\|")


def table_rows(md: str) -> list[list[str]]:
    """The body rows of the first Markdown table, split on unescaped pipes."""
    lines = [ln for ln in md.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in CELL_SPLIT.split(ln)[1:-1]] for ln in lines[2:]]


@pytest.fixture(name="incident")
def fixture_incident():
    """The hand-built 2024-08-12 outage."""
    return make_incident(n_requests=500)


def test_header_names_the_zone_and_date(incident):
    """The section opens with its heading, the display zone with offset, and the date."""
    md = to_markdown(incident)
    assert md.startswith("## Timeline of Events\n")
    assert "All times America/Los_Angeles (PDT, UTC-07:00). 2024-08-12." in md


def test_key_intervals_line(incident):
    """The key intervals give detect, escalate, mitigate and resolve in compact units."""
    md = to_markdown(incident)
    line = next(ln for ln in md.splitlines() if ln.startswith("**Key intervals:**"))
    assert "detect 8m" in line and "escalate 5m" in line and "mitigate 1h24m" in line and "resolve 1h38m" in line


def test_table_columns(incident):
    """The table has Time (local), T+, Event and Source columns."""
    md = to_markdown(incident)
    assert "| Time (PDT) | T+ | Event | Source |" in md
    assert all(len(r) == 4 for r in table_rows(md))


def test_milestone_rows_are_bold_with_source(incident):
    """A milestone row shows the local time, T+, the bold label and file:line."""
    rows = table_rows(to_markdown(incident))
    detected = next(r for r in rows if "**DETECTED (customer)**" in r[2])
    assert detected[0] == "14:30" and detected[1] == "+8m"
    assert detected[3] == "`tickets/zendesk-export.csv:2`"
    impact = next(r for r in rows if "**IMPACT STARTS**" in r[2])
    assert impact[1] == "0m"
    trigger = next(r for r in rows if "**TRIGGER**" in r[2])
    assert trigger[1] == "−10m"


def test_failed_attempt_is_marked(incident):
    """A mitigation attempt that did not work is marked ❌ with 'did not stop errors'; the one that worked ✅."""
    rows = table_rows(to_markdown(incident))
    rollback = next(r for r in rows if "rollback" in r[2] and "MITIGATION" in r[2])
    assert rollback[2].startswith("❌") and "did not stop errors" in rollback[2]
    failover = next(r for r in rows if "failover" in r[2] and "MITIGATION" in r[2])
    assert failover[2].startswith("✅")


def test_silent_period_callout_row(incident):
    """Each silent period is a ⏱ gap row with no time, placed after the event that opened it."""
    rows = table_rows(to_markdown(incident))
    k = next(i for i, r in enumerate(rows) if "gap: 30m without recorded action" in r[2])
    assert rows[k][0] == "" and rows[k][2].startswith("⏱")
    assert "**IDENTIFIED**" in rows[k - 1][2]


def test_detection_after_machine_signal_callout(incident):
    """When the logs showed errors before anyone noticed, a callout says by how much."""
    md = to_markdown(incident)
    assert "errors were in the logs 8m before anyone noticed" in md
    assert any(ln.startswith("> ⚠️ **Detection came after the machine signal:**") for ln in md.splitlines())


def test_no_detection_callout_when_alert_came_first(incident):
    """No lag callout when detection came at or before the first machine signal."""
    det = incident.milestones["detected"]
    incident.milestones["detected"] = replace(det, at=incident.signal.at, by="alert")
    assert "before anyone noticed" not in to_markdown(incident)


def test_pipes_are_escaped_in_cells(incident):
    """A '|' inside an event text is escaped so the row keeps four cells."""
    incident.entries.append(hostile_entry())
    md = to_markdown(incident)
    row = next(ln for ln in md.splitlines() if "piped" in ln)
    assert "\\| piped" in row
    assert len(CELL_SPLIT.split(row)) == 6


def test_only_first_line_of_multiline_messages(incident):
    """A traceback keeps only its first line in the table, marked as continued."""
    incident.entries.append(hostile_entry())
    md = to_markdown(incident)
    assert "second line of a traceback" not in md
    assert "piped …" in md


def test_html_in_messages_cannot_open_a_tag(incident):
    """A log line holding <script> is written so that no renderer sees a tag."""
    incident.entries.append(hostile_entry())
    md = to_markdown(incident)
    assert "<script>" not in md and "&lt;script>" in md


def test_long_messages_are_truncated(incident):
    """Messages longer than a cell allows end with an ellipsis."""
    from _incident_factory import APP_LOG

    from timeline.reconstruct._model import Entry

    incident.entries.append(Entry(local("14:51"), "x" * 500, kind="log", source="app", file=APP_LOG, line=9))
    row = next(ln for ln in to_markdown(incident).splitlines() if "xxxx" in ln)
    assert "x" * 200 not in row and "…" in row


def test_override_moves_the_row_and_says_so(incident):
    """After incident.set, the milestone row shows the corrected time and the inferred one."""
    incident.set("detected", "2024-08-12T14:26:00", note="on-call saw the dashboard")
    rows = table_rows(to_markdown(incident))
    det = [r for r in rows if "**DETECTED" in r[2]]
    assert len(det) == 1
    assert det[0][0] == "14:26" and "inferred 14:30" in det[0][2] and "on-call saw the dashboard" in det[0][2]


def test_other_time_zone(incident):
    """tz= shows every time in that zone."""
    md = to_markdown(incident, tz="UTC")
    assert "All times UTC. 2024-08-12." in md
    rows = table_rows(md)
    assert next(r for r in rows if "**IMPACT STARTS**" in r[2])[0] == "21:22"


def test_bad_time_zone_names_the_closest(incident):
    """An unknown zone raises InputError naming the closest IANA zone."""
    with pytest.raises(InputError, match="America/Los_Angeles"):
        to_markdown(incident, tz="America/Los_Angeles_")


def test_missing_milestones_are_listed(incident):
    """A milestone that was not found is listed with the reason."""
    incident.milestones["acknowledged"] = None
    incident.missing["acknowledged"] = "no 'investigating' message in chat or tickets"
    md = to_markdown(incident)
    assert "**ACKNOWLEDGED**" not in md
    assert "- **acknowledged**: no 'investigating' message in chat or tickets" in md


def test_multi_day_incident_shows_dates(incident):
    """When the rows cross midnight the time column carries the date."""
    res = incident.milestones["resolved"]
    incident.milestones["resolved"] = replace(res, at=res.at + dt.timedelta(hours=9))
    md = to_markdown(incident)
    assert "2024-08-12 to 2024-08-13" in md
    assert "| 08-13 01:00 |" in md


@settings(max_examples=40, deadline=None)
@given(
    offsets=st.lists(st.one_of(st.none(), st.integers(min_value=-120, max_value=600)), min_size=8, max_size=8),
    shuffle=st.randoms(use_true_random=False),
)
def test_each_milestone_once_and_rows_in_time_order(offsets, shuffle):
    """Every milestone present appears exactly once, and the rows are in time order, whatever the times and entry order."""
    inc = make_incident(n_requests=0, with_tables=False)
    base = inc.window[0]
    for name, off in zip(MILESTONES, offsets, strict=True):
        m = inc.milestones[name]
        inc.milestones[name] = None if off is None else replace(m, at=base + dt.timedelta(minutes=off))
    if inc.milestones["impact_start"] is None:
        inc.signal = None
    shuffle.shuffle(inc.entries)
    md = to_markdown(inc)
    for name in MILESTONES:
        expected = 0 if inc.milestones[name] is None else 1
        assert md.count(LABELS[name]) == expected, name
    times = [r[0] for r in table_rows(md) if r[0]]
    assert times == sorted(times)


# ------------------------------------------------------------------ postmortem


def test_postmortem_has_the_seed_sections(incident):
    """The draft carries the seed postmortem's sections, plus Detection, in order."""
    md = postmortem(incident)
    heads = [ln for ln in md.splitlines() if ln.startswith("#")]
    assert heads[0] == "# Postmortem: Outage due to database connection issues"
    assert heads[1:] == [
        "## Incident Summary", "## Impact", "## Timeline of Events", "## Detection",
        "## Root Cause", "## Resolution", "## Lessons Learned", "## Action Items",
    ]


def test_postmortem_summary_gives_start_end_duration(incident):
    """The summary states when impact started and ended, and how long it lasted."""
    md = postmortem(incident)
    assert "from 2:22 PM PDT to 3:47 PM PDT (1h24m of user impact)" in md
    assert "- **Duration:** 1h24m" in md


def test_postmortem_impact_in_numbers(incident):
    """Impact counts failed requests, tickets, affected services and endpoints from the event table."""
    md = postmortem(incident)
    assert re.search(r"\*\*Failed requests:\*\* [\d,]+, counted in the application logs \(app; no access log", md)
    assert "**Customer tickets:** 2 (#ZD-4812, #ZD-4815)" in md
    assert "**Affected services:** app (orders, web), postgres-primary" in md
    assert "`/api/orders`" in md


def test_postmortem_root_cause_candidates_cite_evidence(incident):
    """Root-cause candidates list the trigger with its file:line evidence."""
    md = postmortem(incident)
    root = md.split("## Root Cause", 1)[1].split("## Resolution", 1)[0]
    assert "**The trigger:**" in root
    assert "`changes/changes.csv:2` maintenance: apply tuned postgresql.conf" in root


def test_postmortem_without_event_table(incident):
    """Without an event table the draft still renders and says the numbers are missing."""
    incident.events = None
    incident.templates = None
    md = postmortem(incident)
    assert "impact numbers could not be counted" in md
