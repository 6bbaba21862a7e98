"""Lines inside a container runtime's envelope (Docker json-file, CRI) are read by their own format."""

from __future__ import annotations

import json
from pathlib import Path

import timeline as tl


def _docker(lines: list[tuple[str, str]]) -> str:
    return "".join(json.dumps({"log": text + "\n", "stream": "stderr", "time": t}) + "\n" for t, text in lines)


def test_docker_lines_read_by_the_application_format(tmp_path: Path) -> None:
    path = tmp_path / "web-json.log"
    path.write_text(_docker([
        ("2024-08-12T21:16:03.118223456Z", "2024-08-12 14:16:03,118 INFO [web.request] GET /account 200 in 35ms"),
        ("2024-08-12T21:16:04.512000001Z", "2024-08-12 14:16:04,512 ERROR [web.db] request failed"),
        ("2024-08-12T21:16:04.512000002Z", "Traceback (most recent call last):"),
        ("2024-08-12T21:16:04.512000003Z", '  File "/srv/web/db.py", line 41, in connect'),
        ("2024-08-12T21:16:05.250000001Z", "2024-08-12 14:16:05,250 WARNING [celery.worker] retry in 10s"),
    ]))
    events = tl.read(path, quiet=True)
    df, account = events.df, events.account[0]
    assert account.format == "docker_json" and account.balanced and account.rejected == 0
    assert df["level"].to_list() == ["info", "error", "warning"]
    assert df["service"].to_list() == ["web.request", "web.db", "celery.worker"]
    assert df["message"][1].startswith("request failed\nTraceback")
    # The runtime's time (UTC) is kept, not the application's naive local one.
    assert df["ts"][1].isoformat() == "2024-08-12T21:16:04.512000+00:00"
    assert any("read as python_logging" in w for w in account.warnings)


def test_cri_lines_read_by_the_application_format(tmp_path: Path) -> None:
    path = tmp_path / "db_0.log"
    path.write_text(
        "2024-08-12T21:16:03.118223456Z stderr F 2024-08-12 21:16:03.118 UTC [4242] LOG:  checkpoint starting: time\n"
        "2024-08-12T21:16:04.512000001Z stderr F 2024-08-12 21:16:04.512 UTC [4250] FATAL:  sorry, too many clients already\n"
        "2024-08-12T21:16:05.250000001Z stderr F 2024-08-12 21:16:05.250 UTC [4251] ERROR:  deadlock detected\n"
    )
    events = tl.read(path, quiet=True)
    df, account = events.df, events.account[0]
    assert account.format == "cri"
    assert df["level"].to_list() == ["info", "error", "error"]
    assert df["message"][1] == "sorry, too many clients already"


def test_lines_no_format_reads_stay_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "app-json.log"
    path.write_text(_docker([(f"2024-08-12T21:16:0{i}.000000001Z", f"plain words {i} with no time") for i in range(5)]))
    events = tl.read(path, quiet=True)
    assert events.df["message"].to_list() == [f"plain words {i} with no time" for i in range(5)]
    assert not any("envelope" in w for w in events.account[0].warnings)


def test_counting_reads_the_envelope_as_keeping_does(tmp_path: Path) -> None:
    path = tmp_path / "web-json.log"
    path.write_text(_docker([
        ("2024-08-12T21:16:03.118223456Z", "2024-08-12 14:16:03,118 INFO [web.request] GET /account 200 in 35ms"),
        ("2024-08-12T21:16:04.512000001Z", "2024-08-12 14:16:04,512 ERROR [web.db] request failed"),
        ("2024-08-12T21:16:04.512000002Z", "Traceback (most recent call last):"),
    ]))
    counted = tl.read(path, quiet=True, keep_events=False)
    kept = tl.read(path, quiet=True)
    assert counted.summary() == kept.summary()
    assert [a.to_dict() for a in counted.account] == [a.to_dict() for a in kept.account]
    assert "error" in counted.summary()


HEROKU = """\
2024-08-12T21:14:36.998102+00:00 app[web.1]: I, [2024-08-12T21:14:36.997911 #4]  INFO -- : [0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e40] Started GET "/checkout" for 203.0.113.7
2024-08-12T21:14:37.412345+00:00 app[postgres.1234]: [DATABASE] [9-1] sql_error_code = 53300 FATAL:  remaining connection slots are reserved for non-replication superuser connections
2024-08-12T21:14:37.900000+00:00 app[postgres.1234]: [DATABASE] [10-1] sql_error_code = 00000 LOG:  checkpoint starting: time
2024-08-12T21:14:38.100211+00:00 app[postgres.1234]: [DATABASE] [11-1] sql_error_code = 40P01 ERROR:  deadlock detected
2024-08-12T21:14:38.100311+00:00 app[postgres.1234]: [DATABASE] [11-2] process 4242 waits for ShareLock on transaction 911; blocked by process 4250.
2024-08-12T21:14:38.100411+00:00 app[postgres.1234]: [DATABASE] [12-1] sql_error_code = 40P01 DETAIL:  Process 4250 waits for ShareLock on transaction 910.
2024-08-12T21:15:07.003021+00:00 heroku[router]: at=error code=H12 desc="Request timeout" method=GET path="/checkout" host=shop-prod.herokuapp.com request_id=0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e40 fwd="203.0.113.7" dyno=web.1 connect=0ms service=30000ms status=503 bytes=0 protocol=https
2024-08-12T21:15:08.512+00:00 heroku[router]: at=info method=GET path="/health" host=shop-prod.herokuapp.com request_id=6a2d3e4f-5b6c-4d7e-9f80-1a2b3c4d5e6f fwd="198.51.100.4" dyno=web.2 connect=1ms service=4ms status=200 bytes=312 protocol=https
2024-08-12T21:15:09.123456+00:00 heroku[web.1]: Error R14 (Memory quota exceeded)
2024-08-12T21:15:10+00:00 heroku[web.1]: State changed from up to crashed
"""


def test_heroku_logs_read_with_postgres_severity_and_sqlstate(tmp_path: Path) -> None:
    path = tmp_path / "heroku.log"
    path.write_text(HEROKU)
    events = tl.read(path, quiet=True)
    df, account = events.df, events.account[0]
    assert account.format == "heroku_logplex" and account.balanced and account.rejected == 0
    assert (account.lines, account.events, account.continuation_lines) == (10, 8, 2)
    assert df["level"].to_list() == ["info", "error", "info", "error", "error", "info", "error", "info"]
    assert df["service"].to_list() == ["web.1", "postgres.1234", "postgres.1234", "postgres.1234", "router", "router", "web.1", "web.1"]
    fatal, deadlock = df.row(1, named=True), df.row(3, named=True)
    assert fatal["message"] == "remaining connection slots are reserved for non-replication superuser connections"
    assert json.loads(fatal["attrs"])["sqlstate"] == "53300"
    assert deadlock["message"] == (
        "deadlock detected\nprocess 4242 waits for ShareLock on transaction 911; blocked by process 4250.\n"
        "DETAIL:  Process 4250 waits for ShareLock on transaction 910."
    )
    assert json.loads(deadlock["attrs"])["sqlstate"] == "40P01"
    router = json.loads(df["attrs"][4])
    assert (router["code"], router["status"]) == ("H12", "503")
    # logplex times carry their offset: no zone warning, times in UTC.
    assert df["ts"][1].isoformat() == "2024-08-12T21:14:37.412345+00:00"
    assert events.zone_warning is None or "heroku" not in events.zone_warning


COMPOSE = """\
Attaching to db-1, web-1, worker-1
db-1      | 2024-08-12 21:16:02.990 UTC [1] LOG:  database system is ready to accept connections
web-1     | 2024-08-12 14:16:03,118 INFO [web.request] GET /account 200 in 35ms
db-1      | 2024-08-12 21:16:04.512 UTC [4250] FATAL:  sorry, too many clients already
web-1     | 2024-08-12 14:16:04,513 ERROR [web.db] request failed
web-1     | Traceback (most recent call last):
db-1      | 2024-08-12 21:16:04.600 UTC [4251] ERROR:  deadlock detected
db-1      | 2024-08-12 21:16:04.600 UTC [4251] DETAIL:  Process 4251 waits for ShareLock on transaction 911.
web-1     |   File "/srv/web/db.py", line 41, in connect
web-1     | psycopg.OperationalError: sorry, too many clients already
worker-1  | {"level":"warn","ts":"2024-08-12T21:16:05.250Z","logger":"sync","msg":"retry in 10s"}
worker-1  | {"level":"error","ts":"2024-08-12T21:16:06.001Z","logger":"sync","msg":"giving up"}
web-1 exited with code 1
"""


def test_docker_compose_output_read_per_container(tmp_path: Path) -> None:
    path = tmp_path / "compose.log"
    path.write_text(COMPOSE)
    events = tl.read(path, tz="America/Los_Angeles", quiet=True)
    df, account = events.df.sort("line"), events.account[0]
    assert account.format == "docker_compose" and account.balanced
    assert (account.lines, account.events, account.continuation_lines, account.rejected) == (13, 7, 4, 2)
    assert "db-1 as postgres_stderr, web-1 as python_logging, worker-1 as zap_json" in account.warnings[0]
    assert df["host"].to_list() == ["db-1", "web-1", "db-1", "web-1", "db-1", "worker-1", "worker-1"]
    assert df["level"].to_list() == ["info", "info", "error", "error", "error", "warning", "error"]
    assert df["service"].to_list()[:3] == ["postgresql", "web.request", "postgresql"]
    # Each container's continuation lines join its own records, not whatever line came before them in the file.
    assert df["message"][3] == ('request failed\nTraceback (most recent call last):\n  File "/srv/web/db.py", line 41, in connect\n'
                                "psycopg.OperationalError: sorry, too many clients already")
    assert df["message"][4] == "deadlock detected\nDETAIL:  Process 4251 waits for ShareLock on transaction 911."
    # The PostgreSQL lines carry their zone; the application's naive times are read in the zone given.
    assert [t.isoformat() for t in df["ts"][:2]] == ["2024-08-12T21:16:02.990000+00:00", "2024-08-12T21:16:03.118000+00:00"]
    assert [r.line for r in account.rejected_lines] == [1, 13]


def test_docker_compose_timestamps_keep_the_runtime_time(tmp_path: Path) -> None:
    path = tmp_path / "compose-t.log"
    path.write_text(
        "web-1  | 2024-08-12T21:16:03.118223456Z 2024-08-12 14:16:03,118 INFO [web.request] GET /account 200 in 35ms\n"
        "web-1  | 2024-08-12T21:16:04.513000001Z 2024-08-12 14:16:04,513 ERROR [web.db] request failed\n"
        "web-1  | 2024-08-12T21:16:04.513000002Z Traceback (most recent call last):\n"
        "web-1  | 2024-08-12T21:16:04.513000003Z   File \"/srv/web/db.py\", line 41, in connect\n"
        "web-1  | 2024-08-12T21:16:05.250000001Z 2024-08-12 14:16:05,250 WARNING [celery.worker] retry in 10s\n"
    )
    events = tl.read(path, quiet=True)
    df, account = events.df, events.account[0]
    assert account.format == "docker_compose" and account.balanced and (account.events, account.continuation_lines) == (3, 2)
    assert df["level"].to_list() == ["info", "error", "warning"]
    assert df["host"].to_list() == ["web-1"] * 3
    assert df["ts"][1].isoformat() == "2024-08-12T21:16:04.513000+00:00"
    assert any("read as python_logging" in w for w in account.warnings)


def test_a_log_with_pipes_is_not_taken_for_compose_output(tmp_path: Path) -> None:
    # Pipe-separated application lines open with a time, not a bare name: read by their own format.
    path = tmp_path / "app.log"
    path.write_text("".join(f"2024-08-12 14:16:0{i},118 INFO [web] a | b | c {i}\n" for i in range(5)))
    account = tl.read(path, tz="UTC", quiet=True).account[0]
    assert account.format == "python_logging" and account.events == 5


def test_docker_compose_timestamps_of_several_containers_each_read_by_their_own_format(tmp_path: Path) -> None:
    path = tmp_path / "compose-t.log"
    path.write_text(
        "db-1   | 2024-08-12T21:16:02.990000001Z 2024-08-12 21:16:02.990 UTC [1] LOG:  database system is ready to accept connections\n"
        "web-1  | 2024-08-12T21:16:03.118223456Z 2024-08-12 14:16:03,118 INFO [web.request] GET /account 200 in 35ms\n"
        "db-1   | 2024-08-12T21:16:04.512000001Z 2024-08-12 21:16:04.512 UTC [4250] FATAL:  sorry, too many clients already\n"
        "web-1  | 2024-08-12T21:16:04.513000001Z 2024-08-12 14:16:04,513 ERROR [web.db] request failed\n"
        "web-1  | 2024-08-12T21:16:04.513000002Z Traceback (most recent call last):\n"
        "db-1   | 2024-08-12T21:16:04.600000001Z 2024-08-12 21:16:04.600 UTC [4251] ERROR:  deadlock detected\n"
        "web-1  | 2024-08-12T21:16:04.513000003Z   File \"/srv/web/db.py\", line 41, in connect\n"
    )
    events = tl.read(path, quiet=True)
    df, account = events.df.sort("line"), events.account[0]
    assert account.format == "docker_compose" and account.balanced and (account.events, account.continuation_lines) == (5, 2)
    assert "db-1 as postgres_stderr, web-1 as python_logging" in account.warnings[0]
    assert df["level"].to_list() == ["info", "info", "error", "error", "error"]
    assert df["service"].to_list() == ["postgresql", "web.request", "postgresql", "web.db", "postgresql"]
    assert df["message"][3] == 'request failed\nTraceback (most recent call last):\n  File "/srv/web/db.py", line 41, in connect'
    # The runtime's UTC time, not the application's naive local one: no zone needed.
    assert df["ts"][1].isoformat() == "2024-08-12T21:16:03.118223+00:00" and events.zone_warning is None


def test_docker_compose_terminal_codes_around_the_prefix_are_ignored(tmp_path: Path) -> None:
    # Written from a terminal, compose clears each line and colours the names.
    path = tmp_path / "compose-tty.log"
    path.write_text(
        "\x1b[2K\x1b[36mredis-1  |\x1b[0m 1:M 12 Aug 2024 21:16:02.990 * Ready to accept connections tcp\n"
        "\x1b[2K\x1b[36mredis-1  |\x1b[0m 1:M 12 Aug 2024 21:16:04.512 # Can't save in background: fork: Cannot allocate memory\n"
        "\x1b[2K\x1b[33mweb-1    |\x1b[0m  * Serving Flask app 'app.py'\n"
    )
    events = tl.read(path, tz="UTC", quiet=True)
    df, account = events.df, events.account[0]
    assert account.format == "docker_compose" and account.balanced
    assert (account.events, account.rejected) == (2, 1)
    assert df["host"].to_list() == ["redis-1"] * 2 and df["level"].to_list() == ["notice", "warning"]  # Redis: * is notice, # warning
    # The line with no time is rejected and says which container it came from.
    assert any(reason.startswith("web-1: ") for reason in account.rejected_reasons)
