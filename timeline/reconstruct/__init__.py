"""Reconstruct the incident from the merged event table: milestones with evidence, attempts, gaps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from timeline._errors import ReconstructError
from timeline.reconstruct import _finders as fd
from timeline.reconstruct import _signals as sg
from timeline.reconstruct._entries import build_entries
from timeline.reconstruct._model import GAPS, MILESTONES, earliest_signal, Attempt, Entry, Evidence, Incident, MachineSignal, Milestone
from timeline.reconstruct._rules import load_rules
from timeline.reduce import choose_bucket, reduce_polars
from timeline.schema import as_polars, sort_events
from timeline.sources._time import get_zone

__all__ = [
    "GAPS",
    "MILESTONES",
    "Attempt",
    "Entry",
    "Evidence",
    "Incident",
    "MachineSignal",
    "Milestone",
    "Settings",
    "reconstruct",
    "reconstruct_all",
]

Settings = sg.Settings


def _prepare(events: Any) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    ingest = [a.to_dict() for a in getattr(events, "account", [])]
    df = as_polars(events)
    missing = {"ts", "kind", "level", "message"} - set(df.columns)
    if missing:
        msg = f"the event table lacks the columns {sorted(missing)}; expected the schema of timeline.schema.EVENT_SCHEMA"
        raise ReconstructError(msg)
    from timeline.schema import conform

    df = sort_events(conform(df).filter(pl.col("ts").is_not_null()))
    try:
        from timeline.sources._tagging import tag_db_changes
    except ImportError:  # pragma: no cover - tagging ships with the readers
        return df, ingest
    return tag_db_changes(df), ingest


def reconstruct_all(
    events: Any,
    *,
    tz: str = "UTC",
    rules: Any = None,
    settings: Settings | None = None,
    max_incidents: int = 5,
) -> list[Incident]:
    """Every incident in the events (separate error bursts), largest first."""
    df, ingest = _prepare(events)
    if df.height == 0:
        msg = "no events to reconstruct from"
        raise ReconstructError(msg)
    settings = settings or Settings()
    machine = sg.machine(df)
    if machine.height == 0:
        msg = "no log or database events: the error rate that marks impact cannot be measured"
        raise ReconstructError(msg)
    errors = sg.with_coverage(sg.with_templates(sg.machine_errors(df)), df)
    span = (machine["ts"].min(), machine["ts"].max())
    every, bucket_s = choose_bucket(*span, target=240)  # type: ignore[arg-type]
    bursts = sg.find_bursts(sg.excess_rate(errors, every, span, settings.burst_factor), bucket_s)  # type: ignore[arg-type]
    if not bursts:
        # The evidence may be mostly incident (an export cut to it): a template's baseline is then
        # its quietest bucket.
        bursts = sg.find_bursts(sg.excess_rate(errors, every, span, settings.burst_factor, quantile=0.0), bucket_s)  # type: ignore[arg-type]
    if not bursts:
        msg = (
            f"no error burst found: no error template rose {settings.burst_factor:g} times over its own baseline "
            f"(per {every}, {errors.height} errors in all); give the incident's window (--window START END, "
            "or window=(start, end) in Python) to reconstruct a quieter incident"
        )
        raise ReconstructError(msg)
    out = []
    rules_d = load_rules(rules)
    for coarse in bursts[:max_incidents]:
        burst, every_f = _refine(df, errors, coarse, settings)
        with fd.display_zone(tz):
            out.append(_one(df, errors, ingest, burst, every_f, tz, rules_d, settings))
    return out


def _refine(df: pl.DataFrame, errors: pl.DataFrame, coarse: sg.Burst, settings: Settings) -> tuple[sg.Burst, str]:
    """Look again at a burst with buckets sized to its neighbourhood, so far-away data changes nothing."""
    margin = max(settings.min_lookback, coarse.end - coarse.start)
    lo, hi = coarse.start - margin, coarse.end + margin
    local = sg.machine(df.filter(pl.col("ts").is_between(lo, hi)))
    span = (local["ts"].min(), local["ts"].max())
    every, bucket_s = choose_bucket(*span, target=240)  # type: ignore[arg-type]
    near = errors.filter(pl.col("ts").is_between(lo, hi))
    fine = sg.find_bursts(sg.excess_rate(near, every, span, settings.burst_factor), bucket_s)  # type: ignore[arg-type]
    overlapping = [b for b in fine if b.start < coarse.end and b.end > coarse.start]
    if not overlapping:
        return coarse, every
    return max(overlapping, key=lambda b: b.excess), every


def reconstruct(
    events: Any,
    *,
    tz: str = "UTC",
    window: tuple[Any, Any] | None = None,
    annotations: str | Path | Mapping[str, Any] | None = None,
    rules: Any = None,
    settings: Settings | None = None,
    title: str | None = None,
) -> Incident:
    """Reconstruct the incident in an event table.

    Parameters
    ----------
    events
        The event table: what :func:`timeline.read` returns, or a polars or
        pandas frame with the event schema.
    tz
        IANA zone for display (times are kept in UTC).
    window
        ``(start, end)`` to pick the incident yourself; by default the largest
        error burst is the incident.
    annotations
        A TOML/JSON file or mapping of milestone overrides:
        ``{"detected": {"at": "2024-08-12T14:29:00-07:00", "by": "staff", "note": "..."}}``.
    rules
        Extra text-rule files (or mappings) merged over ``timeline/rules/human.toml``.
    settings
        Thresholds (look-back, burst factor, settle and effect windows...).
    title
        A title for the report (default from the trigger and the failing sources).

    Returns
    -------
    Incident
    """
    get_zone(tz)
    settings = settings or Settings()
    if window is None:
        incident = reconstruct_all(events, tz=tz, rules=rules, settings=settings, max_incidents=1)[0]
    else:
        df, ingest = _prepare(events)
        start, end = (_as_utc(w, tz) for w in window)
        if end <= start:
            msg = f"the window's end ({end.isoformat()}) is not after its start ({start.isoformat()})"
            raise ReconstructError(msg)
        errors = sg.with_coverage(sg.with_templates(sg.machine_errors(df)), df)
        # Within the window, what rose over its own baseline (read from around the window too:
        # an incident may fill the window it was given) is the incident.
        every, bucket_s = choose_bucket(start, end, target=240)
        reach = max(end - start, settings.min_lookback) * 10
        around = (max(start - reach, df["ts"].min()), min(end + reach, df["ts"].max()))  # type: ignore[type-var]
        rate = sg.excess_rate(errors.filter(pl.col("ts").is_between(*around)), every, around, settings.burst_factor)
        hot = rate.filter(pl.col("bucket").is_between(start - dt.timedelta(seconds=bucket_s), end) & (pl.col("excess") > 0))
        if hot.height:
            burst = sg.Burst(max(hot["bucket"].min(), start), min(hot["bucket"].max() + dt.timedelta(seconds=bucket_s), end),  # type: ignore[type-var,operator]
                             float(hot["excess"].sum()), int(hot["excess"].max()))
        else:
            burst = sg.Burst(start, end, 0.0, 0)
        with fd.display_zone(tz):
            incident = _one(df, errors, ingest, burst, every, tz, load_rules(rules), settings, window=(start, end))
    if title:
        incident.title = title
    if annotations is not None:
        apply_annotations(incident, annotations)
    return incident


def _short(text: str, limit: int) -> str:
    """The first line of a text, cut at a word boundary with an ellipsis."""
    line = (text or "").splitlines()[0] if text else ""
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:(") + "…"


def _as_utc(value: Any, tz: str) -> dt.datetime:
    from zoneinfo import ZoneInfo

    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when.astimezone(dt.UTC)


def apply_annotations(incident: Incident, annotations: str | Path | Mapping[str, Any]) -> Incident:
    """Apply a title and milestone overrides from a TOML/JSON file or a mapping (checked all at once;
    inferred values are kept beside them): :meth:`Incident.annotate`."""
    return incident.annotate(annotations)


def _one(
    df: pl.DataFrame,
    errors: pl.DataFrame,
    ingest: list[dict[str, Any]],
    burst: sg.Burst,
    every: str,
    tz: str,
    rules: dict[str, Any],
    settings: Settings,
    window: tuple[dt.datetime, dt.datetime] | None = None,
) -> Incident:
    """One incident from one burst: the finders of :mod:`timeline.reconstruct._finders`, in order."""
    ctx = fd.build_context(df, errors, burst, rules, settings, window)
    found = fd.run(ctx)
    sig_t, sig, core, sc = ctx.sig_t, ctx.sig, ctx.core, ctx.scales
    start = ctx.start
    assert start is not None
    trig = found["trigger"]
    det = found["detected"]
    lo = min([m.at for m in found.values() if m] + [start])
    hi = max([m.at for m in found.values() if m] + [ctx.end])
    sig_from = trig.at if trig else start
    # The earliest machine signal, knowing each source's time precision (a line stamped to the
    # second may have been written up to a second later than another's millisecond).
    signal = earliest_signal(core.filter(pl.col("ts") >= sig_from), det.at if det else None)
    chain = sig.filter(pl.col("ts") >= start).sort("ts")
    title_bits = sorted(set(chain["source"].head(50).to_list()))[:3]
    incident = Incident(
        title=f"Error burst in {', '.join(title_bits)}" + (f" after {_short(trig.evidence[0].message, 70)}" if trig and trig.evidence else ""),
        timezone=tz,
        window=(lo, hi),
        milestones=dict(found),
        attempts=ctx.attempts,
        signal=signal,
        ingest=ingest,
        missing={k: v for k, v in ctx.missing.items() if found.get(k) is None},
        events=df,
        extra={
            "bucket": every,
            "scales": {"mean_error_spacing_s": round(sc.mean_gap, 3), "longest_pause_s": round(sc.max_gap, 3),
                       "quiet_for_recovery_s": round(sc.quiet, 3), "time_precision_s": sc.precision},
        },
    )
    incident.silent_periods = fd.silent_periods(ctx)
    incident.rates = reduce_polars(df, every)
    if errors.height:
        incident.templates = errors.group_by("template_id").agg(
            pl.col("template").first(), pl.col("ts").min().alias("first_seen"), pl.len().alias("count")
        ).with_columns(
            pl.col("template_id").is_in(sig_t["template_id"].implode()).alias("bursting") if sig_t.height else pl.lit(False).alias("bursting"),
            (pl.col("first_seen") >= lo).alias("new"),
        )
    incident.entries = build_entries(incident, df, sig, rules)
    incident.title = incident.default_title()  # the default title in words: timeline.reconstruct._model.default_title
    return incident
