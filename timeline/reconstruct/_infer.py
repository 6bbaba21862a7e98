"""Inferring the incident from the merged event table.

The steps, each a small polars computation over the event table or its reduction:

1. **Errors and their rate.** Machine errors (``log``/``db`` events at error or
   critical) are counted per bucket; the bucket size is chosen from the data.
2. **Bursts.** A robust baseline (median and MAD of the quieter buckets) gives a
   threshold; runs of buckets over it are bursts; the one with the largest excess
   is the incident (``reconstruct_all`` returns each).
3. **Bursting templates.** Error templates whose rate in the burst is many times
   their rate outside it: the incident's signature. Background errors that do not
   change rate are ignored from here on.
4. **Milestones.** Impact starts at the first event of the signature chain that
   runs into the burst; the trigger is the change before it that names the
   failing component; detection, escalation, acknowledgement, identification and
   resolution come from tickets, pages and chat through the text rules; each
   mitigation attempt is judged by the signature's rate after it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from zoneinfo import ZoneInfo
import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from timeline.reconstruct._model import MILESTONES, Attempt, Entry, Evidence, Incident, Milestone
from timeline.reconstruct._rules import any_match, first_line

DISPLAY_TZ: ContextVar[str] = ContextVar("display_tz", default="UTC")
"""The zone the rule texts name times in (set by reconstruct to its ``tz``)."""


@contextmanager
def display_zone(tz: str) -> Iterator[None]:
    """Within the block, rule texts name times in ``tz``."""
    token = DISPLAY_TZ.set(tz)
    try:
        yield
    finally:
        DISPLAY_TZ.reset(token)


def clock(ts: dt.datetime, fmt: str = "%H:%M:%S") -> str:
    """A time as the rule texts show it: in the display zone, with the zone's abbreviation."""
    return ts.astimezone(ZoneInfo(DISPLAY_TZ.get())).strftime(f"{fmt} %Z")


ERROR_LEVELS = ("error", "critical")
MACHINE_KINDS = ("log", "db")
HUMAN_KINDS = ("chat", "note", "ticket", "alert", "change")


@dataclass(frozen=True)
class Settings:
    """Tunable thresholds (all documented in the rule text they produce)."""

    lookback: dt.timedelta = dt.timedelta(hours=2)
    burst_factor: float = 5.0
    min_template_count: int = 3
    settle: dt.timedelta = dt.timedelta(minutes=2)
    effect_window: dt.timedelta = dt.timedelta(minutes=10)
    sustain: dt.timedelta = dt.timedelta(minutes=10)
    silence: dt.timedelta = dt.timedelta(minutes=15)
    attempt_merge: dt.timedelta = dt.timedelta(minutes=5)
    core_share: float = 0.02


@dataclass(frozen=True)
class Burst:
    """A run of buckets whose error count is over the threshold."""

    start: dt.datetime
    end: dt.datetime
    excess: float
    peak: int


def _minutes(td: dt.timedelta) -> str:
    m = td.total_seconds() / 60
    return f"{m:.0f} min" if m >= 1 else f"{td.total_seconds():.0f} s"


def machine_errors(events: pl.DataFrame) -> pl.DataFrame:
    """The machine error events (logs and database logs at error or critical)."""
    return events.filter(
        pl.col("kind").cast(pl.String).is_in(MACHINE_KINDS) & pl.col("level").cast(pl.String).is_in(ERROR_LEVELS)
    )


def error_rate(events: pl.DataFrame, every: str) -> pl.DataFrame:
    """Errors per bucket over the whole span (empty buckets filled with zero)."""
    machine = events.filter(pl.col("kind").cast(pl.String).is_in(MACHINE_KINDS))
    if machine.height == 0:
        return pl.DataFrame(schema={"bucket": pl.Datetime("us", "UTC"), "errors": pl.UInt32})
    start = machine["ts"].min().replace(microsecond=0)  # type: ignore[union-attr]
    end = machine["ts"].max()
    grid = pl.DataFrame({"bucket": pl.datetime_range(start, end, every, eager=True, time_zone="UTC")}).with_columns(
        pl.col("bucket").dt.truncate(every)
    ).unique("bucket", maintain_order=True)
    errs = machine_errors(machine)
    counts = errs.group_by(pl.col("ts").dt.truncate(every).alias("bucket")).agg(pl.len().cast(pl.UInt32).alias("errors"))
    return grid.join(counts, on="bucket", how="left").with_columns(pl.col("errors").fill_null(0)).sort("bucket")


def find_bursts(rate: pl.DataFrame, bucket_s: int, settings: Settings) -> tuple[list[Burst], float, float]:
    """Runs of buckets over a robust threshold, biggest excess first; also (baseline, threshold)."""
    if rate.height == 0:
        return [], 0.0, 0.0
    counts = rate["errors"].cast(pl.Float64)
    q75 = counts.quantile(0.75) or 0.0
    quiet = counts.filter(counts <= q75)
    base = float(quiet.median() or 0.0)
    mad = float((quiet - base).abs().median() or 0.0) * 1.4826
    threshold = max(base + 6 * mad, base * settings.burst_factor, base + 3.0)
    over = rate.with_columns((pl.col("errors") > threshold).alias("over"))
    gap_allow = max(3, int(300 / bucket_s))
    bursts: list[Burst] = []
    rows = over.rows(named=True)
    i = 0
    while i < len(rows):
        if not rows[i]["over"]:
            i += 1
            continue
        j = i
        last_over = i
        while j + 1 < len(rows) and (rows[j + 1]["over"] or (j + 1 - last_over) <= gap_allow):
            j += 1
            if rows[j]["over"]:
                last_over = j
        seg = rows[i : last_over + 1]
        excess = sum(max(0.0, r["errors"] - base) for r in seg)
        peak = max(r["errors"] for r in seg)
        bursts.append(Burst(seg[0]["bucket"], seg[-1]["bucket"] + dt.timedelta(seconds=bucket_s), excess, int(peak)))
        i = last_over + 1
    bursts.sort(key=lambda b: -b.excess)
    return bursts, base, threshold


def _templates_of(errors: pl.DataFrame) -> pl.DataFrame:
    from timeline.templates import templates

    if errors.height == 0:
        return errors.with_columns(pl.lit(None, pl.String).alias("template_id"), pl.lit(None, pl.String).alias("template"))
    return templates(errors)


def signature(errors: pl.DataFrame, burst: Burst, settings: Settings, span: tuple[dt.datetime, dt.datetime] | None = None) -> pl.DataFrame:
    """Error templates that burst: rate inside the burst far above their rate outside it.

    ``span`` is the time the evidence covers (all events, not only errors: when
    the only errors are the incident's, the quiet hours around it are what
    makes them stand out). Returns one row per template with ``template_id``,
    ``template``, ``n_in``, ``n_out``, ``first_in`` and ``ratio``.
    """
    inside = pl.col("ts").is_between(burst.start, burst.end, closed="left")
    span_in = max((burst.end - burst.start).total_seconds(), 1.0)
    if span is None and errors.height:
        span = (errors["ts"].min(), errors["ts"].max())  # type: ignore[assignment]
    covered = (span[1] - span[0]).total_seconds() if span else 0.0
    total_span = max(covered, span_in + 1)
    span_out = max(total_span - span_in, 1.0)
    stats = errors.group_by("template_id").agg(
        pl.col("template").first(),
        inside.sum().alias("n_in"),
        (~inside).sum().alias("n_out"),
        pl.col("ts").filter(inside).min().alias("first_in"),
        pl.col("source").filter(inside).first().alias("source"),
    )
    stats = stats.with_columns(
        ((pl.col("n_in") / span_in) / ((pl.col("n_out") + 0.5) / span_out)).alias("ratio")
    )
    bursting = stats.filter((pl.col("n_in") >= settings.min_template_count) & (pl.col("ratio") >= settings.burst_factor))
    # The core of the signature is what makes up the bulk of the burst: a handful of lines of
    # another template at its edge (a restart's own "terminating connection" lines) is not impact.
    total = max(int(bursting["n_in"].sum() or 0), 1)
    return bursting.with_columns(
        (pl.col("n_in") / total).alias("share"),
        ((pl.col("n_in") / total) >= settings.core_share).alias("core"),
        pl.lit(span_out).alias("span_out"),
    ).sort("first_in")


def _evidence(frame: pl.DataFrame, limit: int = 5) -> tuple[Evidence, ...]:
    return tuple(Evidence.from_row(r) for r in frame.head(limit).iter_rows(named=True))


def chain_gap(sig_t: pl.DataFrame, burst: Burst, bucket_s: int, settings: Settings) -> dt.timedelta:
    """How far apart two signature errors may be and still belong to one run.

    A quarter of the mean time between the signature's errors outside the burst:
    templates that are nearly absent at baseline may be sparse at the start of
    an incident and still be the incident; common ones chain only tightly.
    Bounded below by two buckets (or 2 minutes) and above by the look-back.
    """
    floor = max(2 * bucket_s, 120)
    core = sig_t.filter(pl.col("core")) if "core" in sig_t.columns and sig_t.height else sig_t
    if core.height == 0:
        return dt.timedelta(seconds=floor)
    span_out = float(core["span_out"][0]) if "span_out" in core.columns else 0.0
    n_out = int(core["n_out"].sum() or 0)
    mean_gap = span_out / (n_out + 1)
    return dt.timedelta(seconds=min(max(floor, mean_gap / 4), settings.lookback.total_seconds()))


def impact_start(sig_errors: pl.DataFrame, burst: Burst, gap: dt.timedelta) -> pl.DataFrame:
    """The signature errors chained back from the burst: the first is where impact started."""
    chain_gap = gap
    before = sig_errors.filter(pl.col("ts") < burst.start).sort("ts", descending=True)
    start = sig_errors.filter(pl.col("ts") >= burst.start)["ts"].min()
    if start is None:
        return sig_errors.head(0)
    earliest = start
    for ts in before["ts"]:
        if earliest - ts <= chain_gap:
            earliest = ts
        else:
            break
    return sig_errors.filter(pl.col("ts") >= earliest).sort("ts", "file", "line")


def _human(events: pl.DataFrame, rules: dict[str, Any]) -> pl.DataFrame:
    """Events written by people or ops tools (not bots), with a first-line text column."""
    bots = rules.get("bots", {}).get("actors", [r"\bbot\b", r"bot$", r"^(slackbot|github|jenkins|circleci|pagerduty|statuspage)$"])
    frame = events.filter(pl.col("kind").cast(pl.String).is_in(HUMAN_KINDS))
    is_bot = any_match(pl.col("actor").fill_null(""), bots) | pl.col("attrs").fill_null("").str.contains('"subtype":\\s*"bot_message"')
    # Text in backticks quotes a log line or a command someone saw; it is not what they did.
    text = first_line(pl.col("message")).fill_null("").str.replace_all(r"`[^`]*`", "`…`")
    return frame.filter(~is_bot).with_columns(text.alias("_text"))


def _rule_hits(human: pl.DataFrame, rule: dict[str, Any], hypothetical: list[str]) -> pl.DataFrame:
    kinds = rule.get("kinds", list(HUMAN_KINDS))
    text_kinds = rule.get("text_kinds", kinds)
    text_hit = any_match(pl.col("_text"), rule.get("patterns", [])) & pl.col("kind").cast(pl.String).is_in(text_kinds)
    action_hit = pl.col("action").fill_null("").is_in(rule.get("actions", []))
    talk = any_match(pl.col("_text"), hypothetical)
    return human.filter(pl.col("kind").cast(pl.String).is_in(kinds) & (action_hit | (text_hit & ~talk))).sort("ts", "file", "line")


def _tokens(text: str) -> set[str]:
    return {t for t in re.findall(r"[a-z0-9][a-z0-9_.:/-]*[a-z0-9]", text.lower()) if len(t) >= 3}


_GENERIC = {
    "the", "and", "for", "with", "from", "into", "change", "changes", "config", "configuration", "deploy", "deployed",
    "log", "app", "web", "api", "server", "service", "database", "prod", "production", "error", "errors", "info",
    "postgresql", "postgres", "mysql", "applied", "maintenance", "window", "release", "version", "update", "updated",
    "all", "new", "old", "now", "restart", "reload", "rollback", "this", "that", "was", "are", "has", "have",
}


def _target_words(row: dict[str, Any]) -> set[str]:
    words: set[str] = set()
    attrs = row.get("attrs")
    if attrs:
        try:
            data = json.loads(attrs)
        except (json.JSONDecodeError, TypeError):
            data = {}
        if isinstance(data, dict):
            for key in ("target", "service", "host", "component", "environment", "database", "db"):
                if isinstance(data.get(key), str):
                    words |= _tokens(data[key])
    for key in ("host", "service", "ref"):
        if row.get(key):
            words |= _tokens(str(row[key]))
    src = row.get("source") or ""
    if str(row.get("kind")) == "db":
        words |= _tokens(src.split("/")[0])
    words |= {t for t in _tokens(row.get("message") or "") if "-" in t or "." in t}
    return {w for w in words if w not in _GENERIC}


def trigger(events: pl.DataFrame, start: dt.datetime, failing: pl.DataFrame, rules: dict[str, Any], bucket_s: int, settings: Settings) -> Milestone | None:
    """The change that most plausibly set the incident off."""
    lo, hi = start - settings.lookback, start + dt.timedelta(seconds=bucket_s)
    window = events.filter(pl.col("ts").is_between(lo, hi))
    kind = pl.col("kind").cast(pl.String)
    change_actions = ["config_reload", "config_change", "shutdown", "startup", "restart", "deployed", "deploy", "changed", "created"]
    announce = rules.get("change_announcement", {})
    human = _human(window, rules)
    announced = _rule_hits(human, {"kinds": announce.get("kinds", ["chat"]), "patterns": announce.get("patterns", [])}, rules["hypothetical"]["patterns"])
    rollback_words = [*rules["attempts"]["actions"]["rollback"], *rules["attempts"].get("record_actions", {}).get("rollback", [])]
    cands = pl.concat(
        [
            window.filter((kind == "change") & ~pl.col("action").fill_null("").is_in(["rolled_back", "rollback", "reverted"])),
            window.filter((kind == "db") & pl.col("action").fill_null("").is_in(change_actions)),
            announced.drop("_text"),
        ],
        how="vertical",
    ).filter(~any_match(first_line(pl.col("message")), rollback_words)).unique(["file", "line"], keep="first").sort("ts", "file", "line", nulls_last=True)
    # After impact starts, restarts, failovers and rollbacks are responses, not causes.
    responses = [p for group in ("actions", "record_actions") for ps in rules["attempts"].get(group, {}).values() for p in ps]
    cands = cands.filter((pl.col("ts") <= start) | ~any_match(first_line(pl.col("message")), responses))
    if cands.height == 0:
        return None
    failing_text = " ".join(
        [*failing["message"].drop_nulls().unique().head(300).to_list(), *failing["source"].drop_nulls().unique().to_list(),
         *failing["host"].drop_nulls().unique().to_list(), *failing["service"].drop_nulls().unique().to_list()]
    ).lower()
    scored = []
    for row in cands.iter_rows(named=True):
        words = _target_words(row)
        named = sorted(w for w in words if w in failing_text)
        strength = {"change": 3, "db": 2}.get(str(row["kind"]), 1)
        before = row["ts"] <= start
        scored.append((before, len(named) > 0, strength, row["ts"], row, named))
    # A change at or before impact beats one logged after it; then naming the failing component; then how
    # direct the record is (change log, database log, chat); then the latest.
    scored.sort(key=lambda s: (s[0], s[1], s[2], s[3]))
    scored = [s[1:] for s in scored]
    best = scored[-1]
    hit, _, at, row, named = best
    latest_hit = bool(max(scored, key=lambda s: s[2])[4])
    # Corroborating evidence: other candidates within 5 minutes that name the same component.
    near = [s[3] for s in scored if abs((s[2] - at).total_seconds()) <= 300 and s[3] is not row and (set(s[4]) & set(named) or not named)]
    evidence = (Evidence.from_row(row), *[Evidence.from_row(r) for r in sorted(near, key=lambda r: r["ts"])[:4]])
    latest = max(scored, key=lambda s: s[2])[3]
    if hit:
        rule = f"the change within {_minutes(settings.lookback)} before impact that names the failing component ({', '.join(named[:3])})"
        if latest is not row:
            why = "a less direct record" if latest_hit else "which names nothing that failed"
            rule += f"; preferred over the later {latest['kind']} event at {clock(latest['ts'])} ({(latest['message'] or '')[:60]!r}), {why}"
        confidence = "high" if str(row["kind"]) in ("change", "db") else "medium"
    else:
        rule = f"the last change within {_minutes(settings.lookback)} before impact (none names the failing component)"
        confidence = "low"
    return Milestone("trigger", at, confidence, rule, evidence)


def detection(events: pl.DataFrame, start: dt.datetime, end: dt.datetime, rules: dict[str, Any], bucket_s: int) -> Milestone | None:
    """The first alert, customer ticket or staff report of the symptom during impact."""
    lo = start - dt.timedelta(seconds=bucket_s)
    window = events.filter(pl.col("ts").is_between(lo, end))
    human = _human(window, rules)
    kind = pl.col("kind").cast(pl.String)
    action = pl.col("action").fill_null("")
    symptom = any_match(pl.col("message").fill_null(""), rules["symptom"]["patterns"])
    alerts = window.filter((kind == "alert") & action.is_in(["fired", "triggered", "trigger", "created", "opened"])).sort("ts", "file", "line", nulls_last=True)
    tickets = human.filter((kind == "ticket") & action.is_in(["created", "opened"]) & symptom).sort("ts", "file", "line", nulls_last=True)
    staff = human.filter(kind.is_in(["chat", "note"]) & symptom).sort("ts", "file", "line", nulls_last=True)
    found = []
    if alerts.height:
        found.append(("alert", alerts, "the first alert that fired during impact"))
    if tickets.height:
        found.append(("customer", tickets, "the first support ticket reporting the symptom during impact"))
    if staff.height:
        found.append(("staff", staff, "the first person in chat reporting the symptom during impact"))
    if not found:
        return None
    by, frame, rule = min(found, key=lambda f: f[1]["ts"][0])
    conf = "high" if by in ("alert", "customer") else "medium"
    return Milestone("detected", frame["ts"][0], conf, rule, _evidence(frame, 3), by=by)


def human_milestone(name: str, events: pl.DataFrame, after: dt.datetime, until: dt.datetime, rules: dict[str, Any]) -> Milestone | None:
    """The first event after ``after`` matching the text rules of a milestone."""
    rule = rules["milestones"][name]
    human = _human(events.filter(pl.col("ts").is_between(after, until)), rules)
    hits = _rule_hits(human, rule, rules["hypothetical"]["patterns"])
    if hits.height == 0:
        return None
    first = hits.row(0, named=True)
    via = "its lifecycle action" if first.get("action") in rule.get("actions", []) else "a text rule"
    return Milestone(name, first["ts"], "high", f"the first {first['kind']} event after {clock(after)} matching {name} by {via}", _evidence(hits, 3))


def classify_attempts(
    events: pl.DataFrame, start: dt.datetime, end: dt.datetime, rules: dict[str, Any], settings: Settings,
    trigger_at: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Mitigation actions taken during impact: [{at, action, rows}] merged when close and alike.

    Database startup lines that follow the trigger closely are the trigger's own
    restart finishing, not a response to it.
    """
    att = rules["attempts"]
    window = events.filter(pl.col("ts").is_between(start, end))
    kind = pl.col("kind").cast(pl.String)
    human = _human(window, rules).filter(kind.is_in(att.get("kinds", [])))
    talk = any_match(pl.col("_text"), rules["hypothetical"]["patterns"])
    action_name = pl.lit(None, dtype=pl.String)
    is_record = kind.is_in(att.get("record_kinds", []))
    for name in reversed(list(att["actions"])):
        record_forms = att.get("record_actions", {}).get(name, [])
        hit = any_match(pl.col("_text"), att["actions"][name]) | (is_record & any_match(pl.col("_text"), record_forms))
        action_name = pl.when(hit).then(pl.lit(name)).otherwise(action_name)
    for name, verbs in att.get("change_actions", {}).items():
        action_name = pl.when(pl.col("action").fill_null("").is_in(verbs)).then(pl.lit(name)).otherwise(action_name)
    said = human.with_columns(action_name.alias("_act")).filter(pl.col("_act").is_not_null() & ~talk)
    db = window.filter((kind == "db") & pl.col("action").fill_null("").is_in(["shutdown", "startup", "restart", "promoted", "config_reload"]))
    if trigger_at is not None:
        db = db.filter(~pl.col("ts").is_between(trigger_at, trigger_at + settings.attempt_merge))
    db = db.with_columns(
        pl.when(pl.col("message").str.contains("(?i)promot")).then(pl.lit("failover"))
        .when(pl.col("action") == "config_reload").then(pl.lit("rollback"))
        .otherwise(pl.lit("restart")).alias("_act"),
        first_line(pl.col("message")).alias("_text"),
    )
    rows = pl.concat([said, db.select(said.columns)], how="vertical").sort("ts", "file", "line", nulls_last=True)
    merged: list[dict[str, Any]] = []
    for row in rows.iter_rows(named=True):
        act = row["_act"]
        for m in merged:
            if (m["action"] == act or str(row["kind"]) == "db") and row["ts"] - m["last"] <= settings.attempt_merge:
                m["rows"].append(row)
                m["last"] = row["ts"]
                break
        else:
            merged.append({"at": row["ts"], "last": row["ts"], "action": act, "rows": [row]})
    strength = {"change": 0, "db": 1, "alert": 2, "ticket": 3, "chat": 4, "note": 4}
    for m in merged:
        best = min(m["rows"], key=lambda r: (strength.get(str(r["kind"]), 5), r["ts"]))
        m["at"] = best["ts"]
        m["rows"] = [best, *[r for r in m["rows"] if r is not best]]
    return merged


def recovery_point(
    core: pl.DataFrame, start: dt.datetime, data_end: dt.datetime, baseline_per_min: float, bucket_s: int, settings: Settings
) -> tuple[dt.datetime | None, float]:
    """The first bucket after which the signature error rate stays near baseline for the sustain period.

    Works on the burst's own bucket size, so a drill of seconds and an outage of
    hours are judged alike. Returns (that bucket's start, the near-baseline
    threshold in errors per minute); None when the rate never settles.
    """
    every = f"{bucket_s}s"
    per = core.filter(pl.col("ts") >= start).group_by(pl.col("ts").dt.truncate(every).alias("m")).agg(pl.len().alias("n"))
    first = start - dt.timedelta(seconds=(start.timestamp() % bucket_s))
    grid = pl.DataFrame({"m": pl.datetime_range(first, data_end, every, eager=True, time_zone="UTC")}).with_columns(pl.col("m").dt.truncate(every))
    counts = grid.unique("m", maintain_order=True).join(per, on="m", how="left").with_columns(pl.col("n").fill_null(0)).sort("m")
    per_min = 60.0 / bucket_s
    peak = float(counts["n"].max() or 0) * per_min
    near = max(2 * baseline_per_min, 0.05 * peak, 0.5)
    need = max(1, math.ceil(settings.sustain.total_seconds() / bucket_s))
    ok = [n * per_min <= near for n in counts["n"].to_list()]
    mins = counts["m"].to_list()
    runs = [0] * len(ok)
    run = 0
    for i in range(len(ok) - 1, -1, -1):
        run = run + 1 if ok[i] else 0
        runs[i] = run
    # Never the bucket impact started in: recovery follows at least one bucket of impact.
    for i in range(1, len(runs)):
        if runs[i] >= need or (runs[i] > 0 and i + runs[i] == len(runs) and runs[i] * bucket_s >= min(180, settings.sustain.total_seconds())):
            return mins[i], near
    return None, near


def pre_count(core: pl.DataFrame, at: dt.datetime, settings: Settings) -> int:
    """Signature errors in the look-back before a time."""
    return core.filter(pl.col("ts").is_between(at - settings.lookback, at, closed="left")).height


def lead_in(core: pl.DataFrame, trigger_at: dt.datetime | None, start: dt.datetime, settings: Settings) -> pl.DataFrame | None:
    """Signature errors between the trigger and the impact start found from the burst, when their
    rate there is well above their rate before the trigger; None when there is no such lead-in."""
    if trigger_at is None or trigger_at >= start:
        return None
    lead = core.filter(pl.col("ts").is_between(trigger_at, start, closed="left")).sort("ts", "file", "line")
    if lead.height < 2:
        return None
    lead_s = max((start - trigger_at).total_seconds(), 1.0)
    pre = pre_count(core, trigger_at, settings)
    pre_rate = (pre + 1) / settings.lookback.total_seconds()
    if lead.height / lead_s < settings.burst_factor * pre_rate:
        return None
    return lead


def extend_tail(core: pl.DataFrame, end: dt.datetime) -> dt.datetime:
    """Follow the burst's last errors past a bucket edge while they keep the burst's own pace.

    Recovery is found per bucket, so a bucket that holds only the last few
    seconds of the burst already counts as quiet; the errors in it that follow
    the previous one no later than five times the burst's mean spacing still
    belong to the incident.
    """
    times = core["ts"].filter(core["ts"] <= end).sort()
    if times.len() < 3:
        return end
    mean_gap = (times[-1] - times[0]).total_seconds() / (times.len() - 1)
    allow = dt.timedelta(seconds=max(5 * mean_gap, 1.0))
    times = core["ts"].sort()
    later = times.filter(times > end)
    for ts in later:
        if ts - end <= allow:
            end = ts
        else:
            break
    return end


def _rate(sig: pl.DataFrame, lo: dt.datetime, hi: dt.datetime) -> float:
    minutes = max((hi - lo).total_seconds() / 60, 1 / 60)
    n = sig.filter(pl.col("ts").is_between(lo, hi, closed="left")).height
    return n / minutes


def judge_attempts(raw: list[dict[str, Any]], sig: pl.DataFrame, recovery: dt.datetime | None, near: float, settings: Settings) -> list[Attempt]:
    """Mark an attempt effective when sustained recovery began within its effect window, before any later attempt."""
    out: list[Attempt] = []
    for i, a in enumerate(raw):
        t = a["at"]
        lo = t + settings.settle
        hi = lo + settings.effect_window
        nxt = raw[i + 1]["at"] if i + 1 < len(raw) else None
        before = _rate(sig, t - settings.effect_window, t)
        after = _rate(sig, lo, hi)
        effective = recovery is not None and t <= recovery + settings.settle and recovery <= hi and (nxt is None or recovery < nxt)
        when = f"sustained recovery began at {clock(recovery, '%H:%M')}" if recovery else "the errors never settled"
        rule = (
            f"signature errors {before:.1f}/min in the {_minutes(settings.effect_window)} before, {after:.1f}/min from "
            f"{_minutes(settings.settle)} after for {_minutes(hi - lo)}; {when} (near baseline: at most {near:.1f}/min "
            f"for {_minutes(settings.sustain)}), {'within' if effective else 'not within'} this attempt's window"
        )
        first = a["rows"][0]
        text = (first.get("message") or "").split("\n")[0][:200]
        out.append(Attempt(t, a["action"], text, effective, rule, tuple(Evidence.from_row(r) for r in a["rows"][:5]), round(before, 2), round(after, 2)))
    return out


def silent_periods(events: pl.DataFrame, start: dt.datetime, end: dt.datetime, rules: dict[str, Any], settings: Settings) -> list[tuple[dt.datetime, dt.datetime]]:
    """Stretches during impact longer than the threshold with no human action recorded."""
    human = _human(events.filter(pl.col("ts").is_between(start, end)), rules)
    times = [start, *human["ts"].sort().to_list(), end]
    return [(a, b) for a, b in zip(times, times[1:], strict=False) if b - a > settings.silence]


def build_entries(inc: Incident, events: pl.DataFrame, sig: pl.DataFrame, rules: dict[str, Any]) -> list[Entry]:
    """The lines a postmortem timeline keeps: milestones, attempts, changes, alerts, human actions,
    the first appearance of each bursting template, and ticket bursts summarised."""
    entries: list[Entry] = []
    seen: set[tuple[str | None, int | None]] = set()
    labels = {
        "trigger": "Trigger", "impact_start": "Impact starts", "detected": "Detected", "escalated": "Escalated",
        "acknowledged": "Acknowledged", "identified": "Cause identified", "mitigated": "Mitigated", "resolved": "Resolved",
    }
    for name in MILESTONES:
        m = inc.milestones.get(name)
        if m is None:
            continue
        ev = m.evidence[0] if m.evidence else None
        label = labels[name] + (f" ({m.by})" if name == "detected" and m.by else "")
        first = ev.message.splitlines()[0] if ev and ev.message else ""
        text = f"{label}: {first[:160]}{'…' if len(first) > 160 else ''}" if ev else label
        entries.append(Entry(m.at, text, name, "milestone", ev.source if ev else None, ev.file if ev else None, ev.line if ev else None))
        if ev:
            seen.add((ev.file, ev.line))
    for a in inc.attempts:
        ev = a.evidence[0] if a.evidence else None
        verdict = "errors fell to baseline after it" if a.effective else "errors continued after it"
        entries.append(Entry(a.at, f"Mitigation attempt ({a.action}): {a.text} — {verdict}", None, "attempt",
                             ev.source if ev else None, ev.file if ev else None, ev.line if ev else None, failed=not a.effective))
        for e in a.evidence:
            seen.add((e.file, e.line))
    lo, hi = inc.window
    window = events.filter(pl.col("ts").is_between(lo, hi))
    kind = pl.col("kind").cast(pl.String)
    human = _human(window, rules)
    ruled = [r for r in rules["milestones"].values()]
    pats = [p for r in ruled for p in r.get("patterns", [])] + [p for ps in rules["attempts"]["actions"].values() for p in ps]
    talk = any_match(pl.col("_text"), rules["hypothetical"]["patterns"])
    keep = human.filter(
        kind.is_in(["change", "alert"])
        | (kind.is_in(["chat", "note"]) & any_match(pl.col("_text"), pats) & ~talk)
        | (kind == "ticket") & pl.col("action").fill_null("").is_in(["escalated", "assigned", "solved", "closed", "reopened"])
    )
    for row in keep.iter_rows(named=True):
        if (row["file"], row["line"]) in seen:
            continue
        who = f"{row['actor']}: " if row.get("actor") else ""
        entries.append(Entry(row["ts"], f"{who}{row['_text'][:200]}", None, str(row["kind"]), row["source"], row["file"], row["line"]))
    tickets = human.filter((kind == "ticket") & pl.col("action").fill_null("").is_in(["created", "opened"])).sort("ts", "file", "line", nulls_last=True)
    if tickets.height > 1:
        first = tickets.row(0, named=True)
        rest = tickets.slice(1)
        entries.append(Entry(rest["ts"][0], f"{rest.height} more support tickets created until {clock(rest['ts'][-1], '%H:%M')}", None, "ticket",
                             first["source"], first["file"], int(rest["line"][0]) if rest["line"][0] is not None else None))
    if sig.height:
        # The first appearance of each bursting template in this incident (not its first ever, days before).
        since = inc.at("trigger") or inc.at("impact_start") or lo
        firsts = sig.filter(pl.col("ts") >= since).sort("ts", "file", "line", nulls_last=True).unique("template_id", keep="first", maintain_order=True)
        for row in firsts.iter_rows(named=True):
            if (row["file"], row["line"]) in seen:
                continue
            entries.append(Entry(row["ts"], f"First '{(row['template'] or '')[:120]}' in {row['source']}", None, "template",
                                 row["source"], row["file"], row["line"]))
    entries.sort(key=lambda e: (e.at, MILESTONES.index(e.milestone) if e.milestone else 99))
    return entries
