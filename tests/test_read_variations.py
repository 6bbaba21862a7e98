"""Small variations of the formats timeline ships are read by their spec, not rejected or left to the generic reader."""

from __future__ import annotations

from pathlib import Path

import pytest

import timeline as tl

CASES = {
    "access.log": (
        '10.0.1.5 - - [12/Aug/2024:14:16:03 -0700] "GET /api/orders HTTP/1.1" 200 1532 "https://shop.example.com/cart" "Mozilla/5.0 (X11; Linux x86_64)"\n'
        '10.0.1.6 - - [12/Aug/2024:14:16:04 -0700] "GET /api/orders HTTP/1.1" 502 166 "-" "Mozilla/5.0 (X11; Lin\n'
        '10.0.1.7 - - [12/Aug/2024:14:16:05 -0700] "GET /a"b HTTP/1.1" 400 15 "-" "curl/8.5.0"\n'
        '10.0.1.8 - - [12/Aug/2024:14:16:06 -0700] "GET /api/orders HTTP/1.1" 200 1532 "-" "curl/8.5.0"\n',
        "nginx_access", ["info", "error", "warning", "info"], 0,
    ),
    "error.log": (
        "[Mon Aug 12 14:16:03.118223 2024] [:error] [pid 4242] [client 10.0.1.5:51724] PHP Fatal error:  Allowed memory size exhausted\n"
        "[Mon Aug 12 14:16:04.118223 2024] [core:warn] [pid 4243] AH00045: child process 4250 still did not exit\n",
        "apache_error", ["error", "warning"], 0,
    ),
    "postgresql.csv": (
        '\n2024-08-12 14:16:03.118 PDT,"app","shop",4242,"10.0.3.8:40022",66ba7f2b.1092,3,"SELECT",2024-08-12 14:15:59 PDT,3/15,0,ERROR,42P01,'
        '"relation ""orders_archive"" does not exist",,,,,,"SELECT 1",,,"psql","client backend",,0\n',
        "postgres_csvlog", ["error"], 0,
    ),
    "postgresql.log": (
        '2024-08-12 14:16:03.118 PDT [4242] ERROR:  duplicate key value violates unique constraint "orders_pkey"\n'
        "2024-08-12 14:16:03.118 PDT [4242] DETAIL:  Key (id)=(42) already exists.\n"
        "\tand the detail goes on here\n"
        "2024-08-12 14:16:04.118 PDT [4243] LOG:  checkpoint starting: time\n",
        "postgres_stderr", ["error", "info"], 2,
    ),
    "messages": (
        "Aug 12 14:16:03.118 db-1 kernel: Out of memory: Killed process 4242 (postgres)\n"
        "    total-vm:8421376kB, anon-rss:6291456kB\n"
        "Aug 12 14:16:04 db-1 sshd[811]: Accepted publickey for deploy\n"
        "Aug 12 14:16:05 db-1 sshd[811]: last message repeated 3 times\n",
        "syslog_rfc3164", ["info", "info", "info"], 1,
    ),
    "relay.log": (
        "1 2024-08-12T21:16:03.118Z db-1 postgres 4242 - - checkpoint starting: time\n"
        '1 2024-08-12T21:16:04.118Z db-1 postgres 4242 - [meta x="1"] connection received\n',
        "syslog_rfc5424", ["info", "info"], 0,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_variation_is_read_by_its_format(tmp_path: Path, name: str) -> None:
    text, fmt, levels, continuation = CASES[name]
    path = tmp_path / name
    path.write_text(text)
    events = tl.read(path, quiet=True, tz="America/Los_Angeles", year=2024)
    a = events.account[0]
    assert (a.format, a.rejected, a.generic) == (fmt, 0, False)
    assert a.continuation_lines == continuation and a.balanced
    assert events.df.sort("line")["level"].to_list() == levels


def test_the_last_event_of_an_access_log_with_a_cut_line_keeps_its_time(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text(CASES["access.log"][0])
    events = tl.read(path, quiet=True)
    assert events.account[0].last_ts == "2024-08-12T21:16:06+00:00"


def test_an_access_line_without_ident_and_user_is_read(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_text(
        '10.0.1.5 - - [12/Aug/2024:14:16:03 +0000] "GET /boot/kernel HTTP/1.0" 200 134 "-" "gPXE/1.0"\n'
        '10.0.1.5 [12/Aug/2024:14:16:04 +0000] "GET /boot/initrd.gz HTTP/1.0" 404 46210 "-" "gPXE/1.0"\n'
    )
    events = tl.read(path, quiet=True)
    a = events.account[0]
    assert (a.format, a.events, a.rejected) == ("nginx_access", 2, 0)
    assert events.df.sort("line")["level"].to_list() == ["info", "warning"]


def test_a_json_log_whose_message_is_the_same_label_loses_to_a_reader_that_varies(tmp_path: Path) -> None:
    # The constant-message mark-down is for JSON keys only: a text log may really say the same thing each time.
    path = tmp_path / "messages"
    path.write_text("".join(f"Nov  3 01:{i:02d}:03 mac-1 syslogd[634]: ASL Sender Statistics\n" for i in range(10)))
    a = tl.read(path, quiet=True, year=2024).account[0]
    assert a.format == "syslog_rfc3164" and not a.generic
