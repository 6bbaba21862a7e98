"""The incident JSON validates against the published JSON Schema of the contract."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from timeline.reconstruct import reconstruct
from timeline.testing import outage


@pytest.fixture(name="schema", scope="module")
def fixture_schema() -> dict:
    """The JSON Schema shipped with the package."""
    return json.loads(resources.files("timeline").joinpath("schemas/incident.schema.json").read_text())


def test_schema_is_valid_json_schema(schema):
    """The shipped schema is itself a valid draft 2020-12 schema."""
    jsonschema.Draft202012Validator.check_schema(schema)


def test_reconstructed_incident_validates(schema):
    """A reconstructed outage's JSON validates, overrides included."""
    events, _ = outage(seed=3)
    inc = reconstruct(events, tz="America/Los_Angeles")
    inc.set("identified", "2024-08-12T14:50:00", note="DBA knew")
    jsonschema.validate(json.loads(inc.to_json()), schema)


def test_schema_rejects_a_negative_gap_and_a_naive_time(schema):
    """The schema is strict where the contract is: gaps are never negative, times carry +00:00."""
    events, _ = outage(seed=4)
    data = json.loads(reconstruct(events).to_json())
    bad = json.loads(json.dumps(data))
    bad["gaps"]["time_to_detect_s"] = -5
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    bad = json.loads(json.dumps(data))
    bad["milestones"]["impact_start"]["at"] = "2024-08-12T21:14:37"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
