"""The trend report: markdown and one standalone HTML page, built from the same blocks.

The report leads with the three questions a reliability lead asks (are we
detecting faster than last quarter, which services take longest to mitigate,
how many incidents did customers find first), answers each with the median,
its confidence interval and n, and says in words when the data cannot tell.
Then come the per-bucket tables, the per-service and per-severity breakdowns,
and what the data could not fill.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from timeline.trends._model import GAPS
from timeline.trends._stats import MIN_N, SMALL_N, compare

if TYPE_CHECKING:
    from timeline.trends._trends import Trends


# ------------------------------------------------------------------ blocks


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class Figure:
    fig: Any
    caption: str


Block = Heading | Para | Bullets | Table | Figure


# ------------------------------------------------------------------ words


def dur(seconds: float | None) -> str:
    """A duration as people say it: ``45s``, ``4m 30s``, ``1h 12m``, ``2d 3h``.

    Examples
    --------
    >>> dur(2520), dur(66 * 60), dur(59), dur(None)
    ('42m', '1h 6m', '59s', '–')
    """
    if seconds is None:
        return "–"
    s = round(float(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        m, r = divmod(s, 60)
        return f"{m}m" if r == 0 or m >= 10 else f"{m}m {r}s"
    if s < 86400:
        h, r = divmod(s, 3600)
        return f"{h}h {r // 60}m"
    d, r = divmod(s, 86400)
    return f"{d}d {r // 3600}h"


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def median_ci(r: dict[str, Any]) -> str:
    """``6m 48s (4m 39s–14m, n=45)``."""
    if not r["n"]:
        return f"no values (n=0 of {r['n_incidents']})"
    if r["median_ci_low_s"] is None:
        return f"{dur(r['median_s'])} (n={r['n']}, no interval)"
    return f"{dur(r['median_s'])} ({dur(r['median_ci_low_s'])}–{dur(r['median_ci_high_s'])}, n={r['n']})"


def verdict(before: dict[str, Any], after: dict[str, Any], *, faster: str, slower: str) -> str:
    """Words for a change between two summaries, honest about small n and overlap."""
    word = compare(before, after)
    if word == "too few to compare":
        small = min(before["n"], after["n"])
        return f"**too few to conclude** (n={small} in one period; at least {MIN_N} needed)"
    if word == "no detectable change":
        return "**no detectable change**: the confidence intervals overlap"
    what = faster if word == "shorter" else slower
    return f"**{what}**: the confidence intervals do not overlap"


def _label(t: Trends, day: dt.date) -> str:
    from timeline.trends._trends import bucket_label

    return bucket_label(day, t.every)


# ------------------------------------------------------------------ sections


def _rows(table: pl.DataFrame, **eq: str) -> list[dict[str, Any]]:
    for k, v in eq.items():
        table = table.filter(pl.col(k) == v)
    return table.sort("bucket").to_dicts()


def _intro(t: Trends) -> list[Block]:
    inc = t.incidents
    buckets = t.table["bucket"].unique().sort()
    if buckets.is_empty():
        return [Heading(1, "Incident trends: detection and mitigation"), Para("No incidents with an impact start.")]
    first, last = buckets[0], buckets[-1]
    span = f"{_label(t, first)} to {_label(t, last)}"
    zone = t.tz or "UTC"
    targets = ", ".join(f"{m} within {dur(s)}" for m, s in t.targets.items()) or "none"
    blocks: list[Block] = [
        Heading(1, "Incident trends: detection and mitigation"),
        Para(
            f"{inc.height} incidents from {span}, in buckets of {t.every} keyed on each incident's "
            f"impact start ({zone}). Grouped by {', '.join(t.by) or 'nothing (all incidents together)'}. "
            f"Target: {targets}."
        ),
        Heading(2, "How to read this"),
        Bullets(
            [
                "Every gap is named with the point it is measured from: "
                + "; ".join(f"`{g}` = {e} − {s}" for g, (s, e) in GAPS.items())
                + ".",
                f"Durations are skewed, so we report the **median** with its {t.confidence:.0%} bootstrap "
                "confidence interval, the p90 and the max. A mean, where shown, is labelled and sits beside the median; "
                "one long incident moves it a lot.",
                f"n is the number of incidents with that gap. With n < {MIN_N} a bucket is too few to conclude anything; "
                f"with n < {SMALL_N} only large changes can be seen. A change is called only when the confidence intervals "
                "of two periods do not overlap; otherwise it says **no detectable change**, which is not the same as "
                "\"no change\": a real 10% improvement is usually invisible at these sizes.",
                "Incidents without the end of a gap (never mitigated, not recorded) are counted as missing, "
                "not dropped: each table says how many.",
            ]
        ),
    ]
    return blocks


def _answers(t: Trends) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Answers")]
    overall = t.regroup([]) if t.by else t
    tab = overall.table
    buckets = tab["bucket"].unique().sort().to_list()
    # 1. detecting faster than last bucket?
    blocks.append(Heading(3, f"Are we detecting faster than the previous {_unit(t)}?"))
    if "time_to_detect" in t.metrics and len(buckets) >= 2:
        rows = _rows(tab, metric="time_to_detect")
        prev, last = rows[-2], rows[-1]
        blocks.append(
            Para(
                f"Median time to detect in {_label(t, last['bucket'])}: {median_ci(last)}; "
                f"in {_label(t, prev['bucket'])}: {median_ci(prev)}. "
                + verdict(prev, last, faster="faster", slower="slower")
                + "."
            )
        )
        h = overall.halves([])
        hr = _rows(h, metric="time_to_detect")
        if len(hr) == 2:
            blocks.append(
                Para(
                    f"Over the longer run, {_label(t, hr[1]['bucket'])} onward against the {_unit(t)}s before: "
                    f"{median_ci(hr[1])} against {median_ci(hr[0])}: "
                    + verdict(hr[0], hr[1], faster="faster", slower="slower")
                    + "."
                )
            )
        blocks.append(_service_change_table(t, "time_to_detect"))
    else:
        blocks.append(Para("Not enough buckets (or no time_to_detect) to compare."))
    # 2. services that take longest to mitigate
    if "time_to_mitigate" in t.metrics and "service" in t._source.columns:
        blocks.append(Heading(3, "Which services take longest to mitigate?"))
        whole = overall.overall(["service"])
        ranked = whole.filter((pl.col("metric") == "time_to_mitigate") & (pl.col("n") > 0)).sort(
            "median_s", descending=True
        )
        target = t.targets.get("time_to_mitigate")
        header = ["service", "median (95% CI, n)", "p90", "max", "mean (skewed)"]
        if target is not None:
            header.append(f"mitigated within {dur(target)}")
        header.append("missing")
        rows_out = []
        for r in ranked.to_dicts():
            row = [r["group"], median_ci(r), dur(r["p90_s"]), dur(r["max_s"]), dur(r["mean_s"])]
            if target is not None:
                row.append(f"{pct(r['within_target_share'])} ({pct(r['within_target_ci_low'])}–{pct(r['within_target_ci_high'])})")
            row.append(str(r["n_missing"]))
            rows_out.append(row)
        blocks.append(Table(header, rows_out))
        top = ranked.to_dicts()
        if len(top) >= 2:
            a, b = top[0], top[1]
            sep = a["median_ci_low_s"] is not None and b["median_ci_high_s"] is not None and a["median_ci_low_s"] > b["median_ci_high_s"]
            blocks.append(
                Para(
                    f"Over the whole period **{a['group']}** has the longest median time to mitigate "
                    f"({median_ci(a)}); "
                    + (
                        f"its interval lies above {b['group']}'s, the next longest."
                        if sep
                        else f"but its interval overlaps {b['group']}'s ({median_ci(b)}), so the order of the top two is not settled."
                    )
                )
            )
        blocks.append(_service_change_table(t, "time_to_mitigate"))
    # 3. found by customers
    blocks.append(Heading(3, "How many incidents did customers find before we did?"))
    inc = t.incidents
    known = inc.filter(pl.col("detected_by").is_not_null())
    cust = known.filter(pl.col("detected_by") == "customer").height
    from timeline.trends._stats import wilson_interval

    lo, hi = wilson_interval(cust, known.height, t.confidence)
    unknown = inc.height - known.height
    text = (
        f"{cust} of {known.height} incidents with a recorded detector ({pct(cust / known.height if known.height else None)}, "
        f"{t.confidence:.0%} CI {pct(lo)}–{pct(hi)}) were first reported by customers."
    )
    if unknown:
        text += f" {unknown} incidents do not record who detected them and are left out of this share."
    blocks.append(Para(text))
    share_rows = _rows(tab, metric=t.metrics[0])
    blocks.append(
        Table(
            [_unit(t), "incidents", "customer-detected", "share (95% CI)"],
            [
                [
                    _label(t, r["bucket"]),
                    str(r["n_incidents"]),
                    f"{r['customer_detected_n']} of {r['detected_by_known_n']}",
                    f"{pct(r['customer_detected_share'])} ({pct(r['customer_share_ci_low'])}–{pct(r['customer_share_ci_high'])})",
                ]
                for r in share_rows
            ],
        )
    )
    return blocks


def _unit(t: Trends) -> str:
    return {"1q": "quarter", "3mo": "quarter", "1mo": "month", "1y": "year", "1w": "week"}.get(t.every, "bucket")


def _service_change_table(t: Trends, metric: str) -> Table:
    """Per service: first half against second half, and the last two buckets, with verdicts."""
    by = "service"
    per = t.regroup([by]) if t.by != [by] else t
    halves = per.halves()
    tab = per.table
    bs = tab["bucket"].unique().sort().to_list()
    if len(bs) >= 2:
        mid = len(bs) // 2
        first = f"{_label(t, bs[0])}–{_label(t, bs[mid - 1])}" if mid > 1 else _label(t, bs[0])
        second = f"{_label(t, bs[mid])}–{_label(t, bs[-1])}" if len(bs) - mid > 1 else _label(t, bs[-1])
        prev_l, last_l = _label(t, bs[-2]), _label(t, bs[-1])
    else:
        first, second, prev_l, last_l = "first half", "second half", "previous", "last"
    header = [by, first, second, "change", prev_l, last_l, "change"]
    rows = []
    for g in sorted(tab["group"].unique().to_list()):
        h = _rows(halves, metric=metric, group=g)
        q = [r for r in _rows(tab, metric=metric, group=g)]
        row = [g]
        if len(h) == 2:
            row += [median_ci(h[0]), median_ci(h[1]), verdict(h[0], h[1], faster="shorter", slower="longer")]
        else:
            row += ["–", "–", "–"]
        if len(q) >= 2:
            row += [median_ci(q[-2]), median_ci(q[-1]), verdict(q[-2], q[-1], faster="shorter", slower="longer")]
        else:
            row += ["–", "–", "–"]
        rows.append(row)
    return Table(header, rows)


def _bucket_tables(t: Trends) -> list[Block]:
    blocks: list[Block] = [Heading(2, f"Per {_unit(t)}" + (f" and {', '.join(t.by)}" if t.by else ""))]
    for metric in t.metrics:
        start, end = GAPS[metric]
        rows = [r for r in t.table.filter(pl.col("metric") == metric).sort("group", "bucket").to_dicts()]
        target = t.targets.get(metric)
        header = [_unit(t)]
        if t.by:
            header.append(" / ".join(t.by))
        header += ["incidents", "n", "median", f"{t.confidence:.0%} CI of median", "p90", "max", "mean (labelled)"]
        if target is not None:
            header.append(f"within {dur(target)}")
        header += ["change vs previous", "note"]
        out = []
        for r in rows:
            row = [_label(t, r["bucket"])]
            if t.by:
                row.append(r["group"])
            ci = "–" if r["median_ci_low_s"] is None else f"{dur(r['median_ci_low_s'])}–{dur(r['median_ci_high_s'])}"
            row += [
                str(r["n_incidents"]),
                str(r["n"]),
                dur(r["median_s"]),
                ci,
                dur(r["p90_s"]),
                dur(r["max_s"]),
                "–" if r["mean_s"] is None else f"mean {dur(r['mean_s'])}",
            ]
            if target is not None:
                row.append(pct(r["within_target_share"]))
            row += [r["change"] or "–", r["warning"] or ""]
            out.append(row)
        blocks += [Heading(3, f"{metric} ({end} − {start})"), Table(header, out)]
    return blocks


def _pivot(t: Trends, by: str, metrics: Sequence[str]) -> list[Block]:
    """Per bucket and value of ``by``: median (n) for each metric, small n marked."""
    if by not in t._source.columns or t._source[by].null_count() == t._source.height:
        return []
    per = t.regroup([by]) if t.by != [by] else t
    blocks: list[Block] = [Heading(2, f"By {by}, per {_unit(t)}")]
    buckets = per.table["bucket"].unique().sort().to_list()
    for metric in metrics:
        if metric not in t.metrics:
            continue
        tab = per.table.filter(pl.col("metric") == metric)
        rows = []
        for g in sorted(tab["group"].unique().to_list()):
            cells = {r["bucket"]: r for r in _rows(tab, group=g)}
            row = [g]
            for b in buckets:
                r = cells.get(b)
                if r is None or not r["n"]:
                    row.append("–")
                elif r["n"] < MIN_N:
                    row.append(f"({dur(r['median_s'])}, n={r['n']})")
                else:
                    row.append(
                        f"{dur(r['median_s'])} [{dur(r['median_ci_low_s'])}–{dur(r['median_ci_high_s'])}] n={r['n']}"
                    )
            rows.append(row)
        blocks += [
            Heading(3, f"Median {metric} by {by}"),
            Table([by, *[_label(t, b) for b in buckets]], rows),
        ]
    blocks.append(
        Para(
            f"Each cell: median [{t.confidence:.0%} confidence interval] and n. Cells in parentheses have "
            f"n < {MIN_N}: too few to conclude anything about that {by} in that {_unit(t)}, so no interval is given."
        )
    )
    return blocks


def _quality(t: Trends) -> list[Block]:
    blocks: list[Block] = [Heading(2, "What the data could not tell us")]
    items = []
    src = t._source
    items.append(f"{src.height} incidents loaded; {t.incidents.height} bucketed.")
    if t.unbucketed:
        items.append(f"{t.unbucketed} incidents have no impact start and are in no bucket.")
    for metric in t.metrics:
        missing = src[f"{metric}_s"].null_count()
        if missing:
            start, end = GAPS[metric]
            items.append(f"{metric}: {missing} of {src.height} incidents lack {start} or {end}; counted as missing, not in n.")
    for col, label in (("impact_start_from", "impact start"), ("detected_from", "detection")):
        if col in src.columns:
            for r in src.filter(pl.col(col).is_not_null()).group_by(col).len().sort(col).to_dicts():
                items.append(
                    f"{r['len']} incidents have their {label} taken from {r[col]}, because nothing earlier is known: "
                    "gaps measured from it start when the incident was posted, not when users were first affected."
                )
    notes = t.notes
    if notes is not None and not notes.is_empty():
        counts = notes.group_by("kind", "field").agg(pl.col("incident_id").n_unique().alias("n")).sort("kind", "field")
        for r in counts.to_dicts():
            if r["kind"] in {"disagreement", "invalid", "duplicate", "excluded", "not_measured"}:
                example = notes.filter((pl.col("kind") == r["kind"]) & (pl.col("field") == r["field"]))["message"][0]
                items.append(f"{r['kind']} ({r['field']}): {r['n']} incidents, e.g. {example}")
    no_by = src.filter(pl.col("detected_by").is_null()).height
    if no_by:
        items.append(f"{no_by} incidents do not record who detected them.")
    for col in ("service", "severity"):
        n = src[col].null_count()
        if n:
            items.append(f"{n} incidents have no {col}; they appear as (unknown).")
    blocks.append(Bullets(items))
    return blocks


def _figures(t: Trends) -> list[Block]:
    from timeline.trends import _charts

    blocks: list[Block] = [Heading(2, "Charts")]
    main = [m for m in ("time_to_detect", "time_to_mitigate") if m in t.metrics] or t.metrics[:1]
    overall = t.regroup([]) if t.by else t
    blocks.append(
        Figure(
            overall.plot(main),
            "Each point is an incident; boxes show quartiles, diamonds the median with its confidence interval. "
            "Log scale: equal steps are equal ratios. Incident counts per bucket at the bottom.",
        )
    )
    for by in ("service", "severity"):
        if by in t._source.columns and t._source[by].null_count() < t._source.height:
            for m in main:
                blocks.append(Figure(_charts.breakdown(t, by, m), f"{m} per {_unit(t)}, one box per {by}."))
    if "service" in t._source.columns and "time_to_mitigate" in t.metrics:
        blocks.append(
            Figure(
                _charts.ranking(overall.overall(["service"]), "time_to_mitigate", "service"),
                "Whole-period median time to mitigate per service with its confidence interval.",
            )
        )
    blocks.append(Figure(overall.plot_customer_share(), "Share of incidents customers reported first, with Wilson intervals."))
    if t.by:
        blocks.append(Figure(t.plot_customer_share(), f"The same, per {', '.join(t.by)}."))
    return blocks


def blocks(t: Trends, *, figures: bool) -> list[Block]:
    """Every block of the report, in order."""
    out = _intro(t)
    if t.incidents.is_empty():
        return out + _quality(t)
    out += _answers(t)
    if figures:
        out += _figures(t)
    out += _bucket_tables(t)
    for by in ("service", "severity"):
        out += _pivot(t, by, ["time_to_detect", "time_to_mitigate"])
    out += _quality(t)
    return out


# ------------------------------------------------------------------ renderers


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(t: Trends) -> str:
    """The report as markdown (no charts)."""
    lines: list[str] = []
    for b in blocks(t, figures=False):
        if isinstance(b, Heading):
            lines += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Para):
            lines += [b.text, ""]
        elif isinstance(b, Bullets):
            lines += [f"- {i}" for i in b.items] + [""]
        elif isinstance(b, Table):
            lines.append("| " + " | ".join(_md_cell(h) for h in b.header) + " |")
            lines.append("|" + "---|" * len(b.header))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _inline(text: str) -> str:
    """Escape, then render **bold** and `code` as the markdown does."""
    import re

    out = htmllib.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def _html_blocks(bs: list[Block], *, plotly_js: bool) -> str:
    parts = []
    first_fig = True
    for b in bs:
        if isinstance(b, Heading):
            parts.append(f"<h{b.level}>{_inline(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            parts.append(f"<p>{_inline(b.text)}</p>")
        elif isinstance(b, Bullets):
            parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{_inline(h)}</th>" for h in b.header)
            body = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in b.rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(b, Figure):
            div = b.fig.to_html(full_html=False, include_plotlyjs=plotly_js and first_fig, config={"displaylogo": False})
            first_fig = False
            parts.append(f"<figure>{div}<figcaption>{_inline(b.caption)}</figcaption></figure>")
    return "\n".join(parts)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #333;padding-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0;font-size:.88em;display:block;overflow-x:auto}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;white-space:nowrap}th{background:#f3f3f3}
tr:nth-child(even) td{background:#fafafa}figure{margin:1.5em 0}figcaption{color:#555;font-size:.9em}
code{background:#f3f3f3;padding:0 .2em}
"""


def html(t: Trends) -> str:
    """The report as one standalone HTML page; plotly.js is inlined once, so it works offline."""
    body = _html_blocks(blocks(t, figures=True), plotly_js=True)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Incident trends</title><style>{_CSS}</style></head><body>\n{body}\n"
        f"<footer><p><small>Generated {generated} by timeline trends.</small></p></footer></body></html>\n"
    )


def notebook_html(t: Trends) -> str:
    """A compact view for Jupyter: the answers and data-quality sections, no charts."""
    bs = _intro(t)[:2]
    if not t.incidents.is_empty():
        bs += _answers(t)
    bs += _quality(t)
    return f"<div>{_html_blocks(bs, plotly_js=False)}</div>"
