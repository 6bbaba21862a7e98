"""The `timeline` command: the same verbs as the Python API."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from timeline._errors import TimelineError

ALLOCATOR_SETTINGS = "background_thread:true,dirty_decay_ms:50,muzzy_decay_ms:0"
"""How the engine's allocator (jemalloc) returns freed memory, set when the command starts polars.

polars asks it to keep freed pages half a second, then a second more as pages that
still count in the process's memory; a read in blocks frees and reuses memory
all the time, so its peak grew far above what it held at any moment. Returning
freed pages after 50 ms, from a background thread, cut the peak of a 100 MB read
by a quarter at no measured cost in time. polars appends these to its own defaults
(later settings win); a setting of the user's own (``_RJEM_MALLOC_CONF``) is kept instead.
"""


def _tune_allocator() -> None:
    if "polars" not in sys.modules:  # read once, when the engine starts
        os.environ.setdefault("_RJEM_MALLOC_CONF", ALLOCATOR_SETTINGS)


# Subcommands that live beside their feature: module path -> add_parser(subparsers).
_FEATURE_COMMANDS = (
    "timeline.reconstruct._cli",
    "timeline._templates_cli",
    "timeline.trends._cli",
)


def _add_read_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, folders (recursive) or glob patterns")
    p.add_argument("--format", action="append", metavar="[GLOB=]NAME",
                   help="force a format for every file, or for files matching GLOB (repeatable)")
    p.add_argument("--tz", action="append", metavar="[GLOB=]ZONE",
                   help="IANA zone of naive local times, for every file or for files matching GLOB (repeatable); default UTC")
    p.add_argument("--formats-dir", action="append", metavar="DIR", help="folder of your own format spec files (*.toml)")
    p.add_argument("--year", type=int, help="year for formats written without one (syslog RFC 3164)")
    p.add_argument("--date", help="date (YYYY-MM-DD) for formats written without one (time-only log4j)")
    p.add_argument("--day-first", action="store_true", default=None, help="read 12/08/2024 as 12 August in exports")
    p.add_argument("--column-map", action="append", metavar="OURS=THEIRS",
                   help="for --format generic exports: map an event column to a column of yours, e.g. ts=Opened (repeatable)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    from timeline.engines import add_engine_options

    add_engine_options(p)


def _per_file_option(values: list[str] | None) -> str | dict[str, str] | None:
    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        return values[0]
    out: dict[str, str] = {}
    for v in values:
        pattern, sep, name = v.rpartition("=")
        out[pattern if sep else "*"] = name
    return out


def read_from_args(args: argparse.Namespace, events_path: str | None = None, keep_events: bool = True):  # noqa: ANN201
    """Read the evidence named by the shared read options (into a Parquet file as it goes, if given).

    Returns the EventTable; ``keep_events=False`` keeps only the counts its summary needs.
    """
    from timeline.sources import read

    if getattr(args, "engine", "polars") != "polars":
        from timeline.engines import read_from_args as read_on_engine

        return read_on_engine(args, events_path)
    return read(
        args.paths,
        format=_per_file_option(args.format),
        tz=_per_file_option(args.tz),
        formats_dir=args.formats_dir,
        year=args.year,
        date=args.date,
        day_first=args.day_first,
        column_map=dict(v.split("=", 1) for v in args.column_map) if args.column_map else None,
        quiet=True if args.quiet else None,
        events_path=events_path,
        keep_events=keep_events,
    )


def print_account(events, out=sys.stdout) -> None:  # noqa: ANN001
    """Print the per-file account as a table, then rejections and warnings."""
    rows = events.account
    width = min(60, max((len(a.file) for a in rows), default=4))
    print(f"{'file':{width}}  {'format':20} {'sure':>5} {'lines':>10} {'events':>10} {'contin.':>8} {'rejected':>8}", file=out)
    for a in rows:
        name = a.file if len(a.file) <= width else "..." + a.file[-(width - 3):]
        print(f"{name:{width}}  {(a.format or '?'):20} {a.confidence:>5.0%} {a.lines:>10,} {a.events:>10,} {a.continuation_lines:>8,} {a.rejected:>8,}", file=out)
    for a in rows:
        notes = []
        if a.tz_assumed:
            notes.append(f"naive times read in {a.tz}")
        if a.zones_seen:
            notes.append("zones on lines: " + ", ".join(a.zones_seen))
        notes.extend(a.warnings)
        for reason, count in a.rejected_reasons.items():
            notes.append(f"rejected {count:,}: {reason}")
        for r in a.rejected_lines[:3]:
            notes.append(f"  line {r.line}: {r.text[:100]!r}")
        if notes:
            print(f"\n{a.file}:", file=out)
            for n in notes:
                print(f"  {n}", file=out)
    for n in events.notes:
        print(f"note: {n}", file=out)


_TEXT_OUTPUTS = {".csv", ".tsv", ".jsonl", ".ndjson", ".json"}


def write_events(events, path: str) -> None:  # noqa: ANN001
    """Write the event table as Parquet, CSV or JSON lines, by the file's extension."""
    target = Path(path)
    df = events.df
    suffix = target.suffix.lower()
    if suffix in {".csv", ".tsv"}:
        df.write_csv(target, separator="\t" if suffix == ".tsv" else ",")
    elif suffix in {".jsonl", ".ndjson", ".json"}:
        df.write_ndjson(target)
    else:
        # zstd at level 1: about as small as the default level and twice as fast to write.
        df.write_parquet(target, compression="zstd", compression_level=1)


def _cmd_read(args: argparse.Namespace) -> int:
    # A Parquet output is written block by block as the logs are read: memory stays bounded
    # whatever their size, at no cost in time. A CSV or JSON-lines output is written from memory.
    text_output = bool(args.events) and Path(args.events).suffix.lower() in _TEXT_OUTPUTS
    if args.stream and (not args.events or text_output):
        print("timeline read: --stream writes the event table to a Parquet file: name one with --events OUT.parquet", file=sys.stderr)
        return 2
    streamed = bool(args.events) and not text_output
    # With no table asked for, the events are counted as they are read and none is kept.
    events = read_from_args(args, events_path=args.events if streamed else None, keep_events=bool(args.events))
    print_account(events)
    print()
    print(events.summary())
    if args.events:
        if not streamed:
            write_events(events, args.events)
        print(f"events written to {args.events}")
    if args.report_json:
        Path(args.report_json).write_text(json.dumps(events.report(), indent=2, default=str))
        print(f"account written to {args.report_json}")
    return 0


def _cmd_formats(args: argparse.Namespace) -> int:
    from timeline.sources import load_specs

    specs = load_specs(args.formats_dir or [])
    for name, spec in sorted(specs.items()):
        print(f"{name:28} {spec.kind:9} {spec.description}")
    return 0


_OWN_COMMANDS = ("read", "formats")


def build_parser(features: bool = True) -> argparse.ArgumentParser:
    """The argument parser of the `timeline` command.

    ``features=False`` leaves out the subcommands that live beside their feature,
    so ``timeline read`` does not import reconstruction, templates and trends.
    """
    parser = argparse.ArgumentParser(prog="timeline", description="Reconstruct incidents from their evidence.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("read", help="read evidence into one event table and account for every line")
    _add_read_options(p)
    p.add_argument("--events", metavar="OUT", help="write the event table (.parquet, .csv, .jsonl)")
    p.add_argument(
        "--stream", action="store_true",
        help="insist that the event table is written block by block, never held in memory (what a Parquet "
        "--events output always gets): refuse a CSV or JSON-lines output, which is written from memory",
    )
    p.add_argument("--report-json", metavar="OUT", help="write the per-file account as JSON")
    p.set_defaults(func=_cmd_read)
    p = sub.add_parser("formats", help="list the known formats")
    p.add_argument("--formats-dir", action="append", metavar="DIR")
    p.set_defaults(func=_cmd_formats)
    for module_name in _FEATURE_COMMANDS if features else ():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `timeline` command."""
    words = list(sys.argv[1:] if argv is None else argv)
    _tune_allocator()
    own = bool(words) and words[0] in _OWN_COMMANDS
    parser = build_parser(features=not own)
    args = parser.parse_args(words)
    try:
        return int(args.func(args) or 0)
    except TimelineError as exc:
        print(f"timeline: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
