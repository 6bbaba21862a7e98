"""Report an incident: the postmortem timeline and draft, plotly charts, a standalone HTML page, hand-off exports.

Each function takes an :class:`~timeline.reconstruct._model.Incident`; they are
also its methods (``incident.to_markdown()``, ``incident.plot()``...).

========================  ==========================================================
``to_markdown``           the "Timeline of Events" section (Markdown)
``postmortem``            a full postmortem draft (Markdown) for a person to edit
``swimlane``              chart: a lane per source, milestones, shaded spans
``rates``                 chart: errors and all events per minute, per source
``template_lane``         chart: bursting log templates
``plot``                  one of the charts by name (``kind="swimlane"`` by default)
``to_html``               one offline HTML file: charts plus the postmortem draft
``to_timesketch``         entries and evidence as Timesketch JSONL
``incident_repr_html``    the rich display in JupyterLab
========================  ==========================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from timeline.report._charts import plot, rates, swimlane, template_lane
from timeline.report._html import to_html
from timeline.report._markdown import postmortem, to_markdown
from timeline.report._repr import incident_repr_html
from timeline.report._timesketch import to_timesketch

if TYPE_CHECKING:
    from timeline.reconstruct._model import Incident

__all__ = [
    "incident_repr_html",
    "plot",
    "postmortem",
    "rates",
    "swimlane",
    "template_lane",
    "to_html",
    "to_markdown",
    "to_timesketch",
    "write_outputs",
]


def write_outputs(
    incident: Incident,
    *,
    html: str | Path | None = None,
    markdown: str | Path | None = None,
    timesketch: str | Path | None = None,
    tz: str | None = None,
    full: bool = True,
) -> list[str]:
    """Write the report files a CLI run asked for; return one line per file written.

    Parameters
    ----------
    html, markdown, timesketch
        Output paths (None to skip).
    tz
        Display zone; default the incident's.
    full
        Markdown holds the whole postmortem draft (True) or only the timeline section.
    """
    done: list[str] = []
    if markdown is not None:
        text = postmortem(incident, tz) if full else to_markdown(incident, tz)
        Path(markdown).write_text(text, encoding="utf-8")
        done.append(f"postmortem draft written to {markdown}" if full else f"timeline section written to {markdown}")
    if html is not None:
        to_html(incident, html, tz)
        done.append(f"HTML report written to {html}")
    if timesketch is not None:
        n = to_timesketch(incident, timesketch)
        done.append(f"{n} Timesketch records written to {timesketch}")
    return done
