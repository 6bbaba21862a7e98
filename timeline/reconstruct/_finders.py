"""One finder per milestone, each a small function over a shared :class:`Context`.

The pipeline (see :func:`run`) is, in order:

``impact_start`` → ``mitigated`` (where the burst's errors stopped) → ``trigger``
(which may move impact back to the trigger when the errors rose there sparsely) →
``detected`` → ``escalated`` → ``acknowledged`` → ``identified`` → ``attempts`` →
``resolved``.

Each finder reads the context, returns a :class:`Milestone` (or ``None`` with the
reason in ``ctx.missing``) and leaves what later finders need on the context. Every
duration a finder uses comes from the incident (``ctx.scales``: how densely its
errors came, the longest pause they took, the records' time precision; the impact's
length), with the stated minimums in :class:`Settings`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from timeline.reconstruct import _human as hu
from timeline.reconstruct import _signals as sg
from timeline.reconstruct._model import Attempt, Evidence, Milestone
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


def _us(ts: dt.datetime) -> int:
    """Microseconds since the epoch, as polars stores a UTC time."""
    delta = ts.astimezone(dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def evidence(frame: pl.DataFrame, limit: int = 5) -> tuple[Evidence, ...]:
    return tuple(Evidence.from_row(r) for r in frame.head(limit).iter_rows(named=True))


@dataclass
class Context:
    """What every finder may read: the events, the burst and its signature, scales, settings, rules;
    and what earlier finders found."""

    events: pl.DataFrame
    rules: dict[str, Any]
    settings: sg.Settings
    burst: sg.Burst
    errors: pl.DataFrame
    sig_t: pl.DataFrame
    sig: pl.DataFrame
    core: pl.DataFrame
    scales: sg.Scales
    base_per_s: float
    people: pl.DataFrame = field(init=False)
    data_end: dt.datetime = field(init=False)
    found: dict[str, Milestone | None] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    start: dt.datetime | None = None
    recovery: sg.Recovery | None = None
    attempts: list[Attempt] = field(default_factory=list)
    trigger_rows: list[dict[str, Any]] = field(default_factory=list)
    incident_tickets: set[str] = field(default_factory=set)
    alert_refs: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.people = hu.human(self.events, self.rules)
        self.data_end = self.events["ts"].max()  # type: ignore[assignment]
        failing = self.sig.filter(pl.col("ts").is_between(self.burst.start, self.burst.end))
        if failing.height == 0:
            failing = self.sig
        self.failing_sources = set(failing["source"].drop_nulls().unique().to_list())
        words: set[str] = set()
        for text in [*failing["message"].drop_nulls().unique().head(300).to_list(), *self.failing_sources,
                     *failing["host"].drop_nulls().unique().to_list(), *failing["service"].drop_nulls().unique().to_list()]:
            words |= hu.tokens(text) | hu.tokens(text.replace("/", " "))
        self.failing_words = {w for w in words if w not in hu.GENERIC}

    # Scales that depend on what was found so far -------------------------------------------

    @property
    def end(self) -> dt.datetime:
        """Where impact ended (the last failure), or the end of the data."""
        return self.recovery.last if self.recovery else self.data_end

    @property
    def impact_s(self) -> float:
        return max((self.end - self.start).total_seconds(), self.scales.quiet) if self.start else self.scales.quiet

    @property
    def merge(self) -> dt.timedelta:
        """Records this close are one action (a chat line, the change log's row, the database's own line)."""
        if self.settings.attempt_merge is not None:
            return self.settings.attempt_merge
        return dt.timedelta(seconds=max(self.settings.min_merge.total_seconds(), self.scales.quiet))

    @property
    def said_lag(self) -> dt.timedelta:
        """How far a person's record of an action may be from the action."""
        return dt.timedelta(seconds=max(self.settings.min_said.total_seconds(), self.merge.total_seconds()))

    @property
    def tolerance(self) -> dt.timedelta:
        """How far a record may sit after what it records: its time precision, or a pause of the burst."""
        return dt.timedelta(seconds=max(self.scales.precision, self.scales.quiet))

    def effect(self, at: dt.datetime) -> dt.timedelta:
        """How long after an attempt a recovery may begin and still be its effect."""
        if self.settings.effect_window is not None:
            return self.settings.effect_window
        since = (at - self.start).total_seconds() if self.start else 0.0
        return dt.timedelta(seconds=max(self.settings.min_effect.total_seconds(), 2 * self.scales.quiet, 0.5 * since))

    @property
    def human_until(self) -> dt.datetime:
        """How far after impact the responders' milestones are looked for."""
        return self.end + dt.timedelta(seconds=max(3600.0, self.impact_s))

    @functools.cached_property
    def _healthy_us(self) -> np.ndarray:
        """Times (µs since the epoch, sorted) of the failing sources' lines without error."""
        rows = self.events.filter(
            pl.col("source").is_in(list(self.failing_sources))
            & pl.col("kind").cast(pl.String).is_in(sg.MACHINE_KINDS)
            & ~pl.col("level").cast(pl.String).is_in(sg.ERROR_LEVELS)
        )
        return np.sort(rows["ts"].dt.epoch("us").to_numpy())

    def healthy_between(self, lo: dt.datetime, hi: dt.datetime) -> int:
        """Lines the failing sources logged without error in (lo, hi): normal operation going on."""
        times = self._healthy_us
        a = int(np.searchsorted(times, _us(lo), side="right"))
        b = int(np.searchsorted(times, _us(hi), side="left"))
        return max(b - a, 0)

    def names_evidence(self, text: str, extra: set[str] | None = None) -> set[str]:
        """The identifiers in a text that the evidence also shows (failing errors, trigger records)."""
        words = hu.specific(hu.tokens(text))
        known = self.failing_words | (extra or set())
        for row in self.trigger_rows:
            known |= hu.specific(hu.tokens(row.get("message") or "")) | hu.target_words(row)
        return {w for w in words if w in known}


# --- impact ------------------------------------------------------------------------------------


def _by_latest_moment(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows ordered by the latest moment each could have happened (its time plus its source's precision)."""
    from timeline.reconstruct._model import time_precision

    return (
        time_precision(rows)
        .with_columns((pl.col("ts") + pl.duration(microseconds=pl.col("precision_us"))).alias("_latest"))
        .sort("_latest", "precision_us", "ts", "file", "line", nulls_last=True)
        .drop("_latest", "precision_us")
    )


def find_impact_start(ctx: Context) -> Milestone | None:
    """The first error of the burst: its bursting templates' lines chained back without a pause
    longer than any the burst itself took."""
    chain = sg.chain_start(ctx.sig, ctx.core, ctx.burst, ctx.scales.quiet)
    if chain.height == 0:
        ctx.missing["impact_start"] = "the burst holds no error event to start the impact from"
        return None
    # Knowing each source's precision: nginx's 14:14:37 may be any time in that second, so
    # PostgreSQL's 14:14:37.412 in it is the earliest the evidence can place.
    chain = _by_latest_moment(chain)
    first = chain.row(0, named=True)
    ctx.start = first["ts"]
    return Milestone(
        "impact_start", first["ts"], "high",
        f"the first event of the error burst: the earliest line of its bursting templates that runs into it without a pause "
        f"over {sg.minutes(ctx.scales.quiet)} ({ctx.scales.describe()})",
        evidence(chain, 3),
    )


def find_mitigated(ctx: Context) -> Milestone | None:
    """The last error of the burst's core before its rate stayed near baseline."""
    assert ctx.start is not None
    ctx.recovery = sg.recovery(ctx.core, ctx.start, ctx.data_end, ctx.base_per_s, ctx.scales, ctx.settings)
    rec = ctx.recovery
    if rec is None:
        tail = (ctx.data_end - ctx.core["ts"].max()).total_seconds() if ctx.core.height else 0.0  # type: ignore[operator]
        ctx.missing["mitigated"] = (
            f"errors continue to the end of the data: the evidence ends {sg.minutes(max(tail, 0.0))} after the last error of the burst, "
            f"shorter than the {sg.minutes(ctx.scales.quiet)} of quiet that would show recovery ({ctx.scales.describe()})"
        )
        return None
    row = ctx.core.filter(pl.col("ts") == rec.last).sort("file", "line")
    if rec.sustained:
        conf = "medium"
        how = f"followed by {sg.minutes(rec.wanted_s)} near baseline (at most {rec.near_per_min:.1f}/min; a quarter of the impact so far, and longer than any pause of the burst)"
    else:
        conf = "low"
        how = (f"followed by {sg.minutes(rec.observed_s)} without them until the evidence ends (short of the {sg.minutes(rec.wanted_s)} "
               f"that would show it sustained; longer than any pause of the burst, {sg.minutes(ctx.scales.max_gap)})")
    return Milestone("mitigated", rec.last, conf, f"the last error of the bursting templates, {how}", evidence(row, 1))


def lead_in(ctx: Context, trigger_at: dt.datetime) -> Milestone | None:
    """When the core errors rose already at the trigger, sparsely at first, impact began there."""
    assert ctx.start is not None
    if trigger_at >= ctx.start:
        return None
    lead = ctx.core.filter(pl.col("ts").is_between(trigger_at, ctx.start, closed="left")).sort("ts", "file", "line")
    if lead.height < 2:
        return None
    lookback = max(ctx.settings.min_lookback.total_seconds(), (ctx.start - trigger_at).total_seconds())
    pre = ctx.core.filter(pl.col("ts").is_between(trigger_at - dt.timedelta(seconds=lookback), trigger_at, closed="left")).height
    lead_rate = lead.height / max((ctx.start - trigger_at).total_seconds(), 1.0)
    if lead_rate < ctx.settings.burst_factor * (pre + 1) / lookback:
        return None
    ctx.start = lead["ts"][0]
    return Milestone(
        "impact_start", ctx.start, "high",
        "the first line of the bursting templates after the trigger: their rate rose at the change "
        f"({lead.height} lines before the burst, against {pre} in the {sg.minutes(lookback)} before it)",
        evidence(lead, 3),
    )


# --- trigger -----------------------------------------------------------------------------------


def _strength(ctx: Context, kind: str) -> int:
    return int(ctx.rules.get("strength", {}).get(kind, 9))


def _candidates(ctx: Context, lo: dt.datetime, hi: dt.datetime) -> pl.DataFrame:
    """Change records in [lo, hi]: change logs, the databases' own reloads/restarts/parameter lines,
    and people announcing a change."""
    window = ctx.events.filter(pl.col("ts").is_between(lo, hi))
    kind = pl.col("kind").cast(pl.String)
    att = ctx.rules["attempts"]
    rollback_actions = att.get("change_actions", {}).get("rollback", [])
    rollback_words = [*att["actions"]["rollback"], *att.get("record_actions", {}).get("rollback", [])]
    announce = ctx.rules.get("change_announcement", {})
    people = ctx.people.filter(pl.col("ts").is_between(lo, hi))
    announced = hu.rule_hits(people, {"kinds": announce.get("kinds", ["chat"]), "patterns": announce.get("patterns", [])})
    db_changes = ctx.rules.get("db_actions", {}).get("changes", [])
    cands = pl.concat(
        [
            window.filter((kind == "change") & ~pl.col("action").fill_null("").is_in(rollback_actions)),
            window.filter((kind == "db") & pl.col("action").fill_null("").is_in(db_changes)),
            announced.select(window.columns),
        ],
        how="vertical",
    )
    return (
        cands.filter(~any_match(first_line(pl.col("message")), rollback_words))
        .unique(["file", "line"], keep="first")
        .sort("ts", "file", "line", nulls_last=True)
    )


def _judge_candidate(ctx: Context, row: dict[str, Any], start: dt.datetime) -> dict[str, Any]:
    words = hu.target_words(row)
    named = sorted(w for w in words if w in ctx.failing_words)
    own = str(row["kind"]) == "db" and row.get("source") in ctx.failing_sources
    healthy = ctx.healthy_between(row["ts"], start)
    immediate = healthy == 0 or (start - row["ts"]).total_seconds() <= ctx.scales.quiet
    touches = bool(named) or own
    return {
        "row": row, "named": named, "words": words, "own": own, "touches": touches, "immediate": immediate, "healthy": healthy,
        # Errors right after a change speak louder than shared words: a database's own restart
        # whose log names nothing the application's errors say beats an earlier change that does,
        # after which normal operation went on.
        "score": 2 * touches + 3 * immediate, "strength": _strength(ctx, str(row["kind"])),
    }


def find_trigger(ctx: Context) -> Milestone | None:
    """The change that set the incident off, weighed by evidence.

    Candidates are change-log rows, the databases' own change lines and announced changes
    before impact. Each is weighed by what it touches (the failing component, or an
    identifier the errors show), by whether normal operation went on after it (lines of
    the failing sources without error between it and impact), and by closeness; the
    best is then replaced by the strongest record of the same change (the database's own
    line over a change-log row over a chat message). The look-back starts at twice the
    impact (at least ``min_lookback``) and widens fourfold while nothing in it touches
    the failing component.
    """
    assert ctx.start is not None
    start = ctx.start
    first = ctx.events["ts"].min()
    if ctx.settings.lookback is not None:
        spans = [ctx.settings.lookback]
    else:
        span = dt.timedelta(seconds=max(ctx.settings.min_lookback.total_seconds(), 2 * ctx.impact_s))
        spans = [span]
        while start - spans[-1] > first:  # type: ignore[operator]
            spans.append(spans[-1] * 4)
    judged: list[dict[str, Any]] = []
    used = spans[0]
    for span in spans:
        cands = _candidates(ctx, start - span, start)
        judged = [_judge_candidate(ctx, r, start) for r in cands.iter_rows(named=True)]
        used = span
        if any(j["touches"] for j in judged):
            break
    if not judged:
        ctx.missing["trigger"] = f"no change, deploy, database reload/restart or announced change in the {sg.minutes(used)} before impact"
        return None
    if not any(j["touches"] for j in judged):
        # Nothing names the failing component: only what was closest in the first look-back.
        judged = [j for j in judged if j["row"]["ts"] >= start - spans[0]] or judged
    best = max(judged, key=lambda j: (j["score"], j["row"]["ts"], -j["strength"]))
    # The same change in other records: what touches the same thing close to it. A person's
    # record (an announcement before, a summary after) may be further from the change than
    # the machine's records of it are from one another.
    human_best = str(best["row"]["kind"]) in ("chat", "note")
    reach = (ctx.said_lag if human_best else ctx.merge).total_seconds()
    cluster = [best]
    for j in sorted(judged, key=lambda j: j["row"]["ts"], reverse=True):
        if j is best or not (j["touches"] or not best["touches"]):
            continue
        if abs((j["row"]["ts"] - best["row"]["ts"]).total_seconds()) > reach:
            continue
        # ...and it is about the same thing: a common target, or one is a database's own record.
        if j["words"] & best["words"] or "db" in (str(j["row"]["kind"]), str(best["row"]["kind"])):
            cluster.append(j)
    # The strongest record of the change; of a sequence of them in one source (a restart's
    # shutdown ... startup), the first.
    strongest = min(c["strength"] for c in cluster)
    top = min((c for c in cluster if c["strength"] == strongest), key=lambda c: abs((c["row"]["ts"] - best["row"]["ts"]).total_seconds()))
    chosen = top
    same_source = sorted((c for c in cluster if c["strength"] == strongest and c["row"]["source"] == top["row"]["source"]
                          and c["row"]["ts"] <= top["row"]["ts"]), key=lambda c: c["row"]["ts"], reverse=True)
    for c in same_source:
        if (chosen["row"]["ts"] - c["row"]["ts"]).total_seconds() <= max(ctx.scales.quiet, ctx.scales.precision):
            chosen = c
    # Then one record from each other kind of source (the change log's row, the announcement), then the rest.
    rest = sorted((c for c in cluster if c is not chosen), key=lambda c: (c["strength"], c["row"]["ts"]))
    firsts: dict[str, dict[str, Any]] = {}
    for c in rest:
        firsts.setdefault(str(c["row"]["kind"]), c)
    others = sorted(firsts.values(), key=lambda c: c["strength"]) + [c for c in rest if c not in firsts.values()]
    ctx.trigger_rows = [c["row"] for c in [chosen, *others]]
    row = chosen["row"]
    kinds = {str(c["row"]["kind"]) for c in cluster}
    if best["touches"] and (best["immediate"] or len(kinds) > 1):
        conf = "high"
    elif best["touches"]:
        conf = "medium"
    else:
        conf = "low"
    why = []
    if chosen["named"] or best["named"]:
        why.append(f"it names {', '.join((chosen['named'] or best['named'])[:3])}, which the failing errors show")
    elif chosen["own"]:
        why.append(f"it is {row['source']}'s own record, and {row['source']} logs the failing errors")
    else:
        why.append("nothing before impact names the failing component; it was the closest change")
    if best["immediate"]:
        why.append("errors began right after it")
    else:
        why.append(f"normal operation went on for {sg.minutes((start - best['row']['ts']).total_seconds())} after it "
                   f"({best['healthy']} lines without error): a latent effect")
    if len(cluster) > 1:
        why.append(f"the same change is also recorded in {', '.join(sorted({str(c['row']['source']) for c in others}))}; "
                   f"the {row['kind']} record is the strongest")
    passed = [j for j in sorted(judged, key=lambda j: -j["row"]["ts"].timestamp()) if j not in cluster][:3]
    if passed:
        notes = []
        for j in passed:
            r = j["row"]
            reason = "names nothing the errors show" if not j["touches"] else f"normal operation went on after it ({j['healthy']} lines)"
            notes.append(f"{clock(r['ts'])} {str(r['message'] or '').splitlines()[0][:60]!r} ({reason})")
        why.append("passed over: " + "; ".join(notes))
    rule = f"weighed {len(judged)} change records in the {sg.minutes(used)} before impact: " + "; ".join(why)
    rows = pl.DataFrame([c["row"] for c in [chosen, *others]], schema=ctx.events.schema)
    return Milestone("trigger", row["ts"], conf, rule, evidence(rows, 5))


# --- people ------------------------------------------------------------------------------------


def _first_with_corroboration(ctx: Context, hits: pl.DataFrame, limit: int = 3) -> tuple[Evidence, ...]:
    """The first hit, then other hits within the merge distance of it (the record at the milestone's time first)."""
    if hits.height == 0:
        return ()
    t0 = hits["ts"][0]
    near = hits.filter(pl.col("ts") <= t0 + ctx.merge)
    return evidence(near, limit)


def find_detected(ctx: Context) -> Milestone | None:
    """The first alert, customer ticket or staff report of the symptom during impact; who it was."""
    assert ctx.start is not None
    lo, hi = ctx.start - dt.timedelta(seconds=ctx.scales.precision), ctx.end + ctx.tolerance
    kind = pl.col("kind").cast(pl.String)
    action = pl.col("action").fill_null("")
    window = ctx.events.filter(pl.col("ts").is_between(lo, hi))
    alerts = window.filter((kind == "alert") & action.is_in(["fired", "triggered", "trigger", "created", "opened"])).sort("ts", "file", "line", nulls_last=True)
    ctx.alert_refs = set(alerts["ref"].drop_nulls().to_list())
    people = ctx.people.filter(pl.col("ts").is_between(lo - dt.timedelta(minutes=1), hi))
    symptom = any_match(pl.col("_text"), ctx.rules["symptom"]["patterns"])
    tickets = people.filter((kind == "ticket") & action.is_in(["created", "opened"]) & symptom)
    # A ticket export keeps minutes: a ticket stamped in impact's first minute counts.
    tickets = tickets.filter(pl.col("ts") >= ctx.start.replace(second=0, microsecond=0))
    ctx.incident_tickets = set(tickets["ref"].drop_nulls().to_list())
    staff = people.filter(kind.is_in(["chat", "note"]) & symptom & ~pl.col("_hyp") & (pl.col("ts") >= lo))
    found = []
    if alerts.height:
        found.append(("alert", alerts, "the first alert that fired during impact"))
    if tickets.height:
        found.append(("customer", tickets, "the first support ticket reporting the symptom during impact"))
    if staff.height:
        found.append(("staff", staff, "the first person in chat reporting the symptom during impact"))
    if not found:
        ctx.missing["detected"] = "no alert fired, no support ticket and no chat report of the symptom during impact"
        return None
    # Records of different precision are compared at the middle of what their stamps allow
    # (a ticket stamped 14:30 was created between 14:30:00 and 14:31:00).
    def when(frame: pl.DataFrame) -> dt.datetime:
        first = frame.head(1)
        return first["ts"][0] + dt.timedelta(seconds=sg.record_precision(frame["ts"]) / 2)

    by, frame, rule = min(found, key=lambda f: when(f[1]))
    precision = sg.record_precision(frame["ts"])
    if precision > 1:
        # A record known to the second inside the coarse record's interval came first as far as
        # anyone can tell: prefer what is known.
        inside = [f for f in found if f[1] is not frame and sg.record_precision(f[1]["ts"]) < precision
                  and frame["ts"][0] <= f[1]["ts"][0] < frame["ts"][0] + dt.timedelta(seconds=precision)]
        if inside:
            coarse_by, coarse_at = by, frame["ts"][0]
            by, frame, rule = min(inside, key=lambda f: f[1]["ts"][0])
            rule += (f" (the {coarse_by} record stamped {clock(coarse_at, '%H:%M')} may be as early, "
                     f"but it keeps only {sg.minutes(precision)}: the record known to the second is taken)")
    others = [f"{b} at {clock(fr['ts'][0])}" for b, fr, _ in found if b != by]
    if others:
        rule += f" (then {', '.join(others)})"
    # An alert or a customer's ticket is direct evidence; a person's chat report is, when another
    # kind of record says the same soon after.
    at0 = frame["ts"][0]
    agree = any(f[1]["ts"][0] - at0 <= ctx.said_lag for f in found if f[1] is not frame)
    conf = "high" if by in ("alert", "customer") or agree else "medium"
    return Milestone("detected", frame["ts"][0], conf, rule, evidence(frame, 3), by=by)


def _anchor(ctx: Context) -> dt.datetime:
    det = ctx.found.get("detected")
    assert ctx.start is not None
    return (det.at if det else ctx.start) - ctx.tolerance


def find_escalated(ctx: Context) -> Milestone | None:
    """Handed to the people who can fix it: a page, an escalation of an incident ticket, a chat line
    escalating, paging or pulling in a person or team."""
    rule = ctx.rules["milestones"]["escalated"]
    people = ctx.people.filter(pl.col("ts").is_between(_anchor(ctx), ctx.human_until))
    hits = hu.rule_hits(people, rule)
    # Asking a person or team by name to step in is an escalation, even as a question.
    mentions = pl.col("message").fill_null("").str.contains(hu.MENTION)
    asked = people.filter(
        pl.col("kind").cast(pl.String).is_in(["chat", "note"]) & mentions
        & (any_match(pl.col("_text"), rule.get("requests", [])) | (any_match(pl.col("_text"), rule.get("patterns", [])) & ~pl.col("_hyp")))
    )
    hits = pl.concat([hits, asked.select(hits.columns)]).unique(["file", "line"]).sort("ts", "file", "line", nulls_last=True)
    kind = pl.col("kind").cast(pl.String)
    # A ticket's escalation counts for the incident's own tickets only.
    if ctx.incident_tickets:
        hits = hits.filter((kind != "ticket") | pl.col("ref").is_in(list(ctx.incident_tickets)))
    else:
        hits = hits.filter(kind != "ticket")
    if hits.height == 0:
        ctx.missing["escalated"] = "no page, ticket escalation or chat line escalating after detection (timeline/rules/human.toml: milestones.escalated)"
        return None
    first = hits.row(0, named=True)
    via = "its lifecycle action" if first.get("action") in rule.get("actions", []) else "what it says"
    who = hu.mentions(first.get("message") or "")
    extra = f", naming {', '.join(who[:2])}" if who else ""
    conf = "high" if via == "its lifecycle action" or who else "medium"
    return Milestone("escalated", first["ts"], conf, f"the first {first['kind']} record escalating after detection, by {via}{extra}",
                     _first_with_corroboration(ctx, hits))


def find_acknowledged(ctx: Context) -> Milestone | None:
    """A responder started working: a page acknowledged, an acknowledgement in chat, or (by structure)
    the first reply in the escalation's thread, or the first statement by a person the escalation named."""
    rule = ctx.rules["milestones"]["acknowledged"]
    people = ctx.people.filter(pl.col("ts").is_between(_anchor(ctx), ctx.human_until))
    hits = hu.rule_hits(people, rule)
    found: list[tuple[dt.datetime, pl.DataFrame, str]] = []
    if hits.height:
        first = hits.row(0, named=True)
        via = "its lifecycle action" if first.get("action") in rule.get("actions", []) else "what it says"
        found.append((first["ts"], hits, f"the first {first['kind']} record acknowledging after detection, by {via}"))
    esc = ctx.found.get("escalated")
    if esc is not None and esc.evidence:
        e0 = esc.evidence[0]
        row = ctx.people.filter((pl.col("file") == e0.file) & (pl.col("line") == e0.line))
        if row.height:
            r = row.row(0, named=True)
            named = {n.lower() for n in hu.mentions(r.get("message") or "")}
            later = ctx.people.filter((pl.col("ts") > r["ts"]) & (pl.col("ts") <= ctx.human_until) & ~pl.col("_talk")
                                      & (pl.col("actor").fill_null("") != (r.get("actor") or "")))
            thread_id = r.get("_msg_ts")
            replies = later.filter(pl.col("_thread") == thread_id) if thread_id else later.head(0)
            if replies.height:
                found.append((replies["ts"][0], replies, "the first reply by another person in the escalation's thread"))
            if named:
                by_named = later.filter(pl.col("actor").fill_null("").str.to_lowercase().is_in(list(named))
                                        | pl.col("actor").fill_null("").str.to_lowercase().str.split(" ").list.first().is_in(list(named)))
                if by_named.height:
                    found.append((by_named["ts"][0], by_named, "the first statement by the person the escalation named"))
    if not found:
        ctx.missing["acknowledged"] = "no acknowledgement after detection: no page ack, no 'investigating'/'on it' line, no reply to the escalation"
        return None
    at, frame, rule_text = min(found, key=lambda f: f[0])
    agree = sum(1 for t, _, _ in found if abs((t - at).total_seconds()) <= ctx.merge.total_seconds())
    conf = "high" if agree > 1 or "action" in rule_text else "medium"
    return Milestone("acknowledged", at, conf, rule_text + (" (structure and words agree)" if agree > 1 else ""),
                     _first_with_corroboration(ctx, frame.filter(pl.col("ts") >= at)))


def find_identified(ctx: Context) -> Milestone | None:
    """A message naming the cause that connects to the evidence: it names the trigger's component,
    parameter, file or change id, or what the failing errors say."""
    assert ctx.start is not None
    rule = ctx.rules["milestones"]["identified"]
    people = ctx.people.filter(pl.col("ts").is_between(ctx.start, ctx.human_until))
    hits = hu.rule_hits(people, rule)
    if hits.height == 0:
        ctx.missing["identified"] = "no message after impact named a cause (timeline/rules/human.toml: milestones.identified)"
        return None
    for row in hits.iter_rows(named=True):
        if row.get("action") in rule.get("actions", []):
            return Milestone("identified", row["ts"], "high", f"the first {row['kind']} record marking the cause identified",
                             evidence(hits.filter(pl.col("ts") >= row["ts"]), 3))
        named = ctx.names_evidence(row.get("message") or "")
        if named:
            return Milestone(
                "identified", row["ts"], "high" if len(named) > 1 else "medium",
                f"the first {row['kind']} message after impact naming a cause that the evidence shows ({', '.join(sorted(named)[:3])})",
                evidence(hits.filter(pl.col("ts") >= row["ts"]), 1),
            )
    ctx.missing["identified"] = (f"{hits.height} message(s) after impact named a cause, but none named anything the evidence shows "
                                 "(the trigger's component, parameter or change, or the failing errors)")
    return None


def find_resolved(ctx: Context) -> Milestone | None:
    """Declared over after mitigation: a person's declaration, else the incident's alert resolving,
    else its tickets solved."""
    if ctx.recovery is None:
        ctx.missing["resolved"] = "impact never ended in the data"
        return None
    rule = ctx.rules["milestones"]["resolved"]
    lo = ctx.recovery.last
    people = ctx.people.filter(pl.col("ts").is_between(lo, ctx.human_until + dt.timedelta(seconds=ctx.impact_s)))
    hits = hu.rule_hits(people, rule)
    kind = pl.col("kind").cast(pl.String)
    said = hits.filter(kind.is_in(["chat", "note"]) & (pl.col("action").fill_null("") != "solved"))
    alerts = ctx.events.filter((kind == "alert") & (pl.col("ts") >= lo) & pl.col("action").fill_null("").is_in(rule.get("actions", []))
                               & (pl.col("ref").is_in(list(ctx.alert_refs)) if ctx.alert_refs else pl.lit(False))).sort("ts")
    tickets = hits.filter((kind == "ticket") & (pl.col("ref").is_in(list(ctx.incident_tickets)) if ctx.incident_tickets else pl.lit(False)))
    seen = hu.rule_hits(people, {"kinds": ["chat", "note"], "patterns": rule.get("observations", [])})
    found = [(f, r) for f, r in ((said, "a responder declaring it resolved"), (alerts, "the incident's alert resolving"),
                                 (tickets, "the incident's tickets solved"), (seen, "a responder reporting recovery")) if f.height]
    if not found:
        ctx.missing["resolved"] = (f"no resolution was declared after the errors stopped at {clock(lo)} "
                                   "(no chat or note saying so, no alert of the incident resolving, no incident ticket solved)")
        return None
    frame, how = found[0]
    at = frame["ts"][0]
    agree = [r for f, r in found[1:] if abs((f["ts"][0] - at).total_seconds()) <= max(ctx.merge.total_seconds(), 60.0)]
    conf = "high" if agree or frame is said else "medium"
    text = f"the first record after mitigation of {how}" + (f"; {', '.join(agree)} agrees" if agree else "")
    ev = evidence(frame, 1) + tuple(e for f, _ in found[1:] for e in evidence(f, 1))
    return Milestone("resolved", at, conf, text, ev[:3])


# --- attempts ----------------------------------------------------------------------------------


def collect_attempts(ctx: Context) -> list[dict[str, Any]]:
    """Actions taken during impact: [{at, action, rows}], the records of one action merged.

    Only what follows the start of impact is a response; a database's own lines that
    complete the trigger (the startup after its shutdown) are part of the trigger.
    """
    assert ctx.start is not None
    att = ctx.rules["attempts"]
    # What is done after the errors stopped (a failback, the servers stopped at the end) is not mitigation;
    # a record written a little after the action it records still is.
    hi = ctx.end + (ctx.merge if ctx.recovery else dt.timedelta(0))
    kind = pl.col("kind").cast(pl.String)
    people = ctx.people.filter(pl.col("ts").is_between(ctx.start, hi) & kind.is_in(att.get("kinds", [])))
    action_name = pl.lit(None, dtype=pl.String)
    is_record = kind.is_in(att.get("record_kinds", []))
    for name in reversed(list(att["actions"])):
        record_forms = att.get("record_actions", {}).get(name, [])
        hit = any_match(pl.col("_text"), att["actions"][name]) | (is_record & any_match(pl.col("_text"), record_forms))
        action_name = pl.when(hit).then(pl.lit(name)).otherwise(action_name)
    for name, verbs in att.get("change_actions", {}).items():
        action_name = pl.when(pl.col("action").fill_null("").is_in(verbs)).then(pl.lit(name)).otherwise(action_name)
    said = people.with_columns(action_name.alias("_act")).filter(pl.col("_act").is_not_null() & ~pl.col("_talk"))
    db_map = ctx.rules.get("db_actions", {}).get("attempt", {})
    db = ctx.events.filter((kind == "db") & pl.col("ts").is_between(ctx.start, hi) & pl.col("action").fill_null("").is_in(list(db_map)))
    trig_db = [r for r in ctx.trigger_rows if str(r.get("kind")) == "db"]
    quiet = dt.timedelta(seconds=max(ctx.scales.quiet, ctx.scales.precision))
    for src in {r["source"] for r in trig_db}:
        # The trigger's own sequence finishing (the startup after its shutdown): part of the trigger.
        last = max(r["ts"] for r in trig_db if r["source"] == src)
        for ts in db.filter(pl.col("source") == src)["ts"].sort():
            if ts - last > quiet:
                break
            last = ts
        db = db.filter(~((pl.col("source") == src) & (pl.col("ts") <= last)))
    db = db.with_columns(
        pl.col("action").replace_strict(db_map, default=None).alias("_act"),
        first_line(pl.col("message")).alias("_text"),
    )
    rows = pl.concat([said.select([*ctx.events.columns, "_act", "_text"]), db.select([*ctx.events.columns, "_act", "_text"])],
                     how="vertical").sort("ts", "file", "line", nulls_last=True)
    same = ctx.said_lag
    merged: list[dict[str, Any]] = []

    def one_action(m: dict[str, Any], row: dict[str, Any]) -> bool:
        gap = row["ts"] - m["last"]
        k = str(row["kind"])
        if gap <= quiet and (k == "db" or m["action"] == row["_act"]):
            return True  # records of the same moment: the database's own lines of what was just done
        if m["action"] != row["_act"] or gap > same:
            return False
        # A change log lists distinct actions, and a database logs each restart or reload once:
        # two such records are two actions; what people write joins the action it is about.
        return not (k in ("change", "db") and k in m["kinds"])

    for row in rows.iter_rows(named=True):
        for m in merged:
            if one_action(m, row):
                m["rows"].append(row)
                m["last"] = row["ts"]
                m["kinds"].add(str(row["kind"]))
                break
        else:
            merged.append({"at": row["ts"], "last": row["ts"], "action": row["_act"], "rows": [row], "kinds": {str(row["kind"])}})
    for m in merged:
        # The attempt is dated by its strongest record (the database's own line, then the change log).
        best = min(m["rows"], key=lambda r: (_strength(ctx, str(r["kind"])), r["ts"]))
        m["at"] = best["ts"]
        m["rows"] = [best, *[r for r in m["rows"] if r is not best]]
    merged.sort(key=lambda m: m["at"])
    return merged


def judge_attempts(ctx: Context, raw: list[dict[str, Any]]) -> list[Attempt]:
    """An attempt is effective when the errors stopped after it (within its records' precision or a
    pause of the burst) and before the next attempt, soon enough to be its effect."""
    times = ctx.core["ts"]
    rec = ctx.recovery
    tol = ctx.tolerance
    # The attempt credited with recovery: the last one that came no later than the recovery allows.
    credited = None
    if rec is not None:
        before = [i for i, a in enumerate(raw) if a["at"] - tol <= rec.last]
        if before:
            i = before[-1]
            earliest = min(r["ts"] for r in raw[i]["rows"])
            if rec.last - earliest <= ctx.effect(earliest) or rec.last <= raw[i]["at"]:
                credited = i
    out: list[Attempt] = []
    for i, a in enumerate(raw):
        t = a["at"]
        w = ctx.effect(t)
        settle = tol
        before = sg.rate_per_min(times, t - w, t)
        after_hi = min(t + settle + w, ctx.data_end)
        after = sg.rate_per_min(times, t + settle, after_hi) if after_hi > t + settle else 0.0
        effective = credited == i
        if rec is None:
            verdict = "the errors never stopped in the data"
        elif effective:
            verdict = f"the errors stopped at {clock(rec.last)}, after it and before any other attempt"
        elif rec.last < t - tol:
            verdict = f"the errors had already stopped at {clock(rec.last)}"
        else:
            verdict = f"the errors went on until {clock(rec.last)}"
        rule = (f"signature errors {before:.1f}/min in the {sg.minutes(w)} before, {after:.1f}/min from {sg.minutes(settle)} after "
                f"for {sg.minutes(max((after_hi - t - settle).total_seconds(), 0.0))}; {verdict}")
        first = a["rows"][0]
        text = (first.get("message") or "").split("\n")[0][:200]
        out.append(Attempt(t, a["action"], text, effective, rule, tuple(Evidence.from_row(r) for r in a["rows"][:5]),
                           round(before, 2), round(after, 2)))
    return out


def silent_periods(ctx: Context) -> list[tuple[dt.datetime, dt.datetime]]:
    """Stretches during impact with no human action recorded, longer than 15% of the impact
    (at least ``min_silence``, and longer than a pause of the burst)."""
    assert ctx.start is not None
    threshold = ctx.settings.silence or dt.timedelta(
        seconds=max(ctx.settings.min_silence.total_seconds(), 2 * ctx.scales.quiet, 0.15 * ctx.impact_s)
    )
    times = [ctx.start, *ctx.people.filter(pl.col("ts").is_between(ctx.start, ctx.end))["ts"].sort().to_list(), ctx.end]
    return [(a, b) for a, b in zip(times, times[1:], strict=False) if b - a > threshold]


# --- the pipeline ------------------------------------------------------------------------------


def build_context(
    events: pl.DataFrame,
    errors: pl.DataFrame,
    burst: sg.Burst,
    rules: dict[str, Any],
    settings: sg.Settings,
    window: tuple[dt.datetime, dt.datetime] | None = None,
) -> Context:
    """The shared context for one burst: its signature (the templates that burst against their rate
    around it), the signature's errors and core, and the incident's time scales.

    ``errors`` are the machine errors with templates (:func:`_signals.with_templates`).
    """
    from timeline._errors import ReconstructError

    # Rates inside the burst are compared with its neighbourhood (the burst's length or the
    # minimum look-back on each side, whichever is longer), so data far away changes nothing
    # and the quiet hours around an incident count even when its errors are the only ones.
    margin = max(settings.min_lookback, burst.end - burst.start)
    lo_n = max(burst.start - margin, events["ts"].min())  # type: ignore[type-var]
    hi_n = min(burst.end + margin, events["ts"].max())  # type: ignore[type-var]
    near = errors.filter(pl.col("ts").is_between(lo_n, hi_n))
    sig_t = sg.signature(near, burst, settings, span=(lo_n, hi_n))
    if sig_t.height == 0:
        # Nothing stands out by template: every error inside the burst is the signature.
        sig = errors.filter(pl.col("ts").is_between(burst.start, burst.end))
        core = sig
    else:
        sig = errors.join(sig_t.select("template_id"), on="template_id", how="semi")
        core = errors.join(sig_t.filter(pl.col("core")).select("template_id"), on="template_id", how="semi")
    if window is not None:
        sig = sig.filter(pl.col("ts").is_between(*window))
        core = core.filter(pl.col("ts").is_between(*window))
    if core.height == 0:
        msg = "the burst holds no error event to start the impact from"
        raise ReconstructError(msg)
    sc = sg.scales(core, burst, settings)
    before = core.filter(pl.col("ts") < burst.start - margin / 2)
    base_span = max((burst.start - margin / 2 - lo_n).total_seconds(), 1.0)
    return Context(events, rules, settings, burst, errors, sig_t, sig, core, sc, before.height / base_span)


def run(ctx: Context) -> dict[str, Milestone | None]:
    """Every finder, in order; returns the milestones (``ctx.missing`` says why one is None)."""
    from timeline._errors import ReconstructError
    from timeline.reconstruct._model import MILESTONES

    found = ctx.found
    for name in MILESTONES:
        found[name] = None
    found["impact_start"] = find_impact_start(ctx)
    if found["impact_start"] is None:
        raise ReconstructError(ctx.missing["impact_start"])
    found["mitigated"] = find_mitigated(ctx)
    found["trigger"] = find_trigger(ctx)
    if found["trigger"] is not None:
        moved = lead_in(ctx, found["trigger"].at)
        if moved is not None:
            found["impact_start"] = moved
            found["mitigated"] = find_mitigated(ctx)
    found["detected"] = find_detected(ctx)
    for name, finder in (("escalated", find_escalated), ("acknowledged", find_acknowledged), ("identified", find_identified)):
        found[name] = finder(ctx)
    ctx.attempts = judge_attempts(ctx, collect_attempts(ctx))
    effective = next((a for a in ctx.attempts if a.effective), None)
    mit = found["mitigated"]
    if mit is not None and effective is not None:
        found["mitigated"] = Milestone(
            "mitigated", mit.at, mit.confidence if mit.confidence == "low" else "high",
            mit.rule + f"; {effective.action} at {clock(effective.at)} brought the rate down",
            mit.evidence[:1] + effective.evidence[:1],
        )
    found["resolved"] = find_resolved(ctx)
    return found
