"""`timeline reconstruct PATH... --tz ZONE [--json OUT] [--markdown OUT] [--html OUT] [--timesketch OUT]`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from zoneinfo import ZoneInfo


def add_parser(sub) -> None:  # noqa: ANN001 - argparse subparsers
    """Add the `reconstruct` subcommand."""
    from timeline.cli import _add_read_options

    p = sub.add_parser("reconstruct", help="find the incident: milestones with evidence, attempts, gaps")
    _add_read_options(p)
    p.add_argument("--window", nargs=2, metavar=("START", "END"), help="pick the incident window yourself (ISO times)")
    p.add_argument("--annotations", metavar="FILE", help="milestone overrides (TOML or JSON)")
    p.add_argument("--rules", action="append", metavar="FILE", help="extra text rules (TOML) merged over the shipped ones")
    p.add_argument("--all", action="store_true", help="list every incident (error burst) found, not only the largest")
    p.add_argument("--json", metavar="OUT", help="write the incident as JSON (the contract in DESIGN.md)")
    p.add_argument("--markdown", metavar="OUT", help="write the postmortem timeline section as Markdown")
    p.add_argument("--postmortem", metavar="OUT", help="write a full postmortem draft as Markdown")
    p.add_argument("--html", metavar="OUT", help="write a standalone HTML report (works offline)")
    p.add_argument("--timesketch", metavar="OUT", help="write entries and evidence as Timesketch JSONL")
    p.set_defaults(func=run)


def _local(ts: dt.datetime | None, tz: str) -> str:
    if ts is None:
        return "—"
    return ts.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S %Z")


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m" if h else f"{m}m {s:02d}s"


def print_incident(incident, out=sys.stdout) -> None:  # noqa: ANN001
    """A readable summary: milestones with evidence, attempts, gaps, earliest machine signal."""
    tz = incident.timezone
    print(f"Incident: {incident.title}", file=out)
    print(f"Window:   {_local(incident.window[0], tz)} .. {_local(incident.window[1], tz)}", file=out)
    print("\nMilestones", file=out)
    for name, m in incident.milestones.items():
        if m is None:
            print(f"  {name:13} not found: {incident.missing.get(name, '')}", file=out)
            continue
        by = f" by {m.by}" if m.by else ""
        print(f"  {name:13} {_local(m.at, tz)}{by}  [{m.confidence}]", file=out)
        print(f"  {'':13} rule: {m.rule}", file=out)
        for e in m.evidence[:3]:
            print(f"  {'':13}   {e.where}: {e.message.splitlines()[0][:110] if e.message else ''}", file=out)
    print("\nMitigation attempts", file=out)
    if not incident.attempts:
        print("  none found", file=out)
    for a in incident.attempts:
        verdict = "EFFECTIVE" if a.effective else "not effective"
        print(f"  {_local(a.at, tz)}  {a.action:9} {verdict}: {a.text[:90]}", file=out)
        print(f"  {'':26}{a.rule}", file=out)
        for e in a.evidence[:2]:
            print(f"  {'':26}  {e.where}", file=out)
    print("\nGaps", file=out)
    for name, value in incident.gaps.items():
        print(f"  {name:20} {_dur(value)}", file=out)
    for a, b in incident.silent_periods:
        print(f"  silent period        {_local(a, tz)} .. {_local(b, tz)} ({_dur((b - a).total_seconds())} without a recorded human action)", file=out)
    s = incident.signal
    print("\nEarliest machine signal", file=out)
    if s is None:
        print("  none", file=out)
    else:
        lead = f", {_dur(s.lead_time_s)} before detection" if s.lead_time_s and s.lead_time_s > 0 else ""
        print(f"  {_local(s.at, tz)}  '{s.template[:100]}' in {s.source}{lead}", file=out)
        for e in s.evidence[:1]:
            print(f"    {e.where}", file=out)


def run(args: argparse.Namespace) -> int:
    """Run `timeline reconstruct`."""
    from pathlib import Path

    from timeline.cli import print_account, read_from_args
    from timeline.reconstruct import reconstruct, reconstruct_all

    events = read_from_args(args)
    display_tz = args.tz[-1].rpartition("=")[2] if args.tz else "UTC"
    rejected = events.rejected
    print(f"read {len(events.account)} files: {len(events):,} events, {rejected:,} lines rejected", file=sys.stderr)
    if rejected:
        print_account(events, out=sys.stderr)
    if getattr(args, "engine", "polars") == "spark":
        # The heavy part ran on Spark: bring back what reconstruction needs (all, or around the incident).
        events = events.for_reconstruct(window=tuple(args.window) if args.window else None, tz=display_tz)
    if args.all:
        for i, inc in enumerate(reconstruct_all(events, tz=display_tz, rules=args.rules), 1):
            print(f"\n=== incident {i} ===")
            print_incident(inc)
        return 0
    incident = reconstruct(events, tz=display_tz, window=tuple(args.window) if args.window else None,
                           annotations=args.annotations, rules=args.rules)
    print_incident(incident)
    for out in (args.json, args.markdown, args.postmortem, args.html, args.timesketch):
        if out:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
    if args.json:
        incident.to_json(args.json)
        print(f"\nincident JSON written to {args.json}")
    if args.markdown:
        Path(args.markdown).write_text(incident.to_markdown(), encoding="utf-8")
        print(f"timeline section written to {args.markdown}")
    if args.postmortem:
        Path(args.postmortem).write_text(incident.postmortem(), encoding="utf-8")
        print(f"postmortem draft written to {args.postmortem}")
    if args.html:
        incident.to_html(args.html)
        print(f"HTML report written to {args.html}")
    if args.timesketch:
        incident.to_timesketch(args.timesketch)
        print(f"Timesketch JSONL written to {args.timesketch}")
    return 0
