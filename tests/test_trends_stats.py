"""Statistics of the trend table: invariants (hypothesis), intervals, buckets, the JSON contract."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timeline._errors import InputError
from timeline.trends import JSON_KEYS, bootstrap_median_ci, trends, wilson_interval

START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
SERVICES = ("api", "db", "web")

durations = st.one_of(st.none(), st.floats(min_value=0, max_value=7 * 86400, allow_nan=False))
incident = st.tuples(
    st.integers(min_value=0, max_value=729 * 86400),  # impact start offset, two years
    durations,  # time to detect
    durations,  # time to mitigate
    st.sampled_from(SERVICES),
    st.sampled_from(["alert", "customer", "staff", None]),
)


def _table(rows: list[tuple[int, float | None, float | None, str, str | None]]) -> pl.DataFrame:
    starts = [START + dt.timedelta(seconds=r[0]) for r in rows]
    return pl.DataFrame(
        {
            "id": [f"i{k}" for k in range(len(rows))],
            "impact_start": starts,
            "time_to_detect_s": [r[1] for r in rows],
            "time_to_mitigate_s": [r[2] for r in rows],
            "service": [r[3] for r in rows],
            "detected_by": [r[4] for r in rows],
        },
        schema_overrides={"impact_start": pl.Datetime("us", "UTC"), "time_to_detect_s": pl.Float64, "time_to_mitigate_s": pl.Float64},
    )


def _summary(rows: list, by: str | None = None) -> pl.DataFrame:
    return trends(
        _table(rows), every="1mo", by=by, metrics=["time_to_detect", "time_to_mitigate"], n_boot=200
    ).table


PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(st.lists(incident, min_size=1, max_size=60), st.sampled_from([None, "service"]))
def test_bucket_counts_add_up_to_n(rows: list, by: str | None) -> None:
    """Incident counts over every bucket and group add up to the number of incidents, per metric."""
    table = _summary(rows, by)
    per_metric = table.group_by("metric").agg(pl.col("n_incidents").sum())
    assert set(per_metric["n_incidents"].to_list()) == {len(rows)}
    assert (table["n"] + table["n_missing"] == table["n_incidents"]).all()


@PROPS
@given(st.lists(incident, min_size=1, max_size=60))
def test_median_between_min_and_max(rows: list) -> None:
    """Every bucket's median and p90 lie between its min and max."""
    t = _summary(rows).filter(pl.col("n") > 0)
    assert (t["min_s"] <= t["median_s"]).all()
    assert (t["median_s"] <= t["max_s"]).all()
    assert (t["median_s"] <= t["p90_s"] + 1e-9).all()
    assert (t["p90_s"] <= t["max_s"]).all()


@PROPS
@given(st.lists(incident, min_size=2, max_size=60))
def test_median_ci_contains_median(rows: list) -> None:
    """Every median's interval contains it and stays within the sample's range."""
    t = _summary(rows).filter(pl.col("n") >= 2)
    assert (t["median_ci_low_s"] <= t["median_s"]).all()
    assert (t["median_s"] <= t["median_ci_high_s"]).all()
    assert (t["median_ci_low_s"] >= t["min_s"]).all()
    assert (t["median_ci_high_s"] <= t["max_s"]).all()


@PROPS
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=2, max_size=200))
def test_bootstrap_ci_contains_sample_median(values: list[float]) -> None:
    """The bootstrap interval of any sample contains the sample median."""
    x = np.array(values)
    lo, hi = bootstrap_median_ci(x, n_boot=300)
    assert lo <= np.median(x) <= hi


@PROPS
@given(st.integers(min_value=0, max_value=500), st.integers(min_value=1, max_value=500))
def test_wilson_interval_contains_share(k: int, n: int) -> None:
    """The Wilson interval lies in [0, 1] and contains the observed share."""
    k = min(k, n)
    lo, hi = wilson_interval(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_bootstrap_is_seeded() -> None:
    """The same incidents give the same intervals on every run."""
    rng = np.random.default_rng(3)
    rows = [(int(rng.integers(0, 86400 * 300)), float(rng.lognormal(6, 1)), float(rng.lognormal(8, 1)), "api", "alert") for _ in range(80)]
    a, b = _summary(rows), _summary(rows)
    assert a["median_ci_low_s"].to_list() == b["median_ci_low_s"].to_list()


def test_small_n_warns_in_words() -> None:
    """A bucket with four incidents says it is too few to conclude anything."""
    rows = [(86400 * k, 60.0 * (k + 1), 600.0, "api", "alert") for k in range(4)]
    r = _summary(rows).filter(metric="time_to_detect").row(0, named=True)
    assert r["warning"] == "n=4: too few to conclude anything"


def test_overlapping_intervals_are_no_detectable_change() -> None:
    """Two months drawn from the same distribution are called 'no detectable change'."""
    rng = np.random.default_rng(7)
    rows = [(int(d), float(rng.lognormal(6, 0.5)), None, "api", "alert") for d in (list(range(0, 86400 * 28, 86400)) + list(range(86400 * 31, 86400 * 59, 86400)))]
    changes = _summary(rows).filter(metric="time_to_detect")["change"].to_list()
    assert changes == ["first bucket", "no detectable change"]


def test_clear_drop_is_called_shorter() -> None:
    """A tenfold drop in detection time with 28 incidents a month is called 'shorter'."""
    rng = np.random.default_rng(7)
    jan = [(86400 * d, float(rng.lognormal(8, 0.3)), None, "api", "alert") for d in range(28)]
    feb = [(86400 * (31 + d), float(rng.lognormal(8 - np.log(10), 0.3)), None, "api", "alert") for d in range(28)]
    changes = _summary(jan + feb).filter(metric="time_to_detect")["change"].to_list()
    assert changes == ["first bucket", "shorter"]


def test_buckets_follow_tz() -> None:
    """An incident at 23:30 UTC on 31 March is in April's bucket in Tokyo, March's in UTC."""
    df = pl.DataFrame({"impact_start": [dt.datetime(2024, 3, 31, 23, 30, tzinfo=dt.UTC)], "time_to_detect_s": [60.0]})
    utc = trends(df, every="1mo", metrics=["time_to_detect"]).table["bucket"][0]
    tokyo = trends(df, every="1mo", tz="Asia/Tokyo", metrics=["time_to_detect"]).table["bucket"][0]
    assert (utc.isoformat(), tokyo.isoformat()) == ("2024-03-01", "2024-04-01")


def test_empty_buckets_are_kept_with_zero_count() -> None:
    """A month without incidents between two with incidents appears with n_incidents = 0."""
    rows = [(0, 60.0, 600.0, "api", "alert"), (86400 * 70, 60.0, 600.0, "api", "alert")]
    t = _summary(rows).filter(metric="time_to_detect")
    assert t["n_incidents"].to_list() == [1, 0, 1]
    assert t["warning"][1] == "no incidents"


def test_customer_share_ignores_unknown_detector() -> None:
    """The customer-detected share is over incidents that record who detected them."""
    rows = [(0, 60.0, 600.0, "api", "customer"), (10, 60.0, 600.0, "api", "alert"), (20, 60.0, 600.0, "api", None)]
    r = _summary(rows).row(0, named=True)
    assert (r["customer_detected_share"], r["detected_by_known_n"]) == (0.5, 2)


def test_json_has_contract_keys_first() -> None:
    """to_json() gives one object per bucket, group and metric, with the contract keys and an ISO bucket."""
    rows = [(0, 60.0, 600.0, "api", "alert"), (86400 * 40, 120.0, 900.0, "db", "customer")]
    out = trends(_table(rows), every="1mo", by="service", n_boot=100).to_json()
    assert list(out[0])[: len(JSON_KEYS)] == list(JSON_KEYS)
    assert {o["bucket"] for o in out} == {"2023-01-01", "2023-02-01"}
    assert {o["group"] for o in out} == {"api", "db"}
    assert len(out) == 2 * 2 * 6


def test_unknown_metric_suggests_closest() -> None:
    """A misspelt metric names the closest gap."""
    with pytest.raises(InputError, match="closest match is 'time_to_detect'"):
        trends(_table([(0, 1.0, 1.0, "api", None)]), metrics=["time_to_detekt"])


def test_unknown_by_column_is_an_error() -> None:
    """Grouping by a column the table lacks fails with the column's name."""
    with pytest.raises(InputError, match="by='team'"):
        trends(_table([(0, 1.0, 1.0, "api", None)]), by="team")


def test_bad_bucket_size_is_an_error() -> None:
    """A bucket size polars cannot read fails with examples of good ones."""
    with pytest.raises(InputError, match="every='monthly'"):
        trends(_table([(0, 1.0, 1.0, "api", None)]), every="monthly")
