"""The words of incident response are data: every rule's samples match and its not_samples do not,
through the same matching the reconstruction uses."""

from __future__ import annotations

import polars as pl
import pytest

from timeline._errors import ReconstructError
from timeline.reconstruct._human import matches
from timeline.reconstruct._rules import any_match, load_rules

RULES = load_rules()

# Rules whose matches are reports, not actions: a question may still be one.
REPORTS = {"question", "hypothetical", "symptom"}


def _tables():
    for name, table in RULES.items():
        if name == "milestones":
            for m, t in table.items():
                yield f"milestones.{m}", t
        elif isinstance(table, dict) and ("samples" in table or "patterns" in table or "actors" in table):
            yield name, table


def _rule(name: str, table: dict) -> dict:
    if name == "attempts":
        pats = [p for ps in table["actions"].values() for p in ps]
        return {"patterns": pats}
    return table


@pytest.mark.parametrize(("name", "table"), list(_tables()), ids=[n for n, _ in _tables()])
def test_every_rule_carries_samples_that_hold(name, table):
    """Each rule has samples and not_samples; the samples match, the not_samples do not."""
    assert table.get("samples"), f"{name} has no samples"
    assert table.get("not_samples"), f"{name} has no not_samples"
    if name == "bots":
        frame = pl.DataFrame({"a": table["samples"] + table["not_samples"]})
        hit = frame.select(any_match(pl.col("a"), table["actors"]))["a"].to_list()
        assert hit == [True] * len(table["samples"]) + [False] * len(table["not_samples"])
        return
    rule = _rule(name, table)
    allow = name in REPORTS
    for text in table["samples"]:
        assert matches(rule, text, RULES, allow_talk=allow), f"{name}: sample not matched: {text!r}"
    for text in table["not_samples"]:
        assert not matches(rule, text, RULES, allow_talk=allow), f"{name}: not_sample matched: {text!r}"


def test_a_bad_user_pattern_is_named():
    with pytest.raises(ReconstructError, match=r"milestones\.escalated\.patterns.*not a valid regex"):
        load_rules({"milestones": {"escalated": {"patterns": ["(unclosed"]}}})


def test_user_rules_extend_the_shipped_lists():
    rules = load_rules({"milestones": {"escalated": {"patterns": [r"\bsummon(ing|ed)\b"]}}})
    assert matches(rules["milestones"]["escalated"], "summoning the DBA", rules)
    assert matches(rules["milestones"]["escalated"], "escalating to engineering", rules)


def test_asking_a_named_person_is_escalation():
    """The escalation rule's requests count only in a message that mentions someone."""
    from timeline.reconstruct._human import MENTION

    rule = RULES["milestones"]["escalated"]
    frame = pl.DataFrame({"t": rule["request_samples"] + rule["request_not_samples"]})
    got = frame.select(pl.col("t").str.contains(MENTION) & any_match(pl.col("t"), rule["requests"]))["t"].to_list()
    assert got == [True] * len(rule["request_samples"]) + [False] * len(rule["request_not_samples"])
