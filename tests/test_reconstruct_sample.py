"""The sample outage reconstructs the seed postmortem's timeline, and what the postmortem missed."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import timeline as tl
from timeline.reconstruct import reconstruct

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "incidents" / "2024-08-12-db-outage"
TZ = "America/Los_Angeles"


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


@pytest.fixture(name="truth", scope="module")
def fixture_truth() -> dict:
    """The ground truth recorded by the sample's generator."""
    return json.loads((SAMPLE / ".truth.json").read_text())


@pytest.fixture(name="events", scope="module")
def fixture_events():
    """The sample outage, read as a user would."""
    return tl.read(SAMPLE, tz=TZ, quiet=True)


@pytest.fixture(name="incident", scope="module")
def fixture_incident(events):
    """The reconstructed sample outage."""
    return reconstruct(events, tz=TZ)


@pytest.fixture(name="noisy", scope="module")
def fixture_noisy(tmp_path_factory):
    """The noisier variant: another day, a deploy minutes before the trigger, a daily cron burst, chat talk."""
    out = tmp_path_factory.mktemp("noisy")
    subprocess.run([sys.executable, str(REPO / "data" / "make_sample_incident.py"), "--variant", "noisy", "--out", str(out)], check=True)
    truth = json.loads((out / ".truth.json").read_text())
    events = tl.read(out, tz=truth.get("timezone", TZ), quiet=True)
    assert events.rejected == 0, {a.file: a.rejected_reasons for a in events.account if a.rejected}
    return truth, reconstruct(events, tz=truth.get("timezone", TZ))


def test_nothing_rejected(events):
    """Every file of the sample is read with no line rejected."""
    bad = {a.file: a.rejected_reasons for a in events.account if a.rejected}
    assert bad == {}
    assert all(a.format for a in events.account)


def _close(got: dt.datetime | None, want: str, seconds: float) -> bool:
    return got is not None and abs((got - _at(want)).total_seconds()) <= seconds


@pytest.mark.parametrize(
    ("name", "tolerance"),
    [("impact_start", 5), ("detected", 60), ("escalated", 60), ("acknowledged", 60), ("identified", 60), ("mitigated", 120), ("resolved", 60)],
)
def test_milestones_match_truth(incident, truth, name, tolerance):
    """Each milestone lands within a minute of the truth (machine ones within seconds)."""
    want = truth["milestones"][name]["at"]
    got = incident.at(name)
    assert _close(got, want, tolerance), f"{name}: got {got}, want {want}"


def test_trigger_is_the_maintenance_change(incident, truth):
    """The trigger is the config change on the failing database, not the unrelated deploy before it."""
    trig = incident.milestones["trigger"]
    assert trig is not None
    assert abs((trig.at - _at(truth["milestones"]["trigger"]["at"])).total_seconds()) <= 60
    assert "db-primary" in trig.rule
    assert any("max_connections" in e.message or "CHG-2231" in e.message for e in trig.evidence)


def test_customers_detected_it_before_any_alert(incident):
    """No alert fired: the first customer ticket is the detection, 15 minutes after impact began."""
    det = incident.milestones["detected"]
    assert det.by == "customer"
    assert incident.gaps["time_to_detect"] > 10 * 60
    assert incident.at("impact_start") < incident.at("detected")


def test_rollback_failed_and_failover_worked(incident, truth):
    """The 15:30 rollback did not stop the errors; the 15:45 failover did."""
    attempts = incident.attempts
    rollbacks = [a for a in attempts if a.action == "rollback"]
    failovers = [a for a in attempts if a.action == "failover"]
    assert rollbacks and failovers
    assert not rollbacks[0].effective
    assert failovers[0].effective
    assert rollbacks[0].at < failovers[0].at
    for a, want in zip([rollbacks[0], failovers[0]], truth["mitigation_attempts"], strict=False):
        assert _close(a.at, want["at"], 120)


def test_every_milestone_cites_a_log_line(incident):
    """Every found milestone points at the file and line that proves it."""
    for name, m in incident.milestones.items():
        if m is None or m.confidence == "low":
            continue
        assert m.evidence, name
        assert all(e.file and e.line for e in m.evidence), name


def test_earliest_machine_signal_precedes_detection(incident):
    """The errors were in the logs long before the first customer ticket."""
    s = incident.signal
    assert s is not None
    assert s.lead_time_s is not None and s.lead_time_s > 10 * 60


def test_json_follows_the_contract(incident):
    """to_json has the contract's keys, ISO UTC times and nulls for what was not found."""
    data = json.loads(incident.to_json())
    assert set(data) >= {"incident", "milestones", "mitigation_attempts", "gaps", "earliest_machine_signal", "entries", "ingest"}
    assert set(data["milestones"]) == {"trigger", "impact_start", "detected", "escalated", "acknowledged", "identified", "mitigated", "resolved"}
    assert set(data["gaps"]) >= {f"{g}_s" for g in ("time_to_detect", "time_to_escalate", "time_to_acknowledge", "time_to_identify", "time_to_mitigate", "time_to_resolve")}
    assert data["milestones"]["detected"]["by"] == "customer"
    for m in data["milestones"].values():
        if m is not None:
            assert m["at"].endswith("+00:00")
            assert set(m) >= {"at", "confidence", "rule", "evidence"}
    for f in data["ingest"]:
        assert set(f) == {"file", "format", "lines", "events", "continuation_lines", "rejected"}


def test_override_keeps_inferred_value_and_moves_gaps(events):
    """A person's correction replaces the milestone, keeps the inferred one beside it, and the gaps follow."""
    inc = reconstruct(events, tz=TZ)
    inferred = inc.at("detected")
    inc.set("detected", "2024-08-12T14:25:00", by="staff", note="on-call saw the dashboard")
    m = inc.milestones["detected"]
    assert m.inferred is not None and m.inferred.at == inferred
    assert m.by == "staff"
    assert inc.gaps["time_to_detect"] == (m.at - inc.at("impact_start")).total_seconds()
    data = json.loads(inc.to_json())
    assert data["milestones"]["detected"]["overridden"] is True


def test_annotations_file(events, tmp_path):
    """An annotations file overrides milestones the same way."""
    path = tmp_path / "notes.toml"
    path.write_text('[milestones.identified]\nat = "2024-08-12T14:55:00-07:00"\nnote = "DBA knew earlier"\n')
    inc = reconstruct(events, tz=TZ, annotations=path)
    assert inc.at("identified") == dt.datetime(2024, 8, 12, 21, 55, tzinfo=dt.UTC)
    assert inc.milestones["identified"].note == "DBA knew earlier"


def test_noisy_variant_finds_the_real_trigger_and_window(noisy):
    """With a deploy just before the trigger, a daily cron burst and chat talk, the milestones still land."""
    truth, inc = noisy
    tm = truth["milestones"]
    assert _close(inc.at("impact_start"), tm["impact_start"]["at"], 10)
    assert _close(inc.at("trigger"), tm["trigger"]["at"], 90)
    assert _close(inc.at("detected"), tm["detected"]["at"], 60)
    assert inc.milestones["detected"].by == tm["detected"]["by"]
    talk = [a for a in inc.attempts if "?" in a.text]
    assert talk == []
    assert _close(inc.at("mitigated"), tm["mitigated"]["at"], 60)
    judged = {a.effective for a in inc.attempts if any(_close(a.at, t["at"], 120) for t in truth["mitigation_attempts"])}
    assert judged == {True, False}
    for a in inc.attempts:
        want = next((t for t in truth["mitigation_attempts"] if _close(a.at, t["at"], 120)), None)
        assert want is not None, f"attempt not in the truth: {a.at} {a.text}"
        assert a.effective == want["effective"], a.text


def test_gaps_never_negative(incident):
    """No gap is negative."""
    assert all(v is None or v >= 0 for v in incident.gaps.values())


def test_shuffled_events_give_the_same_incident(events):
    """The order of the event table does not matter."""
    shuffled = events.df.sample(fraction=1.0, shuffle=True, seed=7)
    a = json.loads(reconstruct(events, tz=TZ).to_json())
    b = json.loads(reconstruct(shuffled, tz=TZ).to_json())
    a.pop("ingest")
    b.pop("ingest")
    assert a == b


def test_unrelated_noise_long_before_changes_nothing(events):
    """Errors and chatter a week earlier do not move any milestone."""
    df = events.df
    week = dt.timedelta(days=7)
    early = df.filter(pl.col("ts") < df["ts"].min() + dt.timedelta(hours=1)).with_columns(
        (pl.col("ts") - week).alias("ts"), pl.lit("/elsewhere/old.log").alias("file")
    )
    noise = early.with_columns(pl.lit("error").cast(df.schema["level"]).alias("level"), pl.lit("unrelated disk warning on backup host").alias("message"))
    base = reconstruct(df, tz=TZ)
    noisy = reconstruct(pl.concat([noise, df]), tz=TZ)
    for name in base.milestones:
        assert base.at(name) == noisy.at(name), name
