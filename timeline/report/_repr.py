"""The rich display of an Incident in JupyterLab (``Incident._repr_html_``)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from timeline.reconstruct._model import MILESTONES
from timeline.report._doc import one_line
from timeline.report._common import duration, label, resolve_tz, short_paths, to_local
from timeline.report._markdown import key_intervals

if TYPE_CHECKING:
    from timeline.reconstruct._model import Incident

_STYLE = (
    "<style>.tl-inc table{border-collapse:collapse;font-size:12.5px}"
    ".tl-inc th,.tl-inc td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}"
    ".tl-inc th{background:#f6f8fa}.tl-inc .miss{color:#888}.tl-inc .warn{color:#b35900}</style>"
)


def incident_repr_html(incident: Incident) -> str:
    """A compact HTML summary: title, window, key intervals, milestones with evidence, attempts, signal.

    Every text from the evidence is escaped.
    """
    zone, name = resolve_tz(incident, None)

    def loc(ts: object) -> str:
        return f"{to_local(ts, zone):%Y-%m-%d %H:%M:%S %Z}"  # type: ignore[arg-type]

    e = html.escape
    present = [m for m in incident.milestones.values() if m is not None]
    paths = short_paths([ev.file for m in present for ev in m.evidence[:1]])
    days = {to_local(m.at, zone).date() for m in present}
    fmt = "%H:%M:%S" if len(days) <= 1 else "%m-%d %H:%M:%S"
    rows = []
    for m_name in MILESTONES:
        m = incident.milestones.get(m_name)
        if m is None:
            why = incident.missing.get(m_name, "not found")
            rows.append(f'<tr class="miss"><td>{e(m_name)}</td><td>—</td><td></td><td colspan="2">{e(why[:200])}</td></tr>')
            continue
        ev = m.evidence[0] if m.evidence else None
        where = e(f"{paths.get(ev.file, ev.file)}:{ev.line}" if ev and ev.file else (ev.source if ev else ""))
        msg = e(one_line(ev.message if ev else m.rule, 160))
        flag = ""
        if m.inferred is not None or m.rule.startswith("set by a person"):
            was = f"inferred {to_local(m.inferred.at, zone):{fmt}}" if m.inferred is not None else "not inferred"
            flag = f' <span title="{e(m.note or "set by a person")}">✎ {e(was)}</span>'
        rows.append(
            f"<tr><td><b>{e(label(m_name, m.by))}</b>{flag}</td><td>{e(to_local(m.at, zone).strftime(fmt))}</td><td>{e(m.confidence)}</td>"
            f"<td>{msg}</td><td><code>{where}</code></td></tr>"
        )
    attempts = "".join(
        f"<li>{'❌' if a.effective is False else ('✅' if a.effective else '•')} {e(loc(a.at))} "
        f"<b>{e(a.action)}</b>: {e(one_line(a.text, 160))}</li>"
        for a in incident.attempts
    )
    sig = ""
    if incident.signal is not None:
        s = incident.signal
        lead = f", {duration(s.lead_time_s)} before detection" if s.lead_time_s else ""
        sig = f'<p class="warn">Earliest machine signal: <code>{e(one_line(s.template, 160))}</code> in {e(s.source)} at {e(loc(s.at))}{e(lead)}</p>'
    silent = "".join(
        f"<li>⏱ {e(duration((b - a).total_seconds()))} without recorded action from {e(loc(a))}</li>" for a, b in incident.silent_periods
    )
    n_events = getattr(incident.events, "height", None) if incident.events is not None else None
    w0, w1 = incident.window
    return (
        f'{_STYLE}<div class="tl-inc"><h3 style="margin:.2em 0">{e(incident.title)}</h3>'
        f"<p>Window {e(loc(w0))} to {e(loc(w1))} · times in {e(name)}"
        + (f" · {n_events:,} events" if n_events is not None else "")
        + f"<br><b>Key intervals:</b> {e(key_intervals(incident))}</p>"
        f"<table><tr><th>milestone</th><th>at ({e(to_local(w0, zone).tzname() or name)})</th><th>confidence</th><th>evidence</th><th>where</th></tr>"
        + "".join(rows)
        + "</table>"
        + (f"<p><b>Mitigation attempts</b></p><ul>{attempts}</ul>" if attempts else "")
        + (f"<ul>{silent}</ul>" if silent else "")
        + sig
        + "<p style=\"color:#888\">incident.to_markdown() · incident.postmortem() · incident.plot() · incident.to_html(path)</p></div>"
    )
