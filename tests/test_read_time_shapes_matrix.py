"""Every shipped line format reads the format matrix's generated logs whole and at the right times.

``bench/generate_matrix.py`` writes each family the ways its loggers do, the
time shape changing every quarter of the file (offsets, ``Z``, ``-0700``,
abbreviations, none; 0 to 9 fraction digits; epochs beside ISO text), with
multi-line records. Read in small blocks, so that each shape meets the
block-wise paths, every record must come back as one event, nothing
rejected, at the instants the generator wrote.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest

from timeline.sources import _lines as lines_module
from timeline.sources import read

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import generate_matrix  # noqa: E402

FAMILIES = [*generate_matrix.FROM_READ_BENCH, *generate_matrix.GENERATORS]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("matrix")
    generate_matrix.main(["--lines", "2400", "--out", str(out)])
    return out, json.loads((out / "manifest.json").read_text())


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_reads_whole_and_at_the_written_times(matrix, family, monkeypatch):
    out, manifest = matrix
    info = manifest["families"][family]
    monkeypatch.setattr(lines_module, "BLOCK_BYTES", 40_000)
    table = read(out / info["file"], format=info["format"], tz="America/Los_Angeles", quiet=True)
    account = table.account[0]
    assert account.rejected == 0, account.rejected_reasons
    assert account.events == info["records"]
    ts = table.df["ts"]
    assert ts.null_count() == 0
    first, last = dt.datetime.fromisoformat(info["first_ts"]), dt.datetime.fromisoformat(info["last_ts"])
    # Shapes without a fraction drop the sub-second part; nothing else may move a time.
    assert abs((ts.min() - first).total_seconds()) < 1
    assert abs((ts.max() - last).total_seconds()) < 1


def test_the_sniffer_names_each_family(matrix):
    """Read without a format, each file is recognised as the family that wrote it."""
    out, manifest = matrix
    wrong = {}
    for family, info in manifest["families"].items():
        found = read(out / info["file"], tz="America/Los_Angeles", quiet=True).account[0].format
        if found != info["format"]:
            wrong[family] = found
    assert not wrong


def test_each_quarter_has_its_own_time_shape(matrix):
    """The generator really varies the shapes it claims to: four zone shapes in the JSON-lines families."""
    out, manifest = matrix
    zones = set()
    for family in ("logrus_json", "structlog_json", "zap_json", "logfmt"):
        table = read(out / manifest["families"][family]["file"], format=family, tz="America/Los_Angeles", quiet=True)
        zones |= set(table.account[0].zones_seen)
    assert {"-07:00", "Z"} <= zones
    raw = (out / manifest["families"]["zap_json"]["file"]).read_text().splitlines()
    kinds = {type(json.loads(line)["ts"]).__name__ for line in raw}
    assert kinds == {"float", "str"}
