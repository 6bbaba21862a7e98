"""Smoke tests of the reading benchmark's generator, baseline and lnav formats (no timing)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
SMALL = 3_000


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(name="gen", scope="module")
def fixture_gen() -> ModuleType:
    return _load("generate_logs")


@pytest.fixture(name="small_set", scope="module")
def fixture_small_set(gen: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench-small")
    gen.generate(out, SMALL, seed=7)
    return out


@pytest.fixture(name="manifest", scope="module")
def fixture_manifest(small_set: Path) -> dict:
    return json.loads((small_set / "manifest.json").read_text(encoding="utf-8"))


def _lnav_regex(family: str) -> re.Pattern[str]:
    name = {"python_logging": "bench_pylog", "postgres_stderr": "bench_pg_stderr"}[family]
    spec = json.loads((BENCH / "lnav" / f"{name}.json").read_text(encoding="utf-8"))[name]
    pattern = spec["regex"]["std"]["pattern"].replace("(?<", "(?P<")
    return re.compile(pattern)


def test_generator_is_deterministic(gen: ModuleType, small_set: Path, tmp_path: Path) -> None:
    """The same seed and line count give byte-identical files."""
    gen.generate(tmp_path, SMALL, seed=7)
    for name in gen.FILE_NAMES.values():
        assert (tmp_path / name).read_bytes() == (small_set / name).read_bytes(), name


def test_seed_changes_content(gen: ModuleType, small_set: Path, tmp_path: Path) -> None:
    """Another seed gives other files."""
    gen.generate(tmp_path, SMALL, seed=8, families=("python_logging",))
    assert (tmp_path / "app.log").read_bytes() != (small_set / "app.log").read_bytes()


@pytest.mark.parametrize("family", ["python_logging", "jsonl", "postgres_stderr"])
def test_writes_exact_line_count(small_set: Path, manifest: dict, family: str) -> None:
    """Each family's file has exactly the asked number of lines, as the manifest says."""
    stats = manifest["files"][family]
    data = (small_set / stats["file"]).read_bytes()
    assert data.count(b"\n") == SMALL == stats["lines"]
    assert len(data) == stats["bytes"]


def test_python_logging_has_tracebacks(small_set: Path, manifest: dict) -> None:
    """About 7 % of Python-logging lines are traceback lines without a prefix."""
    stats = manifest["files"]["python_logging"]
    lines = (small_set / "app.log").read_text(encoding="utf-8").splitlines()
    unprefixed = sum(1 for ln in lines if not re.match(r"\d{4}-\d\d-\d\d ", ln))
    assert unprefixed == stats["continuation_lines"]
    assert 0.04 < unprefixed / len(lines) < 0.10
    assert any(ln == "Traceback (most recent call last):" for ln in lines)


def test_jsonl_key_first_appears_late(small_set: Path) -> None:
    """error.type is absent from the first 500 JSON rows and present later, with offsets on every time."""
    rows = [json.loads(ln) for ln in (small_set / "app.jsonl").read_text(encoding="utf-8").splitlines()]
    assert not any("error.type" in r for r in rows[:500])
    assert any("error.type" in r for r in rows[500:])
    assert all(re.search(r"[+-]\d\d:\d\d$", r["@timestamp"]) for r in rows)


def test_postgres_has_prefix_variants_and_continuations(small_set: Path) -> None:
    """PostgreSQL lines carry PDT, %q-shortened prefixes, DETAIL/STATEMENT and TAB continuations."""
    text = (small_set / "postgresql.log").read_text(encoding="utf-8")
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} PDT \[\d+\] LOG:  ", text, re.M)
    assert re.search(r"^\S+ \S+ PDT \[\d+\] \w+@\w+ ERROR:  ", text, re.M)
    assert re.search(r"^\S+ \S+ PDT \[\d+\] \S+ (DETAIL|STATEMENT):  ", text, re.M)
    assert re.search(r"^\t", text, re.M)


@pytest.mark.parametrize("family", ["python_logging", "postgres_stderr"])
def test_lnav_format_matches_every_record(small_set: Path, manifest: dict, family: str) -> None:
    """The lnav format's regex matches every record line, so lnav's count can be checked."""
    stats = manifest["files"][family]
    rx = _lnav_regex(family)
    lines = (small_set / stats["file"]).read_text(encoding="utf-8").splitlines()
    assert sum(1 for ln in lines if rx.match(ln)) == stats["records"]


@pytest.mark.parametrize("family", ["python_logging", "jsonl", "postgres_stderr"])
def test_baseline_reads_every_event(small_set: Path, manifest: dict, family: str) -> None:
    """The per-line baseline finds the generator's event count and rejects nothing."""
    baseline = _load("baseline_re")
    stats = manifest["files"][family]
    counts = baseline.READERS[family](str(small_set / stats["file"]), "America/Los_Angeles")
    assert counts["events"] == stats["events"]
    assert counts["rejected"] == 0
