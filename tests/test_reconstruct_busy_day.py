"""The sample incident inside a busy day of other systems: their steady errors neither hide it nor join it."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

import timeline as tl
from timeline.reconstruct import reconstruct
from timeline.testing import event, events_table

from test_reconstruct_sample import SAMPLE, TZ

pytestmark = pytest.mark.slow

# Two busy neighbours, all day on the incident's date: tens of ERRORs a minute each, in a
# handful of templates each, beside their normal traffic. (Real-shaped: a payments gateway
# timing out against its provider, a search cluster rejecting queries.)
NEIGHBOURS = {
    "payments-gw": [
        "provider timeout after {n}ms (merchant {m}, attempt {a})",
        "card declined by issuer: do_not_honor (order {m})",
        "webhook delivery to https://hooks.example.com/{m} failed: 502",
    ],
    "search-cluster": [
        "rejected execution of search request on node es-{a}: queue capacity 1000 exceeded",
        "shard [{m}][{a}] failed: SearchPhaseExecutionException",
        "slow query took {n}ms on index products-v{a}",
    ],
}


def _busy_day(day_start: dt.datetime, per_min: float, seed: int = 0) -> pl.DataFrame:
    rng = random.Random(seed)
    rows = []
    for src, templates in NEIGHBOURS.items():
        t = day_start
        end = day_start + dt.timedelta(days=1)
        while t < end:
            msg = rng.choice(templates).format(n=rng.randint(100, 9000), m=rng.randint(1, 99999), a=rng.randint(1, 6))
            rows.append(event(t, msg, level="error", source=src, file=f"{src}.log"))
            if rng.random() < 0.5:
                rows.append(event(t, f"GET /{src}/health 200 in {rng.randint(1, 9)}ms", source=src, file=f"{src}.log"))
            t += dt.timedelta(seconds=rng.expovariate(per_min / 60))
    return events_table(rows)


@pytest.fixture(name="sample", scope="module")
def fixture_sample():
    events = tl.read(SAMPLE, tz=TZ, quiet=True)
    return events.df, reconstruct(events, tz=TZ)


@pytest.fixture(name="busy", scope="module")
def fixture_busy(sample):
    df, _ = sample
    day = dt.datetime(2024, 8, 12, 7, 0, tzinfo=dt.UTC)  # midnight PDT
    noise = _busy_day(day, per_min=30.0)
    return pl.concat([df, noise.select(df.columns).cast(df.schema)])


def test_the_incident_stands_out_of_a_busy_day(sample, busy):
    """Sixty unrelated ERRORs a minute all day long move no milestone of the sample incident."""
    _, base = sample
    inc = reconstruct(busy, tz=TZ)
    for name, m in base.milestones.items():
        got = inc.at(name)
        assert (got is None) == (m is None), name
        if m is not None:
            assert abs((got - m.at).total_seconds()) <= 1, (name, got, m.at, inc.milestones[name].rule)
    assert [(a.action, a.effective) for a in inc.attempts] == [(a.action, a.effective) for a in base.attempts]
    # The neighbours' templates are not the incident's signature.
    bursting = inc.templates.filter(pl.col("bursting"))["template"].to_list()
    assert not any("provider timeout" in t or "rejected execution" in t for t in bursting), bursting


def test_a_window_keeps_the_incident_inside_it(sample, busy):
    """With the incident's window given, impact starts inside it and mitigation comes after impact."""
    _, base = sample
    lo = base.at("impact_start") - dt.timedelta(minutes=10)
    hi = base.at("mitigated") + dt.timedelta(minutes=10)
    inc = reconstruct(busy, tz=TZ, window=(lo, hi))
    assert lo <= inc.at("impact_start") <= hi
    assert abs((inc.at("impact_start") - base.at("impact_start")).total_seconds()) <= 1
    assert inc.at("mitigated") > inc.at("impact_start")
    assert abs((inc.at("mitigated") - base.at("mitigated")).total_seconds()) <= 1


def test_a_neighbour_whose_log_starts_late_does_not_burst(sample):
    """A busy system whose log covers only from ten minutes before the incident: its errors have no
    baseline before its first line, so they are not taken to rise there."""
    df, base = sample
    start = base.at("impact_start") - dt.timedelta(minutes=10)
    noise = _busy_day(start, per_min=30.0, seed=3).filter(pl.col("ts") < base.at("resolved"))
    inc = reconstruct(pl.concat([df, noise.select(df.columns).cast(df.schema)]), tz=TZ)
    for name in ("trigger", "impact_start", "mitigated"):
        assert abs((inc.at(name) - base.at(name)).total_seconds()) <= 1, (name, inc.milestones[name].rule)
