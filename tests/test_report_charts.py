"""Plotly charts of an incident: one function per chart, bounded points, the chosen time zone."""

from __future__ import annotations

import datetime as dt

import numpy as np
import plotly.graph_objects as go
import polars as pl
import pytest
from _incident_factory import event_row, local, make_incident

from timeline._errors import InputError
from timeline.report import plot, rates, swimlane, template_lane
from timeline.schema import conform


def drawn_points(fig: go.Figure) -> int:
    """Markers and line vertices a figure sends to the browser (legend-only traces count 0)."""
    return sum(sum(1 for x in (tr.x if tr.x is not None else ()) if x is not None) for tr in fig.data)


@pytest.fixture(name="incident")
def fixture_incident():
    """The hand-built 2024-08-12 outage with 2,000 request lines."""
    return make_incident(n_requests=2_000)


@pytest.fixture(scope="module", name="big_incident")
def fixture_big_incident():
    """The same outage with a million request lines."""
    return make_incident(n_requests=1_000_000)


def test_swimlane_has_a_trace_per_level_and_kind(incident):
    """The swimlane draws one trace per (level, kind) present, and legend entries for levels, kinds and spans."""
    fig = swimlane(incident)
    assert isinstance(fig, go.Figure)
    names = {tr.name for tr in fig.data}
    assert {"info log", "error log", "critical db", "warning ticket", "info chat", "notice change"} <= names
    assert {"info", "error", "critical", "ticket", "chat", "impact", "detection gap", "mitigation"} <= names


def test_swimlane_lanes_are_the_sources(incident):
    """Each source is a labelled lane on the y axis."""
    fig = swimlane(incident)
    assert set(fig.layout.yaxis.ticktext) == {"app", "postgres-primary", "tickets", "slack#incident-db", "changes"}


def test_swimlane_labels_every_milestone_and_attempt(incident):
    """Milestones and attempts are labelled vertical lines."""
    fig = swimlane(incident)
    texts = [a.text for a in fig.layout.annotations]
    for label in ("trigger", "impact", "detected (customer)", "escalated", "ack", "identified", "mitigated", "resolved", "✗ rollback", "✓ failover"):
        assert label in texts
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == 10


def test_swimlane_shades_impact_detection_gap_and_mitigation(incident):
    """Impact, the detection gap and mitigation are shaded spans in local time."""
    fig = swimlane(incident)
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == 3
    starts = sorted(str(r.x0) for r in rects)
    assert starts[0].startswith("2024-08-12 14:22:41")


def test_swimlane_hover_has_message_and_file_line(incident):
    """Hovering a point shows its message and file:line."""
    fig = swimlane(incident)
    tr = next(t for t in fig.data if t.name == "warning ticket")
    rows = [list(r) for r in tr.customdata]
    assert any(r[0] == "tickets/zendesk-export.csv:2" and "ZD-4812" in r[1] for r in rows)
    assert "customdata[1]" in tr.hovertemplate and "customdata[0]" in tr.hovertemplate


def test_swimlane_escapes_log_text(incident):
    """A log line holding markup reaches the hover text escaped."""
    bad = conform(pl.DataFrame([event_row(message="<img src=x onerror=alert(1)> & <b>")]))
    incident.events = pl.concat([incident.events, bad])
    fig = swimlane(incident)
    texts = [str(v) for t in fig.data if t.customdata is not None for r in t.customdata for v in r]
    assert any("&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;" in s for s in texts)
    assert not any("<img" in s for s in texts)


def test_swimlane_time_axis_in_the_chosen_zone(incident):
    """The x values are wall-clock times of the chosen zone."""
    def first_ticket_x(fig):
        return min(np.datetime64(x, "s") for t in fig.data if t.name == "warning ticket" for x in t.x)

    assert first_ticket_x(swimlane(incident)) == np.datetime64("2024-08-12T14:30:12")
    assert first_ticket_x(swimlane(incident, tz="UTC")) == np.datetime64("2024-08-12T21:30:12")


def test_swimlane_accepts_pandas_events(incident):
    """An event table held in pandas draws the same points."""
    n = drawn_points(swimlane(incident))
    incident.events = incident.events.to_pandas()
    assert drawn_points(swimlane(incident)) == n


def test_swimlane_million_events_stays_bounded(big_incident):
    """A million events draw at most max_points markers, and human events are all kept."""
    fig = swimlane(big_incident, max_points=20_000)
    assert drawn_points(fig) <= 20_000
    humans = sum(len(t.x) for t in fig.data if t.showlegend is False and t.name.split(" ")[-1] in ("ticket", "chat", "change"))
    assert humans == 11
    small = swimlane(big_incident, max_points=2_000)
    assert drawn_points(small) <= 2_000


def test_swimlane_aggregated_points_say_how_many_lines(big_incident):
    """An aggregated marker's hover says how many lines it stands for."""
    fig = swimlane(big_incident, max_points=5_000)
    tr = next(t for t in fig.data if t.name == "error log")
    assert any("lines in this bucket" in str(r[2]) for r in tr.customdata)


def test_rates_has_error_and_all_rows_per_source(incident):
    """The rates chart has errors per minute (row 1) and all lines per minute (row 2), one line per source."""
    fig = rates(incident)
    rows = {(tr.name, tr.yaxis) for tr in fig.data}
    assert {("app", "y"), ("postgres-primary", "y"), ("app", "y2")} <= rows
    assert fig.layout.yaxis.title.text == "errors / min"


def test_rates_are_per_minute_with_zero_filled_gaps(incident):
    """Buckets with no errors are drawn as zero, and values are per minute."""
    fig = rates(incident)
    app_err = next(t for t in fig.data if t.name == "app" and t.yaxis == "y")
    ys = np.asarray(app_err.y, dtype=float)
    assert ys.min() == 0 and len(ys) == 145  # 13:50 to 16:14, one per minute
    total = incident.events.filter((pl.col("source") == "app") & (pl.col("level") == "error")).height
    assert ys.sum() == pytest.approx(total)


def test_rates_without_rates_table_counts_events(incident):
    """Without incident.rates the chart counts the event table per minute."""
    n = drawn_points(rates(incident))
    incident.rates = None
    assert drawn_points(rates(incident)) == n


def test_rates_million_events_is_small(big_incident):
    """The rates chart of a million events draws one vertex per source and minute."""
    assert drawn_points(rates(big_incident)) < 2_000


def test_template_lane_draws_bursting_templates(incident):
    """Bursting templates get a lane each, new ones as stars, and the earliest signal is ringed."""
    fig = template_lane(incident)
    names = [t.name for t in fig.data]
    assert "new: first seen" in names and "earliest machine signal" in names
    lanes = list(fig.layout.yaxis.categoryarray)
    assert len(lanes) == 2 and any("too many clients" in x for x in lanes)


def test_template_lane_per_minute_when_events_carry_template_ids(incident):
    """With a template_id column in the events the lane shows lines per minute."""
    ev = incident.events.with_columns(
        template_id=pl.when(pl.col("level") == "error").then(2).when(pl.col("level") == "critical").then(3).otherwise(1)
    )
    incident.events = ev
    fig = template_lane(incident)
    per = next(t for t in fig.data if t.name == "new template, per minute")
    assert 100 < len(per.x) < 200


def test_template_lane_without_templates(incident):
    """Without templates the chart says so instead of failing."""
    incident.templates = None
    fig = template_lane(incident)
    assert any(a.text == "no bursting templates" for a in fig.layout.annotations)


def test_charts_without_events():
    """A bare incident (no tables) still gives three figures."""
    inc = make_incident(with_tables=False)
    for fn in (swimlane, rates, template_lane):
        assert isinstance(fn(inc), go.Figure)


def test_plot_dispatches_by_kind(incident):
    """plot() draws the swimlane by default and another chart by name."""
    assert plot(incident).layout.title.text.startswith(swimlane(incident).layout.title.text[:20])
    assert "rates" in plot(incident, kind="rates").layout.title.text


def test_plot_unknown_kind_names_the_closest(incident):
    """An unknown chart kind raises InputError with the closest name."""
    with pytest.raises(InputError, match="closest is 'rates'"):
        plot(incident, kind="rate")


def test_times_cross_dst(incident):
    """A window across a DST change still draws (times are converted per value)."""
    shift = dt.timedelta(days=82)  # 2024-11-03, the fall-back day in Los Angeles
    incident.events = incident.events.with_columns(pl.col("ts") + shift)
    incident.rates = None
    incident.window = (incident.window[0] + shift, incident.window[1] + shift)
    assert drawn_points(swimlane(incident)) > 0
    assert local("14:00") + shift > incident.window[0]
