"""The committed sample incident and its generator: determinism, formats, and ground truth."""

from __future__ import annotations

import csv
import filecmp
import importlib.util
import json
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "data" / "make_sample_incident.py"
COMMITTED = ROOT / "data" / "incidents" / "2024-08-12-db-outage"
PDT = timezone(timedelta(hours=-7))
PG_PRIMARY = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (?P<tz>[A-Z]{3,4}) \[(?P<pid>\d+)\] "
    r"(?:(?P<user>\S+)@(?P<db>\S+) )?"
    r"(?P<level>LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION):  (?P<msg>.*)$"
)
WEB_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (DEBUG|INFO|WARNING|ERROR|CRITICAL) \[([\w.]+)\] (.*)$")
NGINX_LINE = re.compile(
    r'^(\S+) - (\S+) \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "(\S+) (\S+) (HTTP/[\d.]+)" (\d{3}) (\d+) "([^"]*)" "([^"]*)"$'
)
DB_REFUSED = ("sorry, too many clients already", "remaining connection slots are reserved")


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample_incident", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(name="gen", scope="module")
def fixture_gen() -> ModuleType:
    return _load_generator()


@pytest.fixture(name="seed_dir", scope="module")
def fixture_seed_dir(gen: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gen.generate(tmp_path_factory.mktemp("seed-a"), "seed")


@pytest.fixture(name="noisy_dir", scope="module")
def fixture_noisy_dir(gen: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gen.generate(tmp_path_factory.mktemp("noisy-a"), "noisy")


@pytest.fixture(name="truth", scope="module")
def fixture_truth() -> dict:
    return json.loads((COMMITTED / ".truth.json").read_text())


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _same_tree(a: Path, b: Path) -> list[str]:
    names = _files(a)
    assert names == _files(b)
    return [n for n in names if not filecmp.cmp(a / n, b / n, shallow=False)]


def _utc(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _pg_time(ts: str, tz: str) -> datetime:
    zone = {"PDT": PDT, "UTC": timezone.utc}[tz]
    return datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=zone)


def _web_time(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=PDT)


def _pg_records(path: Path) -> list[re.Match[str]]:
    return [m for line in path.read_text().splitlines() if (m := PG_PRIMARY.match(line))]


def _web_errors(path: Path) -> list[tuple[datetime, str]]:
    """Each ERROR record of web.log with its traceback joined on."""
    out: list[tuple[datetime, str]] = []
    for line in path.read_text().splitlines():
        m = WEB_LINE.match(line)
        if m:
            out.append((_web_time(m[1]), line) if m[2] == "ERROR" else (_web_time(m[1]), ""))
        elif out and out[-1][1]:
            out[-1] = (out[-1][0], out[-1][1] + "\n" + line)
    return [(t, text) for t, text in out if text]


# --------------------------------------------------------------------------- determinism and size


def test_generation_is_byte_identical(gen: ModuleType, seed_dir: Path, tmp_path: Path) -> None:
    """Generating the seed scenario twice gives byte-identical folders."""
    assert _same_tree(seed_dir, gen.generate(tmp_path / "again", "seed")) == []


def test_committed_folder_equals_fresh_generation(seed_dir: Path) -> None:
    """The committed sample incident is exactly what the generator writes now."""
    assert _same_tree(COMMITTED, seed_dir) == []


def test_noisy_generation_is_byte_identical(gen: ModuleType, noisy_dir: Path, tmp_path: Path) -> None:
    """The noisy variant is deterministic too."""
    assert _same_tree(noisy_dir, gen.generate(tmp_path / "again", "noisy")) == []


def test_committed_folder_is_a_few_mb() -> None:
    """The committed folder stays at or under 3 MB."""
    total = sum(p.stat().st_size for p in COMMITTED.rglob("*") if p.is_file())
    assert 500_000 < total <= 3_000_000


def test_unknown_variant_is_refused(gen: ModuleType, tmp_path: Path) -> None:
    """An unknown variant name raises a ValueError that lists the valid ones."""
    with pytest.raises(ValueError, match="expected one of"):
        gen.generate(tmp_path, "loud")


def test_noisy_variant_needs_an_out_dir(gen: ModuleType) -> None:
    """The noisy variant is never written into the repository by default."""
    with pytest.raises(SystemExit):
        gen.main(["--variant", "noisy"])


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("root_name", ["seed", "noisy"])
def test_postgres_stderr_lines_match_the_prefix(root_name: str, seed_dir: Path, noisy_dir: Path) -> None:
    """Every non-continuation line of the primary's stderr log matches '%m [%p] %q%u@%d '."""
    root = seed_dir if root_name == "seed" else noisy_dir
    files = sorted((root / "postgres" / "db-primary").glob("postgresql-*.log"))
    assert files
    for f in files:
        last = ""
        for n, line in enumerate(f.read_text().splitlines(), 1):
            m = PG_PRIMARY.match(line)
            if m:
                last = m["level"]
                continue
            # Only a tab-indented message continuation or the next line of a multi-line statement may lack the prefix.
            assert line.startswith("\t") or last == "STATEMENT", f"{f.name}:{n}: {line!r}"


@pytest.mark.parametrize("root_name", ["seed", "noisy"])
def test_csvlog_rows_have_26_columns(root_name: str, seed_dir: Path, noisy_dir: Path) -> None:
    """Every csvlog record read with the csv module has the 26 PostgreSQL 14+ columns."""
    root = seed_dir if root_name == "seed" else noisy_dir
    files = sorted((root / "postgres" / "db-backup").glob("postgresql-*.csv"))
    assert files
    for f in files:
        with f.open(newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows
        assert {len(r) for r in rows} == {26}, f.name
        assert all(r[0].endswith(" UTC") for r in rows)


def test_all_json_files_load(seed_dir: Path) -> None:
    """Every .json file parses, and every .jsonl line is a structlog-shaped object."""
    for f in seed_dir.rglob("*.json"):
        json.loads(f.read_text())
    for line in (seed_dir / "app" / "orders-api.jsonl").read_text().splitlines():
        rec = json.loads(line)
        assert {"event", "level", "logger", "timestamp"} <= rec.keys()
        assert rec["timestamp"].endswith("Z")


def test_slack_ts_are_epoch_strings(seed_dir: Path) -> None:
    """Slack ts and thread_ts are strings of epoch seconds with six decimals, sorted within a day file."""
    pattern = re.compile(r"^\d{10}\.\d{6}$")
    day_files = [f for f in (seed_dir / "slack").rglob("*.json") if re.match(r"\d{4}-\d\d-\d\d\.json", f.name)]
    assert len(day_files) >= 4
    for f in day_files:
        msgs = json.loads(f.read_text())
        for m in msgs:
            assert isinstance(m["ts"], str) and pattern.match(m["ts"]), m
            assert "thread_ts" not in m or pattern.match(m["thread_ts"])
            day = datetime.fromtimestamp(float(m["ts"]), timezone.utc).strftime("%Y-%m-%d")
            assert f.name == f"{day}.json"
        assert [float(m["ts"]) for m in msgs] == sorted(float(m["ts"]) for m in msgs)


def test_web_log_and_nginx_lines_parse(seed_dir: Path) -> None:
    """web.log lines are records or traceback continuations; nginx lines are 'combined'."""
    for line in (seed_dir / "app" / "web.log").read_text().splitlines():
        assert WEB_LINE.match(line) or line.startswith(("Traceback", "  ", "psycopg2.")) or line == "", line
    for line in (seed_dir / "nginx" / "access.log").read_text().splitlines():
        assert NGINX_LINE.match(line), line


def test_zendesk_export_shape(seed_dir: Path) -> None:
    """The ticket export has the incremental-export envelope and real ticket fields."""
    export = json.loads((seed_dir / "tickets" / "zendesk-tickets.json").read_text())
    assert export["end_of_stream"] is True and export["count"] == len(export["tickets"])
    fields = {"id", "subject", "status", "priority", "group_id", "assignee_id", "created_at", "updated_at", "via", "tags"}
    assert all(fields <= t.keys() for t in export["tickets"])


# --------------------------------------------------------------------------- ground truth


def test_truth_has_every_milestone(truth: dict) -> None:
    """truth.json names every milestone with a UTC time, and two mitigation attempts."""
    names = {"trigger", "impact_start", "detected", "escalated", "acknowledged", "identified", "mitigated", "resolved"}
    assert names == truth["milestones"].keys()
    times = [_utc(truth["milestones"][n]["at"]) for n in
             ("trigger", "impact_start", "detected", "escalated", "acknowledged", "identified", "mitigated", "resolved")]
    assert times == sorted(times)
    assert all(t.utcoffset() == timedelta(0) for t in times)
    assert [a["effective"] for a in truth["mitigation_attempts"]] == [False, True]
    assert truth["milestones"]["detected"]["by"] == "customer"


def test_first_refusal_is_impact_start(truth: dict) -> None:
    """The first connection refusal on db-primary after the trigger is exactly impact_start."""
    trigger = _utc(truth["milestones"]["trigger"]["at"])
    recs = _pg_records(COMMITTED / "postgres" / "db-primary" / "postgresql-2024-08-12.log")
    refusals = [_pg_time(m["ts"], m["tz"]) for m in recs if m["level"] == "FATAL" and m["msg"].startswith(DB_REFUSED)]
    first = min(t for t in refusals if t >= trigger)
    assert first == _utc(truth["milestones"]["impact_start"]["at"])
    assert max(refusals) == _utc(truth["milestones"]["mitigated"]["at"])


def test_app_errors_start_with_impact_and_stop_at_mitigation(truth: dict) -> None:
    """web.log's DB errors start within a second of impact_start and none follow 'mitigated'."""
    impact = _utc(truth["milestones"]["impact_start"]["at"])
    mitigated = _utc(truth["milestones"]["mitigated"]["at"])
    errors = [t for t, text in _web_errors(COMMITTED / "app" / "web.log") if "too many clients" in text or "reserved" in text]
    assert timedelta(0) <= errors[0] - impact < timedelta(seconds=1)
    assert max(errors) <= mitigated
    jsonl = [json.loads(line) for line in (COMMITTED / "app" / "orders-api.jsonl").read_text().splitlines()]
    api = [_utc(r["timestamp"]) for r in jsonl if r["event"] == "db_connect_failed"]
    assert min(api) >= impact and max(api) <= mitigated


def test_errors_continue_after_the_rollback(truth: dict) -> None:
    """Refusals keep coming between the rollback and the failover: the rollback was not effective."""
    rollback, failover = (_utc(a["at"]) for a in truth["mitigation_attempts"])
    recs = _pg_records(COMMITTED / "postgres" / "db-primary" / "postgresql-2024-08-12.log")
    between = [m for m in recs if m["level"] == "FATAL" and m["msg"].startswith(DB_REFUSED)
               and rollback + timedelta(minutes=2) <= _pg_time(m["ts"], m["tz"]) <= failover]
    assert len(between) > 50
    assert any("max_connections" in m["msg"] and "cannot be changed" in m["msg"]
               and rollback <= _pg_time(m["ts"], m["tz"]) <= failover for m in recs)


def test_nginx_5xx_begin_at_impact(truth: dict) -> None:
    """The first 5xx on /account or /orders after the trigger is in the same second as impact_start."""
    trigger = _utc(truth["milestones"]["trigger"]["at"])
    impact = _utc(truth["milestones"]["impact_start"]["at"])
    first = None
    for line in (COMMITTED / "nginx" / "access.log").read_text().splitlines():
        m = NGINX_LINE.match(line)
        assert m
        t = datetime.strptime(m[3], "%d/%b/%Y:%H:%M:%S %z")
        if t >= trigger - timedelta(seconds=1) and m[7].startswith("5") and m[5].startswith(("/account", "/orders")):
            first = t
            break
    assert first is not None and abs(first - impact) < timedelta(seconds=1)


def test_detection_escalation_and_chat_milestones_are_in_the_evidence(truth: dict) -> None:
    """detected is the first ticket, escalated its group change, and the chat milestones are real messages."""
    ms = truth["milestones"]
    tickets = json.loads((COMMITTED / "tickets" / "zendesk-tickets.json").read_text())["tickets"]
    after = sorted(_utc(t["created_at"]) for t in tickets if _utc(t["created_at"]) >= _utc(ms["impact_start"]["at"]))
    assert after[0] == _utc(ms["detected"]["at"])
    audits = json.loads((COMMITTED / "tickets" / "zendesk-ticket-audits.json").read_text())["audits"]
    moves = [_utc(a["created_at"]) for a in audits
             if any(e.get("field_name") == "group_id" and e["type"] == "Change" and e["value"] == "360004412299"
                    for e in a["events"])]
    assert min(moves) == _utc(ms["escalated"]["at"])
    chat = json.loads((COMMITTED / "slack" / "incident-db" / "2024-08-12.json").read_text())
    by_ts = {datetime.fromtimestamp(float(m["ts"]), timezone.utc): m.get("text", "") for m in chat}
    assert "investigating" in by_ts[_utc(ms["acknowledged"]["at"])]
    assert "found it" in by_ts[_utc(ms["identified"]["at"])]
    assert "resolved" in by_ts[_utc(ms["resolved"]["at"])]


def test_changes_log_holds_trigger_and_attempts(truth: dict) -> None:
    """changes.csv has rows at the trigger and at both mitigation attempts, and an earlier frontend deploy."""
    with (COMMITTED / "changes" / "changes.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    at = {datetime.fromisoformat(r["time"]): r for r in rows}
    assert at[_utc(truth["milestones"]["trigger"]["at"])]["target"] == "db-primary"
    assert [at[_utc(a["at"])]["target"] for a in truth["mitigation_attempts"]] == ["db-primary", "db-backup"]
    deploys = [t for t, r in at.items() if r["target"] == "frontend"]
    assert deploys and timedelta(0) < _utc(truth["milestones"]["trigger"]["at"]) - deploys[0] < timedelta(minutes=15)


def test_readme_states_the_truth(truth: dict) -> None:
    """The folder README quotes every ground-truth time from truth.json."""
    readme = (COMMITTED / "README.md").read_text()
    for m in truth["milestones"].values():
        assert m["at"] in readme


def test_noisy_truth_matches_its_data(noisy_dir: Path) -> None:
    """In the noisy variant the first statement timeout after the trigger is impact_start, and staff detected it."""
    truth = json.loads((noisy_dir / ".truth.json").read_text())
    trigger = _utc(truth["milestones"]["trigger"]["at"])
    recs = [m for f in sorted((noisy_dir / "postgres" / "db-primary").glob("*.log")) for m in _pg_records(f)]
    timeouts = [_pg_time(m["ts"], m["tz"]) for m in recs if m["level"] == "ERROR" and "statement timeout" in m["msg"]]
    assert min(t for t in timeouts if t >= trigger) == _utc(truth["milestones"]["impact_start"]["at"])
    assert truth["milestones"]["detected"]["by"] == "staff"
    assert len([t for t in timeouts if t < trigger]) >= 2  # the nightly job's timeouts are decoys


def test_noisy_variant_has_nightly_bursts_and_a_decoy_deploy(noisy_dir: Path) -> None:
    """Both nights carry the unrelated export error burst, and a deploy lands 5 minutes before the trigger."""
    lines = [json.loads(x) for x in (noisy_dir / "app" / "orders-api.jsonl").read_text().splitlines()]
    nights = {r["timestamp"][:10] for r in lines if r["event"] == "invoice_export_failed"}
    assert nights == {"2024-10-02", "2024-10-03"}
    with (noisy_dir / "changes" / "changes.csv").open(newline="") as fh:
        rows = {datetime.fromisoformat(r["time"]): r for r in csv.DictReader(fh)}
    truth = json.loads((noisy_dir / ".truth.json").read_text())
    trigger = _utc(truth["milestones"]["trigger"]["at"])
    assert rows[trigger - timedelta(minutes=5)]["what"].startswith("Deploy")
