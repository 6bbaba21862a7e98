"""Reconstruct the incident from the merged event table: milestones with evidence, attempts, gaps."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from timeline._errors import ReconstructError
from timeline.reconstruct import _infer as inf
from timeline.reconstruct._model import GAPS, MILESTONES, Attempt, Entry, Evidence, Incident, MachineSignal, Milestone
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

Settings = inf.Settings


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
    machine = df.filter(pl.col("kind").cast(pl.String).is_in(inf.MACHINE_KINDS))
    if machine.height == 0:
        msg = "no log or database events: the error rate that marks impact cannot be measured"
        raise ReconstructError(msg)
    every, bucket_s = choose_bucket(machine["ts"].min(), machine["ts"].max(), target=240)  # type: ignore[arg-type]
    rate = inf.error_rate(df, every)
    bursts, base, threshold = inf.find_bursts(rate, bucket_s, settings)
    if not bursts:
        msg = (
            f"no error burst found: the error count never rose above {threshold:.1f} per {every} "
            f"(baseline {base:.1f}); pass window=(start, end) to reconstruct a quieter incident"
        )
        raise ReconstructError(msg)
    out = []
    for coarse in bursts[:max_incidents]:
        burst, every_f, bucket_f, base_f = _refine(df, coarse, settings)
        with inf.display_zone(tz):
            out.append(_one(df, ingest, burst, every_f, bucket_f, base_f, tz, load_rules(rules), settings))
    return out


def _refine(df: pl.DataFrame, coarse: inf.Burst, settings: Settings) -> tuple[inf.Burst, str, int, float]:
    """Look again at a burst with buckets sized to its neighbourhood, so far-away data changes nothing."""
    margin = max(settings.lookback, coarse.end - coarse.start)
    lo, hi = coarse.start - margin, coarse.end + margin
    local = df.filter(pl.col("ts").is_between(lo, hi))
    machine = local.filter(pl.col("kind").cast(pl.String).is_in(inf.MACHINE_KINDS))
    every, bucket_s = choose_bucket(machine["ts"].min(), machine["ts"].max(), target=240)  # type: ignore[arg-type]
    rate = inf.error_rate(local, every)
    fine, base, _ = inf.find_bursts(rate, bucket_s, settings)
    overlapping = [b for b in fine if b.start < coarse.end and b.end > coarse.start]
    if not overlapping:
        return coarse, every, bucket_s, base
    best = max(overlapping, key=lambda b: b.excess)
    return best, every, bucket_s, base


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
        machine = df.filter(pl.col("kind").cast(pl.String).is_in(inf.MACHINE_KINDS))
        every, bucket_s = choose_bucket(machine["ts"].min(), machine["ts"].max(), target=240)  # type: ignore[arg-type]
        rate = inf.error_rate(df, every)
        _, base, _ = inf.find_bursts(rate, bucket_s, settings)
        burst = inf.Burst(start, end, 0.0, 0)
        with inf.display_zone(tz):
            incident = _one(df, ingest, burst, every, bucket_s, base, tz, load_rules(rules), settings)
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
    """Apply milestone overrides from a TOML/JSON file or a mapping; inferred values are kept beside them."""
    if isinstance(annotations, Mapping):
        data = dict(annotations)
    else:
        path = Path(annotations)
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            msg = f"annotations file {path}: cannot be read: {exc}"
            raise ReconstructError(msg) from exc
    data = data.get("milestones", data)
    for name, value in data.items():
        if isinstance(value, Mapping):
            incident.set(name, value["at"], note=value.get("note"), by=value.get("by"))
        else:
            incident.set(name, value)
    return incident


def _one(
    df: pl.DataFrame,
    ingest: list[dict[str, Any]],
    burst: inf.Burst,
    every: str,
    bucket_s: int,
    base: float,
    tz: str,
    rules: dict[str, Any],
    settings: Settings,
) -> Incident:
    errors = inf.machine_errors(df)
    errors = inf._templates_of(errors)
    # Rates inside the burst are compared with its neighbourhood (the burst's length or the
    # look-back on each side, whichever is longer), so data far away changes nothing and the
    # quiet hours around an incident count even when its errors are the only ones.
    margin = max(settings.lookback, burst.end - burst.start)
    lo_n = max(burst.start - margin, df["ts"].min())  # type: ignore[type-var]
    hi_n = min(burst.end + margin, df["ts"].max())  # type: ignore[type-var]
    near = errors.filter(pl.col("ts").is_between(lo_n, hi_n))
    sig_t = inf.signature(near, burst, settings, span=(lo_n, hi_n))
    if sig_t.height == 0:
        # Nothing stands out by template: every error inside the burst is the signature.
        sig = errors.filter(pl.col("ts").is_between(burst.start, burst.end))
    else:
        sig = errors.join(sig_t.select("template_id"), on="template_id", how="semi")
    core = sig if sig_t.height == 0 else errors.join(sig_t.filter(pl.col("core")).select("template_id"), on="template_id", how="semi")
    gap = inf.chain_gap(sig_t, burst, bucket_s, settings)
    chain = inf.impact_start(core, burst, gap)
    milestones: dict[str, Milestone | None] = {m: None for m in MILESTONES}
    missing: dict[str, str] = {}
    if chain.height == 0:
        msg = "the burst holds no error event to start the impact from"
        raise ReconstructError(msg)
    first = chain.row(0, named=True)
    milestones["impact_start"] = Milestone(
        "impact_start", first["ts"], "high",
        f"the first event of the error burst: the earliest line of its bursting templates that runs into it without a gap over {gap.total_seconds():.0f} s"
        " (a quarter of their mean spacing before the incident)",
        inf._evidence(chain, 3),
    )
    start = first["ts"]
    # Mitigation: the last signature error before the rate settles near baseline for the sustain period.
    sig_after = core.filter(pl.col("ts") >= start).sort("ts")
    data_end = df["ts"].max()
    baseline_per_min = base / (bucket_s / 60) if bucket_s else 0.0
    sig_base_n = core.filter(pl.col("ts") < start - settings.lookback).height
    recovery, near = inf.recovery_point(core, start, data_end, min(baseline_per_min, sig_base_n), bucket_s, settings)  # type: ignore[arg-type]
    sustained = recovery is not None
    before_recovery = sig_after.filter(pl.col("ts") < recovery) if recovery is not None else sig_after
    impact_end = before_recovery["ts"].max() if before_recovery.height else start
    if recovery is not None and impact_end is not None:
        impact_end = inf.extend_tail(sig_after, impact_end)
    end_search = impact_end + dt.timedelta(hours=6)

    trig = inf.trigger(df, start, chain, rules, bucket_s, settings)
    lead = inf.lead_in(core, trig.at if trig else None, start, settings)
    if lead is not None and lead.height:
        # The signature's rate rose at the trigger, sparsely at first: impact began there.
        start = lead["ts"][0]
        milestones["impact_start"] = Milestone(
            "impact_start", start, "high",
            "the first line of the bursting templates after the trigger: their rate rose at the change "
            f"({lead.height} lines before the burst, against {inf.pre_count(core, trig.at, settings)} in the "
            f"{inf._minutes(settings.lookback)} before it)",
            inf._evidence(lead, 3),
        )
        chain = core.filter(pl.col("ts") >= start).sort("ts", "file", "line")
    milestones["trigger"] = trig
    if trig is None:
        missing["trigger"] = f"no change, deploy, database reload/restart or announced change within {inf._minutes(settings.lookback)} before impact"
    det = inf.detection(df, start, impact_end + settings.sustain, rules, bucket_s)
    milestones["detected"] = det
    if det is None:
        missing["detected"] = "no alert fired, no support ticket and no chat report of the symptom during impact"
    anchor = det.at if det else start
    for name in ("escalated", "acknowledged", "identified"):
        m = inf.human_milestone(name, df, anchor - dt.timedelta(minutes=1), end_search, rules)
        milestones[name] = m
        if m is None:
            missing[name] = f"no event after detection matched the {name} rules (timeline/rules/human.toml)"
    raw = inf.classify_attempts(df, start, impact_end + settings.settle, rules, settings, trig.at if trig else None)
    attempts = inf.judge_attempts(raw, core, recovery, near, settings)
    effective = next((a for a in attempts if a.effective), None)
    last_rows = sig_after.filter(pl.col("ts") == impact_end)
    if sustained:
        ev = inf._evidence(last_rows, 1) + (effective.evidence[:1] if effective else ())
        rule = f"the last error of the bursting templates, followed by at least {inf._minutes(settings.sustain)} near baseline"
        if effective:
            rule += f"; {effective.action} at {inf.clock(effective.at)} brought the rate down"
        milestones["mitigated"] = Milestone("mitigated", impact_end, "medium", rule, ev)
    else:
        missing["mitigated"] = "errors continue to the end of the data: no sustained recovery seen"
    if milestones["mitigated"] is not None:
        res = inf.human_milestone("resolved", df, impact_end, end_search, rules)
        if res is not None:
            milestones["resolved"] = res
        else:
            milestones["resolved"] = Milestone(
                "resolved", impact_end + settings.sustain, "low",
                f"no resolution event found: taken as {inf._minutes(settings.sustain)} of sustained recovery after mitigation", (),
            )
    else:
        missing["resolved"] = "impact never ended in the data"

    lo = min([m.at for m in milestones.values() if m] + [start])
    hi = max([m.at for m in milestones.values() if m] + [impact_end])
    signal = None
    sig_from = trig.at if trig else start
    sig_rows = core.filter(pl.col("ts") >= sig_from).sort("ts")
    if sig_rows.height:
        r = sig_rows.row(0, named=True)
        lead = (det.at - r["ts"]).total_seconds() if det else None
        signal = MachineSignal(r["ts"], r["template"], r["source"], lead, inf._evidence(sig_rows, 1))
    title_bits = sorted(set(chain["source"].head(50).to_list()))[:3]
    incident = Incident(
        title=f"Error burst in {', '.join(title_bits)}" + (f" after {_short(trig.evidence[0].message, 70)}" if trig and trig.evidence else ""),
        timezone=tz,
        window=(lo, hi),
        milestones=milestones,
        attempts=attempts,
        signal=signal,
        ingest=ingest,
        missing=missing,
        events=df,
        extra={"bucket": every, "baseline_errors_per_bucket": base},
    )
    incident.silent_periods = inf.silent_periods(df, start, impact_end, rules, settings)
    incident.rates = reduce_polars(df, every)
    if errors.height:
        incident.templates = errors.group_by("template_id").agg(
            pl.col("template").first(), pl.col("ts").min().alias("first_seen"), pl.len().alias("count")
        ).with_columns(
            pl.col("template_id").is_in(sig_t["template_id"].implode()).alias("bursting") if sig_t.height else pl.lit(False).alias("bursting"),
            (pl.col("first_seen") >= lo).alias("new"),
        )
    incident.entries = inf.build_entries(incident, df, sig, rules)
    incident.title = incident.default_title()  # the default title in words: timeline.reconstruct._model.default_title
    return incident
