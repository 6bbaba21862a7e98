"""Writing the event table to Parquet while reading gives the table read in memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import timeline.sources._lines as lines_module
from timeline.sources import read

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "incidents" / "2024-08-12-db-outage"


def _both(paths: list[Path], out: Path, block_bytes: int = 4_000, **kwargs: object) -> tuple:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lines_module, "BLOCK_BYTES", block_bytes)
        memory = read(paths, quiet=True, **kwargs)  # type: ignore[arg-type]
        streamed = read(paths, quiet=True, events_path=out, **kwargs)  # type: ignore[arg-type]
    return memory, streamed


def test_the_sample_incident_streams_to_the_same_table(tmp_path):
    """Ten inputs (logs, tickets, chat, changes) whose times interleave: the parts are merged in event order."""
    out = tmp_path / "events.parquet"
    memory, streamed = _both([SAMPLE], out, tz="America/Los_Angeles")
    assert streamed.path == out and streamed._df is None  # nothing loaded until asked
    assert streamed.summary() == memory.summary()
    assert_frame_equal(pl.read_parquet(out), memory.df)
    assert_frame_equal(streamed.df, memory.df)
    assert [a.to_dict() for a in streamed.account] == [a.to_dict() for a in memory.account]
    assert not [p for p in tmp_path.iterdir() if p != out], "temporary parts are removed"


def test_logs_of_consecutive_periods_are_concatenated_in_time_order(tmp_path):
    """Two rotated-style files read newest first on the command line still come out oldest first."""
    old, new = tmp_path / "a-old.log", tmp_path / "b-new.log"
    old.write_text("".join(f"2024-08-12 10:{m:02d}:00,000 INFO [web] old {m}\n" for m in range(60)))
    new.write_text("".join(f"2024-08-12 11:{m:02d}:00,000 INFO [web] new {m}\n" for m in range(60)))
    out = tmp_path / "out" / "events.parquet"
    memory, streamed = _both([new, old], out, block_bytes=500, tz="UTC")
    table = pl.read_parquet(out)
    assert_frame_equal(table, memory.df)
    assert table["ts"].is_sorted() and table["message"][0] == "old 0"


def test_an_out_of_order_log_is_sorted(tmp_path):
    log = tmp_path / "app.log"
    minutes = [5, 1, 9, 3, 3, 7, 0]
    log.write_text("".join(f"2024-08-12 10:{m:02d}:00,000 INFO [web] at {m}\n" for m in minutes))
    memory, _ = _both([log], tmp_path / "events.parquet", block_bytes=60, tz="UTC")
    table = pl.read_parquet(tmp_path / "events.parquet")
    assert_frame_equal(table, memory.df)
    assert table["message"].to_list() == ["at 0", "at 1", "at 3", "at 3", "at 5", "at 7", "at 9"]


def test_a_dst_fall_back_met_mid_stream_is_read_again_whole(tmp_path):
    """Blocks already written for the file are dropped and the file is written again from one block."""
    log = tmp_path / "app.log"
    rows = ["00:50", "01:40", "01:55", "01:05", "01:30", "02:10"]
    log.write_text("".join(f"2024-11-03 {t}:00,000 INFO [web] line {i}\n" for i, t in enumerate(rows)))
    memory, streamed = _both([log], tmp_path / "events.parquet", block_bytes=1, tz="America/Los_Angeles")
    table = pl.read_parquet(tmp_path / "events.parquet")
    assert_frame_equal(table, memory.df)
    assert [(t.hour, t.minute) for t in table["ts"]] == [(7, 50), (8, 40), (8, 55), (9, 5), (9, 30), (10, 10)]
    assert streamed.account[0].events == 6 and streamed.account[0].lines == 6


def test_nothing_to_read_writes_an_empty_table_with_the_schema(tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_text("")
    memory, streamed = _both([empty], tmp_path / "events.parquet")
    table = pl.read_parquet(tmp_path / "events.parquet")
    assert table.height == 0 and table.schema == memory.df.schema
    assert len(streamed) == 0


def test_the_command_writes_a_parquet_output_as_it_reads(tmp_path, monkeypatch):
    """A Parquet --events output is always streamed, with or without --stream; a CSV one is written from memory."""
    import timeline.sources as sources
    from timeline.cli import main

    asked: list[object] = []
    real_read = sources.read

    def spy(*args: object, **kwargs: object):  # noqa: ANN202
        asked.append(kwargs.get("events_path"))
        return real_read(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sources, "read", spy)
    log = str(SAMPLE / "app" / "web.log")
    for extra in ([], ["--stream"]):
        out = tmp_path / f"events{len(extra)}.parquet"
        assert main(["read", log, "--tz", "America/Los_Angeles", "--events", str(out), "--quiet", *extra]) == 0
        assert asked[-1] == str(out)
    assert main(["read", log, "--events", str(tmp_path / "events.csv"), "--quiet"]) == 0
    assert asked[-1] is None
    expected = real_read(log, tz="America/Los_Angeles", quiet=True).df
    assert_frame_equal(pl.read_parquet(tmp_path / "events0.parquet"), expected)


def test_the_command_streams_when_asked(tmp_path):
    out = tmp_path / "events.parquet"
    cmd = [sys.executable, "-m", "timeline.cli", "read", str(SAMPLE / "app" / "web.log"), "--tz", "America/Los_Angeles",
           "--events", str(out), "--stream", "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    assert "events written to" in done.stdout
    expected = read(SAMPLE / "app" / "web.log", tz="America/Los_Angeles", quiet=True).df
    assert_frame_equal(pl.read_parquet(out), expected)
    assert f"{expected.height:,} events from" in done.stdout


_SHOW_ALLOCATOR = "import os; from timeline.cli import main; main(['formats']); print(os.environ['_RJEM_MALLOC_CONF'])"


def test_the_command_asks_the_allocator_to_return_freed_memory_promptly():
    """polars reads _RJEM_MALLOC_CONF once, on import: the command sets it first, after polars' own defaults."""
    from timeline.cli import ALLOCATOR_SETTINGS

    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    done = subprocess.run([sys.executable, "-c", _SHOW_ALLOCATOR], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    assert done.stdout.strip().splitlines()[-1].endswith(ALLOCATOR_SETTINGS)


def test_a_users_own_allocator_setting_is_kept():
    from timeline.cli import ALLOCATOR_SETTINGS

    env = dict(os.environ, _RJEM_MALLOC_CONF="dirty_decay_ms:0")
    done = subprocess.run([sys.executable, "-c", _SHOW_ALLOCATOR], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    conf = done.stdout.strip().splitlines()[-1]
    assert conf.endswith("dirty_decay_ms:0") and ALLOCATOR_SETTINGS not in conf


def test_streaming_to_a_text_file_is_refused_with_the_reason(tmp_path):
    cmd = [sys.executable, "-m", "timeline.cli", "read", str(SAMPLE / "app" / "web.log"), "--events", str(tmp_path / "e.csv"), "--stream"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert "--events OUT.parquet" in done.stderr
    assert not (tmp_path / "e.csv").exists()


def test_counting_the_events_gives_the_summary_of_the_table(tmp_path):
    """keep_events=False (the command without --events): the same summary and account, no event held."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lines_module, "BLOCK_BYTES", 4_000)
        kept = read([SAMPLE], quiet=True, tz="America/Los_Angeles")
        counted = read([SAMPLE], quiet=True, tz="America/Los_Angeles", keep_events=False)
    assert counted.summary() == kept.summary()
    assert [a.to_dict() for a in counted.account] == [a.to_dict() for a in kept.account]
    assert int(counted.counts["len"].sum()) == kept.df.height
    by_source = kept.df.group_by("source", "level").agg(pl.len().cast(pl.UInt32).alias("len"), pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"))
    assert_frame_equal(counted.counts, by_source.sort("source", "level"))
    with pytest.raises(ValueError, match="keep_events=False"):
        _ = counted.df
    assert counted.counted_only and not kept.counted_only
    assert len(counted) == len(kept) and bool(counted)
    assert not hasattr(counted, "height") and hasattr(kept, "height")  # no rows to ask a frame's questions of
    assert "counted, not kept" in repr(counted)
    assert "counted (not kept)" in counted._repr_html_() and "app/web" in counted._repr_html_()


def test_counting_a_file_read_again_whole_counts_it_once(tmp_path):
    """A DST fall-back met part-way through a file: its blocks are read again whole, and counted once."""
    log = tmp_path / "app.log"
    lines = [f"2024-11-03 00:{m:02d}:00,000 INFO [web] before {m}" for m in range(0, 60, 5)]
    lines += [f"2024-11-03 01:{m:02d}:00,000 INFO [web] first pass {m}" for m in range(0, 60, 5)]
    lines += [f"2024-11-03 01:{m:02d}:00,000 WARNING [web] second pass {m}" for m in range(0, 60, 5)]
    log.write_text("\n".join(lines) + "\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lines_module, "BLOCK_BYTES", 300)
        kept = read(log, quiet=True, tz="America/Los_Angeles")
        counted = read(log, quiet=True, tz="America/Los_Angeles", keep_events=False)
    assert int(counted.counts["len"].sum()) == kept.df.height == len(lines)
    assert counted.summary() == kept.summary()


def test_no_events_are_read_into_an_empty_count(tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_text("")
    counted = read(empty, quiet=True, keep_events=False)
    assert counted.counts.height == 0
    assert len(counted) == 0 and not counted
    assert "no events" in counted.summary()


def test_a_block_without_the_event_schema_is_refused(tmp_path):
    """A naive time would be stored as UTC by the Parquet writer: the part writer names the column instead."""
    from timeline.schema import empty_events
    from timeline.sources._sink import PartWriter

    block = empty_events().with_columns(pl.col("ts").dt.replace_time_zone(None))
    with pytest.raises(TypeError, match="ts is Datetime"):
        PartWriter(tmp_path / "part.parquet").write(iter([block]))
