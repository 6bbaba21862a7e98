"""The fast paths of reading give exactly what the general paths give."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal, assert_series_equal

from timeline.sources import read
from timeline.sources._parse import _peel_optionals, _split_tail
from timeline.sources._spec import SpecCatalog, load_specs
from timeline.sources._tagging import tag_db_changes
from timeline.sources._time import ISO_FORMATS, TimeOptions, add_time_columns, time_exprs

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_ZONES = ["", "Z", "z", "-07:00", "+00:00", "+05:30", " -07:00", " PDT", "UTC-07:00", "-0700", "+03", " UTC"]
_FRACTIONS = ["", ".1", ".123", ".123456", ".123456789", ".1234"]


@st.composite
def iso_time(draw):
    day, hour, minute = draw(st.integers(1, 28)), draw(st.integers(0, 23)), draw(st.integers(0, 59))
    sep = draw(st.sampled_from(["T", " "]))
    return f"2024-03-{day:02d}{sep}{hour:02d}:{minute:02d}:07{draw(st.sampled_from(_FRACTIONS))}{draw(st.sampled_from(_ZONES))}"


def _both(values: list[str | None]) -> tuple[pl.DataFrame, pl.DataFrame]:
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    options = TimeOptions(tz="America/Los_Angeles")
    staged = add_time_columns(frame, pl.col("raw"), formats=ISO_FORMATS, options=options).select("ts", "_zone", "_terr")
    ts, zone, error = time_exprs(pl.col("raw"), formats=ISO_FORMATS, options=options)
    direct = frame.select(ts.alias("ts"), zone.alias("_zone"), error.alias("_terr"))
    return staged, direct


@SETTINGS
@given(st.lists(iso_time(), min_size=1, max_size=30))
def test_staged_times_equal_the_reference_expressions(values):
    """Position-cut zones and fixed-width fractions read every ISO time as the reference expressions do."""
    staged, direct = _both(values)
    assert_frame_equal(staged, direct)


def test_uniform_offsets_take_the_position_cut_and_stay_exact():
    """A column of '...-07:00' times (the JSON-lines case) reads to the same instants and zones."""
    values = [f"2024-08-12T06:00:{s:02d}.013440-07:00" for s in range(60)] + [None, "2024-08-12T13:00:00.5Z"]
    staged, direct = _both(values)
    assert_frame_equal(staged, direct)
    assert staged["ts"][0].isoformat() == "2024-08-12T13:00:00.013440+00:00"


_PG_LINES = [
    "2024-05-02 09:14:07 UTC [4242]: [3-1] user=app,db=shop,app=psql,client=10.0.3.7 ERROR:  42P01: relation \"ordrs\" does not exist",
    "2024-08-12 14:31:07.118 PDT [4242] app@shop ERROR:  42P01: relation \"ordrs\" does not exist",
    "2024-08-12 14:31:07.118 PDT [4242] app@shop LOG:  AUDIT: SESSION,1,1,READ",
    "2024-08-12 14:31:07.118 PDT [4242-7] app@shop FATAL:  53300: sorry, too many clients already",
    "2024-08-12 14:31:07.118 PDT [4242] LOG:  12345: five digits then a colon",
    "2024-08-12 14:31:07.118 PDT [4242] LOG:  ABCDE: no digit, so no SQLSTATE",
    "2024-08-12 14:31:07.118 PDT [4242] app@shop DETAIL:  Key (id)=(42) already exists.",
]


def test_peeled_optional_part_reads_as_the_whole_pattern(tmp_path: Path):
    """Fields read with a trailing optional part split off equal Python's reading of the whole pattern."""
    spec = SpecCatalog()["postgres_stderr"]
    assert _peel_optionals(_split_tail(spec.patterns[0].regex)[0])[1], "the SQLSTATE part is peeled"
    path = tmp_path / "postgresql.log"
    path.write_text("\n".join(_PG_LINES) + "\n", encoding="utf-8")
    events = read(path, format="postgres_stderr", tz="UTC", quiet=True).df.sort("line")
    expected = []
    for line in _PG_LINES:
        for pat in spec.patterns:
            m = re.match(pat.regex, line)
            if m:
                expected.append(m.group("message"))
                break
    assert events.height == 6  # the DETAIL line joins the event before it
    assert events["message"].to_list()[:5] == expected[:5]
    assert events["message"][5] == expected[5] + "\nDETAIL:  Key (id)=(42) already exists."


def test_peel_leaves_flags_lazy_and_anchored_parts_whole():
    """Parts with inline flags, a lazy '??', an assertion or a capture around them are not split off."""
    assert _peel_optionals(r"^(?i)a(?:b)?") == (r"^(?i)a(?:b)?", [])
    assert _peel_optionals(r"^a(?:b)??") == (r"^a(?:b)??", [])
    assert _peel_optionals(r"^a(?:\bb)?") == (r"^a(?:\bb)?", [])
    assert _peel_optionals(r"^a(b(?:c)?)?") == (r"^a(b(?:c)?)?", [])
    assert _peel_optionals(r"^a(?:b)?(?:[)]c)?") == ("^a", ["(?:b)?", "(?:[)]c)?"])


def test_spec_catalog_reads_one_shipped_spec_like_the_full_load():
    """A shipped format looked up by name is the same spec the full load gives."""
    catalog = SpecCatalog()
    assert catalog["postgres_stderr"].patterns == load_specs()["postgres_stderr"].patterns
    assert "python_logging" in catalog and "no_such_format" not in catalog
    assert sorted(catalog) == sorted(load_specs())


def test_spec_catalog_lets_a_user_folder_override_a_shipped_name(tmp_path: Path):
    """With a folder of the user's, a spec named like a shipped one replaces it."""
    shipped = (Path(__file__).resolve().parent.parent / "timeline" / "formats" / "logfmt.toml").read_text()
    (tmp_path / "mine.toml").write_text(shipped.replace('description = "', 'description = "MINE ', 1), encoding="utf-8")
    assert SpecCatalog([tmp_path])["logfmt"].description.startswith("MINE ")


def test_tagging_touches_only_database_rows_without_an_action():
    """Only db rows without an action are tagged; the first matching rule wins."""
    df = pl.DataFrame(
        {
            "kind": ["db", "db", "log", "db", "db"],
            "message": [
                "received SIGHUP, reloading configuration files",
                "checkpoint starting: time",
                "database system is shut down",
                "database system is shut down",
                None,
            ],
            "action": [None, None, None, "restart", None],
        }
    )
    out = tag_db_changes(df)
    assert_series_equal(out["action"], pl.Series("action", ["config_reload", None, None, "restart", None]))


def test_read_command_imports_no_reconstruction():
    """'timeline read' loads the reading machinery only (no numpy, reconstruction or trends)."""
    code = (
        "import sys, timeline.cli as c; c.build_parser(features=False); import timeline.sources;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'numpy' or m.startswith(('timeline.reconstruct', 'timeline.trends'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_submodule_import_does_not_hide_the_public_function():
    """Importing timeline.trends (the package) leaves timeline.trends the function, as before."""
    code = "import timeline.trends._cli, timeline as tl; print(callable(tl.trends), callable(tl.reconstruct), callable(tl.templates))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "True True True"


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(["a.log", "b.log"]), st.integers(1, 4), st.sampled_from(["x", "y"])),
        max_size=8,
    )
)
def test_a_table_found_in_order_is_what_sorting_gives(rows):
    """When the order check passes, sorting would change nothing."""
    import datetime as dt

    from timeline.schema import sort_events
    from timeline.schema import in_event_order as _in_event_order

    df = pl.DataFrame(
        {
            "ts": [dt.datetime(2024, 8, 12, 21, 0, s, tzinfo=dt.UTC) for s, _, _, _ in rows],
            "file": [f for _, f, _, _ in rows],
            "line": [n for _, _, n, _ in rows],
            "source": ["app"] * len(rows),
            "message": [m for _, _, _, m in rows],
        },
        schema={"ts": pl.Datetime("us", "UTC"), "file": pl.String, "line": pl.UInt32, "source": pl.String, "message": pl.String},
    )
    if _in_event_order(df):
        assert_frame_equal(df, sort_events(df))
    else:
        assert not df.equals(sort_events(df))
