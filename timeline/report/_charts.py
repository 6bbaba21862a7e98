"""Plotly charts of an incident, one public function per chart, all in the chosen time zone.

Every chart draws a bounded number of points whatever the size of the event
table: machine log lines are aggregated per (source, level, time bucket) in
polars before anything reaches plotly, and human events (tickets, chat,
changes, alerts), which are few, are drawn one by one.

Text from the evidence reaches the browser only through plotly's hover and
annotation text, which renders a subset of HTML; it is escaped first.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from timeline.reconstruct._model import MILESTONES, cut_words
from timeline.report._common import SHORT, impact_span, naive_local, resolve_tz, utc

if TYPE_CHECKING:
    from timeline.reconstruct._model import Incident

LEVEL_COLORS: dict[str, str] = {
    "debug": "#c7c7c7",
    "info": "#9ecae1",
    "notice": "#3182bd",
    "warning": "#fd8d3c",
    "error": "#de2d26",
    "critical": "#7f0000",
}
KIND_SYMBOLS: dict[str, str] = {
    "log": "circle",
    "db": "square",
    "ticket": "diamond",
    "alert": "x",
    "change": "star",
    "chat": "triangle-up",
    "note": "hexagon",
}
SPAN_COLORS = {"impact": "rgba(222,45,38,0.10)", "detection gap": "rgba(253,141,60,0.22)", "mitigation": "rgba(49,163,84,0.16)"}
MILESTONE_COLOR = "#444"
HUMAN_KINDS = ("ticket", "alert", "change", "chat", "note")
LEVEL_OFFSETS: dict[str, float] = {"debug": -0.3, "info": -0.2, "notice": -0.1, "warning": 0.05, "error": 0.17, "critical": 0.3}
"""Where a level sits inside its lane, so errors are not hidden under info lines."""
HOVER_CHARS = 200
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


# ------------------------------------------------------------------ helpers


def _events(incident: Incident) -> pl.DataFrame | None:
    ev = incident.events
    if ev is None:
        return None
    ev = getattr(ev, "df", ev)
    if not isinstance(ev, pl.DataFrame):
        ev = pl.from_pandas(ev)
    return ev


def _local_col(expr: pl.Expr, tz: str) -> pl.Expr:
    """A UTC datetime column as naive wall-clock time in ``tz`` (what the axes show)."""
    return expr.dt.convert_time_zone(tz).dt.replace_time_zone(None)


def _esc(text: Any, limit: int = HOVER_CHARS) -> str:
    s = "" if text is None else str(text)
    s = s.replace("\r", " ").replace("\n", " ⏎ ")
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return html.escape(s)


def _esc_expr(col: str, limit: int = HOVER_CHARS) -> pl.Expr:
    """Vectorised :func:`html.escape` (quote=True) and truncation of a string column."""
    e = pl.col(col).cast(pl.String).fill_null("").str.replace_all("\r", " ", literal=True).str.replace_all("\n", " ⏎ ", literal=True)
    e = pl.when(e.str.len_chars() > limit).then(e.str.slice(0, limit - 1) + "…").otherwise(e)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;")):
        e = e.str.replace_all(a, b, literal=True)
    return e


def _base_layout(fig: go.Figure, title: str, tzname: str, incident_title: str, height: int) -> None:
    sub = cut_words(incident_title, 90)
    fig.update_layout(
        title={"text": f"{html.escape(title)}<br><sup>{html.escape(sub)} · times in {html.escape(tzname)}</sup>", "x": 0.01, "xanchor": "left",
               "y": 1, "yanchor": "top", "yref": "container", "pad": {"t": 28}},
        height=height,
        template="plotly_white",
        margin={"l": 10, "r": 10, "t": 150, "b": 70},
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.005, "x": 0, "font": {"size": 11}},
        hovermode="closest",
        hoverlabel={"align": "left"},
    )
    # Explicit axis type: legend-only traces (x=[None]) must not make plotly guess a linear axis.
    fig.update_xaxes(type="date", showgrid=True)


def _x_range(incident: Incident, zone: ZoneInfo) -> list[dt.datetime]:
    """The shown time range: the window and every mark, with a margin so edge labels fit."""
    lo, hi = _x_range_utc(incident)
    return [naive_local(lo, zone), naive_local(hi, zone)]


def _marks(incident: Incident) -> list[tuple[dt.datetime, str, str]]:
    """(time, label, line style) for every milestone and mitigation attempt."""
    out: list[tuple[dt.datetime, str, str]] = []
    for name in MILESTONES:
        m = incident.milestones.get(name)
        if m is None:
            continue
        text = SHORT.get(name, name)
        if name == "detected" and m.by:
            text += f" ({m.by})"
        out.append((utc(m.at), text, "solid"))
    for a in incident.attempts:
        mark = "✗ " if a.effective is False else ("✓ " if a.effective else "")
        out.append((utc(a.at), f"{mark}{a.action.replace('_', ' ')}", "dot"))
    out.sort(key=lambda x: x[0])
    return out


def _add_marks(fig: go.Figure, incident: Incident, zone: ZoneInfo, *, rows: int = 1) -> None:
    """Milestones and attempts as vertical lines with labels staggered above the plot."""
    marks = _marks(incident)
    if not marks:
        return
    lo, hi = (utc(x) for x in _x_range_utc(incident))
    span_s = max(1.0, (hi - lo).total_seconds())
    s_per_px = span_s / 1000.0  # a plot about 1000 px wide
    ends: list[float] = []  # per stagger level: where the last label ends (seconds from lo)
    for at, text, dash in marks:
        x = naive_local(at, zone)
        for r in range(1, rows + 1):
            fig.add_shape(
                type="line", x0=x, x1=x, y0=0, y1=1, xref="x" if r == 1 else f"x{r}", yref="y domain" if r == 1 else f"y{r} domain",
                line={"color": MILESTONE_COLOR, "width": 1.2 if dash == "solid" else 1, "dash": dash}, layer="above",
            )
        # Stagger labels so that close ones do not overlap: the first level whose last label ended before this one starts.
        pos = (at - lo).total_seconds()
        width = (len(text) * 6.6 + 10) * s_per_px
        level = next((k for k, end in enumerate(ends) if end < pos), len(ends))
        if level == len(ends):
            ends.append(pos + width)
        else:
            ends[level] = pos + width
        fig.add_annotation(
            x=x, y=1.0, xref="x", yref="paper", yshift=4 + 15 * min(level, 5), text=html.escape(text), showarrow=False,
            xanchor="left", yanchor="bottom", font={"size": 11, "color": MILESTONE_COLOR}, bgcolor="rgba(255,255,255,0.85)",
        )


def _x_range_utc(incident: Incident) -> tuple[dt.datetime, dt.datetime]:
    times = [utc(incident.window[0]), utc(incident.window[1])] + [m[0] for m in _marks(incident)]
    lo, hi = min(times), max(times)
    pad = max(dt.timedelta(minutes=1), (hi - lo) * 0.06)
    return lo - pad, hi + pad


def _add_spans(fig: go.Figure, incident: Incident, zone: ZoneInfo, *, legend: bool = True) -> None:
    """Shade impact, the detection gap and mitigation (first attempt to mitigated)."""
    spans: list[tuple[str, dt.datetime, dt.datetime]] = []
    imp = impact_span(incident)
    if imp is not None:
        spans.append(("impact", imp[0], imp[1]))
        det = incident.at("detected")
        if det is not None and utc(det) > utc(imp[0]):
            spans.append(("detection gap", imp[0], det))
        mit = incident.at("mitigated")
        if incident.attempts and mit is not None:
            first = min(utc(a.at) for a in incident.attempts)
            if first < utc(mit):
                spans.append(("mitigation", first, mit))
    for name, a, b in spans:
        fig.add_vrect(x0=naive_local(a, zone), x1=naive_local(b, zone), fillcolor=SPAN_COLORS[name], line_width=0, layer="below",
                      row="all" if _has_grid(fig) else None, col=1 if _has_grid(fig) else None)
        if legend:
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name, hoverinfo="skip",
                                     marker={"symbol": "square", "size": 14, "color": SPAN_COLORS[name].replace("0.10", "0.35").replace("0.22", "0.5").replace("0.16", "0.4")}))


def _has_grid(fig: go.Figure) -> bool:
    return getattr(fig, "_grid_ref", None) is not None


def _nice_bucket(seconds: float) -> int:
    """Round a bucket width up to a readable one (1s, 2s, 5s, 10s, 15s, 30s, 1m, 2m, 5m, ...)."""
    steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
    return next((s for s in steps if s >= seconds), int(math.ceil(seconds / 86400)) * 86400)


def reduce_for_swimlane(events: pl.DataFrame, tz: str, max_points: int) -> pl.DataFrame:
    """The points the swimlane draws: human events one by one, machine lines aggregated per bucket.

    Returns columns ``x`` (naive local time), ``source``, ``kind``, ``level``,
    ``n`` (lines the point stands for), ``where`` and ``message`` (escaped).
    At most about ``max_points`` rows. The big table is only filtered and
    grouped; strings are cast and escaped on the reduced rows.
    """
    ev = events.lazy().select("ts", "source", "kind", "level", "message", "file", "line")
    is_human = pl.col("kind").is_in(HUMAN_KINDS).fill_null(False)
    human = ev.filter(is_human).sort("ts").head(max(1, max_points // 4)).with_columns(n=pl.lit(1, pl.UInt32))
    machine = ev.filter(~is_human)
    n_human = human.select(pl.len()).collect().item()
    stats = machine.select(n=pl.len(), lo=pl.col("ts").min(), hi=pl.col("ts").max()).collect().row(0, named=True)
    budget = max(1, max_points - n_human)
    if stats["n"] <= budget:
        machine = machine.with_columns(n=pl.lit(1, pl.UInt32))
    else:
        groups = machine.group_by("source", "level").len().select(pl.len()).collect().item()
        span_s = max(1.0, (stats["hi"] - stats["lo"]).total_seconds())
        width = _nice_bucket(span_s * max(1, groups) / budget)
        first = pl.col("ts").arg_min()
        machine = (
            machine.group_by(pl.col("ts").dt.truncate(f"{width}s").alias("bucket"), "source", "level")
            .agg(pl.col("ts").min(), pl.col("message").get(first), pl.col("file").get(first), pl.col("line").get(first),
                 pl.col("kind").get(first), n=pl.len().cast(pl.UInt32))
            .drop("bucket")
            .sort("n", descending=True)
            .head(budget)
        )
    cols = ["ts", "source", "kind", "level", "message", "file", "line", "n"]
    pts = pl.concat([human.select(cols), machine.select(cols)], how="vertical_relaxed").collect()
    return (
        pts.lazy()
        .with_columns(
            source=pl.col("source").fill_null("?"),
            kind=pl.col("kind").cast(pl.String),
            level=pl.col("level").cast(pl.String).fill_null("info"),
            x=_local_col(pl.col("ts"), tz),
            where=pl.when(pl.col("file").is_not_null()).then(pl.format("{}:{}", _esc_expr("file", 120), pl.col("line").cast(pl.String).fill_null("?"))).otherwise(_esc_expr("source", 120)),
            message=_esc_expr("message"),
        )
        .sort("ts")
        .select("x", "source", "kind", "level", "n", "where", "message")
        .collect()
    )


def _lane_order(events: pl.DataFrame) -> list[str]:
    """Sources ordered bottom-to-top: machine logs first, then changes, alerts, tickets, chat."""
    rank = {"log": 0, "db": 1, "note": 2, "change": 3, "alert": 4, "ticket": 5, "chat": 6}
    by = events.group_by("source", "kind").len().with_columns(pl.col("kind").cast(pl.String), pl.col("source").fill_null("?"))
    best: dict[str, tuple[int, str | None]] = {}
    for src, kind, n in by.iter_rows():
        if src not in best or n > best[src][0]:
            best[src] = (n, kind)
    return sorted(best, key=lambda s: (rank.get(best[s][1] or "log", 0), -best[s][0], s))


# ------------------------------------------------------------------- charts


def swimlane(incident: Incident, tz: str | None = None, max_points: int = 20_000) -> go.Figure:
    """A lane per source, events coloured by level, milestones as labelled lines, spans shaded.

    Parameters
    ----------
    incident
        A reconstructed incident with its event table.
    tz
        IANA zone of the time axis; default the incident's zone.
    max_points
        Upper bound on the markers drawn. Machine log lines beyond it are
        aggregated per source, level and time bucket (the hover says how many
        lines a marker stands for); human events are always drawn one by one.

    Returns
    -------
    plotly.graph_objects.Figure
        One scatter trace per level present (markers shaped by kind), plus
        legend entries for the shaded spans.
    """
    zone, name = resolve_tz(incident, tz)
    fig = go.Figure()
    ev = _events(incident)
    lanes: list[str] = []
    if ev is not None and ev.height:
        pts = reduce_for_swimlane(ev, name, max_points)
        lanes = _lane_order(ev)
        size = (pl.col("n").cast(pl.Float64).log10() * 3 + 6).clip(6, 16)
        pts = pts.with_columns(
            size=pl.when(pl.col("kind").is_in(HUMAN_KINDS)).then(pl.lit(12.0)).otherwise(size),
            count=pl.when(pl.col("n") > 1).then(pl.format("<br>{} lines in this bucket", pl.col("n"))).otherwise(pl.lit("")),
        )
        lane_ix = {src: k for k, src in enumerate(lanes)}
        pts = pts.with_columns(
            y=pl.col("source").replace_strict(lane_ix, default=0, return_dtype=pl.Float64)
            + pl.when(pl.col("kind").is_in(HUMAN_KINDS)).then(0.0).otherwise(pl.col("level").replace_strict(LEVEL_OFFSETS, default=0.0, return_dtype=pl.Float64))
        )
        order = {lv: k for k, lv in enumerate(LEVEL_COLORS)}
        groups = sorted(pts.select("level", "kind").unique().rows(), key=lambda g: (order.get(g[0], -1), g[1] or ""))
        present = {lv for lv, _ in groups}
        for level in LEVEL_COLORS:  # legend: colours are levels
            if level in present:
                fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=level, legendgroup=level,
                                         marker={"color": LEVEL_COLORS[level], "size": 10, "symbol": "circle"}, hoverinfo="skip"))
        kinds_present = sorted({k for _, k in groups if k}, key=lambda k: list(KIND_SYMBOLS).index(k) if k in KIND_SYMBOLS else 99)
        for kind in kinds_present:  # legend: shapes are kinds
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=kind, legendgroup="kind:" + kind,
                                     marker={"color": "#888", "size": 10, "symbol": KIND_SYMBOLS.get(kind, "circle")}, hoverinfo="skip"))
        for level, kind in groups:
            part = pts.filter((pl.col("level") == level) & (pl.col("kind").eq_missing(kind)))
            human = kind in HUMAN_KINDS
            fig.add_trace(
                go.Scatter(
                    x=part["x"].to_numpy(), y=part["y"].to_numpy(), mode="markers", name=f"{level} {kind}",
                    legendgroup=level, showlegend=False,
                    marker={"color": LEVEL_COLORS.get(level, "#999"), "size": part["size"].to_numpy(),
                            "symbol": KIND_SYMBOLS.get(kind or "log", "circle"),
                            "line": {"width": 1 if human else 0.3, "color": "#222"}, "opacity": 0.95 if human else 0.7},
                    customdata=part.select("where", "message", "count", pl.col("kind").fill_null("log"), _esc_expr("source", 80)).to_numpy(),
                    hovertemplate="%{x|%H:%M:%S}  <b>%{customdata[4]}</b> (%{customdata[3]})<br>%{customdata[1]}<br><i>%{customdata[0]}</i>%{customdata[2]}<extra>" + html.escape(level) + "</extra>",
                )
            )
    else:
        fig.add_annotation(text="no events to draw", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    _add_spans(fig, incident, zone)
    _add_marks(fig, incident, zone)
    _base_layout(fig, "Events by source", name, incident.title, height=max(380, 200 + 46 * len(lanes)))
    fig.update_yaxes(type="linear", tickmode="array", tickvals=list(range(len(lanes))), ticktext=[html.escape(x) for x in lanes],
                     range=[-0.6, max(0, len(lanes) - 1) + 0.6], showgrid=True, zeroline=False, title_text=None, automargin=True)
    fig.update_xaxes(range=_x_range(incident, zone))
    return fig


def _rates_table(incident: Incident) -> pl.DataFrame | None:
    r = incident.rates
    if r is not None:
        r = getattr(r, "df", r)
        r = r if isinstance(r, pl.DataFrame) else pl.from_pandas(r)
        return r.with_columns(pl.col("level").cast(pl.String))
    ev = _events(incident)
    if ev is None or ev.is_empty():
        return None
    return (
        ev.lazy()
        .group_by(bucket=pl.col("ts").dt.truncate("1m"), source=pl.col("source"), level=pl.col("level").cast(pl.String))
        .agg(n=pl.len())
        .collect()
    )


def _per_minute(r: pl.DataFrame, where: pl.Expr, tz: str) -> tuple[pl.DataFrame, float]:
    """Per-source counts per minute on a complete bucket grid (missing buckets are zero)."""
    buckets = r["bucket"].unique().sort()
    width = 60.0
    if buckets.len() > 1:
        width = max(1.0, buckets.diff().drop_nulls().min().total_seconds())
    sel = r.filter(where).group_by("bucket", "source").agg(n=pl.col("n").sum())
    if sel.is_empty():
        return sel.with_columns(x=pl.col("bucket"), rate=pl.col("n").cast(pl.Float64)), width
    grid = pl.DataFrame({"bucket": pl.datetime_range(buckets.min(), buckets.max(), interval=f"{int(width)}s", eager=True, time_zone="UTC")})
    grid = grid.with_columns(pl.col("bucket").cast(r.schema["bucket"]))
    full = grid.join(sel.select(pl.col("source").unique()), how="cross").join(sel, on=["bucket", "source"], how="left")
    full = full.with_columns(rate=pl.col("n").fill_null(0).cast(pl.Float64) * (60.0 / width), x=_local_col(pl.col("bucket"), tz))
    return full.sort("source", "bucket"), width


def rates(incident: Incident, tz: str | None = None) -> go.Figure:
    """Error rate and all-events (request) rate per source, per minute, with the milestones.

    Parameters
    ----------
    incident
        A reconstructed incident; uses ``incident.rates`` (per-bucket counts)
        or, without it, counts the event table per minute.
    tz
        IANA zone of the time axis; default the incident's zone.

    Returns
    -------
    plotly.graph_objects.Figure
        Two rows sharing the time axis: errors per minute (levels error and
        critical) and all events per minute, one line per source.
    """
    zone, name = resolve_tz(incident, tz)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06)
    r = _rates_table(incident)
    if r is not None and r.height:
        if r.schema["bucket"] != pl.Datetime("us", "UTC"):
            r = r.with_columns(pl.col("bucket").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
                               if getattr(r.schema["bucket"], "time_zone", None) is None else pl.col("bucket").dt.convert_time_zone("UTC"))
        total = r.group_by("source").agg(n=pl.col("n").sum())
        keep = total.filter(pl.col("n") >= max(1, 0.01 * float(total["n"].sum())))["source"].to_list()
        sources = sorted(r["source"].unique().drop_nulls().to_list())
        colors = {s: _PALETTE[k % len(_PALETTE)] for k, s in enumerate(sources)}
        err, _ = _per_minute(r, pl.col("level").is_in(["error", "critical"]), name)
        allr, _ = _per_minute(r, pl.col("source").is_in(keep), name)
        for row, table in ((1, err), (2, allr)):
            for src in sorted(table["source"].unique().drop_nulls().to_list()):
                part = table.filter(pl.col("source") == src)
                fig.add_trace(
                    go.Scatter(x=part["x"].to_numpy(), y=part["rate"].to_numpy(), mode="lines", name=html.escape(src), legendgroup=src,
                               showlegend=row == 1 or src not in err["source"].to_list(), line={"color": colors.get(src), "width": 1.6},
                               hovertemplate="%{x|%H:%M}  %{y:,.1f}/min<extra>" + html.escape(src) + "</extra>"),
                    row=row, col=1,
                )
    else:
        fig.add_annotation(text="no rates to draw", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    _add_spans(fig, incident, zone, legend=False)
    _add_marks(fig, incident, zone, rows=2)
    _base_layout(fig, "Error and request rates", name, incident.title, height=560)
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(title_text="errors / min", row=1, col=1)
    fig.update_yaxes(title_text="all lines / min", row=2, col=1)
    fig.update_xaxes(range=_x_range(incident, zone))
    return fig


def template_lane(incident: Incident, tz: str | None = None) -> go.Figure:
    """A lane per bursting template: when it first appeared, how many lines, and whether it is new.

    Parameters
    ----------
    incident
        A reconstructed incident with ``incident.templates`` (``template_id``,
        ``template``, ``first_seen``, ``count``, ``bursting``, ``new``). When the
        event table carries a ``template_id`` column the lane shows the
        template's lines per minute (marker size); otherwise a marker at its
        first appearance.
    tz
        IANA zone of the time axis; default the incident's zone.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace for new templates, one for templates seen before, plus the
        earliest machine signal when known.
    """
    zone, name = resolve_tz(incident, tz)
    fig = go.Figure()
    tpl = incident.templates
    lanes: list[str] = []
    if tpl is not None:
        tpl = getattr(tpl, "df", tpl)
        tpl = tpl if isinstance(tpl, pl.DataFrame) else pl.from_pandas(tpl)
    if tpl is not None and tpl.height and "bursting" in tpl.columns:
        sig_t = incident.signal.template if incident.signal else None
        bt = tpl.filter(pl.col("bursting").fill_null(False) | (pl.col("template") == (sig_t or "")))
        if "first_seen" in bt.columns:
            bt = bt.sort("first_seen")
        bt = bt.head(30).with_columns(
            lane=pl.format("{}. {}", pl.int_range(1, pl.len() + 1), _esc_expr("template", 60)),
            full=_esc_expr("template", 300),
            x=_local_col(pl.col("first_seen"), name),
            new=pl.col("new").fill_null(False) if "new" in bt.columns else pl.lit(False),
            count=pl.col("count") if "count" in bt.columns else pl.lit(None, pl.Int64),
        )
        lanes = bt["lane"].to_list()[::-1]
        ev = _events(incident)
        if ev is not None and "template_id" in ev.columns and "template_id" in bt.columns:
            per = (
                ev.lazy()
                .filter(pl.col("template_id").is_in(bt["template_id"].implode()))
                .group_by(pl.col("ts").dt.truncate("1m").alias("bucket"), "template_id")
                .agg(n=pl.len())
                .collect()
                .join(bt.select("template_id", "lane", "full", "new"), on="template_id")
                .with_columns(x=_local_col(pl.col("bucket"), name))
            )
            for is_new, label in ((True, "new template, per minute"), (False, "seen before, per minute")):
                part = per.filter(pl.col("new") == is_new)
                if part.is_empty():
                    continue
                fig.add_trace(go.Scatter(
                    x=part["x"].to_numpy(), y=part["lane"].to_list(), mode="markers", name=label,
                    marker={"size": (part["n"].cast(pl.Float64).sqrt() * 2 + 3).clip(3, 22).to_list(),
                            "color": "#de2d26" if is_new else "#6baed6", "opacity": 0.7},
                    customdata=part.select("full", "n").rows(),
                    hovertemplate="%{x|%H:%M}  %{customdata[1]:,} lines<br>%{customdata[0]}<extra></extra>",
                ))
        for is_new, label, sym, color in ((True, "new: first seen", "star", "#de2d26"), (False, "seen before: first seen in window", "circle", "#3182bd")):
            part = bt.filter(pl.col("new") == is_new)
            if part.is_empty():
                continue
            counts = part["count"].cast(pl.Float64).fill_null(1.0)
            fig.add_trace(go.Scatter(
                x=part["x"].to_numpy(), y=part["lane"].to_list(), mode="markers", name=label,
                marker={"symbol": sym, "size": (counts.log10() * 4 + 9).clip(9, 22).to_list(), "color": color,
                        "line": {"width": 1, "color": "#333"}},
                customdata=part.select("full", pl.col("count").cast(pl.String).fill_null("?")).rows(),
                hovertemplate="first seen %{x|%H:%M:%S}<br>%{customdata[0]}<br>%{customdata[1]} lines<extra></extra>",
            ))
        if incident.signal is not None and sig_t in bt["template"].to_list():
            lane = bt.filter(pl.col("template") == sig_t)["lane"][0]
            fig.add_trace(go.Scatter(
                x=[naive_local(incident.signal.at, zone)], y=[lane], mode="markers+text", name="earliest machine signal",
                marker={"symbol": "circle-open", "size": 26, "color": "#000", "line": {"width": 2}},
                text=["earliest signal"], textposition="middle right", hoverinfo="skip",
            ))
    if not lanes:
        fig.add_annotation(text="no bursting templates", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    _add_spans(fig, incident, zone, legend=False)
    _add_marks(fig, incident, zone)
    _base_layout(fig, "Bursting log templates", name, incident.title, height=max(320, 170 + 34 * len(lanes)))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=lanes, automargin=True, title_text=None)
    fig.update_xaxes(range=_x_range(incident, zone))
    return fig


def plot(incident: Incident, tz: str | None = None, kind: str = "swimlane", **kwargs: Any) -> go.Figure:
    """Draw one chart of the incident (``Incident.plot``).

    Parameters
    ----------
    kind
        ``swimlane`` (default), ``rates`` or ``templates``.
    """
    charts = {"swimlane": swimlane, "rates": rates, "templates": template_lane}
    fn = charts.get(kind)
    if fn is None:
        import difflib

        from timeline._errors import InputError

        close = difflib.get_close_matches(kind, charts, n=1)
        hint = f"; closest is {close[0]!r}" if close else ""
        msg = f"unknown chart kind {kind!r}{hint}; expected one of {', '.join(charts)}"
        raise InputError(msg)
    return fn(incident, tz, **kwargs)
