"""Incident store: the JSON contract, gap recomputation, content recognition, errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

from timeline._errors import InputError, TimelineError
from timeline.trends import load_incidents, trends
from timeline.trends._store import recognise

REPO = Path(__file__).resolve().parent.parent
HISTORY = REPO / "data" / "incident-history"


def _ms(at: str | None, **extra: Any) -> dict[str, Any] | None:
    if at is None:
        return None
    return {"at": at, **extra, "confidence": "high", "rule": "manual", "evidence": []}


# The Google SRE Book example postmortem (Appendix D), all times UTC on 2015-10-21:
# impact 14:54, page 14:55, declared 15:01, mitigated 15:36, recovered 16:00.
GOOGLE: dict[str, Any] = {
    "incident": {
        "id": "shakespeare-2015-10-21",
        "title": "Shakespeare Sonnet++ outage",
        "timezone": "UTC",
        "window": {"start": "2015-10-21T14:40:00Z", "end": "2015-10-21T16:30:00Z"},
        "severity": "SEV1",
        "service": "shakespeare-search",
        "tags": ["cascading-failure"],
    },
    "milestones": {
        "trigger": None,
        "impact_start": _ms("2015-10-21T14:54:00Z"),
        "detected": _ms("2015-10-21T14:55:00Z", by="alert"),
        "escalated": None,
        "acknowledged": _ms("2015-10-21T14:55:00Z"),
        "identified": None,
        "mitigated": _ms("2015-10-21T15:36:00Z"),
        "resolved": _ms("2015-10-21T16:00:00Z"),
    },
    "mitigation_attempts": [
        {"at": "2015-10-21T15:36:00Z", "action": "traffic to sacrificial cluster", "effective": True, "evidence": []}
    ],
    "gaps": {
        "time_to_detect_s": 60,
        "time_to_escalate_s": None,
        "time_to_acknowledge_s": 0,
        "time_to_identify_s": None,
        "time_to_mitigate_s": 2520,
        "time_to_resolve_s": 3960,
    },
    "earliest_machine_signal": None,
    "entries": [],
    "ingest": [],
}


@pytest.fixture(name="google_store")
def fixture_google_store(tmp_path: Path) -> Path:
    """A store folder holding only the Google example incident."""
    store = tmp_path / "store"
    store.mkdir()
    (store / "shakespeare.json").write_text(json.dumps(GOOGLE), encoding="utf-8")
    return store


def test_google_golden_gaps(google_store: Path) -> None:
    """The Google example gives TTD 1 min, mitigate 42 min, impact 66 min."""
    row = load_incidents(google_store).table.row(0, named=True)
    assert row["time_to_detect_s"] == 60
    assert row["time_to_mitigate_s"] == 42 * 60
    assert row["time_to_resolve_s"] == 66 * 60
    assert row["time_to_identify_s"] is None


def test_google_golden_keeps_severity_service_tags(google_store: Path) -> None:
    """Optional incident keys severity, service and tags land in the table."""
    row = load_incidents(google_store).table.row(0, named=True)
    assert (row["severity"], row["service"], row["tags"]) == ("SEV1", "shakespeare-search", ["cascading-failure"])
    assert row["detected_by"] == "alert"


def test_google_golden_trend_row(google_store: Path) -> None:
    """One incident gives one bucket whose median is the incident's own gap, with a too-few warning."""
    t = trends(load_incidents(google_store), every="1q")
    r = t.table.filter(metric="time_to_mitigate").row(0, named=True)
    assert (r["n"], r["median_s"], r["max_s"], r["bucket"].isoformat()) == (1, 2520.0, 2520.0, "2015-10-01")
    assert "too few to conclude" in r["warning"]
    assert r["median_ci_low_s"] is None


def test_google_golden_markdown_words(google_store: Path) -> None:
    """The markdown report states the golden intervals in people's units."""
    md = trends(load_incidents(google_store)).to_markdown()
    assert "| 2015-Q4 | 1 | 1 | 42m |" in md
    assert "| 2015-Q4 | 1 | 1 | 1h 6m |" in md


def test_gaps_recomputed_and_disagreement_noted(tmp_path: Path) -> None:
    """A stored gap that disagrees with the milestone times is replaced and reported."""
    doc = copy.deepcopy(GOOGLE)
    doc["gaps"]["time_to_mitigate_s"] = 999
    (tmp_path / "a.json").write_text(json.dumps(doc), encoding="utf-8")
    inc = load_incidents(tmp_path)
    assert inc.table["time_to_mitigate_s"][0] == 2520
    notes = inc.notes.filter(kind="disagreement")
    assert notes["field"].to_list() == ["time_to_mitigate"]
    assert "999" in notes["message"][0]


def test_negative_gap_is_null_and_invalid(tmp_path: Path) -> None:
    """A mitigation before impact start gives no gap and an 'invalid' note, never a negative value."""
    doc = copy.deepcopy(GOOGLE)
    doc["milestones"]["mitigated"]["at"] = "2015-10-21T14:00:00Z"
    (tmp_path / "a.json").write_text(json.dumps(doc), encoding="utf-8")
    inc = load_incidents(tmp_path)
    assert inc.table["time_to_mitigate_s"][0] is None
    assert "time_to_mitigate" in inc.notes.filter(kind="invalid")["field"].to_list()


def test_missing_end_is_counted_not_dropped(tmp_path: Path) -> None:
    """An incident never mitigated stays in the bucket's incident count and in n_missing."""
    done = copy.deepcopy(GOOGLE)
    open_ = copy.deepcopy(GOOGLE)
    open_["incident"]["id"] = "still-open"
    open_["milestones"]["mitigated"] = None
    open_["milestones"]["resolved"] = None
    (tmp_path / "a.json").write_text(json.dumps(done), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(open_), encoding="utf-8")
    r = trends(load_incidents(tmp_path)).table.filter(metric="time_to_mitigate").row(0, named=True)
    assert (r["n_incidents"], r["n"], r["n_missing"]) == (2, 1, 1)
    assert "1 of 2 incidents lack this gap" in r["warning"]


def test_duplicate_ids_are_noted(tmp_path: Path) -> None:
    """The same incident id in two files is kept once and reported as a duplicate."""
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(GOOGLE), encoding="utf-8")
    inc = load_incidents(tmp_path)
    assert len(inc) == 1
    assert inc.notes.filter(kind="duplicate").height == 1


def test_recognise_contract_file(google_store: Path) -> None:
    """A file with a 'milestones' object is recognised as a store incident."""
    assert recognise(google_store / "shakespeare.json") == "store"


def test_unrecognised_json_names_file_and_keys(tmp_path: Path) -> None:
    """JSON of no known kind fails with the file name and its top-level keys."""
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    with pytest.raises(InputError, match=r"odd\.json.*top-level keys: \['hello'\]"):
        load_incidents(path)


def test_bad_source_suggests_closest(google_store: Path) -> None:
    """A misspelt source= names the closest valid one."""
    with pytest.raises(TimelineError, match="closest match is 'statuspage'"):
        load_incidents(google_store, source="statuspg")  # type: ignore[arg-type]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    """A path that does not exist fails with its name."""
    with pytest.raises(InputError, match="no such file or folder"):
        load_incidents(tmp_path / "nope")


def test_trends_accepts_pandas_table(google_store: Path) -> None:
    """trends() takes the incident table as a pandas DataFrame too."""
    pdf = load_incidents(google_store).to_pandas()
    assert isinstance(pdf, pd.DataFrame)
    r = trends(pdf).table.filter(metric="time_to_detect").row(0, named=True)
    assert r["median_s"] == 60.0


def test_trends_accepts_minimal_polars_table() -> None:
    """A bare table of milestone times is enough: gaps are computed from them."""
    df = pl.DataFrame(
        {
            "impact_start": ["2024-01-05T10:00:00Z", "2024-02-01T10:00:00Z"],
            "detected": ["2024-01-05T10:05:00Z", "2024-02-01T10:01:00Z"],
            "service": ["api", "api"],
        }
    )
    r = trends(df, every="1q").table.filter(metric="time_to_detect").row(0, named=True)
    assert (r["n"], r["median_s"]) == (2, 180.0)


def test_sample_history_loads_cleanly() -> None:
    """The committed history holds a few hundred incidents, five services, no disagreements."""
    inc = load_incidents(HISTORY)
    assert 300 <= len(inc) <= 500
    assert inc.table["service"].n_unique() == 5
    assert inc.notes.filter(pl.col("kind").is_in(["disagreement", "invalid", "duplicate"])).is_empty()
    assert sum(f.stat().st_size for f in HISTORY.glob("*.json")) < 2_000_000
