"""A standalone HTML report: one file, works offline, every evidence text escaped."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timeline.report import _doc as d
from timeline.report._charts import rates, swimlane, template_lane
from timeline.report._common import duration, resolve_tz, to_local
from timeline.report._markdown import postmortem_sections

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from timeline.reconstruct._model import Incident

CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#fff; --soft:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif, "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji"; color: var(--fg);
       background: var(--bg); margin: 0; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 1.8em; border-bottom: 1px solid var(--line); padding-bottom: .3em; margin-top: 0; }
h2 { font-size: 1.35em; border-bottom: 1px solid var(--line); padding-bottom: .25em; margin-top: 1.8em; }
code { font: 0.86em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--soft);
       padding: .1em .35em; border-radius: 4px; word-break: break-word; }
table.timeline { border-collapse: collapse; width: 100%; margin: 1em 0; font-size: .92em; }
table.timeline th, table.timeline td { border: 1px solid var(--line); padding: 5px 9px; vertical-align: top; text-align: left; }
table.timeline th { background: var(--soft); }
table.timeline td:nth-child(1), table.timeline td:nth-child(2) { white-space: nowrap; font-variant-numeric: tabular-nums; }
table.timeline td:nth-child(4) { font-size: .9em; }
.sym { font-weight: 700; }
.sym.bad { color: #cf222e; } .sym.ok { color: #1a7f37; } .sym.warn { color: #9a6700; }
table.account { border-collapse: collapse; font-size: .9em; }
table.account th, table.account td { border: 1px solid var(--line); padding: 4px 9px; text-align: left; }
table.account td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.milestone td { background: #fffbe6; }
tr.failed td { background: #ffebe9; }
tr.attempt td { background: #eaf7ec; }
tr.gap td { background: #f3f0ff; color: #4c2889; }
tr.signal td { background: #fff1e5; }
blockquote.callout { margin: 1em 0; padding: .6em 1em; border-left: 4px solid #d4a72c; background: #fff8c5; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 1em 0 1.5em; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 130px; background: var(--soft); }
.card .k { font-size: .8em; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 1.45em; font-weight: 600; }
.meta { color: var(--muted); }
.figure { margin: 1em 0 2em; border: 1px solid var(--line); border-radius: 8px; padding: 6px; }
footer { margin-top: 3em; color: var(--muted); font-size: .85em; }
"""


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    # A literal "</script" inside the bundle would end the tag early; the bundle has none, but be safe.
    return get_plotlyjs().replace("</script", "<\\/script")


def _figure_div(fig: go.Figure, div_id: str) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def _cards(incident: Incident) -> str:
    gaps = incident.gaps
    det = incident.milestone("detected")
    items: list[tuple[str, str]] = [
        ("time to detect", duration(gaps["time_to_detect"])),
        ("time to escalate", duration(gaps["time_to_escalate"])),
        ("time to mitigate", duration(gaps["time_to_mitigate"])),
        ("time to resolve", duration(gaps["time_to_resolve"])),
        ("detected by", det.by if det and det.by else "n/a"),
    ]
    if incident.signal is not None and incident.signal.lead_time_s:
        items.append(("signal lead", duration(incident.signal.lead_time_s)))
    failed = sum(1 for a in incident.attempts if a.effective is False)
    items.append(("attempts (failed)", f"{len(incident.attempts)} ({failed})"))
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="k">{html.escape(k)}</div><div class="v">{html.escape(v)}</div></div>' for k, v in items
    ) + "</div>"


def _ingest_table(ingest: list[dict[str, Any]]) -> str:
    if not ingest:
        return ""
    cols = ("file", "format", "lines", "events", "continuation_lines", "rejected")
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in cols)
    rows = []
    for f in ingest:
        cells = []
        for c in cols:
            v = f.get(c)
            cells.append(f'<td class="n">{v:,}</td>' if isinstance(v, int) else f"<td>{html.escape('' if v is None else str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<h2>Evidence read</h2><table class="account"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def to_html(incident: Incident, path: str | Path | None = None, tz: str | None = None) -> str:
    """The incident as one standalone HTML page: summary cards, charts and the postmortem draft.

    The page embeds plotly's JavaScript once, so it opens offline and can be
    attached to a ticket or mailed. Every text that came from the evidence
    (log lines, tickets, chat) is escaped.

    Parameters
    ----------
    incident
        A reconstructed incident.
    path
        Where to write the page (UTF-8); nothing is written when None.
    tz
        IANA zone for every time shown; default the incident's zone.

    Returns
    -------
    str
        The HTML text.
    """
    zone, name = resolve_tz(incident, tz)
    sections = dict(postmortem_sections(incident, name))
    figs = [
        ("swimlane", swimlane(incident, name)),
        ("rates", rates(incident, name)),
        ("templates", template_lane(incident, name)),
    ]
    divs = {key: f'<div class="figure">{_figure_div(fig, f"timeline-{key}")}</div>' for key, fig in figs}
    w0, w1 = (to_local(x, zone) for x in incident.window)
    body: list[str] = [
        d.to_html(sections["title"]),
        f'<p class="meta">Evidence window {w0:%Y-%m-%d %H:%M} to {w1:%Y-%m-%d %H:%M} ({html.escape(name)}).</p>',
        _cards(incident),
        divs["swimlane"],
        d.to_html(sections["summary"]),
        d.to_html(sections["impact"]),
        divs["rates"],
        d.to_html(sections["timeline"]),
        d.to_html(sections["detection"]),
        divs["templates"],
        d.to_html(sections["root_cause"]),
        d.to_html(sections["resolution"]),
        d.to_html(sections["lessons"]),
        d.to_html(sections["actions"]),
        _ingest_table(incident.ingest),
        '<footer>Generated by timeline from the evidence listed above. Times in '
        f"{html.escape(name)}. Charts are interactive: hover for the log line and its file:line, drag to zoom.</footer>",
    ]
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(incident.title)}</title>\n<style>{CSS}</style>\n"
        f'<script type="text/javascript">{_plotly_js()}</script>\n'
        "</head>\n<body>\n<main>\n" + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
    )
    if path is not None:
        Path(path).write_text(page, encoding="utf-8")
    return page
