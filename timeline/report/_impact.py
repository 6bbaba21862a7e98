"""What the incident did to users, counted once per request, and the alert that would have caught it.

Failed requests are counted at one layer: the edge (an access log: a source
whose lines carry an HTTP status) when the evidence has one, else the
application. The other layer's records of the same requests (same method and
path within the edge's time precision, or the same request id) are matched and
not counted again. Only the incident's own failures count: requests whose
error lines belong to the templates that burst (its signature), not the
background errors of the same hours.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from timeline.reconstruct._model import component_name, during, signature_rows, time_precision

if TYPE_CHECKING:
    from timeline.reconstruct._model import Incident

METHODS = r"GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"
_REQUEST = rf"\b(?:{METHODS})\s+(/[^\s?\"'#]*)"
_METHOD = rf"\b({METHODS})\s+/"
_STATUS = r"\bHTTP/\d(?:\.\d)?\"?\s+([1-5]\d\d)\b"
EDGE_SHARE = 0.8
"""A source is an access log (the edge) when at least this share of its lines carry an HTTP status."""
EDGE_MIN_LINES = 20
MATCH_SLACK = dt.timedelta(seconds=1)
"""Added to the edge's own time precision when matching an application line to an edge request by time."""
UPSTREAM_TIMEOUT = dt.timedelta(seconds=61)
"""Longest wait between an application's line and the edge's response line: nginx's default
``proxy_read_timeout`` (60 s) and a second of clock precision."""


@dataclass
class Impact:
    """Failed requests counted once, the layer that counted them, and what was affected."""

    failed_requests: int | None = None
    layer: str | None = None  # "edge" | "application"
    counted_in: list[str] = field(default_factory=list)  # the sources counted
    statuses: list[tuple[str, int]] = field(default_factory=list)
    matched: int = 0  # other-layer lines matched to a counted request
    other_layer_lines: int = 0
    background: int = 0  # 5xx at the edge during impact outside the signature
    endpoints: list[tuple[str, int]] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    errors_by_source: list[tuple[str, int]] = field(default_factory=list)
    error_lines: int = 0
    other_errors: list[tuple[str, int]] = field(default_factory=list)


def request_columns(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``method``, ``path`` (ids as ``{id}`` in ``endpoint``) and ``status`` read from the message or attrs."""
    msg = pl.col("message").fill_null("")
    method = msg.str.extract(_METHOD, 1)
    path = msg.str.extract(_REQUEST, 1)
    status = msg.str.extract(_STATUS, 1)
    if "attrs" in df.columns:
        attrs = pl.col("attrs")
        path = path.fill_null(pl.coalesce(*[attrs.str.json_path_match(f"$.{k}") for k in ("path", "route", "endpoint", "url")]))
        method = method.fill_null(attrs.str.json_path_match("$.method"))
        status = status.fill_null(pl.coalesce(*[attrs.str.json_path_match(f"$.{k}") for k in ("status", "status_code", "http_status")]))
    rid = pl.col("ref") if "ref" in df.columns else pl.lit(None, pl.String)
    if "attrs" in df.columns:
        rid = pl.coalesce(pl.col("attrs").str.json_path_match("$.request_id"), rid)
    out = df.with_columns(
        method=method.str.to_uppercase(),
        path=path.str.replace(r"^https?://[^/]+", ""),
        status=status.cast(pl.Int32, strict=False),
        request_id=rid,
    )
    return out.with_columns(endpoint=pl.col("path").str.replace_all(r"/[0-9a-fA-F-]{8,}|/\d+", "/{id}"))


def edge_sources(events: pl.DataFrame) -> list[str]:
    """Sources that are access logs: most of their lines carry an HTTP status."""
    logs = events.filter(pl.col("kind").cast(pl.String) == "log").select("source", "message")
    if logs.height == 0:
        return []
    share = logs.group_by("source").agg(
        n=pl.len(), with_status=pl.col("message").fill_null("").str.contains(_STATUS).sum()
    ).filter((pl.col("n") >= EDGE_MIN_LINES) & (pl.col("with_status") >= EDGE_SHARE * pl.col("n")))
    return sorted(share["source"].to_list())


def _events(incident: Incident) -> pl.DataFrame | None:
    ev = incident.events
    if ev is None:
        return None
    ev = getattr(ev, "df", ev)
    return ev if isinstance(ev, pl.DataFrame) else pl.from_pandas(ev)


def measure(incident: Incident) -> Impact | None:
    """Count the incident's failed requests once, say at which layer, and list what it affected."""
    from timeline.report._common import impact_span, utc

    ev = _events(incident)
    span = impact_span(incident)
    if ev is None or span is None or ev.is_empty():
        return None
    start, end = utc(span[0]), utc(span[1])
    sig = signature_rows(incident)
    out = Impact()
    errors = during(ev.filter(
        pl.col("kind").cast(pl.String).is_in(["log", "db"])
        & pl.col("level").cast(pl.String).is_in(["error", "critical"])
    ), start, end)
    if sig.height == 0:
        sig = errors.with_columns(pl.lit(None, pl.String).alias("template_id"), pl.lit(None, pl.String).alias("template"))
    by_source = sig.group_by("source").agg(n=pl.len()).sort(["n", "source"], descending=[True, False])
    out.errors_by_source = [(s, int(n)) for s, n in by_source.iter_rows()]
    out.error_lines = int(by_source["n"].sum()) if by_source.height else 0
    keys = ["file", "line"] if {"file", "line"} <= set(errors.columns) else ["ts", "source", "message"]
    others = errors.join(sig.select(keys), on=keys, how="anti")
    oth = others.group_by("source").agg(n=pl.len()).sort(["n", "source"], descending=[True, False])
    out.other_errors = [(s, int(n)) for s, n in oth.iter_rows()]

    edges = edge_sources(ev)
    sig_r = request_columns(sig)
    if edges:
        edge_all = request_columns(during(ev.filter(pl.col("source").is_in(edges)), start, end))
        failed_all = edge_all.filter(pl.col("status") >= 500)
        counted = sig_r.filter(pl.col("source").is_in(edges) & (pl.col("status") >= 500))
        if counted.height == 0:
            counted = failed_all  # no edge template burst: every 5xx at the edge during impact
        out.layer, out.counted_in = "edge", edges
        out.failed_requests = counted.height
        out.background = failed_all.height - counted.height
        st = counted.group_by("status").agg(n=pl.len()).sort("status")
        out.statuses = [(str(s), int(n)) for s, n in st.iter_rows()]
        app = sig_r.filter(~pl.col("source").is_in(edges) & pl.col("path").is_not_null())
        out.other_layer_lines = app.height
        out.matched = _match(counted, app)
        req = counted
    else:
        app = sig_r.filter((pl.col("kind").cast(pl.String) == "log") & pl.col("path").is_not_null())
        if app.height:
            # One request may log several lines: count a request id once, a line without one as one request.
            with_id = app.filter(pl.col("request_id").is_not_null())
            out.failed_requests = with_id["request_id"].n_unique() + app.filter(pl.col("request_id").is_null()).height
            out.layer = "application"
            out.counted_in = sorted(set(app["source"].to_list()))
            req = pl.concat([
                with_id.unique("request_id", keep="first", maintain_order=True),
                app.filter(pl.col("request_id").is_null()),
            ], how="diagonal_relaxed")
        else:
            req = app
    if req.height:
        eps = req.filter(pl.col("endpoint").is_not_null()).group_by("endpoint").agg(n=pl.len()).sort(["n", "endpoint"], descending=[True, False])
        out.endpoints = [(e, int(n)) for e, n in eps.iter_rows()]
    out.services = affected_services(sig)
    return out


def _match(edge: pl.DataFrame, app: pl.DataFrame) -> int:
    """How many application lines are records of a counted edge request (request id, or method, path and time)."""
    if edge.height == 0 or app.height == 0:
        return 0
    by_id = 0
    ids = edge.filter(pl.col("request_id").is_not_null())["request_id"]
    if ids.len():
        hit = app.filter(pl.col("request_id").is_in(ids.implode()))
        by_id = hit.height
        app = app.filter(~pl.col("request_id").is_in(ids.implode()))
    precision = time_precision(edge.select("source", "ts"))["precision_us"].max()
    back = dt.timedelta(microseconds=int(precision or 0)) + MATCH_SLACK
    base = pl.col("path").str.replace(r"(?:/(?:[0-9a-fA-F-]{8,}|\d+|\{[^}]*\}))+/?$", "")
    key = [pl.col("method").fill_null(""), base.alias("base")]
    edges: dict[tuple[str, str], list[dt.datetime]] = {}
    for m, b, ts in edge.select(*key, "ts").sort("ts").iter_rows():
        edges.setdefault((m, b), []).append(ts)
    used: dict[tuple[str, str], int] = {}
    matched = 0
    # An edge line is written when the response is sent: at or after the application's line,
    # at most the proxy's upstream timeout later (nginx's default proxy_read_timeout).
    for m, b, ts in app.select(*key, "ts").sort("ts").iter_rows():
        times = edges.get((m, b))
        if not times:
            continue
        i = used.get((m, b), 0)
        while i < len(times) and times[i] < ts - back:
            i += 1
        if i < len(times) and times[i] <= ts + UPSTREAM_TIMEOUT:
            matched += 1
            i += 1
        used[(m, b)] = i
    return by_id + matched


def affected_services(sig: pl.DataFrame) -> list[str]:
    """The components in the incident's signature: a database log's server, else the source, with its loggers."""
    if sig.height == 0:
        return []
    has_service = "service" in sig.columns
    rows = sig.group_by("source").agg(
        pl.col("kind").first().cast(pl.String),
        (pl.col("service").drop_nulls().unique().sort() if has_service else pl.lit(None, pl.String)).alias("services"),
        n=pl.len(),
    ).sort(["n", "source"], descending=[True, False])
    out = []
    for r in rows.iter_rows(named=True):
        name = component_name(r["source"], r["kind"])
        services = [s for s in (r["services"] or []) if s and s != name and s not in r["source"]]
        out.append(f"{name} ({', '.join(services)})" if services and r["kind"] != "db" else name)
    return out


# ------------------------------------------------------------------ the alert to add


@dataclass
class AlertRule:
    """An alert an on-call engineer could configure, and when it would have fired."""

    template: str
    source: str
    threshold: int  # lines per minute
    minutes: int  # consecutive minutes at or above it
    baseline_max: int  # the most lines in a minute before the incident
    baseline_minutes: int
    peak: int
    fires_at: dt.datetime | None


SUSTAIN_MINUTES = 2
"""An alert fires after this many consecutive minutes at or above its threshold."""


def suggest_alert(incident: Incident) -> AlertRule | None:
    """A per-minute threshold on the earliest signal's template, above anything seen before the incident.

    The threshold is one more than the busiest minute of the same template and
    source before the trigger (or impact start), so it would not have fired
    then; it must hold for :data:`SUSTAIN_MINUTES` minutes running. Returns when
    it would have fired during this incident.
    """
    from timeline.report._common import utc
    from timeline.templates import templates

    sig, ev = incident.signal, _events(incident)
    if sig is None or ev is None:
        return None
    rows = ev.filter(
        (pl.col("source") == sig.source)
        & pl.col("level").cast(pl.String).is_in(["error", "critical"])
        & pl.col("kind").cast(pl.String).is_in(["log", "db"])
    )
    if rows.height == 0:
        return None
    rows = templates(rows).filter(pl.col("template") == sig.template)
    if rows.height == 0:
        return None
    since = utc(incident.at("trigger") or incident.at("impact_start") or sig.at)
    end = utc(incident.at("mitigated") or incident.at("resolved") or incident.window[1])
    per_min = rows.group_by_dynamic("ts", every="1m").agg(n=pl.len())
    before = per_min.filter(pl.col("ts") < since)
    during = per_min.filter(pl.col("ts").is_between(since, end))
    data_start = utc(ev["ts"].min())  # type: ignore[arg-type]
    base_minutes = max(0, math.floor((since - data_start).total_seconds() / 60))
    base_max = int(before["n"].max() or 0) if before.height else 0
    threshold = base_max + 1
    peak = int(during["n"].max() or 0) if during.height else 0
    fires = None
    if during.height:
        full = pl.DataFrame({"ts": pl.datetime_range(during["ts"].min(), during["ts"].max(), "1m", eager=True, time_zone="UTC")})
        full = full.join(during, on="ts", how="left").with_columns(pl.col("n").fill_null(0))
        ok = (full["n"] >= threshold).to_list()
        run = 0
        for i, hit in enumerate(ok):
            run = run + 1 if hit else 0
            if run >= SUSTAIN_MINUTES:
                fires = full["ts"][i] + dt.timedelta(minutes=1)
                break
    return AlertRule(sig.template, sig.source, threshold, SUSTAIN_MINUTES, base_max, base_minutes, peak, fires)
