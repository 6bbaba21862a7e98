"""The postmortem "Timeline of Events" section and a full postmortem draft, from an Incident.

Both are built as blocks (:mod:`timeline.report._doc`) so that the same content
is written as Markdown (GitHub, Confluence, JupyterLab) and as escaped HTML.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import polars as pl

from timeline.reconstruct._model import GAPS, MILESTONES
from timeline.report import _doc as d
from timeline.report._common import duration, impact_span, label, resolve_tz, short_paths, to_local, utc
from timeline.report._impact import measure, suggest_alert

if TYPE_CHECKING:
    from timeline.reconstruct._model import Attempt, Entry, Incident, Milestone

CELL_LIMIT = 160
"""Longest event text kept in a table cell (characters)."""

KEY_INTERVALS: tuple[tuple[str, str], ...] = (
    ("detect", "time_to_detect"),
    ("escalate", "time_to_escalate"),
    ("acknowledge", "time_to_acknowledge"),
    ("identify", "time_to_identify"),
    ("mitigate", "time_to_mitigate"),
    ("resolve", "time_to_resolve"),
)

_MACHINE_KINDS = ("log", "db")


@dataclass
class Row:
    """One line of the timeline table before it is written out."""

    at: dt.datetime
    rank: int  # tie-break at equal times
    runs: d.Inlines
    where: str = ""
    kind: str = "event"  # milestone | attempt | failed | signal | gap | event
    milestone: str | None = None
    blank_time: bool = False
    ticket: tuple[str, str, str] | None = None  # (ref, who, body) of a ticket update, for collapsing repeats


def _where(file: str | None, line: int | None, source: str | None, paths: dict[str, str]) -> str:
    if file:
        name = paths.get(file, file)
        return f"{name}:{line}" if line is not None else name
    return source or ""


_STEMS: dict[str, str] = {
    "trigger": "trigger", "impact_start": "impact", "detected": "detect", "escalated": "escalat",
    "acknowledged": "acknowledg", "identified": "identif", "mitigated": "mitigat", "resolved": "resolv",
}


def _strip_label(name: str, text: str) -> str:
    """Drop a leading 'Detected (customer):' that repeats the bold label."""
    head, sep, rest = text.partition(":")
    stem = _STEMS.get(name)
    if sep and stem and len(head) <= 40 and stem in head.lower() and rest.strip():
        return rest.strip()
    return text


def _overridden(m: Milestone) -> bool:
    return m.inferred is not None or m.rule.startswith("set by a person")


def _milestone_row(name: str, m: Milestone, incident: Incident, paths: dict[str, str], zone: ZoneInfo) -> Row:
    entry = next((e for e in incident.entries if e.milestone == name), None)
    ev = m.evidence[0] if m.evidence else None
    if entry is not None and not _overridden(m):
        text, where = entry.text, _where(entry.file, entry.line, entry.source, paths)
    elif ev is not None:
        text, where = ev.message, _where(ev.file, ev.line, ev.source, paths)
    else:
        text, where = (entry.text if entry else m.rule), (_where(entry.file, entry.line, entry.source, paths) if entry else "")
    text = _strip_label(name, text)
    if ev is not None and len(ev.message) > len(text) and ev.message.startswith(text.rstrip()):
        text = ev.message  # the entry was cut short: cut it here, with an ellipsis
    runs: d.Inlines = [d.b(label(name, m.by)), d.t(" " + d.one_line(text, CELL_LIMIT))]
    if _overridden(m):
        was = f"inferred {to_local(m.inferred.at, zone):%H:%M}" if m.inferred is not None else "not inferred"
        runs.append(d.i(f" (corrected by hand; {was}" + (f": {d.one_line(m.note, 80)}" if m.note else "") + ")"))
    elif m.confidence != "high":
        runs.append(d.i(f" ({m.confidence} confidence: {d.one_line(m.rule, 80)})"))
    return Row(utc(m.at), MILESTONES.index(name) if name in MILESTONES else 20, runs, where, "milestone", name)


def _attempt_row(a: Attempt, paths: dict[str, str]) -> Row:
    ev = a.evidence[0] if a.evidence else None
    where = _where(ev.file, ev.line, ev.source, paths) if ev else ""
    rates = ""
    if a.error_rate_before is not None and a.error_rate_after is not None:
        rates = f" ({a.error_rate_before:,.0f} → {a.error_rate_after:,.0f} errors/min)"
    action = a.action.replace("_", " ")
    text = d.one_line(a.text, CELL_LIMIT)
    if a.effective is False:
        runs = [d.t("❌ "), d.b(f"MITIGATION ATTEMPT ({action})"), d.t(f" {text} — "), d.i("did not stop errors"), d.t(rates)]
        kind = "failed"
    elif a.effective:
        runs = [d.t("✅ "), d.b(f"MITIGATION ({action})"), d.t(f" {text} — "), d.i("errors fell to baseline"), d.t(rates)]
        kind = "attempt"
    else:
        runs = [d.b(f"MITIGATION ATTEMPT ({action})"), d.t(f" {text} — "), d.i("effect unknown"), d.t(rates)]
        kind = "attempt"
    return Row(utc(a.at), 30, runs, where, kind)


def rows(incident: Incident, zone: ZoneInfo) -> list[Row]:
    """Every line of the timeline table, in time order."""
    files: list[str | None] = [e.file for e in incident.entries]
    for m in incident.milestones.values():
        if m is not None:
            files.extend(e.file for e in m.evidence)
    for a in incident.attempts:
        files.extend(e.file for e in a.evidence)
    if incident.signal is not None:
        files.extend(e.file for e in incident.signal.evidence)
    paths = short_paths(files)

    out: list[Row] = []
    present = {name for name, m in incident.milestones.items() if m is not None}
    for name in [*MILESTONES, *(k for k in incident.milestones if k not in MILESTONES)]:
        m = incident.milestones.get(name)
        if m is not None:
            out.append(_milestone_row(name, m, incident, paths, zone))
    for a in incident.attempts:
        out.append(_attempt_row(a, paths))
    records = _records(incident, [(e.file, e.line) for e in incident.entries if e.kind == "ticket"])
    # The first line of each failing template: one row per source, naming the templates that followed in it.
    # (Lines before impact start, such as a restart's blip, stay rows of their own.)
    impact_at = incident.at("impact_start")
    firsts: dict[tuple[str, bool], list[tuple[Entry, str]]] = {}
    for e in sorted(incident.entries, key=lambda x: utc(x.at)):
        m = _FIRST.match(e.text) if e.kind == "template" else None
        if m is not None:
            # (a line stamped to the whole second in impact's first second may be from after its start)
            during = impact_at is None or utc(e.at) + dt.timedelta(seconds=1) > utc(impact_at)
            firsts.setdefault((m.group(2), during), []).append((e, m.group(1)))
    merged = {id(group[0][0]): group for group in firsts.values() if len(group) > 1}
    dropped = {id(e) for group in merged.values() for e, _ in group[1:]}
    for e in incident.entries:
        if e.milestone in present:
            continue  # written from the milestone itself (which follows overrides)
        if e.kind == "attempt" and incident.attempts:
            continue  # written from the attempt, which knows whether it worked
        if id(e) in dropped:
            continue
        if id(e) in merged:
            group = merged[id(e)]
            names = ", ".join(f"'{t}'" for _, t in group[1:4]) + (f" and {len(group) - 4} more" if len(group) > 4 else "")
            until = to_local(group[-1][0].at, zone).strftime("%H:%M")
            runs_t = [d.t(d.one_line(f"First '{group[0][1]}' in {_FIRST.match(e.text).group(2)}", 110)),  # type: ignore[union-attr]
                      d.t(" "), d.i(d.one_line(f"(then {names} by {until})", 140))]
            out.append(Row(utc(e.at), 40, runs_t, _where(e.file, e.line, e.source, paths), "event"))
            continue
        ticket = _ticket_parts(e.text, records.get((e.file, e.line)))
        text = d.one_line(_ticket_words(*ticket) if ticket else e.text, CELL_LIMIT)
        runs: d.Inlines = []
        if e.failed:
            runs.append(d.t("❌ "))
        if e.milestone and e.milestone not in MILESTONES:
            runs += [d.b(label(e.milestone)), d.t(" ")]  # a label of the user's; the incident's own are written above
        runs.append(d.t(text))
        if e.failed:
            runs += [d.t(" — "), d.i("did not stop errors")]
        out.append(Row(utc(e.at), 40, runs, _where(e.file, e.line, e.source, paths), "failed" if e.failed else "event", ticket=ticket))

    sig, det = incident.signal, incident.milestone("detected")
    if sig is not None:
        ev = sig.evidence[0] if sig.evidence else None
        runs = [d.t("📈 first machine signal: "), d.code(d.one_line(sig.template, 100)), d.t(f" burst in {sig.source}")]
        if det is not None and utc(sig.at) < utc(det.at):
            runs += [d.t(" — "), d.i(f"errors were in the logs {duration((utc(det.at) - utc(sig.at)).total_seconds())} before anyone noticed")]
        out.append(Row(utc(sig.at), 9, runs, _where(ev.file, ev.line, ev.source, paths) if ev else sig.source, "signal"))

    for start, end in incident.silent_periods:
        mins = duration((utc(end) - utc(start)).total_seconds())
        span = f" ({to_local(start, zone):%H:%M}–{to_local(end, zone):%H:%M})"
        # After every row of the minute it starts in: the table shows minutes, so a callout
        # placed at its exact second would split that minute's rows.
        after = to_local(start, zone).replace(second=0, microsecond=0) + dt.timedelta(minutes=1) - dt.timedelta(microseconds=1)
        out.append(Row(utc(after), 99, [d.t("⏱ "), d.i(f"gap: {mins} without recorded action"), d.t(span)], "", "gap", blank_time=True))
    out.sort(key=lambda r: (r.at, r.rank))
    return _collapse_repeats(out, zone)


def _plain(runs: d.Inlines) -> str:
    return "".join(text for _style, text in runs)


def _key(r: Row) -> str:
    return f"ticket:{r.ticket[1]}:{r.ticket[2]}" if r.ticket else _plain(r.runs)


def _collapse_repeats(rows_: list[Row], zone: ZoneInfo) -> list[Row]:
    """Identical event rows (the same status update posted again and again) become one row with a count."""
    groups: dict[str, list[Row]] = {}
    for r in rows_:
        if r.kind == "event":
            groups.setdefault(_key(r), []).append(r)
    out: list[Row] = []
    for r in rows_:
        same = groups.get(_key(r)) if r.kind == "event" else None
        if same is None or len(same) == 1:
            out.append(r)
            continue
        if same[0] is not r:
            continue
        last = to_local(same[-1].at, zone)
        if r.ticket:
            refs = list(dict.fromkeys(x.ticket[0] for x in same if x.ticket))
            r.runs = [d.t(d.one_line(_ticket_words(", #".join(refs), r.ticket[1], r.ticket[2], plural=len(refs) > 1), CELL_LIMIT))]
        r.runs = [*r.runs, d.t(" "), d.i(f"(posted {len(same)} times, until {last:%H:%M})")]
        out.append(r)
    return out


def _records(incident: Incident, keys: list[tuple[str | None, int | None]]) -> dict[tuple[str | None, int | None], dict[str, Any]]:
    """The event rows behind some entries, by (file, line)."""
    ev = incident.events
    keys = [k for k in keys if k[0] is not None and k[1] is not None]
    if ev is None or not keys:
        return {}
    ev = getattr(ev, "df", ev)
    if not isinstance(ev, pl.DataFrame) or not {"file", "line", "ref"} <= set(ev.columns):
        return {}
    files = sorted({k[0] for k in keys})
    hit = ev.filter(pl.col("file").is_in(files) & pl.col("line").is_in(sorted({int(k[1]) for k in keys})))  # type: ignore[arg-type]
    want = set(keys)
    return {(r["file"], r["line"]): r for r in hit.select("file", "line", "ref", "actor", "message").iter_rows(named=True) if (r["file"], r["line"]) in want}


_FIRST = re.compile(r"^First '(.*)' in (\S+)$")
_CHANGE = re.compile(r"^(group|assigned to|assignee|status|priority)\s+(\S+)(?:\s+->\s+(\S+))?$")


def _ticket_parts(text: str, record: dict[str, Any] | None) -> tuple[str, str, str] | None:
    """(ticket ref, who, what in words) for an entry that is a ticket update's own text, else None."""
    if record is None or not record.get("ref"):
        return None
    who = str(record.get("actor") or "")
    message = str(record.get("message") or "")
    first = next((ln.strip() for ln in message.splitlines() if ln.strip()), "")
    if not first or first[:60] not in text:
        return None  # a summary written over the record (e.g. "6 more tickets"), not the record itself
    comments, changes = [], []
    for ln in (ln.strip() for ln in message.splitlines() if ln.strip()):
        m = _CHANGE.match(ln)
        if m is None:
            comments.append(ln)
        elif m.group(1) == "group" and m.group(3):
            changes.append(f"moved from group {m.group(2)} to group {m.group(3)}")
        else:
            changes.append(ln.replace(" -> ", " → "))
    body = " ".join(comments) if comments else "; ".join(changes)
    return str(record["ref"]), who, body


def _ticket_words(ref: str, who: str, body: str, *, plural: bool = False) -> str:
    # The ticket export names no one: a user id is said to be one rather than shown bare.
    by = f" (by {'user ' + who if who.isdigit() else who})" if who else ""
    return f"Ticket{'s' if plural else ''} #{ref}{by}: {body}"


def _tplus(at: dt.datetime, origin: dt.datetime | None, zone: ZoneInfo) -> str:
    """Minutes from impact start, counted on the displayed clock so the column agrees with the times."""
    if origin is None:
        return ""
    a = to_local(at, zone).replace(second=0, microsecond=0)
    o = to_local(origin, zone).replace(second=0, microsecond=0)
    s = (a - o).total_seconds()
    if s == 0:
        return "0m"
    return ("+" if s > 0 else "−") + duration(s)


def key_intervals(incident: Incident) -> str:
    """'detect 8m · escalate 5m · …' from the incident's gaps."""
    gaps = incident.gaps
    parts = [f"{short} {duration(gaps.get(key))}" for short, key in KEY_INTERVALS if key in GAPS]
    span = impact_span(incident)
    if span is not None:
        parts.append(f"impact {duration((utc(span[1]) - utc(span[0])).total_seconds())}")
    return " · ".join(parts)


def timeline_blocks(incident: Incident, tz: str | None = None, *, level: int = 2) -> list[d.Block]:
    """The "Timeline of Events" section as blocks."""
    zone, name = resolve_tz(incident, tz)
    from timeline.report._common import zone_caption

    rs = rows(incident, zone)
    origin = incident.at("impact_start")
    times = [r.at for r in rs] or [incident.window[0]]
    dates = sorted({to_local(x, zone).date() for x in times})
    multi_day = len(dates) > 1
    when = dates[0].isoformat() if not multi_day else f"{dates[0].isoformat()} to {dates[-1].isoformat()}"
    caption = zone_caption(zone, name, times)
    zone_short = to_local(times[0], zone).tzname() or name
    zone_col = "UTC" if name == "UTC" else (zone_short if zone_short and not zone_short.startswith(("+", "-")) else name)
    blocks: list[d.Block] = [
        d.Heading(level, "Timeline of Events"),
        d.Para([d.t(f"All times {caption}. {when}. T+ counts from impact start.")]),
        d.Para([d.b("Key intervals:"), d.t(" " + key_intervals(incident))]),
    ]
    table_rows: list[list[d.Inlines]] = []
    classes: list[str] = []
    fmt = "%m-%d %H:%M" if multi_day else "%H:%M"
    for r in rs:
        time_cell = "" if r.blank_time else to_local(r.at, zone).strftime(fmt)
        tplus = "" if r.blank_time else _tplus(r.at, origin, zone)
        table_rows.append([[d.t(time_cell)], [d.t(tplus)], r.runs, [d.code(r.where)] if r.where else []])
        classes.append(r.kind)
    blocks.append(d.Table([f"Time ({zone_col})", "T+", "Event", "Source"], table_rows, classes))

    sig, det = incident.signal, incident.milestone("detected")
    if sig is not None and det is not None and utc(sig.at) < utc(det.at):
        lead = duration((utc(det.at) - utc(sig.at)).total_seconds())
        who = f" (by {det.by})" if det.by else ""
        blocks.append(
            d.Quote(
                [
                    d.t("⚠️ "),
                    d.b("Detection came after the machine signal:"),
                    d.t(f" errors were in the logs {lead} before anyone noticed{who}. The first burst was "),
                    d.code(d.one_line(sig.template, 120)),
                    d.t(f" in {sig.source} at {to_local(sig.at, zone):%H:%M}; an alert on it would have fired then."),
                ]
            )
        )
    for start, end in incident.silent_periods:
        mins = duration((utc(end) - utc(start)).total_seconds())
        blocks.append(
            d.Quote([d.t("⏱ "), d.b(f"{mins} without recorded action"),
                     d.t(f" from {to_local(start, zone):%H:%M} to {to_local(end, zone):%H:%M} during impact. What was happening then?")])
        )
    missing = [n for n in MILESTONES if incident.milestones.get(n) is None]
    if missing:
        items = [d.Item([d.b(n), d.t(": " + d.one_line(incident.missing.get(n, "no evidence found"), 200))]) for n in missing]
        blocks.append(d.Para([d.i("Not found in the evidence (add them by hand with incident.set(...) if they happened):")]))
        blocks.append(d.Bullets(items))
    return blocks


def to_markdown(incident: Incident, tz: str | None = None) -> str:
    """The postmortem "Timeline of Events" section as Markdown.

    Parameters
    ----------
    incident
        A reconstructed :class:`~timeline.reconstruct._model.Incident`.
    tz
        IANA zone for the times shown; default the incident's zone.

    Returns
    -------
    str
        A level-2 heading, the zone and date line, the key intervals, the
        table ``Time | T+ | Event | Source`` (milestones in bold, failed
        attempts marked ❌, silent periods as ⏱ rows) and callouts.

    Examples
    --------
    >>> print(incident.to_markdown())  # doctest: +SKIP
    ## Timeline of Events
    All times America/Los_Angeles (PDT, UTC-07:00). 2024-08-12. T+ counts from impact start.
    """
    return d.to_markdown(timeline_blocks(incident, tz))


# ------------------------------------------------------------------ postmortem


def _tickets(incident: Incident) -> list[str] | int | None:
    ev = incident.events
    if ev is None:
        return None
    ev = getattr(ev, "df", ev)
    if not isinstance(ev, pl.DataFrame):
        ev = pl.from_pandas(ev)
    w0, w1 = utc(incident.window[0]), utc(incident.window[1])
    tickets = ev.lazy().filter((pl.col("kind").cast(pl.String) == "ticket") & (pl.col("ts") >= w0) & (pl.col("ts") <= w1))
    refs = tickets.filter(pl.col("ref").is_not_null()).select(pl.col("ref").unique()).collect()["ref"].sort().to_list()
    if refs:
        return refs
    return int(tickets.filter(pl.col("action") == "created").select(pl.len()).collect().item())


def impact_items(incident: Incident) -> list[d.Item]:
    """The Impact bullets: failed requests counted once (and where), error lines, tickets, services, endpoints."""
    nums = measure(incident)
    items: list[d.Item] = []
    if nums is None:
        return [d.Item([d.i("No event table attached: impact numbers could not be counted.")])]
    if nums.failed_requests is not None:
        where = ", ".join(nums.counted_in)
        if nums.layer == "edge":
            codes = ", ".join(f"{n:,} × {c}" for c, n in nums.statuses)
            text = f" {nums.failed_requests:,}, counted once each at the edge ({where}: {codes})"
            kids: list[d.Inlines] = []
            if nums.other_layer_lines:
                kids.append([d.t(f"the applications' {nums.other_layer_lines:,} error lines for requests are not counted again: "
                                 f"{nums.matched:,} of them match an edge request by method, path and time")])
            if nums.background:
                kids.append([d.t(f"{nums.background:,} other 5xx responses in the same time are the usual background, not this incident")])
            items.append(d.Item([d.b("Failed requests:"), d.t(text)], kids))
        else:
            items.append(d.Item([d.b("Failed requests:"), d.t(f" {nums.failed_requests:,}, counted in the application logs ({where}; no access log in the evidence), one per request id")]))
    if nums.errors_by_source:
        kids = [[d.t(f"{src}: {n:,}")] for src, n in nums.errors_by_source]
        if nums.other_errors:
            other = sum(n for _, n in nums.other_errors)
            kids.append([d.i(f"not counted: {other:,} other error lines in the same time ({', '.join(f'{s} {n:,}' for s, n in nums.other_errors[:4])}) belong to no bursting template")])
        items.append(d.Item([d.b("Error lines:"), d.t(f" {nums.error_lines:,} of the incident's failing templates during impact")], kids))
    tk = _tickets(incident)
    if isinstance(tk, list):
        items.append(d.Item([d.b("Customer tickets:"), d.t(f" {len(tk)}" + (f" ({', '.join('#' + t for t in tk[:10])}{', …' if len(tk) > 10 else ''})" if tk else ""))]))
    elif tk:
        items.append(d.Item([d.b("Customer tickets:"), d.t(f" {tk}")]))
    if nums.services:
        items.append(d.Item([d.b("Affected services:"), d.t(" " + ", ".join(nums.services[:12]))]))
    if nums.endpoints:
        kids = [[d.code(ep), d.t(f": {n:,} failed")] for ep, n in nums.endpoints[:10]]
        more = len(nums.endpoints) - 10
        if more > 0:
            kids.append([d.t(f"{more} more")])
        items.append(d.Item([d.b("Affected endpoints:"), d.t(f" {len(nums.endpoints)}")], kids))
    return items


def _evidence_items(evidence: Any, paths: dict[str, str], limit: int = 3) -> list[d.Inlines]:
    return [[d.code(_where(e.file, e.line, e.source, paths)), d.t(" " + d.one_line(e.message, 140))] for e in list(evidence)[:limit]]


def postmortem_sections(incident: Incident, tz: str | None = None) -> list[tuple[str, list[d.Block]]]:
    """The postmortem draft as (section name, blocks), in the order of the seed postmortem."""
    zone, name = resolve_tz(incident, tz)
    files = [e.file for m in incident.milestones.values() if m for e in m.evidence]
    files += [e.file for a in incident.attempts for e in a.evidence]
    files += [e.file for e in incident.entries]
    if incident.signal:
        files += [e.file for e in incident.signal.evidence]
    paths = short_paths(files)
    gaps = incident.gaps
    span = impact_span(incident)
    ms = incident.milestones

    def loc(ts: dt.datetime) -> str:
        x = to_local(ts, zone)
        return x.strftime("%I:%M %p").lstrip("0") + f" {x.tzname() or name}"

    sections: list[tuple[str, list[d.Block]]] = []
    sections.append(("title", [d.Heading(1, f"Postmortem: {d.one_line(incident.title, 200)}")]))

    # Summary
    summary: list[d.Block] = [d.Heading(2, "Incident Summary")]
    sev = incident.extra.get("severity")
    svc = incident.extra.get("service")
    first = to_local(span[0] if span else incident.window[0], zone)
    day = first.strftime("%A, %B %d, %Y").replace(" 0", " ")
    if span:
        text = (f"On {day}, {'the ' + str(svc) + ' service' if svc else 'our service'} was impaired from {loc(span[0])} "
                f"to {loc(span[1])} ({duration((utc(span[1]) - utc(span[0])).total_seconds())} of user impact)")
        res = ms.get("resolved")
        text += f"; it was declared resolved at {loc(res.at)}." if res else "."
    else:
        text = f"On {day}, an incident was recorded between {loc(incident.window[0])} and {loc(incident.window[1])}; the start of user impact was not found in the evidence."
    summary.append(d.Para([d.t(text)]))
    facts: list[d.Item] = []
    if span:
        facts.append(d.Item([d.b("Start:"), d.t(f" {to_local(span[0], zone):%Y-%m-%d %H:%M:%S %Z} (impact starts)")]))
        end_name = "mitigated" if ms.get("mitigated") else ("resolved" if ms.get("resolved") else "end of the evidence window")
        facts.append(d.Item([d.b("End:"), d.t(f" {to_local(span[1], zone):%Y-%m-%d %H:%M:%S %Z} ({end_name})")]))
        facts.append(d.Item([d.b("Duration:"), d.t(f" {duration((utc(span[1]) - utc(span[0])).total_seconds())}")]))
    if sev:
        facts.append(d.Item([d.b("Severity:"), d.t(f" {sev}")]))
    det = ms.get("detected")
    if det:
        facts.append(d.Item([d.b("Detected by:"), d.t(f" {det.by or 'unknown'} at {loc(det.at)}, {duration(gaps['time_to_detect'])} after impact began")]))
    trig = ms.get("trigger")
    if trig:
        ev = trig.evidence[0] if trig.evidence else None
        facts.append(d.Item([d.b("Trigger:"), d.t(" " + d.one_line(ev.message if ev else trig.rule, 140) + f" at {loc(trig.at)}")]))
    summary.append(d.Bullets(facts))
    summary.append(d.Para([d.i("Draft generated from the evidence by timeline; every statement cites the file and line it came from. Edit freely.")]))
    sections.append(("summary", summary))

    # Impact
    impact: list[d.Block] = [d.Heading(2, "Impact")]
    items = impact_items(incident)
    items.append(d.Item([d.b("Users:"), d.t(" "), d.i("TODO: who was affected and how")]))
    items.append(d.Item([d.b("Business:"), d.t(" "), d.i("TODO: revenue, SLAs, customer trust")]))
    impact.append(d.Bullets(items))
    sections.append(("impact", impact))

    sections.append(("timeline", timeline_blocks(incident, tz)))

    # Detection
    detection: list[d.Block] = [d.Heading(2, "Detection")]
    ditems: list[d.Item] = []
    if det:
        ditems.append(d.Item([d.b("Detected"), d.t(f" by {det.by or 'unknown'} at {loc(det.at)} ({det.confidence} confidence, rule: {d.one_line(det.rule, 100)})")],
                             _evidence_items(det.evidence, paths)))
        ditems.append(d.Item([d.b("Time to detect:"), d.t(f" {duration(gaps['time_to_detect'])}")]))
    else:
        ditems.append(d.Item([d.b("Detection"), d.t(" was not found in the evidence: " + d.one_line(incident.missing.get("detected", "no alert, ticket or report"), 200))]))
    sig = incident.signal
    if sig:
        lead = f", {duration(sig.lead_time_s)} before detection" if sig.lead_time_s else ""
        ditems.append(d.Item([d.b("Earliest machine signal:"), d.t(" "), d.code(d.one_line(sig.template, 140)), d.t(f" burst in {sig.source} at {loc(sig.at)}{lead}")],
                             _evidence_items(sig.evidence, paths)))
    if det and det.by in ("customer", "staff"):
        ditems.append(d.Item([d.t("No alert fired before a person noticed: "), d.i("which alert would have caught this, and how could time to detect be halved?")]))
    detection.append(d.Bullets(ditems))
    sections.append(("detection", detection))

    # Root cause
    root: list[d.Block] = [d.Heading(2, "Root Cause"), d.Para([d.i("Candidates from the evidence; confirm one and explain why it happened.")])]
    ritems: list[d.Item] = []
    if trig:
        ritems.append(d.Item([d.b("The trigger:"), d.t(f" {d.one_line(trig.evidence[0].message if trig.evidence else trig.rule, 140)} ({trig.confidence} confidence; {d.one_line(trig.rule, 80)})")],
                             _evidence_items(trig.evidence, paths)))
    ident = ms.get("identified")
    if ident:
        ritems.append(d.Item([d.b("Named by the responders"), d.t(f" at {loc(ident.at)}: {d.one_line(ident.evidence[0].message if ident.evidence else ident.rule, 140)}")],
                             _evidence_items(ident.evidence, paths)))
    if sig:
        ritems.append(d.Item([d.b("The first failing component:"), d.t(f" {sig.source}, "), d.code(d.one_line(sig.template, 120))]))
    tpl = incident.templates
    if tpl is not None:
        tpl = tpl if isinstance(tpl, pl.DataFrame) else pl.from_pandas(tpl)
        if {"template", "new", "bursting"} <= set(tpl.columns) and tpl.height:
            newb = tpl.filter(pl.col("new") & pl.col("bursting"))
            if "count" in tpl.columns:
                newb = newb.sort("count", descending=True)
            if sig is not None:
                newb = newb.filter(pl.col("template") != sig.template)
            if newb.height:
                kids = [[d.code(d.one_line(r["template"], 120)), d.t(f" ({r.get('count', '?'):,} lines)" if isinstance(r.get("count"), int) else "")]
                        for r in newb.head(5).iter_rows(named=True)]
                ritems.append(d.Item([d.b("New message templates that burst during the incident:")], kids))
    if not ritems:
        ritems.append(d.Item([d.i("No candidate found in the evidence: TODO")]))
    root.append(d.Bullets(ritems))
    sections.append(("root_cause", root))

    # Resolution
    resolution: list[d.Block] = [d.Heading(2, "Resolution")]
    aitems: list[d.Item] = []
    for a in incident.attempts:
        mark = "✅ " if a.effective else ("❌ " if a.effective is False else "")
        verdict = "stopped the errors" if a.effective else ("did not stop the errors" if a.effective is False else "effect unknown")
        aitems.append(d.Item([d.t(mark), d.b(a.action.replace("_", " ").capitalize()), d.t(f" at {loc(a.at)}: {d.one_line(a.text, 140)} — {verdict}")],
                             _evidence_items(a.evidence, paths, 2)))
    if not aitems:
        aitems.append(d.Item([d.i("No mitigation attempt was found in the evidence.")]))
    mit = ms.get("mitigated")
    if mit:
        aitems.append(d.Item([d.b("Mitigated"), d.t(f" at {loc(mit.at)} ({mit.confidence} confidence: {d.one_line(mit.rule, 100)})")]))
    res = ms.get("resolved")
    if res:
        aitems.append(d.Item([d.b("Resolved"), d.t(f" at {loc(res.at)}: {d.one_line(res.evidence[0].message if res.evidence else res.rule, 140)}")]))
    aitems.append(d.Item([d.b("Long-Term Solution:"), d.t(" "), d.i("TODO")]))
    resolution.append(d.Bullets(aitems))
    sections.append(("resolution", resolution))

    # Lessons learned
    lessons: list[d.Block] = [d.Heading(2, "Lessons Learned")]
    litems: list[d.Item] = [
        d.Item([d.b("What went well:"), d.t(" "), d.i("TODO")]),
        d.Item([d.b("What went wrong:"), d.t(" "), d.i("TODO")]),
        d.Item([d.b("Where we got lucky:"), d.t(" "), d.i("TODO")]),
    ]
    if sig and det and sig.lead_time_s:
        litems.append(d.Item([d.t(f"Errors were in the logs {duration(sig.lead_time_s)} before {det.by or 'anyone'} noticed.")]))
    for start, end in incident.silent_periods:
        litems.append(d.Item([d.t(f"{duration((utc(end) - utc(start)).total_seconds())} passed without recorded action ({to_local(start, zone):%H:%M}–{to_local(end, zone):%H:%M}): were there delays or barriers?")]))
    failed = [a for a in incident.attempts if a.effective is False]
    if failed:
        litems.append(d.Item([d.t(f"{len(failed)} mitigation attempt(s) did not stop the errors: " + ", ".join(a.action.replace('_', ' ') for a in failed) + ".")]))
    lessons.append(d.Bullets(litems))
    sections.append(("lessons", lessons))

    # Action items
    actions: list[d.Block] = [d.Heading(2, "Action Items")]
    acts: list[d.Item] = []
    rule = suggest_alert(incident) if sig else None
    if rule is not None:
        before = (f"at most {rule.baseline_max}/min in the {duration(rule.baseline_minutes * 60)} before the incident"
                  if rule.baseline_max else f"never logged in the {duration(rule.baseline_minutes * 60)} before the incident")
        fired = ""
        if rule.fires_at is not None:
            fired = f"; it would have fired at {to_local(rule.fires_at, zone):%H:%M}"
            if det is not None and utc(rule.fires_at) < utc(det.at):
                fired += f", {duration((utc(det.at) - utc(rule.fires_at)).total_seconds())} before detection"
        runs: d.Inlines = [d.t(f"Alert when {rule.source} logs "), d.code(d.one_line(rule.template, 100)),
                           d.t(f" {'at least once' if rule.threshold == 1 else f'{rule.threshold} or more times'} a minute "
                               f"for {rule.minutes} minutes running ({before}; "
                               f"up to {rule.peak}/min during it{fired}). Owner: "), d.i("TODO")]
        acts.append(d.Item(runs, checkbox=True))
    elif sig:
        acts.append(d.Item([d.t("Alert on "), d.code(d.one_line(sig.template, 100)), d.t(f" in {sig.source}" + (f" (would have fired {duration(sig.lead_time_s)} before detection)" if sig.lead_time_s else "") + ". Owner: "), d.i("TODO")], checkbox=True))
    if trig:
        acts.append(d.Item([d.t("Review the change that triggered this and its validation before rollout. Owner: "), d.i("TODO")], checkbox=True))
    acts.append(d.Item([d.i("TODO: further action items, each with an owner and a due date")], checkbox=True))
    actions.append(d.Bullets(acts))
    actions.append(d.Para([d.b("Postmortem Owner:"), d.t(" "), d.i("TODO")]))
    actions.append(d.Para([d.b("Date:"), d.t(" "), d.i("TODO")]))
    sections.append(("actions", actions))
    return sections


def postmortem(incident: Incident, tz: str | None = None) -> str:
    """A full postmortem draft as Markdown, for a person to edit.

    Sections follow the seed postmortem: Incident Summary (start, end,
    duration), Impact (failed requests, tickets, affected services and
    endpoints), Timeline of Events, Detection, Root Cause (candidates with their
    evidence), Resolution, Lessons Learned, Action Items.

    Parameters
    ----------
    incident
        A reconstructed incident.
    tz
        IANA zone for the times shown; default the incident's zone.
    """
    blocks = [blk for _, bs in postmortem_sections(incident, tz) for blk in bs]
    return d.to_markdown(blocks)
