"""timeline: reconstruct incidents from their evidence.

The verbs a notebook user needs::

    import timeline as tl
    events = tl.read("data/incidents/2024-08-12-db-outage/", tz="America/Los_Angeles")
"""

from __future__ import annotations

from timeline._errors import FormatSpecError, InputError, ReconstructError, TimelineError
from timeline._events import EventTable
from timeline.reconstruct import Incident, reconstruct, reconstruct_all
from timeline.sources import read
from timeline.templates import templates
from timeline.trends import Incidents, Trends, load_incidents, trends

__all__ = [
    "EventTable",
    "Incident",
    "Incidents",
    "Trends",
    "load_incidents",
    "reconstruct",
    "reconstruct_all",
    "templates",
    "trends",
    "FormatSpecError",
    "InputError",
    "ReconstructError",
    "TimelineError",
    "read",
]
__version__ = "0.1.0"
