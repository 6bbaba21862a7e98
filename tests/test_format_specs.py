"""Every shipped format spec parses its own samples; a broken spec fails loudly."""

from __future__ import annotations

import warnings

import pytest

from timeline._errors import FormatSpecError
from timeline.sources._samples import check_spec
from timeline.sources._spec import builtin_spec_dir, load_spec_file, load_specs, parse_spec

SPEC_FILES = sorted(builtin_spec_dir().glob("*.toml"))


@pytest.mark.parametrize("path", SPEC_FILES, ids=[p.stem for p in SPEC_FILES])
def test_shipped_spec_parses_its_samples(path):
    """Each sample of each shipped spec parses into the events it describes, nothing rejected."""
    spec = load_spec_file(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_spec(spec)


def test_spec_names_are_unique():
    """No two shipped spec files claim the same format name."""
    names = [load_spec_file(p).name for p in SPEC_FILES]
    assert len(names) == len(set(names))
    assert set(load_specs()) == set(names)


def _spec(**overrides):
    base = {
        "name": "broken_example",
        "kind": "regex",
        "patterns": [{"name": "std", "regex": r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?P<message>.*)$"}],
        "timestamp": {"formats": ["%Y-%m-%d %H:%M:%S"]},
        "samples": [{"text": "2024-01-02 03:04:05 hello"}],
    }
    base.update(overrides)
    return base


def test_sample_that_matches_no_pattern_names_spec_and_sample():
    """A sample no pattern matches fails with the spec's name and the sample's text."""
    spec = parse_spec(_spec(samples=[{"text": "Jan  2 03:04:05 host hello"}]))
    with pytest.raises(FormatSpecError, match=r"'broken_example' sample 1 \('Jan  2 03:04:05 host hello'\).*does not match"):
        check_spec(spec)


def test_sample_expectation_mismatch_is_reported():
    """A sample whose expected level differs from the parsed one fails and says both."""
    spec = parse_spec(_spec(samples=[{"text": "2024-01-02 03:04:05 hello", "level": "error"}]))
    with pytest.raises(FormatSpecError, match="expected level = 'error', parsed 'info'"):
        check_spec(spec)


def test_invalid_regex_is_reported_with_pattern():
    """A pattern that is not a regex fails at load time, naming the pattern."""
    with pytest.raises(FormatSpecError, match=r"patterns\[0\] \(std\) is not a valid regex"):
        parse_spec(_spec(patterns=[{"name": "std", "regex": "(?P<ts>[0-9"}]))


def test_spec_without_samples_is_refused():
    """Every spec must carry real samples."""
    with pytest.raises(FormatSpecError, match="at least one"):
        parse_spec(_spec(samples=[]))


def test_misspelt_column_gets_a_hint():
    """An unknown [columns] target names the closest event column."""
    with pytest.raises(FormatSpecError, match="closest is 'service'"):
        parse_spec(_spec(columns={"servce": "logger"}))


def test_pattern_without_sample_warns():
    """A pattern that no sample exercises is a warning, as in lnav."""
    spec = parse_spec(
        _spec(patterns=[
            {"name": "std", "regex": r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?P<message>.*)$"},
            {"name": "other", "regex": r"^(?P<ts>\d{10}) (?P<message>.*)$"},
        ])
    )
    with pytest.warns(UserWarning, match="pattern 'other' matches no sample"):
        check_spec(spec)
