"""Reading a file block by block gives exactly what reading it whole gives.

Large logs are read in blocks of about ``BLOCK_BYTES`` so that memory stays
bounded; a record cut by a block's end (a traceback, a PostgreSQL statement
with its DETAIL and TAB-indented lines) is carried into the next block. These
tests shrink the blocks to a few hundred bytes so that every kind of edge
falls on a block boundary somewhere, and compare with one whole-file block.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import timeline.sources._lines as lines_module
from timeline.sources import read

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "incidents" / "2024-08-12-db-outage"
BENCH = ROOT / "bench"


def _read(paths: list[Path], block_bytes: int, **kwargs: object) -> tuple[pl.DataFrame, list[dict]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lines_module, "BLOCK_BYTES", block_bytes)
        table = read(paths, quiet=True, **kwargs)  # type: ignore[arg-type]
    accounts = [a.to_dict() for a in table.account]
    return table.df, accounts


def _same(paths: list[Path], block_bytes: int, **kwargs: object) -> None:
    whole, whole_accounts = _read(paths, 0, **kwargs)
    blocks, block_accounts = _read(paths, block_bytes, **kwargs)
    assert_frame_equal(blocks, whole)
    assert block_accounts == whole_accounts


@pytest.fixture(scope="module", name="bench_files")
def fixture_bench_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The benchmark's three families, small: tracebacks, JSON with late keys, PG with DETAIL and TAB lines."""
    spec = importlib.util.spec_from_file_location("bench_generate_logs_blocks", BENCH / "generate_logs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("blocks")
    module.generate(out, 1_500, seed=11)
    return sorted(p for p in out.iterdir() if p.suffix in {".log", ".jsonl"})


_SETTINGS = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(block_bytes=st.integers(min_value=16_000, max_value=300_000))
def test_the_sample_incident_reads_the_same_in_blocks_of_any_size(block_bytes):
    """Every log of the sample incident, cut into blocks anywhere, gives the same events and accounts."""
    _same([SAMPLE], block_bytes, tz="America/Los_Angeles")


@_SETTINGS
@given(block_bytes=st.integers(min_value=1_000, max_value=100_000))
def test_benchmark_families_read_the_same_in_blocks_of_any_size(bench_files, block_bytes):
    """Python logging with tracebacks, ECS JSON lines and PostgreSQL stderr with joined lines."""
    fmt = {"app.log": "python_logging", "postgresql.log": "postgres_stderr", "app.jsonl": "ecs_json"}
    assert sorted(fmt) == sorted(p.name for p in bench_files)
    _same(bench_files, block_bytes, format=fmt, tz="America/Los_Angeles")


def test_rejected_lines_are_shown_the_same_in_blocks(bench_files):
    """A file read with the wrong format: every line rejected, the same lines shown whatever the blocks."""
    pg = next(p for p in bench_files if p.name == "postgresql.log")
    whole, whole_accounts = _read([pg], 0, format="python_logging")
    blocks, block_accounts = _read([pg], 2_000, format="python_logging")
    assert_frame_equal(blocks, whole)
    assert block_accounts == whole_accounts
    assert whole_accounts[0]["rejected"] == whole_accounts[0]["lines"] > 1_000


def test_a_traceback_cut_by_a_block_end_stays_with_its_record(tmp_path):
    log = tmp_path / "app.log"
    head = "2024-08-12 14:16:04,512 ERROR [web.db] request failed\n"
    trace = "Traceback (most recent call last):\n" + "".join(f'  File "/srv/m{i}.py", line {i}, in f\n' for i in range(40))
    log.write_text(head + trace + "psycopg2.OperationalError: too many clients\n" + "2024-08-12 14:16:05,000 INFO [web] next\n")
    df, accounts = _read([log], 300, tz="UTC")
    assert df.height == 2
    assert df["message"][0].count("\n") == 42
    assert df["message"][0].endswith("too many clients")
    assert accounts[0]["continuation_lines"] == 42


def test_a_dst_fall_back_across_blocks_is_resolved_by_the_whole_file(tmp_path):
    """The repeated hour needs the file's order: a block that meets it sends the file to one whole block."""
    log = tmp_path / "app.log"
    rows = ["01:40", "01:55", "01:05", "01:30"]
    log.write_text("".join(f"2024-11-03 {t}:00,000 INFO [web] line {i}\n" for i, t in enumerate(rows)))
    df, _ = _read([log], 1, tz="America/Los_Angeles")
    hours = [(t.hour, t.minute) for t in df.sort("line")["ts"]]
    assert hours == [(8, 40), (8, 55), (9, 5), (9, 30)]


def test_a_compressed_file_reads_the_same_in_blocks(tmp_path):
    source = (SAMPLE / "app" / "web.log").read_bytes()
    plain = tmp_path / "plain.log"
    plain.write_bytes(source)
    packed = tmp_path / "packed.log.gz"
    packed.write_bytes(gzip.compress(source))
    whole, _ = _read([plain], 0, tz="America/Los_Angeles")
    blocks, accounts = _read([packed], 700, tz="America/Los_Angeles")
    assert_frame_equal(blocks.drop("file", "source"), whole.drop("file", "source"))
    assert accounts[0]["compression"] == "gzip"


def test_a_line_longer_than_a_block_is_read_whole(tmp_path):
    log = tmp_path / "app.log"
    long = "x" * 5_000
    log.write_text(f"2024-08-12 14:16:04,512 INFO [web] {long}\n2024-08-12 14:16:05,000 INFO [web] next")
    df, accounts = _read([log], 100, tz="UTC")
    assert df["message"].to_list() == [long, "next"]
    assert accounts[0]["lines"] == 2
    assert any("no newline" in w for w in accounts[0]["warnings"])


def test_bad_utf8_is_counted_once_over_all_blocks(tmp_path):
    log = tmp_path / "app.log"
    good = b"2024-08-12 14:16:04,512 INFO [web] caf\xc3\xa9 ok\n"
    bad = b"2024-08-12 14:16:04,512 INFO [web] caf\xe9 bad\n"
    log.write_bytes((good * 20 + bad) * 5)
    whole, whole_accounts = _read([log], 0, tz="UTC")
    blocks, block_accounts = _read([log], 200, tz="UTC")
    assert_frame_equal(blocks, whole)
    assert block_accounts == whole_accounts
    warning = next(w for w in block_accounts[0]["warnings"] if "UTF-8" in w)
    assert warning.startswith("5 lines") and "[21, 42, 63, 84, 105]" in warning
    assert json.dumps(block_accounts)  # the account stays JSON-serialisable


def _line_specs() -> list[str]:
    from timeline.sources._spec import load_specs

    return sorted(name for name, spec in load_specs([]).items() if spec.kind in ("regex", "jsonl"))


@pytest.mark.parametrize("name", _line_specs())
def test_every_line_format_reads_the_same_in_blocks(tmp_path, name):
    """Each shipped format's samples (its multi-line rule included), cut into small blocks anywhere."""
    from timeline.sources._spec import load_specs

    spec = load_specs([])[name]
    texts = [s.text for s in spec.samples]
    log = tmp_path / f"{name}.log"
    log.write_text("\n".join(texts * 3) + "\n")
    whole, whole_accounts = _read([log], 0, format=name, tz="America/Los_Angeles", year=2024, date="2024-08-12")
    for block_bytes in (150, 1_200):
        blocks, block_accounts = _read([log], block_bytes, format=name, tz="America/Los_Angeles", year=2024, date="2024-08-12")
        assert_frame_equal(blocks, whole)
        assert block_accounts == whole_accounts


def test_the_progress_bar_moves_block_by_block(tmp_path, monkeypatch):
    """A large file moves the bar as its blocks are read, not once at its end; the total is the file's size."""
    import timeline.sources as sources

    log = tmp_path / "app.log"
    log.write_text("".join(f"2024-08-12 10:{m % 60:02d}:00,000 INFO [web] line {m}\n" for m in range(2_000)))
    moves: list[int] = []

    class Bar:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def update(self, n):
            moves.append(n)

    monkeypatch.setattr(sources, "_progress", lambda total, files, quiet: Bar())
    monkeypatch.setattr(lines_module, "BLOCK_BYTES", 10_000)
    read(log, tz="UTC")
    assert len(moves) > 5
    assert sum(moves) == log.stat().st_size


def test_both_engines_read_the_same(bench_files, monkeypatch):
    """Small blocks run on polars' in-memory engine, large ones on its streaming engine: the events are the same."""
    import timeline.sources._engine as engine_module

    fmt = {"app.log": "python_logging", "postgresql.log": "postgres_stderr", "app.jsonl": "ecs_json"}
    monkeypatch.setattr(engine_module, "SMALL_BLOCK_ROWS", 0)  # every block streams
    streamed, streamed_accounts = _read(bench_files, 40_000, format=fmt, tz="America/Los_Angeles")
    monkeypatch.setattr(engine_module, "SMALL_BLOCK_ROWS", 10**9)  # every block in memory
    in_memory, in_memory_accounts = _read(bench_files, 40_000, format=fmt, tz="America/Los_Angeles")
    assert_frame_equal(streamed, in_memory)
    assert streamed_accounts == in_memory_accounts


def test_a_block_picks_its_engine_by_its_rows():
    from timeline.sources._engine import SMALL_BLOCK_ROWS, engine, engine_for

    assert engine() == "auto"
    with engine_for(SMALL_BLOCK_ROWS - 1):
        assert engine() == "in-memory"
        with engine_for(SMALL_BLOCK_ROWS):
            assert engine() == "auto"
        assert engine() == "in-memory"
    assert engine() == "auto"


def test_reading_only_some_columns_reads_the_same_events(bench_files):
    """Columns left out are null and their work skipped; every line is still parsed and accounted for."""
    from timeline.sources import read_file_blocks

    fmt = {"app.log": "python_logging", "postgresql.log": "postgres_stderr", "app.jsonl": "ecs_json"}
    wanted = frozenset({"ts", "source", "level"})
    for path in bench_files:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(lines_module, "BLOCK_BYTES", 20_000)
            blocks, account = read_file_blocks(path, format=fmt[path.name], tz="America/Los_Angeles")
            full = pl.concat(list(blocks))
            blocks, part_account = read_file_blocks(path, format=fmt[path.name], tz="America/Los_Angeles", columns=wanted)
            part = pl.concat(list(blocks))
        keys = ["ts", "source", "kind", "level", "file", "line"]
        assert_frame_equal(part.select(keys), full.select(keys))
        assert part_account.to_dict() == account.to_dict()
        assert part["message"].null_count() == part.height and part["attrs"].null_count() == part.height
        assert full["message"].null_count() == 0
