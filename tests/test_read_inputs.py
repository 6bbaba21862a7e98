"""Inputs in every state: folders, globs, compression, rotation and broken files, all accounted for."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import os

import pytest

from timeline.sources import read

LINE = "2024-08-12 14:16:{s:02d},{ms:03d} {level} [web.db] request {n} done\n"


def _lines(n, start=0, level="INFO"):
    return "".join(LINE.format(s=(start + i) % 60, ms=i % 1000, level=level, n=start + i) for i in range(n))


def _assert_accounted(table):
    for account in table.account:
        assert account.balanced, account.to_dict()


def test_folder_is_read_recursively(tmp_path):
    """Files in nested folders are all read."""
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "top.log").write_text(_lines(2))
    (tmp_path / "a" / "b" / "deep.log").write_text(_lines(3, 10))
    table = read(tmp_path, quiet=True)
    assert sorted(os.path.basename(a.file) for a in table.account) == ["deep.log", "top.log"]
    assert table.df.height == 5
    _assert_accounted(table)


def test_glob_selects_files(tmp_path):
    """A glob pattern reads only what it matches."""
    (tmp_path / "api.log").write_text(_lines(2))
    (tmp_path / "api.txt").write_text(_lines(2))
    table = read(str(tmp_path / "*.log"), quiet=True)
    assert [os.path.basename(a.file) for a in table.account] == ["api.log"]


def test_gz_and_bz2_are_read_in_place(tmp_path):
    """Compressed files read as their text."""
    (tmp_path / "a.log.gz").write_bytes(gzip.compress(_lines(4).encode()))
    (tmp_path / "b.log.bz2").write_bytes(bz2.compress(_lines(3, 20).encode()))
    table = read(tmp_path, quiet=True)
    by_name = {os.path.basename(a.file): a for a in table.account}
    assert by_name["a.log.gz"].compression == "gzip" and by_name["a.log.gz"].events == 4
    assert by_name["b.log.bz2"].compression == "bz2" and by_name["b.log.bz2"].events == 3
    _assert_accounted(table)


def test_truncated_gz_keeps_what_was_decompressed(tmp_path):
    """A .gz cut short keeps the lines before the cut and says the stream is damaged."""
    data = gzip.compress(_lines(2000).encode())
    (tmp_path / "cut.log.gz").write_bytes(data[: len(data) // 2])
    table = read(tmp_path, quiet=True)
    account = table.account[0]
    assert 0 < account.events < 2000
    assert any("damaged or truncated" in w for w in account.warnings)
    _assert_accounted(table)


def test_truncated_bz2_keeps_what_was_decompressed(tmp_path):
    """A .bz2 cut short is reported, never a crash."""
    data = bz2.compress(_lines(5000).encode())
    (tmp_path / "cut.log.bz2").write_bytes(data[: len(data) * 3 // 4])
    table = read(tmp_path, quiet=True)
    account = table.account[0]
    assert any("damaged or truncated" in w for w in account.warnings)
    _assert_accounted(table)


def test_mislabelled_gz_is_read_as_text(tmp_path):
    """A plain file named .gz is read as text, with a warning."""
    (tmp_path / "plain.log.gz").write_text(_lines(3))
    table = read(tmp_path, quiet=True)
    account = table.account[0]
    assert account.events == 3
    assert any("not compressed" in w for w in account.warnings)


def test_gzip_named_log_is_recognised_by_content(tmp_path):
    """A gzip file without the .gz suffix is still decompressed."""
    (tmp_path / "app.log").write_bytes(gzip.compress(_lines(3).encode()))
    table = read(tmp_path, quiet=True)
    assert table.account[0].compression == "gzip"
    assert table.account[0].events == 3


def test_rotated_set_is_read_oldest_first_as_one_source(tmp_path):
    """app.log.2.gz, app.log.1, app.log: read oldest first, all named 'app'."""
    (tmp_path / "app.log.2.gz").write_bytes(gzip.compress(_lines(2, 0).encode()))
    (tmp_path / "app.log.1").write_text(_lines(2, 10))
    (tmp_path / "app.log").write_text(_lines(2, 20))
    table = read(tmp_path, quiet=True)
    assert [os.path.basename(a.file) for a in table.account] == ["app.log.2.gz", "app.log.1", "app.log"]
    assert set(table.df["source"].to_list()) == {"app"}
    assert table.df["ts"].is_sorted()


def test_bad_utf8_is_replaced_and_reported(tmp_path):
    """Invalid UTF-8 bytes do not lose the line or its neighbours; the account warns."""
    good = _lines(2).encode()
    bad = b"2024-08-12 14:16:30,000 ERROR [web.db] caf\xe9 \xff\xfe broke\n"
    (tmp_path / "app.log").write_bytes(good + bad + _lines(1, 40).encode())
    table = read(tmp_path, quiet=True)
    account = table.account[0]
    assert account.events == 4
    assert any("not valid UTF-8" in w for w in account.warnings)
    assert "\ufffd" in table.df.filter(table.df["level"] == "error")["message"][0]
    _assert_accounted(table)


def test_binary_file_is_reported_not_parsed(tmp_path):
    """A binary file is counted as rejected lines with the reason, never a crash."""
    (tmp_path / "core.log").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 20 + b"\n\x00\x00\n")
    table = read(tmp_path, quiet=True)
    account = table.account[0]
    assert account.events == 0
    assert account.rejected == account.lines > 0
    assert any("binary" in r for r in account.rejected_reasons)


def test_empty_file_is_reported(tmp_path):
    """An empty file gives no events and an 'empty file' warning."""
    (tmp_path / "empty.log").write_text("")
    (tmp_path / "app.log").write_text(_lines(1))
    table = read(tmp_path, quiet=True)
    by_name = {os.path.basename(a.file): a for a in table.account}
    assert by_name["empty.log"].lines == 0
    assert "empty file" in by_name["empty.log"].warnings
    assert table.df.height == 1


def test_truncated_last_line_is_kept_and_flagged(tmp_path):
    """A last line without its newline is still read, and the account says the file may be cut."""
    (tmp_path / "app.log").write_text(_lines(2) + "2024-08-12 14:16:59,000 ERROR [web.db] half writ")
    table = read(tmp_path, quiet=True)
    account = table.account[0]
    assert account.events == 3
    assert any("no newline" in w for w in account.warnings)


def test_many_megabyte_line_is_rejected_and_neighbours_kept(tmp_path):
    """A 5 MB line is rejected with its line number; the lines around it are kept."""
    huge = "2024-08-12 14:16:30,000 INFO [web.db] " + "x" * (5 << 20) + "\n"
    (tmp_path / "app.log").write_text(_lines(2) + huge + _lines(2, 40))
    table = read(tmp_path, quiet=True)
    account = table.account[0]
    assert account.events == 4
    assert account.rejected == 1
    assert account.rejected_lines[0].line == 3
    assert any("longer than" in r for r in account.rejected_reasons)
    _assert_accounted(table)


def test_symlink_loop_is_reported_not_followed_forever(tmp_path):
    """A folder link back to its parent is noted, and each file read once."""
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "app.log").write_text(_lines(2))
    try:
        os.symlink(tmp_path / "logs", tmp_path / "logs" / "again")
    except OSError:
        pytest.skip("symbolic links are not available here")
    table = read(tmp_path / "logs", quiet=True)
    assert table.df.height == 2
    assert len(table.account) == 1
    assert any("loop" in n for n in table.notes)


def test_unrecognised_lines_are_rejected_with_line_numbers(tmp_path):
    """Lines that no pattern matches inside a known format are counted with their numbers; good lines kept."""
    (tmp_path / "app.log").write_text(_lines(3) + "#### garbage in the middle ####\n" + _lines(3, 30))
    table = read(tmp_path, format="python_logging", quiet=True)
    account = table.account[0]
    assert account.events == 6
    # a line that does not start a record joins the one before it (tracebacks): counted as continuation
    assert account.continuation_lines == 1
    _assert_accounted(table)


def test_file_of_unknown_format_is_rejected_whole(tmp_path):
    """A file no spec recognises is reported line by line, nothing silently dropped."""
    (tmp_path / "scribbles.log").write_text("hello there\nthis is not a log\n\nat all\n")
    table = read(tmp_path, quiet=True)
    account = table.account[0]
    assert account.format is None
    assert account.rejected == 3 and account.blank == 1
    assert account.balanced
