"""The generic reader: logs no spec fits are read, not rejected, and the account says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import timeline as tl
from timeline.sources import _generic
from timeline.sources._zones import NaiveTimeWarning, naive_time_warning


def _read(tmp_path: Path, name: str, text: str, **options):
    path = tmp_path / name
    path.write_text(text)
    events = tl.read(path, quiet=True, **options)
    return events.df, events.account[0]


def test_plain_python_layout_with_continuation_lines(tmp_path: Path) -> None:
    text = (
        "2024-08-12 14:16:03,118 INFO worker started\n"
        "2024-08-12 14:16:04,512 ERROR request failed\n"
        "Traceback (most recent call last):\n"
        '  File "/srv/app/db.py", line 41, in connect\n'
        "psycopg2.OperationalError: too many clients\n"
        "2024-08-12 14:16:05,250 WARNING retry in 10s\n"
    )
    df, account = _read(tmp_path, "app.log", text, tz="America/Los_Angeles")
    assert account.generic and account.format == "generic_text"
    assert (account.events, account.continuation_lines, account.rejected) == (3, 3, 0)
    assert df["level"].to_list() == ["info", "error", "warning"]
    assert "too many clients" in df["message"][1]
    assert df["ts"][0].isoformat() == "2024-08-12T21:16:03.118000+00:00"
    assert any("generic reader" in w and "--format" in w for w in account.warnings)


@pytest.mark.parametrize(
    ("lines", "levels", "first_ts", "message"),
    [
        (  # ts / numeric lvl / msg, epoch milliseconds
            ['{"ts":1723472163118,"lvl":30,"msg":"listening"}', '{"ts":1723472164512,"lvl":50,"msg":"upstream reset"}'],
            ["info", "error"], "2024-08-12T14:16:03.118000+00:00", "listening",
        ),
        (  # MongoDB 4.4+ structured log
            ['{"t":{"$date":"2024-08-12T14:16:03.118+00:00"},"s":"I","c":"NETWORK","id":22943,"ctx":"listener","msg":"Connection accepted"}',
             '{"t":{"$date":"2024-08-12T14:16:04.512+00:00"},"s":"E","c":"STORAGE","id":22435,"ctx":"conn7","msg":"WiredTiger error"}'],
            ["info", "error"], "2024-08-12T14:16:03.118000+00:00", "Connection accepted",
        ),
        (  # Rust tracing JSON
            ['{"timestamp":"2024-08-12T14:16:03.118Z","level":"INFO","fields":{"message":"serving on 0.0.0.0:8080"},"target":"api"}',
             '{"timestamp":"2024-08-12T14:16:04.512Z","level":"WARN","fields":{"message":"slow query","ms":812},"target":"api::db"}'],
            ["info", "warning"], "2024-08-12T14:16:03.118000+00:00", "serving on 0.0.0.0:8080",
        ),
        (  # journalctl --output=json: microseconds since the epoch as text, syslog priorities
            ['{"__REALTIME_TIMESTAMP":"1723472163118000","PRIORITY":"6","_HOSTNAME":"db-1","SYSLOG_IDENTIFIER":"postgres","MESSAGE":"database system is ready"}',
             '{"__REALTIME_TIMESTAMP":"1723472164512000","PRIORITY":"3","_HOSTNAME":"db-1","SYSLOG_IDENTIFIER":"postgres","MESSAGE":"could not fork"}'],
            ["info", "error"], "2024-08-12T14:16:03.118000+00:00", "database system is ready",
        ),
        (  # Cloud Logging export: textPayload on one, jsonPayload.message on the other
            ['{"insertId":"a1","timestamp":"2024-08-12T14:16:03.118Z","severity":"INFO","textPayload":"Started container"}',
             '{"insertId":"a2","timestamp":"2024-08-12T14:16:04.512Z","severity":"ERROR","jsonPayload":{"message":"payment timeout"}}'],
            ["info", "error"], "2024-08-12T14:16:03.118000+00:00", "Started container",
        ),
    ],
)
def test_json_lines_with_their_own_keys(tmp_path: Path, lines: list[str], levels: list[str], first_ts: str, message: str) -> None:
    df, account = _read(tmp_path, "x.jsonl", "\n".join(lines) + "\n")
    assert account.rejected == 0 and account.events == len(lines)
    assert df["level"].to_list() == levels
    assert df["ts"][0].isoformat() == first_ts
    assert df["message"][0] == message


def test_cloud_logging_json_payload_message_is_the_message(tmp_path: Path) -> None:
    lines = [
        '{"timestamp":"2024-08-12T14:16:0%d.118Z","severity":"ERROR","jsonPayload":{"message":"payment timeout %d"}}' % (i, i)
        for i in range(6)
    ]
    df, account = _read(tmp_path, "gcp.jsonl", "\n".join(lines) + "\n")
    assert df["message"].to_list() == [f"payment timeout {i}" for i in range(6)]
    assert set(df["level"].to_list()) == {"error"}


@pytest.mark.parametrize("pod", [True, False], ids=["cloudnativepg", "other_envelope"])
def test_envelope_whose_message_key_is_a_label_is_not_read_as_that_label(tmp_path: Path, pod: bool) -> None:
    # CloudNativePG: every PostgreSQL line arrives as msg "record" with the csvlog fields under "record".
    # Without CNPG's logging_pod key, no spec knows the envelope: the zap spec reads the lines but every
    # message would be "record", so it is marked down and the generic reader takes the nested message.
    rows = []
    for i, (sev, msg) in enumerate([("LOG", "checkpoint starting: time"), ("ERROR", 'relation "orders" does not exist'),
                                    ("LOG", "checkpoint complete"), ("PANIC", "could not write to file pg_wal/xlogtemp"),
                                    ("LOG", "connection received"), ("LOG", "connection authorized")]):
        row = {"level": "info", "ts": f"2024-08-12T14:16:0{i}.118Z", "logger": "postgres", "msg": "record",
               "record": {"log_time": f"2024-08-12 14:16:0{i}.118 UTC", "error_severity": sev,
                          "sql_state_code": "42P01" if sev == "ERROR" else "00000", "message": msg}}
        if pod:
            row["logging_pod"] = "pg-1"
        rows.append(json.dumps(row))
    df, account = _read(tmp_path, "cnpg.json", "\n".join(rows) + "\n")
    assert account.rejected == 0
    assert account.format == ("cloudnativepg_json" if pod else "generic_json")
    assert "record" not in df["message"].to_list()
    assert df.filter(pl.col("level") == "error")["message"].to_list() == ['relation "orders" does not exist']
    assert df.filter(pl.col("level") == "critical")["message"].to_list() == ["could not write to file pg_wal/xlogtemp"]
    if not pod:
        assert any(name == "zap_json" for name, _ in account.sniff)  # the runner-up stays in the account


def test_every_time_shape_reads_its_sample(tmp_path: Path) -> None:
    for shape, spec in zip(_generic.table()["text"]["shapes"], _generic.text_specs(), strict=True):
        path = tmp_path / f"{shape['name']}.log"
        path.write_text(shape["sample"] + "\n  continued on an indented line\n")
        events = tl.read(path, quiet=True, format=spec, year=2024, date="2024-08-12")
        a = events.account[0]
        assert (a.events, a.continuation_lines, a.rejected) == (1, 1, 0), shape["name"]
        assert events.df["ts"][0].year == 2024, shape["name"]


def test_a_shape_is_chosen_by_the_events_it_starts(tmp_path: Path) -> None:
    text = "\n".join(f"24/08/12 14:16:0{i} batch {i} finished, 42 rows" for i in range(5)) + "\n"
    df, account = _read(tmp_path, "spark.log", text)
    assert account.generic and account.events == 5 and account.rejected == 0
    assert df["ts"][0].isoformat() == "2024-08-12T14:16:00+00:00"


def test_lines_before_the_first_time_are_the_only_ones_rejected(tmp_path: Path) -> None:
    text = "banner without a time\n2024-08-12T14:16:03Z ERROR boom\n  detail\n"
    _, account = _read(tmp_path, "b.log", text)
    assert (account.events, account.continuation_lines, account.rejected) == (1, 1, 1)
    assert account.balanced


def test_a_file_without_any_time_is_rejected_with_help(tmp_path: Path) -> None:
    _, account = _read(tmp_path, "plain.txt", "hello\nworld\n")
    assert account.events == 0 and account.rejected == 2
    assert any("format=" in reason for reason in account.rejected_reasons)


def test_a_spec_that_fits_still_wins(tmp_path: Path) -> None:
    text = "2024-08-12 14:16:03,118 INFO [web.request] GET /account 200 in 35ms\n"
    _, account = _read(tmp_path, "app.log", text)
    assert account.format == "python_logging" and not account.generic


def test_naive_times_are_warned_about_with_the_zone_other_files_suggest(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("2024-08-12 14:16:03,118 INFO [web] GET /account 200\n2024-08-12 14:20:04,512 ERROR [web] failed\n")
    (tmp_path / "db.log").write_text(
        "2024-08-12 21:15:00.118 UTC [4242] LOG:  checkpoint starting: time\n2024-08-12 21:25:00.118 UTC [4242] LOG:  checkpoint complete\n"
    )
    with pytest.warns(NaiveTimeWarning, match="UTC-07:00"):
        events = tl.read(tmp_path, quiet=True)
    assert "app.log" in (events.zone_warning or "") and "db.log:" not in (events.zone_warning or "")
    assert "America/Los_Angeles" in (events.zone_warning or "")
    # Read with the zone, the warning goes.
    assert tl.read(tmp_path, quiet=True, tz={"app.log": "America/Los_Angeles"}).zone_warning is None


def test_no_zone_is_suggested_when_several_fit(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("2024-08-12 14:16:03,118 INFO [web] GET /account 200\n")
    (tmp_path / "db.log").write_text(
        "2024-08-11 21:15:00.118 UTC [4242] LOG:  checkpoint starting\n2024-08-13 21:25:00.118 UTC [4242] LOG:  checkpoint complete\n"
    )
    with pytest.warns(NaiveTimeWarning):
        events = tl.read(tmp_path, quiet=True)
    assert "line up" not in (events.zone_warning or "")
    assert naive_time_warning([a for a in events.account if a.file.endswith("db.log")]) is None


def test_timeline_read_exits_non_zero_when_a_file_yields_no_event(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("2024-08-12 14:16:03,118 INFO [web] GET /account 200\n")
    (tmp_path / "notes.log").write_text("just words\nno times at all\n")
    run = subprocess.run([sys.executable, "-m", "timeline.cli", "read", str(tmp_path), "--tz", "UTC"], capture_output=True, text=True)
    assert run.returncode == 1
    assert "notes.log" in run.stderr
    ok = subprocess.run([sys.executable, "-m", "timeline.cli", "read", str(tmp_path / "app.log"), "--tz", "UTC"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_one_pretty_printed_json_object_is_read_whole(tmp_path: Path) -> None:
    body = {
        "webhookEvent": "jira:issue_updated", "timestamp": 1723497363118,
        "issue": {"key": "OPS-42", "fields": {"summary": "Checkout failing", "status": {"name": "In Progress"}}},
        "message": "OPS-42 moved to In Progress",
    }
    text = json.dumps(body, indent=2) + "\n"
    df, account = _read(tmp_path, "webhook.json", text)
    assert account.events == 1 and account.rejected == 0 and account.balanced
    assert account.lines == text.count("\n")
    assert df["message"][0] == "OPS-42 moved to In Progress"
    assert df["ts"][0].isoformat() == "2024-08-12T21:16:03.118000+00:00"


def test_a_json_object_with_no_time_is_rejected_as_one_document(tmp_path: Path) -> None:
    _, account = _read(tmp_path, "config.json", json.dumps({"name": "shop", "replicas": 3, "labels": {"team": "payments"}}, indent=2))
    assert account.events == 0 and account.balanced
    assert any("JSON document" in r for r in account.rejected_reasons)


@pytest.mark.parametrize("sep", [";", "\t", ","])
def test_csv_exports_are_read_whatever_their_separator(tmp_path: Path, sep: str) -> None:
    rows = [["Key", "Created", "Summary", "Reporter"], ["OPS-42", "2024-08-12 14:31", "Checkout failing; 502s", "lee"],
            ["OPS-43", "2024-08-12 15:02", "Refunds slow", "sam"]]
    text = "\n".join(sep.join(f'"{c}"' if sep in c else c for c in r) for r in rows) + "\n"
    path = tmp_path / "export.csv"
    path.write_text(text)
    events = tl.read(path, quiet=True, format="generic", tz="UTC",
                     column_map={"ts": "Created", "message": "Summary", "actor": "Reporter", "ref": "Key"})
    df = events.df.sort("ts")
    assert df["ref"].to_list() == ["OPS-42", "OPS-43"]
    assert df["message"][0] == "Checkout failing; 502s"
    assert df["actor"].to_list() == ["lee", "sam"]


def test_a_spec_is_recognised_on_records_even_after_a_long_head_of_continuation_lines(tmp_path: Path) -> None:
    # A file cut at a rotation: it opens inside a long traceback, then records follow.
    head = "".join(f'  File "/srv/app/mod{i}.py", line {i}, in f{i}\n' for i in range(30))
    records = "".join(f"2024-08-12 14:16:0{i},118 ERROR [web.db] request failed {i}\n" for i in range(5))
    _, account = _read(tmp_path, "app.log", head + records, tz="UTC")
    assert account.format == "python_logging" and account.events == 5
    assert account.rejected == 30  # the lines before the first record belong to no record


def test_zap_console_encoder_lines(tmp_path: Path) -> None:
    text = (
        '2024-08-12T14:16:03.118-0700\tINFO\tserver/main.go:42\tlistening\t{"addr": ":8080"}\n'
        '2024-08-12T14:16:04.512-0700\tERROR\tdb/pool.go:88\tpool exhausted\t{"waiting": 42}\n'
        "main.(*Pool).Get\n\t/src/db/pool.go:88\n"
    )
    df, account = _read(tmp_path, "api.log", text)
    assert (account.events, account.continuation_lines, account.rejected) == (2, 2, 0)
    assert df["level"].to_list() == ["info", "error"]
    assert df["ts"][1].isoformat() == "2024-08-12T21:16:04.512000+00:00"
    assert not account.tz_assumed  # the offset is on every line


def test_timeline_read_prints_the_naive_time_warning(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("2024-08-12 14:16:03,118 INFO [web] GET /account 200\n")
    run = subprocess.run([sys.executable, "-m", "timeline.cli", "read", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "WARNING: times in 1 file(s) carry no zone" in run.stdout and "--tz" in run.stdout
    given = subprocess.run([sys.executable, "-m", "timeline.cli", "read", str(tmp_path), "--tz", "Europe/Paris"], capture_output=True, text=True)
    assert "WARNING: times" not in given.stdout


def test_pretty_printed_json_records_one_after_another_are_each_one_record(tmp_path: Path) -> None:
    records = [
        {"time": "2024-08-12T21:16:03.118Z", "level": "error", "msg": "payment timeout"},
        {"time": "2024-08-12T21:16:04.512Z", "level": "info", "msg": "retry ok"},
        {"level": "info", "msg": "no time here"},
    ]
    text = "\n\n".join(json.dumps(r, indent=2) for r in records) + "\n"
    df, account = _read(tmp_path, "jq-output.json", text)
    assert account.balanced and account.events == 2
    assert df["message"].to_list() == ["payment timeout", "retry ok"]
    assert df["line"].to_list() == [1, 7]
    # The record without a time is rejected whole, its first line with the reason and the rest with it.
    assert account.rejected == 4 and account.blank == 2  # its 4 lines
