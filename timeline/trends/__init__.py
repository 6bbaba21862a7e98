"""Trends across many incidents: MTTD/MTTR distributions by month, quarter, service, severity.

>>> from timeline.trends import load_incidents, trends
>>> t = trends(load_incidents("data/incident-history"), every="1q", by="service")  # doctest: +SKIP
>>> t.plot()                                  # doctest: +SKIP
>>> t.to_html("trends.html")                  # doctest: +SKIP
"""

from timeline.trends._model import GAPS, MILESTONES, describe_gap
from timeline.trends._stats import bootstrap_median_ci, wilson_interval
from timeline.trends._store import Incidents, load_incidents
from timeline.trends._trends import JSON_KEYS, Trends, trends

__all__ = [
    "GAPS",
    "JSON_KEYS",
    "MILESTONES",
    "Incidents",
    "Trends",
    "bootstrap_median_ci",
    "describe_gap",
    "load_incidents",
    "trends",
    "wilson_interval",
]
