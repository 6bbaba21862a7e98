"""timeline: reconstruct incidents from their evidence.

The verbs a notebook user needs::

    import timeline as tl
    events = tl.read("data/incidents/2024-08-12-db-outage/", tz="America/Los_Angeles")

The public names are imported on first use (PEP 562), so ``timeline read`` on
the command line loads only the reading machinery, not reconstruction or trends.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from timeline._errors import FormatSpecError, InputError, ReconstructError, TimelineError

if TYPE_CHECKING:
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

_LAZY: dict[str, str] = {
    "EventTable": "timeline._events",
    "Incident": "timeline.reconstruct",
    "reconstruct": "timeline.reconstruct",
    "reconstruct_all": "timeline.reconstruct",
    "read": "timeline.sources",
    "templates": "timeline.templates",
    "Incidents": "timeline.trends",
    "Trends": "timeline.trends",
    "load_incidents": "timeline.trends",
    "trends": "timeline.trends",
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use and keep it in the module."""
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'timeline' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package module: importing ``timeline.trends`` must not hide the function ``trends``.

    Importing a submodule sets it as an attribute of its package; three
    submodules share their name with a public function (``reconstruct``,
    ``templates``, ``trends``), so that assignment is dropped and the name
    still resolves to the function.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
