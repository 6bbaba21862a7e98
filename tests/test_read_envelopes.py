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
