"""Properties of reading: every line is accounted for, and file order never changes the table."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timeline.sources import read

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Reading several files per example costs more; fewer examples keep the suite quick.
FEW = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=40)


@st.composite
def python_log_line(draw):
    minute, second, ms = draw(st.integers(0, 59)), draw(st.integers(0, 59)), draw(st.integers(0, 999))
    level = draw(st.sampled_from(_LEVELS))
    return ("event", f"2024-08-12 14:{minute:02d}:{second:02d},{ms:03d} {level} [web.db] {draw(_TEXT)}")


@st.composite
def json_log_line(draw):
    ts = draw(st.floats(1.7e9, 1.8e9, allow_nan=False))
    level = draw(st.sampled_from(["debug", "info", "warn", "error"]))
    return ("event", f'{{"level":"{level}","ts":{ts:.4f},"msg":"job {draw(st.integers(0, 999))}"}}')


GARBAGE = _TEXT.map(lambda t: ("garbage", "### " + t))
BLANK = st.sampled_from(["", "   ", "\t"]).map(lambda t: ("blank", t))
TRACEBACK = st.sampled_from(
    ["Traceback (most recent call last):", '  File "/srv/app/db.py", line 41, in connect', "    return connect(dsn)", "ValueError: boom"]
).map(lambda t: ("traceback", t))


def _read_lines(lines, **options):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "app.log"
        path.write_text("".join(text + "\n" for _, text in lines), encoding="utf-8")
        return read(path, quiet=True, **options)


@SETTINGS
@given(st.lists(st.one_of(python_log_line(), GARBAGE, BLANK, TRACEBACK), max_size=60))
def test_every_python_log_line_is_accounted_for(lines):
    """events + continuation + blank + rejected == lines, and each valid line is one event."""
    table = _read_lines(lines, format="python_logging")
    account = table.account[0]
    assert account.lines == len(lines)
    assert account.events + account.continuation_lines + account.blank + account.rejected == account.lines
    assert account.events == sum(kind == "event" for kind, _ in lines)
    assert account.blank == sum(kind == "blank" for kind, _ in lines)
    assert table.df.height == account.events


@SETTINGS
@given(st.lists(st.one_of(python_log_line(), json_log_line(), GARBAGE, BLANK, TRACEBACK), max_size=60))
def test_every_line_is_accounted_for_when_sniffed(lines):
    """Whatever the sniffer decides about a mixed file, no line goes uncounted."""
    table = _read_lines(lines)
    account = table.account[0]
    assert account.lines == len(lines)
    assert account.balanced
    assert table.df.height == account.events


@SETTINGS
@given(st.lists(st.one_of(json_log_line(), GARBAGE, BLANK), max_size=60))
def test_every_json_line_is_accounted_for(lines):
    """In JSON lines, a line that is not a record is rejected, never dropped."""
    table = _read_lines(lines, format="zap_json")
    account = table.account[0]
    assert account.events == sum(kind == "event" for kind, _ in lines)
    assert account.rejected == sum(kind == "garbage" for kind, _ in lines)
    assert account.balanced


@FEW
@given(
    st.lists(st.lists(python_log_line(), min_size=1, max_size=15), min_size=2, max_size=3),
    st.randoms(use_true_random=False),
)
def test_file_order_does_not_change_the_table(files, rnd: random.Random):
    """Reading the same files in any order gives the same event table."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, lines in enumerate(files):
            path = Path(folder) / f"svc{i}.log"
            path.write_text("".join(text + "\n" for _, text in lines), encoding="utf-8")
            paths.append(path)
        first = read(paths, quiet=True, tz="America/Los_Angeles", format="python_logging").df
        shuffled = paths[:]
        rnd.shuffle(shuffled)
        second = read(shuffled, quiet=True, tz="America/Los_Angeles", format="python_logging").df
    assert first.equals(second)
    assert first.height == sum(len(f) for f in files)
