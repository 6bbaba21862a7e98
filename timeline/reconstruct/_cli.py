"""`timeline reconstruct PATH... --tz ZONE [--json OUT] [--markdown OUT] [--html OUT] [--timesketch OUT]`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from zoneinfo import ZoneInfo

from timeline.reconstruct._model import cut_words


def add_parser(sub) -> None:  # noqa: ANN001 - argparse subparsers
    """Add the `reconstruct` subcommand."""
    from timeline.cli import _add_read_options

    p = sub.add_parser("reconstruct", help="find the incident: milestones with evidence, attempts, gaps")
    _add_read_options(p)
    p.add_argument("--window", nargs=2, metavar=("START", "END"),
                   help="pick the incident window yourself: ISO times, '2024-08-12 14:00' or a time of day, in the --tz zone")
    p.add_argument("--annotations", metavar="FILE", help="corrections (TOML or JSON): a title and milestones, e.g. [milestones.detected] at = \"14:28\"")
    p.add_argument("--title", help="the incident's title (default: what failed, where, after which change)")
    p.add_argument("--rules", action="append", metavar="FILE", help="extra text rules (TOML) merged over the shipped ones")
    p.add_argument("--all", action="store_true", help="list every incident (error burst) found, not only the largest")
    p.add_argument("--json", metavar="OUT", help="write the incident as JSON (.json; its schema is timeline/schemas/incident.schema.json); - for stdout")
    p.add_argument("--markdown", metavar="OUT", help="write the postmortem's Timeline of Events section (.md); - for stdout")
    p.add_argument("--postmortem", metavar="OUT", help="write a full postmortem draft (.md); - for stdout")
    p.add_argument("--html", metavar="OUT", help="write a standalone HTML report that works offline (.html); - for stdout")
    p.add_argument("--timesketch", metavar="OUT", help="write entries and evidence as Timesketch JSON lines (.jsonl); - for stdout")
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


def print_incident(incident, out=None) -> None:  # noqa: ANN001
    """A readable summary: milestones with evidence, attempts, gaps, earliest machine signal."""
    out = out or sys.stdout
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
            print(f"  {'':13}   {e.where}: {cut_words(e.message, 110)}", file=out)
    print("\nMitigation attempts", file=out)
    if not incident.attempts:
        print("  none found", file=out)
    for a in incident.attempts:
        verdict = "EFFECTIVE" if a.effective else "not effective"
        print(f"  {_local(a.at, tz)}  {a.action:9} {verdict}: {cut_words(a.text, 90)}", file=out)
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
        print(f"  {_local(s.at, tz)}  '{cut_words(s.template, 100)}' in {s.source}{lead}", file=out)
        for e in s.evidence[:1]:
            print(f"    {e.where}", file=out)


OUTPUTS: dict[str, tuple[str, ...]] = {
    "json": (".json",),
    "markdown": (".md", ".markdown"),
    "postmortem": (".md", ".markdown"),
    "html": (".html", ".htm"),
    "timesketch": (".jsonl", ".ndjson"),
}
"""Output option -> the extensions it writes."""


def check_args(args: argparse.Namespace) -> dict:
    """Check every argument before any evidence is read; return the annotations read from their file."""
    from timeline.cli import UsageError, check_output, check_read_args
    from timeline.reconstruct._model import load_annotations, parse_when

    check_read_args(args)
    to_stdout = [f"--{name}" for name in OUTPUTS if getattr(args, name) == "-"]
    if len(to_stdout) > 1:
        msg = f"{' and '.join(to_stdout)} both ask for stdout: send one there and the other to a file"
        raise UsageError(msg)
    for name, allowed in OUTPUTS.items():
        check_output(getattr(args, name), f"--{name}", allowed)
    if args.window:
        zone = args.tz[-1].rpartition("=")[2] if args.tz else "UTC"
        for value in args.window:
            if ":" not in value or len(value.strip()) <= 8:
                msg = f"--window {value}: the window needs a date and a time, e.g. --window '2024-08-12 14:00' '2024-08-12 16:30'"
                raise UsageError(msg)
            try:
                parse_when(value, zone, None, what="--window")
            except Exception as exc:  # a ReconstructError naming the accepted forms
                raise UsageError(str(exc)) from None
        start, end = (parse_when(v, zone, None) for v in args.window)
        if start >= end:
            msg = f"--window {args.window[0]} {args.window[1]}: the start must come before the end"
            raise UsageError(msg)
    if args.title is not None and not args.title.strip():
        msg = "--title is empty: give the incident a title, e.g. --title 'Checkout errors after deploy 1234'"
        raise UsageError(msg)
    if args.annotations:
        return load_annotations(args.annotations)[0]
    return {}


def run(args: argparse.Namespace) -> int:
    """Run `timeline reconstruct`."""
    from timeline.cli import check_nothing_read, print_account, read_from_args, write_text
    from timeline.reconstruct import reconstruct, reconstruct_all

    check_args(args)
    events = read_from_args(args)
    display_tz = args.tz[-1].rpartition("=")[2] if args.tz else "UTC"
    rejected = events.rejected
    print(f"read {len(events.account)} files: {len(events):,} events, {rejected:,} lines rejected", file=sys.stderr)
    if rejected:
        print_account(events, out=sys.stderr)
    check_nothing_read(events, args.paths)
    if events.zone_warning:
        print(events.zone_warning, file=sys.stderr)
    out = sys.stderr if "-" in (args.json, args.markdown, args.postmortem, args.html, args.timesketch) else sys.stdout
    if getattr(args, "engine", "polars") == "spark":
        # The heavy part ran on Spark: bring back what reconstruction needs (all, or around the incident).
        events = events.for_reconstruct(window=tuple(args.window) if args.window else None, tz=display_tz)
    if args.all:
        for i, inc in enumerate(reconstruct_all(events, tz=display_tz, rules=args.rules), 1):
            print(f"\n=== incident {i} ===", file=out)
            print_incident(inc, out=out)
        return 0
    incident = reconstruct(events, tz=display_tz, window=tuple(args.window) if args.window else None, rules=args.rules)
    if args.title:
        incident.title = args.title.strip()
    if args.annotations:
        incident.annotate(args.annotations)
    print_incident(incident, out=out)
    if args.json:
        write_text(args.json, incident.to_json())
    if args.markdown:
        write_text(args.markdown, incident.to_markdown())
    if args.postmortem:
        write_text(args.postmortem, incident.postmortem())
    if args.html:
        write_text(args.html, incident.to_html())
    if args.timesketch:
        if args.timesketch == "-":
            import tempfile
            from pathlib import Path

            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "timesketch.jsonl"
                incident.to_timesketch(str(path))
                write_text("-", path.read_text(encoding="utf-8"))
        else:
            from pathlib import Path

            Path(args.timesketch).parent.mkdir(parents=True, exist_ok=True)
            incident.to_timesketch(args.timesketch)
    done = [(args.json, "incident JSON"), (args.markdown, "timeline section"), (args.postmortem, "postmortem draft"),
            (args.html, "HTML report"), (args.timesketch, "Timesketch JSON lines")]
    first = True
    for path, what in done:
        if path and path != "-":
            print(("\n" if first else "") + f"{what} written to {path}", file=out)
            first = False
    return 0
