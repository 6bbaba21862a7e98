"""Reading application logs: sniffing, forcing, user spec folders, and time done right."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from timeline.sources import read, read_file
from timeline.sources._spec import load_specs

APP_FORMATS = [
    "structlog_json", "logrus_json", "zap_json", "pino_json", "bunyan_json", "ecs_json", "otel_json",
    "docker_json", "logfmt", "python_logging", "log4j", "glog", "nginx_access", "apache_access",
    "nginx_error", "apache_error", "cri", "syslog_rfc3164", "syslog_rfc5424",
]
UTC = dt.UTC


def _write_samples(folder, name):
    spec = load_specs()[name]
    path = folder / f"{name}.log"
    path.write_text("\n".join(s.text for s in spec.samples) + "\n", encoding="utf-8")
    return path, spec


@pytest.mark.parametrize("name", APP_FORMATS)
def test_sniffing_picks_the_format_of_a_file(tmp_path, name):
    """A file holding a format's samples is recognised as that format, every line accounted for."""
    path, spec = _write_samples(tmp_path, name)
    events, account = read_file(path, year=2024, date=dt.date(2024, 8, 12))
    assert account.format == name
    assert account.confidence >= 0.9
    assert account.rejected == 0
    assert account.balanced
    assert events.height == sum(int(s.expect.get("events", 1)) for s in spec.samples)


def test_mixed_folder_gets_one_format_per_file(tmp_path):
    """A folder of different formats is read with the right spec for each file."""
    names = ["zap_json", "logfmt", "nginx_access", "log4j", "cri", "syslog_rfc5424"]
    for name in names:
        sub = tmp_path / name.split("_")[0]
        sub.mkdir(exist_ok=True)
        _write_samples(sub, name)
    table = read(tmp_path, quiet=True)
    formats = {os.path.basename(a.file).removesuffix(".log"): a.format for a in table.account}
    assert formats == {n: n for n in names}
    assert all(a.balanced for a in table.account)
    assert table.df["ts"].is_sorted()


def test_forcing_a_format_overrides_the_sniffer(tmp_path):
    """format= names the spec; the account says it was given (confidence 1)."""
    path = tmp_path / "access.log"
    path.write_text('10.0.1.5 - - [12/Aug/2024:14:16:04 -0700] "GET /api/orders HTTP/1.1" 503 299 "-" "curl/8.5.0"\n')
    table = read(path, format={"*.log": "apache_access"}, quiet=True)
    assert table.account[0].format == "apache_access"
    assert table.account[0].confidence == 1.0
    assert table.df["level"].to_list() == ["error"]
    assert table.df["message"].to_list() == ["GET /api/orders HTTP/1.1 503"]


def test_access_log_status_sets_the_level(tmp_path):
    """5xx is an error, 4xx a warning, the rest info."""
    path = tmp_path / "access.log"
    path.write_text(
        "".join(
            f'10.0.1.5 - - [12/Aug/2024:21:16:0{i} +0000] "GET /x HTTP/1.1" {status} 10 "-" "curl/8.5.0"\n'
            for i, status in enumerate([200, 302, 404, 499, 500, 504])
        )
    )
    table = read(path, quiet=True)
    assert table.df["level"].to_list() == ["info", "info", "warning", "warning", "error", "error"]


def test_user_spec_folder_adds_a_format(tmp_path):
    """A spec file in formats_dir= is sniffed like the shipped ones."""
    specs = tmp_path / "formats"
    specs.mkdir()
    (specs / "billing.toml").write_text(
        """
name = "billing_batch"
kind = "regex"
[[patterns]]
name = "line"
regex = '^BILL (?P<ts>\\d{8}T\\d{6}) (?P<level>OK|FAIL) (?P<message>.*)$'
[timestamp]
formats = ["%Y%m%dT%H%M%S"]
[columns]
level = "level"
message = "message"
[levels]
info = ["OK"]
error = ["FAIL"]
[[samples]]
text = "BILL 20240812T211604 FAIL card declined for 4 invoices"
level = "error"
"""
    )
    log = tmp_path / "logs" / "billing.txt"
    log.parent.mkdir()
    log.write_text("BILL 20240812T211600 OK run started\nBILL 20240812T211604 FAIL card declined\n")
    table = read(log, formats_dir=specs, quiet=True)
    assert table.account[0].format == "billing_batch"
    assert table.df["level"].to_list() == ["info", "error"]


def _zoned_spec_dir(tmp_path):
    folder = tmp_path / "zoned"
    folder.mkdir()
    (folder / "zoned.toml").write_text(
        """
name = "zoned_app"
kind = "regex"
[[patterns]]
name = "line"
regex = '^(?P<ts>\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(?: \\S+)?) (?P<level>[A-Z]+) (?P<message>.*)$'
[timestamp]
formats = ["%Y-%m-%d %H:%M:%S"]
[columns]
level = "level"
message = "message"
[[samples]]
text = "2024-08-12 14:16:04 PDT ERROR pool exhausted"
ts = "2024-08-12T21:16:04+00:00"
"""
    )
    return folder


def test_zone_abbreviations_and_offsets_are_honoured_per_line(tmp_path):
    """PDT, CEST, MSK, GMT and numeric offsets written on each line give the right UTC instant."""
    log = tmp_path / "app.log"
    log.write_text(
        "2024-08-12 14:16:04 PDT ERROR a\n"
        "2024-08-12 23:16:04 CEST ERROR b\n"
        "2024-08-13 00:16:04 MSK ERROR c\n"
        "2024-08-12 21:16:04 GMT ERROR d\n"
        "2024-08-12 21:16:04 +0000 ERROR e\n"
        "2024-08-13 02:46:04 +05:30 ERROR f\n"
        "2024-12-12 13:16:04 PST ERROR g\n"
    )
    table = read(log, formats_dir=_zoned_spec_dir(tmp_path), tz="Europe/Berlin", quiet=True)
    ts = table.df.sort("line")["ts"].to_list()
    same = dt.datetime(2024, 8, 12, 21, 16, 4, tzinfo=UTC)
    assert ts[:6] == [same] * 6
    assert ts[6] == dt.datetime(2024, 12, 12, 21, 16, 4, tzinfo=UTC)
    assert {"PDT", "CEST", "MSK", "PST"} <= set(table.account[0].zones_seen)


def test_dst_fall_back_repeated_hour_keeps_file_order(tmp_path):
    """At the fall-back the repeated 01:xx hour is resolved by order: first pass PDT, second PST."""
    log = tmp_path / "app.log"
    log.write_text(
        "2024-11-03 01:40:00,000 INFO [web] before the change\n"
        "2024-11-03 01:55:00,000 INFO [web] still daylight time\n"
        "2024-11-03 01:05:00,000 ERROR [web] after the clocks went back\n"
        "2024-11-03 01:30:00,000 INFO [web] standard time\n"
    )
    table = read(log, tz="America/Los_Angeles", quiet=True)
    rows = table.df.sort("line")
    assert rows["ts"].to_list() == [
        dt.datetime(2024, 11, 3, 8, 40, tzinfo=UTC),
        dt.datetime(2024, 11, 3, 8, 55, tzinfo=UTC),
        dt.datetime(2024, 11, 3, 9, 5, tzinfo=UTC),
        dt.datetime(2024, 11, 3, 9, 30, tzinfo=UTC),
    ]
    assert table.df["ts"].is_sorted()


def test_syslog_across_new_year_takes_years_from_mtime(tmp_path):
    """A year-less syslog file that runs over New Year: December is last year, January this one."""
    log = tmp_path / "messages"
    log.write_text(
        "Dec 31 23:59:58 web-1 app[42]: last of the year\n"
        "Jan  1 00:00:02 web-1 app[42]: first of the year\n"
    )
    mtime = dt.datetime(2025, 1, 1, 0, 10, tzinfo=UTC).timestamp()
    os.utime(log, (mtime, mtime))
    table = read(log, quiet=True)
    assert table.account[0].format == "syslog_rfc3164"
    assert table.df["ts"].to_list() == [
        dt.datetime(2024, 12, 31, 23, 59, 58, tzinfo=UTC),
        dt.datetime(2025, 1, 1, 0, 0, 2, tzinfo=UTC),
    ]


def test_syslog_year_option_wins_over_mtime(tmp_path):
    """year= sets the year of the last lines."""
    log = tmp_path / "messages"
    log.write_text("Aug 12 21:16:04 web-1 app[42]: hello\n")
    table = read(log, year=2023, quiet=True)
    assert table.df["ts"].to_list() == [dt.datetime(2023, 8, 12, 21, 16, 4, tzinfo=UTC)]


def test_time_only_log4j_across_midnight(tmp_path):
    """Time-only log4j lines around midnight are dated from date= and keep their order."""
    log = tmp_path / "app.log"
    log.write_text(
        "23:59:59.900 [main] INFO  com.example.Batch - nightly run\n"
        "00:00:00.100 [main] ERROR com.example.Batch - ledger locked\n"
        "java.lang.IllegalStateException: locked\n"
        "\tat com.example.Batch.run(Batch.java:12)\n"
    )
    table = read(log, date="2024-08-13", quiet=True)
    assert table.account[0].format == "log4j"
    assert table.df["ts"].to_list() == [
        dt.datetime(2024, 8, 12, 23, 59, 59, 900000, tzinfo=UTC),
        dt.datetime(2024, 8, 13, 0, 0, 0, 100000, tzinfo=UTC),
    ]
    assert table.account[0].continuation_lines == 2


def test_json_numeric_levels_and_epochs(tmp_path):
    """pino's numeric levels and epoch milliseconds become levels and UTC times."""
    log = tmp_path / "api.log"
    log.write_text(
        '{"level":30,"time":1723497363118,"pid":1,"hostname":"web-1","msg":"ok"}\n'
        '{"level":50,"time":1723497364512,"pid":1,"hostname":"web-1","msg":"failed","err":{"stack":"Error: boom\\n    at x (/a.js:1:1)"}}\n'
    )
    table = read(log, quiet=True)
    assert table.account[0].format == "pino_json"
    assert table.df["level"].to_list() == ["info", "error"]
    assert table.df["ts"][1] == dt.datetime(2024, 8, 12, 21, 16, 4, 512000, tzinfo=UTC)
    assert "Error: boom" in table.df["message"][1]


def test_ecs_dotted_and_nested_keys(tmp_path):
    """ECS 'log.level' is read whether written as a dotted key or nested object."""
    log = tmp_path / "svc.json"
    log.write_text(
        '{"@timestamp":"2024-08-12T21:16:04.512Z","log.level":"error","message":"a","service.name":"checkout"}\n'
        '{"@timestamp":"2024-08-12T21:16:05.000Z","log":{"level":"warn"},"message":"b","service":{"name":"checkout"}}\n'
    )
    table = read(log, quiet=True)
    assert table.account[0].format == "ecs_json"
    assert table.df["level"].to_list() == ["error", "warning"]
    assert table.df["service"].to_list() == ["checkout", "checkout"]


def test_cri_partial_lines_are_joined_and_counted(tmp_path):
    """CRI P lines join the next line without a separator, counted as continuation lines."""
    log = tmp_path / "pod.log"
    log.write_text(
        "2024-08-12T21:16:04.000000001Z stdout P part one, \n"
        "2024-08-12T21:16:04.000000002Z stdout P part two, \n"
        "2024-08-12T21:16:04.000000003Z stdout F the end\n"
        "2024-08-12T21:16:05.000000000Z stderr F next line\n"
    )
    table = read(log, quiet=True)
    assert table.account[0].format == "cri"
    assert table.df["message"].to_list() == ["part one, part two, the end", "next line"]
    assert table.account[0].continuation_lines == 2
    assert table.account[0].balanced
