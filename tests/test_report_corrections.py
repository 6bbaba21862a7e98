"""Corrections by hand: incident.set() and annotation files are checked, and corrected milestones cite the note."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timeline._errors import ReconstructError
from timeline.reconstruct import reconstruct
from timeline.reconstruct._model import cut_words, earliest_signal, load_annotations, parse_when
from timeline.testing import outage

TZ = "America/Los_Angeles"


@pytest.fixture(name="incident")
def fixture_incident():
    """A reconstructed generated outage (impact around 14:14 PDT on 2024-08-12)."""
    events, _ = outage(seed=3)
    return reconstruct(events, tz=TZ)


def test_bare_time_is_on_the_incident_date_in_its_zone(incident):
    """'14:28' means 14:28 on the incident's local date in its zone, as the README's example writes it."""
    incident.set("detected", "14:28", by="staff", note="seen on the dashboard")
    assert incident.at("detected") == dt.datetime(2024, 8, 12, 21, 28, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-08-12 14:28", dt.datetime(2024, 8, 12, 21, 28, tzinfo=dt.UTC)),
        ("2024-08-12T14:28:00-07:00", dt.datetime(2024, 8, 12, 21, 28, tzinfo=dt.UTC)),
        ("2024-08-12T21:28:00Z", dt.datetime(2024, 8, 12, 21, 28, tzinfo=dt.UTC)),
        ("2:28 PM", dt.datetime(2024, 8, 12, 21, 28, tzinfo=dt.UTC)),
        ("14:28:05.5", dt.datetime(2024, 8, 12, 21, 28, 5, 500000, tzinfo=dt.UTC)),
        ("Aug 12, 2024 2:28 PM", dt.datetime(2024, 8, 12, 21, 28, tzinfo=dt.UTC)),
    ],
)
def test_human_times(text, expected):
    """ISO, local date-times, times of day (24 h or AM/PM) and written dates all read the same way."""
    assert parse_when(text, TZ, dt.date(2024, 8, 12)) == expected


@pytest.mark.parametrize("text", ["14:2x", "25:00", "13:00 PM", "yesterday-ish"])
def test_unreadable_time_is_a_clear_error(text):
    """A time that cannot be read names itself and the accepted forms, never a raw ValueError."""
    with pytest.raises(ReconstructError, match=r"is not a time; expected ISO 8601.*'14:28'") as exc:
        parse_when(text, TZ, dt.date(2024, 8, 12), what="detected time")
    assert repr(text) in str(exc.value)


def test_a_date_alone_is_refused():
    """A date without a time of day is not taken as midnight."""
    with pytest.raises(ReconstructError, match="is a date without a time of day; expected e.g. '2024-08-12 14:28'"):
        parse_when("2024-08-12", TZ, dt.date(2024, 8, 12))


def test_mitigated_before_impact_is_refused_and_nothing_changes(incident):
    """A correction out of the lifecycle's order is refused, and the incident is left as it was."""
    before = incident.at("mitigated")
    with pytest.raises(ReconstructError, match=r"mitigated at 2024-08-12 14:10:00 PDT would be before impact_start"):
        incident.set("mitigated", "14:10")
    assert incident.at("mitigated") == before
    assert incident.milestones["mitigated"].inferred is None


def test_resolved_before_mitigated_is_refused(incident):
    """Resolved cannot come before mitigated."""
    mit = incident.at("mitigated").astimezone(dt.timezone(dt.timedelta(hours=-7)))
    earlier = (mit - dt.timedelta(minutes=1)).strftime("%H:%M")
    with pytest.raises(ReconstructError, match="resolved cannot come before mitigated"):
        incident.set("resolved", earlier)


@pytest.mark.parametrize(("name", "by", "match"), [
    ("detected", "pager", r"by='pager' is not who can detect.*alert, customer, staff"),
    ("detected", "Customer", r"did you mean 'customer'"),
    ("escalated", "staff", r"applies to 'detected' only"),
])
def test_by_values_are_checked(incident, name, by, match):
    """Only alert, customer and staff detect; ``by`` belongs to detected alone."""
    with pytest.raises(ReconstructError, match=match):
        incident.set(name, "14:40", by=by)


def test_unknown_milestone_suggests_the_closest(incident):
    """A misspelt milestone gets a did-you-mean."""
    with pytest.raises(ReconstructError, match="did you mean 'detected'"):
        incident.set("detcted", "14:28")


def test_corrected_milestone_cites_the_note_not_the_replaced_evidence(incident):
    """After a correction, the evidence is the person's note; the inferred evidence stays under ``inferred``."""
    inferred_ev = incident.milestones["detected"].evidence
    incident.set("detected", "14:28", by="staff", note="seen on the dashboard")
    m = incident.milestones["detected"]
    assert [e.message for e in m.evidence] == ["seen on the dashboard"]
    assert m.evidence[0].source == "note"
    assert m.inferred is not None and m.inferred.evidence == inferred_ev
    md = incident.to_markdown()
    row = next(ln for ln in md.splitlines() if "**DETECTED (staff)**" in ln)
    assert "seen on the dashboard" in row
    assert "zendesk" not in row and "tickets" not in row.split("|")[-2]
    data = json.loads(incident.to_json())
    assert data["milestones"]["detected"]["evidence"][0]["message"] == "seen on the dashboard"


def test_annotations_set_title_and_move_two_milestones_together(incident, tmp_path):
    """An annotations file sets the title and may move impact start and mitigation at once."""
    path = tmp_path / "fix.toml"
    path.write_text(
        'title = "Checkout down after CHG-1"\n'
        '[milestones.impact_start]\nat = "13:00"\n'
        '[milestones.trigger]\nat = "12:55"\nnote = "deploy log"\n'
    )
    incident.annotate(path)
    assert incident.title == "Checkout down after CHG-1"
    assert incident.at("impact_start") == dt.datetime(2024, 8, 12, 20, 0, tzinfo=dt.UTC)
    assert incident.milestones["trigger"].evidence[0].source == str(path)


def test_bad_annotations_name_the_file_and_key(tmp_path):
    """Unknown keys, missing times and bad syntax are errors that name the file and what was expected."""
    cases = {
        "a.toml": ('[milestones.detcted]\nat = "14:28"\n', r"a.toml: unknown key 'detcted'; did you mean 'detected'"),
        "b.toml": ('[milestones.detected]\nwhen = "14:28"\n', r"b.toml: detected: unknown key 'when'"),
        "c.toml": ('[milestones.detected]\nnote = "x"\n', r"c.toml: detected has no 'at'"),
        "d.toml": ("title = \n", r"d.toml is not valid TOML"),
        "e.json": ("{", r"e.json is not valid JSON"),
    }
    for name, (text, match) in cases.items():
        p = tmp_path / name
        p.write_text(text)
        with pytest.raises(ReconstructError, match=match):
            load_annotations(p)
    with pytest.raises(ReconstructError, match="does not exist"):
        load_annotations(tmp_path / "missing.toml")


def test_annotation_out_of_order_names_the_file_and_changes_nothing(incident, tmp_path):
    """A file whose corrections break the order is refused whole."""
    path = tmp_path / "bad.toml"
    path.write_text('title = "x"\n[milestones.mitigated]\nat = "13:00"\n')
    before = (incident.title, incident.at("mitigated"))
    with pytest.raises(ReconstructError, match=r"bad.toml: mitigated .* before impact_start"):
        incident.annotate(path)
    assert (incident.title, incident.at("mitigated")) == before


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("max_connections 400->40 and shared_buffers", 20, "max_connections…"),
    ("short", 20, "short"),
    ("one two three four", 12, "one two…"),
    ("first line\nsecond line", 40, "first line"),
])
def test_cut_words_never_cuts_mid_word(text, limit, expected):
    """Text is cut at a word boundary, with an ellipsis, within the limit."""
    out = cut_words(text, limit)
    assert out == expected
    assert len(out) <= limit


def _rows(spec):
    return pl.DataFrame(
        [{"ts": ts, "source": src, "template": t, "file": f"{src}.log", "line": i, "message": t} for i, (ts, src, t) in enumerate(spec)],
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    )


def test_precision_aware_tie_prefers_the_exact_time():
    """A whole-second access line at :37 does not beat a millisecond database line at :37.412; one at :36 does."""
    t = dt.datetime(2024, 8, 12, 21, 14, 37, tzinfo=dt.UTC)
    rows = _rows([
        (t, "nginx/access", "GET <*> HTTP/1.1 503"),
        (t + dt.timedelta(seconds=5), "nginx/access", "GET <*> HTTP/1.1 503"),
        (t + dt.timedelta(milliseconds=412), "db/postgresql", "sorry, too many clients already"),
        (t + dt.timedelta(seconds=3, milliseconds=7), "db/postgresql", "sorry, too many clients already"),
    ])
    assert earliest_signal(rows).source == "db/postgresql"
    earlier = pl.concat([rows, _rows([(t - dt.timedelta(seconds=1), "nginx/access", "GET <*> HTTP/1.1 503")])])
    assert earliest_signal(earlier).source == "nginx/access"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab cd,e-f_gh\u00e9 "), min_size=0, max_size=120), st.integers(min_value=4, max_value=80))
def test_cut_words_property(text, limit):
    """Whatever the text: within the limit, a prefix of its first line, and a cut ends where a word ends."""
    out = cut_words(text, limit)
    first = text.strip().splitlines()[0] if text.strip() else ""
    assert len(out) <= limit
    if out.endswith("…") and not first.endswith("…"):
        kept = out[:-1]
        assert first.startswith(kept)
        rest = first[len(kept):]
        # the cut falls on a word boundary, unless the first word alone is longer than the limit
        assert rest[:1] in (" ", ",", "-", "") or " " not in first[: limit - 1] or not kept.strip()
    else:
        assert out == first


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
def test_bare_time_property(hour, minute):
    """A bare HH:MM is that wall-clock time on the given date in the zone."""
    from zoneinfo import ZoneInfo

    got = parse_when(f"{hour}:{minute:02d}", TZ, dt.date(2024, 8, 12)).astimezone(ZoneInfo(TZ))
    assert (got.date(), got.hour, got.minute) == (dt.date(2024, 8, 12), hour, minute)
