"""The ``timeline templates`` subcommand: list log templates with their counts.

Examples
--------
::

    timeline templates logs/ --window 2024-08-12T21:05Z 2024-08-12T22:40Z --top 20
    timeline templates app.log db.log --json templates.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import polars as pl

from timeline.templates import template_summary


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``templates`` subcommand to the ``timeline`` command's subparsers."""
    from timeline.cli import _add_read_options

    p = subparsers.add_parser(
        "templates",
        help="list message templates with counts, first/last seen, and whether each is new or bursting",
        description=(
            "Mask the variable parts of every message (numbers, ids, hex, IPs, paths, quoted values), "
            "mine templates over the distinct masked messages, and list them, most frequent first. "
            "With --window, mark templates first seen inside it (new) and those whose rate inside it is "
            "at least 5 times their baseline rate, with at least 5 lines (bursting)."
        ),
    )
    _add_read_options(p)
    p.add_argument("--window", nargs=2, metavar=("START", "END"),
                   help="incident window, ISO 8601 times (naive times are UTC)")
    p.add_argument("--baseline", nargs=2, metavar=("START", "END"),
                   help="baseline period to compare with (default: from the first event to the window start)")
    p.add_argument("--top", type=int, default=30, metavar="N", help="print the N most frequent templates (default 30; 0 for all)")
    p.add_argument("--json", metavar="OUT", help="write every template as JSON (a list of objects) to OUT, '-' for stdout")
    p.set_defaults(func=run)
    return p


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def to_records(summary: pl.DataFrame) -> list[dict[str, Any]]:
    """Turn a template summary into JSON-ready records (times ISO 8601 UTC)."""
    out = []
    for row in summary.iter_rows(named=True):
        row["first_seen"] = _iso(row["first_seen"])
        row["last_seen"] = _iso(row["last_seen"])
        out.append(row)
    return out


def print_summary(summary: pl.DataFrame, top: int, out: TextIO = sys.stdout) -> None:
    """Print the summary as a fixed-width table."""
    rows = summary if top <= 0 else summary.head(top)
    windowed = summary["new"].null_count() < summary.height if summary.height else False
    head = f"{'id':12}  {'count':>9}  {'first seen (UTC)':19}  {'last seen (UTC)':19}"
    if windowed:
        head += f"  {'in win':>7}  {'flags':8}"
    print(head + "  template", file=out)
    for r in rows.iter_rows(named=True):
        first = r["first_seen"].strftime("%Y-%m-%d %H:%M:%S") if r["first_seen"] else "-"
        last = r["last_seen"].strftime("%Y-%m-%d %H:%M:%S") if r["last_seen"] else "-"
        line = f"{r['template_id']:12}  {r['count']:>9,}  {first:19}  {last:19}"
        if windowed:
            flags = ",".join(f for f, on in (("new", r["new"]), ("burst", r["bursting"])) if on)
            line += f"  {r['count_in_window'] or 0:>7,}  {flags:8}"
        template = r["template"] if len(r["template"]) <= 120 else r["template"][:117] + "..."
        print(f"{line}  {template}", file=out)
    if top > 0 and summary.height > top:
        print(f"... {summary.height - top:,} more templates (--top 0 lists all)", file=out)


def run(args: argparse.Namespace) -> int:
    """Run ``timeline templates``: read, summarise, print, and write JSON if asked."""
    from timeline.cli import read_from_args

    events = read_from_args(args)
    window = args.window
    if window is None:
        window = _incident_window(events)
        if window is not None:
            print(f"window: {window[0]:%Y-%m-%d %H:%M:%S} .. {window[1]:%Y-%m-%d %H:%M:%S} UTC "
                  "(the largest error burst; --window to choose)", file=sys.stderr)
    summary = template_summary(events.df, window=window, baseline=args.baseline)
    if args.json == "-":
        json.dump(to_records(summary), sys.stdout, indent=2)
        print()
        return 0
    print_summary(summary, args.top)
    if args.json:
        Path(args.json).write_text(json.dumps(to_records(summary), indent=2))
        print(f"{summary.height:,} templates written to {args.json}")
    return 0


def _incident_window(events):  # noqa: ANN001, ANN202 - EventTable -> (start, end) or None
    """The window of the largest error burst, from impact start (or trigger) to mitigation."""
    from timeline._errors import ReconstructError
    from timeline.reconstruct import reconstruct

    try:
        inc = reconstruct(events)
    except ReconstructError:
        return None
    start = inc.at("trigger") or inc.at("impact_start")
    end = inc.at("mitigated") or inc.window[1]
    return (start, end) if start and end and end > start else None
