"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
SAMPLE_INCIDENT = DATA / "incidents" / "2024-08-12-db-outage"
SHARED = REPO.parent / "shared"


@pytest.fixture(name="sample_incident")
def fixture_sample_incident() -> Path:
    """The committed sample outage folder."""
    return SAMPLE_INCIDENT
