"""`timeline trends STORE...`: the trend report from the shell.

Wired into ``timeline/cli.py`` through :func:`add_parser`; ``run`` returns the
exit status (0 ok, 2 bad input).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from timeline._errors import InputError, TimelineError
from timeline.trends._store import SOURCES, load_incidents
from timeline.trends._trends import trends

EPILOG = """\
examples:
  timeline trends data/incident-history --html trends.html
  timeline trends data/incident-history --every 1mo --by service --markdown -
  timeline trends incidents.json --source statuspage --json trends.json
  timeline trends export.csv --map impact_start=Started --map detected="Detected At"
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``trends`` subcommand to an argparse ``subparsers`` object.

    Parameters
    ----------
    subparsers
        What ``ArgumentParser.add_subparsers()`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The new subparser, with ``func=run`` set.
    """
    p = subparsers.add_parser(
        "trends",
        help="MTTD/MTTR trends across many incidents: per bucket and group, with uncertainty",
        description=(
            "Load incidents (a store folder of incident JSON files, a Statuspage incidents.json, "
            "a PagerDuty export or a CSV, recognised by content) and report how detection and "
            "mitigation times are distributed and changing: n, median with a bootstrap CI, p90, max, "
            "customer-detected share, and words where n is too small."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("store", metavar="STORE", nargs="+", help="store folder(s) or export file(s)")
    p.add_argument("--source", choices=SOURCES, help="force how to read the inputs (default: recognised by content)")
    p.add_argument("--every", default="1q", help="bucket size keyed on impact start: 1w, 1mo, 1q (default), 1y")
    p.add_argument(
        "--by",
        action="append",
        default=[],
        help="group by a column (service, severity); repeat or comma-separate for several",
    )
    p.add_argument("--tz", help="IANA zone in which buckets start (default UTC); also for CSV times without offset")
    p.add_argument(
        "--target", type=float, default=30.0, help="mitigation target in minutes (default 30, GitLab's)"
    )
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="CSV column mapping, e.g. impact_start=Started (repeatable)",
    )
    p.add_argument("--html", metavar="OUT", help="write the standalone HTML report (works offline)")
    p.add_argument("--markdown", metavar="OUT", help="write the markdown report ('-' for stdout)")
    p.add_argument("--json", metavar="OUT", help="write the table as JSON, one object per bucket, group, metric ('-' for stdout)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``timeline trends`` with parsed arguments; return the exit status."""
    try:
        mapping = {}
        for item in args.map:
            field, sep, column = item.partition("=")
            if not sep or not field or not column:
                msg = f"--map {item!r}: expected FIELD=COLUMN, e.g. impact_start=Started"
                raise InputError(msg)
            mapping[field.strip()] = column.strip()
        by = [b.strip() for item in args.by for b in item.split(",") if b.strip()]
        incidents = load_incidents(args.store, source=args.source, mapping=mapping or None, tz=args.tz)
        result = trends(incidents, every=args.every, by=by, tz=args.tz, target=args.target)
    except TimelineError as exc:
        print(f"timeline trends: error: {exc}", file=sys.stderr)
        return 2
    wrote = []
    if args.html:
        result.to_html(args.html)
        wrote.append(f"HTML report: {args.html}")
    if args.json:
        if args.json == "-":
            import json

            print(json.dumps(result.to_json(), indent=1))
        else:
            result.to_json(args.json)
            wrote.append(f"JSON table: {args.json}")
    if args.markdown:
        text = result.to_markdown()
        if args.markdown == "-":
            print(text, end="")
        else:
            with open(args.markdown, "w", encoding="utf-8") as fh:
                fh.write(text)
            wrote.append(f"markdown report: {args.markdown}")
    if not (args.html or args.json or args.markdown):
        print(result.to_markdown(), end="")
    summary = (
        f"{len(incidents)} incidents, {result.table['bucket'].n_unique()} buckets of {args.every}, "
        f"{incidents.notes.height} notes on the data"
    )
    print("timeline trends: " + summary + ("; " + "; ".join(wrote) if wrote else ""), file=sys.stderr)
    return 0
