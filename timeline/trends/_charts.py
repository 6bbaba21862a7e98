"""Trend charts (plotly): one short function per chart over shared helpers.

Durations are drawn in minutes on a log axis, as box plots with every
incident as a point beside the box, because they are skewed and samples are
small: a reader should see each incident, not a bar of the mean. Incident
counts per bucket sit under every distribution (metrics.md §5.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from timeline.trends._model import GAPS

if TYPE_CHECKING:
    from timeline.trends._trends import Trends

#: Smallest duration drawn on the log axis (a zero gap is drawn here).
FLOOR_MIN = 1 / 60
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _labels(t: Trends) -> tuple[list[str], dict[Any, str]]:
    from timeline.trends._trends import bucket_label

    buckets = t.table.select("bucket").unique().sort("bucket")["bucket"].to_list()
    mapping = {b: bucket_label(b, t.every) for b in buckets}
    return [mapping[b] for b in buckets], mapping


def _color(groups: Sequence[str]) -> dict[str, str]:
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}


def _title(metric: str) -> str:
    start, end = GAPS[metric]
    return f"{metric.replace('_', ' ')} (from {start} to {end})"


def _boxes(fig: go.Figure, t: Trends, metric: str, *, row: int, show_legend: bool, labels: dict[Any, str]) -> None:
    """Add one box (with its points) per group for ``metric`` into ``row``."""
    inc = t.incidents.filter(pl.col(f"{metric}_s").is_not_null())
    groups = t.table["group"].unique().sort().to_list()
    colors = _color(groups)
    for g in groups:
        sub = inc.filter(pl.col("group") == g)
        minutes = (sub[f"{metric}_s"] / 60.0).clip(lower_bound=FLOOR_MIN)
        fig.add_trace(
            go.Box(
                x=[labels[b] for b in sub["bucket"].to_list()],
                y=minutes.to_list(),
                name=g,
                legendgroup=g,
                showlegend=show_legend,
                marker={"color": colors[g], "size": 4, "opacity": 0.6},
                line={"width": 1},
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                customdata=list(zip(sub["id"].to_list(), sub["title"].fill_null("").to_list(), strict=True)),
                hovertemplate="%{customdata[0]}<br>%{customdata[1]}<br>%{y:.1f} min<extra>" + g + "</extra>",
            ),
            row=row,
            col=1,
        )
    if len(groups) == 1:
        rows = t.table.filter((pl.col("metric") == metric) & (pl.col("n") > 1))
        med = rows["median_s"] / 60.0
        fig.add_trace(
            go.Scatter(
                x=[labels[b] for b in rows["bucket"].to_list()],
                y=med.clip(lower_bound=FLOOR_MIN).to_list(),
                mode="markers",
                name=f"median, {t.confidence:.0%} CI",
                legendgroup="ci",
                showlegend=show_legend,
                marker={"symbol": "diamond", "size": 9, "color": "black"},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (rows["median_ci_high_s"] / 60.0 - med).to_list(),
                    "arrayminus": (med - rows["median_ci_low_s"] / 60.0).to_list(),
                    "thickness": 1.5,
                    "width": 6,
                },
                customdata=rows.select("n").to_numpy(),
                hovertemplate="median %{y:.1f} min, n=%{customdata[0]}<extra></extra>",
            ),
            row=row,
            col=1,
        )
    fig.update_yaxes(type="log", title_text="minutes (log)", row=row, col=1)


def _counts(fig: go.Figure, t: Trends, *, row: int, labels: dict[Any, str], show_legend: bool) -> None:
    per = t.table.group_by("bucket", "group").agg(pl.col("n_incidents").first()).sort("bucket")
    groups = per["group"].unique().sort().to_list()
    colors = _color(groups)
    for g in groups:
        sub = per.filter(pl.col("group") == g)
        fig.add_trace(
            go.Bar(
                x=[labels[b] for b in sub["bucket"].to_list()],
                y=sub["n_incidents"].to_list(),
                name=g,
                legendgroup=g,
                showlegend=show_legend,
                marker={"color": colors[g], "opacity": 0.7},
                hovertemplate="%{y} incidents<extra>" + g + "</extra>",
            ),
            row=row,
            col=1,
        )
    fig.update_yaxes(title_text="incidents", rangemode="tozero", row=row, col=1)


def _finish(fig: go.Figure, title: str, order: list[str], height: int) -> go.Figure:
    fig.update_xaxes(categoryorder="array", categoryarray=order)
    fig.update_layout(
        title={"text": title},
        boxmode="group",
        barmode="stack",
        height=height,
        template="plotly_white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"t": 90, "l": 70, "r": 20, "b": 40},
    )
    return fig


def distribution(t: Trends, metric: str) -> go.Figure:
    """One gap per bucket (box + points, log axis), incident counts below."""
    order, labels = _labels(t)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.05)
    _boxes(fig, t, metric, row=1, show_legend=True, labels=labels)
    _counts(fig, t, row=2, labels=labels, show_legend=False)
    return _finish(fig, _title(metric), order, 560)


def overview(t: Trends, metrics: Sequence[str]) -> go.Figure:
    """Several gaps stacked, sharing the bucket axis, with incident counts at the bottom."""
    order, labels = _labels(t)
    k = len(metrics)
    fig = make_subplots(
        rows=k + 1,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.8 / k] * k + [0.2],
        vertical_spacing=0.06,
        subplot_titles=[_title(m) for m in metrics] + ["incidents per bucket"],
    )
    for i, m in enumerate(metrics, start=1):
        _boxes(fig, t, m, row=i, show_legend=i == 1, labels=labels)
    _counts(fig, t, row=k + 1, labels=labels, show_legend=False)
    return _finish(fig, "Incident gaps over time (each point an incident; log scale)", order, 300 * k + 220)


def counts(t: Trends) -> go.Figure:
    """Incident counts per bucket, stacked by group."""
    order, labels = _labels(t)
    fig = make_subplots(rows=1, cols=1)
    _counts(fig, t, row=1, labels=labels, show_legend=True)
    return _finish(fig, "Incidents per bucket (by impact start)", order, 360)


def breakdown(t: Trends, by: str, metric: str) -> go.Figure:
    """One gap per bucket with one box per value of ``by`` (service, severity...)."""
    sub = t.regroup(by)
    order, labels = _labels(sub)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.05)
    _boxes(fig, sub, metric, row=1, show_legend=True, labels=labels)
    _counts(fig, sub, row=2, labels=labels, show_legend=False)
    return _finish(fig, f"{_title(metric)} by {by}", order, 600)


def customer_share(t: Trends) -> go.Figure:
    """Share of incidents detected by customers per bucket, with Wilson intervals."""
    order, labels = _labels(t)
    rows = t.table.filter(pl.col("metric") == t.metrics[0]).filter(pl.col("detected_by_known_n") > 0)
    groups = rows["group"].unique().sort().to_list()
    colors = _color(groups)
    fig = go.Figure()
    for g in groups:
        sub = rows.filter(pl.col("group") == g).sort("bucket")
        share = sub["customer_detected_share"] * 100
        fig.add_trace(
            go.Scatter(
                x=[labels[b] for b in sub["bucket"].to_list()],
                y=share.to_list(),
                mode="lines+markers",
                name=g,
                line={"color": colors[g]},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (sub["customer_share_ci_high"] * 100 - share).to_list(),
                    "arrayminus": (share - sub["customer_share_ci_low"] * 100).to_list(),
                    "thickness": 1,
                    "width": 4,
                },
                customdata=sub.select("customer_detected_n", "detected_by_known_n").to_numpy(),
                hovertemplate="%{y:.0f}% (%{customdata[0]} of %{customdata[1]})<extra>" + g + "</extra>",
            )
        )
    fig.update_yaxes(title_text=f"% detected by customers ({t.confidence:.0%} Wilson CI)", range=[0, 100])
    fig.update_xaxes(categoryorder="array", categoryarray=order)
    fig.update_layout(
        title={"text": "Incidents customers found before we did"},
        template="plotly_white",
        height=400,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    return fig


def ranking(table: pl.DataFrame, metric: str, by: str) -> go.Figure:
    """Whole-period median of one gap per group with its CI, longest at the top."""
    rows = table.filter((pl.col("metric") == metric) & (pl.col("n") > 0)).sort("median_s")
    med = rows["median_s"] / 60.0
    fig = go.Figure(
        go.Scatter(
            x=med.clip(lower_bound=FLOOR_MIN).to_list(),
            y=rows["group"].to_list(),
            mode="markers",
            marker={"size": 10, "color": "black", "symbol": "diamond"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (rows["median_ci_high_s"] / 60.0 - med).fill_null(0).to_list(),
                "arrayminus": (med - rows["median_ci_low_s"] / 60.0).fill_null(0).to_list(),
            },
            customdata=rows.select("n", pl.col("p90_s") / 60.0).to_numpy(),
            hovertemplate="median %{x:.1f} min, n=%{customdata[0]}, p90 %{customdata[1]:.0f} min<extra></extra>",
            name="median (95% CI)",
        )
    )
    fig.update_xaxes(type="log", title_text="median minutes (log), whole period")
    fig.update_layout(
        title={"text": f"{_title(metric)}: median per {by}, whole period"},
        template="plotly_white",
        height=120 + 40 * rows.height,
        margin={"l": 120},
    )
    return fig
