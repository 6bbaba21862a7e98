"""The lines a postmortem timeline keeps, built from the reconstructed incident."""

from __future__ import annotations

from typing import Any

import polars as pl

from timeline.reconstruct import _human as hu
from timeline.reconstruct._finders import clock
from timeline.reconstruct._model import MILESTONES, Entry, Incident
from timeline.reconstruct._rules import any_match


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
    human = hu.human(window, rules)
    ruled = [r for r in rules["milestones"].values()]
    pats = [p for r in ruled for p in r.get("patterns", [])] + [p for ps in rules["attempts"]["actions"].values() for p in ps]
    keep = human.filter(
        kind.is_in(["change", "alert"])
        | (kind.is_in(["chat", "note"]) & any_match(pl.col("_text"), pats) & ~pl.col("_talk"))
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
