"""The command line as a new user meets it: mistakes get one line naming the argument and the fix, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import timeline._templates_cli  # noqa: F401 - imported here, not first under capsys: its print default binds sys.stdout
import timeline.reconstruct._cli  # noqa: F401
from timeline.cli import main

SAMPLE = str(Path(__file__).resolve().parent.parent / "data" / "incidents" / "2024-08-12-db-outage")
TZ = "America/Los_Angeles"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the command in-process; return (exit status, stdout, stderr)."""
    try:
        rc = main(list(argv))
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        rc = int(exc.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def one_error_line(err: str) -> str:
    """The single error line on stderr (after any account the command printed)."""
    lines = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["reconstruct", SAMPLE, "--tz", TZ, "--window", "14:00", "16:00"], "--window 14:00: the window needs a date and a time"),
        (["reconstruct", SAMPLE, "--tz", TZ, "--window", "2024-08-12 14:00", "2024-08-12 2x:00"], "--window '2024-08-12 2x:00' is not a time"),
        (["reconstruct", SAMPLE, "--tz", TZ, "--window", "2024-08-12 15:00", "2024-08-12 14:00"], "the start must come before the end"),
        (["reconstruct", SAMPLE, "--tz", TZ, "--annotations", "no-such-file.toml"], "annotations file no-such-file.toml does not exist"),
        (["reconstruct", SAMPLE, "--tz", "America/Los_Angles"], "did you mean 'America/Los_Angeles'?"),
        (["reconstruct", SAMPLE, "--tz", "Pacific"], "unknown time zone 'Pacific'"),
        (["reconstruct", SAMPLE, "--tz", TZ, "--markdown", "out.txt"], "--markdown out.txt: cannot tell the format from .txt"),
        (["reconstruct", SAMPLE, "--tz", TZ, "--json", "-", "--markdown", "-"], "--json and --markdown both ask for stdout"),
        (["reconstruct", "no-such-folder", "--tz", TZ], "no-such-folder: no such file or folder"),
        (["read", SAMPLE, "--events", "ev.txt"], "--events ev.txt: cannot tell the format from .txt"),
        (["read", SAMPLE, "--tz", "Europe/Pariss"], "did you mean 'Europe/Paris'?"),
        (["read", SAMPLE, "--date", "12/08/2024"], "--date 12/08/2024: expected a date as YYYY-MM-DD"),
        (["read", SAMPLE, "--stream"], "--stream writes the event table to a Parquet file"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(capsys, argv, expected):
    """Each mistake is reported in one line that names the argument, exit status 2, and nothing is read first."""
    rc, out, err = run(capsys, *argv)
    assert rc == 2
    line = one_error_line(err)
    assert expected in line
    assert "files:" not in err and "events from" not in out  # refused before the evidence was read


def test_no_python_words_in_cli_errors():
    """Messages written for Python callers are said in the command's own options."""
    from timeline.cli import cli_words

    assert cli_words("no error burst found; pass window=(start, end) to reconstruct") == "no error burst found; pass --window START END to reconstruct"
    assert "--format NAME" in cli_words("no known format recognised; name one with format=")


def test_version(capsys):
    """--version prints the package version."""
    from timeline import __version__

    rc, out, _ = run(capsys, "--version")
    assert rc == 0 and out.strip() == f"timeline {__version__}"


def test_empty_folder_exits_non_zero(capsys, tmp_path):
    """A folder with nothing to read is an error, not a quiet success."""
    rc, _, err = run(capsys, "read", str(tmp_path))
    assert rc == 2
    assert f"no evidence files found in {tmp_path}" in one_error_line(err)


def test_every_line_rejected_exits_non_zero(capsys, tmp_path):
    """When no line of the input could be read, the account is shown and the exit status says so."""
    bad = tmp_path / "x.log"
    bad.write_text("not a log line\nnor this\n")
    rc, out, err = run(capsys, "read", str(bad))
    assert rc == 2
    assert "every line was rejected (2 of 2)" in one_error_line(err)
    assert "rejected" in out  # the account with its reasons came first


def test_dash_writes_to_stdout_and_the_summary_to_stderr(capsys, tmp_path):
    """`--json -` writes the incident JSON to stdout (nothing else there) and creates no file named '-'."""
    rc, out, err = run(capsys, "reconstruct", SAMPLE, "--tz", TZ, "-q", "--json", "-", "--title", "DB outage")
    assert rc == 0
    data = json.loads(out)
    assert data["incident"]["title"] == "DB outage"
    assert "Milestones" in err


def test_read_events_to_stdout_as_json_lines(capsys):
    """`timeline read --events -` writes JSON lines, one per event, the account on stderr."""
    rc, out, err = run(capsys, "read", f"{SAMPLE}/changes/changes.csv", "--events", "-")
    assert rc == 0
    rows = [json.loads(ln) for ln in out.splitlines()]
    assert len(rows) == 8 and {"ts", "source", "message"} <= set(rows[0])
    assert "files" in err


def test_annotations_with_title_and_a_bare_time(capsys, tmp_path):
    """An annotations file may carry the title; a bare time is on the incident's date in --tz."""
    notes = tmp_path / "fix.toml"
    notes.write_text('title = "Checkout down"\n[milestones.detected]\nat = "14:28"\nby = "staff"\nnote = "seen on the dashboard"\n')
    out_json = tmp_path / "inc.json"
    rc, _, err = run(capsys, "reconstruct", SAMPLE, "--tz", TZ, "-q", "--annotations", str(notes), "--json", str(out_json))
    assert rc == 0, err
    data = json.loads(out_json.read_text())
    assert data["incident"]["title"] == "Checkout down"
    det = data["milestones"]["detected"]
    assert det["at"] == "2024-08-12T21:28:00+00:00" and det["by"] == "staff"
    assert det["evidence"][0]["message"] == "seen on the dashboard"


def test_bad_annotation_value_is_one_line(capsys, tmp_path):
    """A correction out of order in the annotations file names the file and both milestones."""
    notes = tmp_path / "fix.toml"
    notes.write_text('[milestones.mitigated]\nat = "14:00"\n')
    rc, _, err = run(capsys, "reconstruct", SAMPLE, "--tz", TZ, "-q", "--annotations", str(notes))
    assert rc == 2
    assert "fix.toml: mitigated at 2024-08-12 14:00:00 PDT would be before impact_start" in one_error_line(err)


def test_help_names_no_missing_document():
    """--help of reconstruct names what a user has: the schema shipped in the package, not a design document."""
    res = subprocess.run([sys.executable, "-m", "timeline.cli", "reconstruct", "--help"], capture_output=True, text=True, check=True)
    assert "DESIGN.md" not in res.stdout
    assert "--title" in res.stdout
