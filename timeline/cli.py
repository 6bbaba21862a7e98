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
    import warnings

    if getattr(args, "engine", "polars") != "polars":
        from timeline.engines import read_from_args as read_on_engine

        return read_on_engine(args, events_path)
    from timeline.sources import read
    from timeline.sources._zones import NaiveTimeWarning

    # The commands print the naive-time warning themselves, in their own place.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NaiveTimeWarning)
        return _read(read, args, events_path, keep_events)


def _read(read, args: argparse.Namespace, events_path: str | None, keep_events: bool):  # noqa: ANN001, ANN202
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


def print_account(events, out=None) -> None:  # noqa: ANN001
    """Print the per-file account as a table, then rejections and warnings (on stdout by default)."""
    out = out or sys.stdout
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
EVENT_OUTPUTS = (".parquet", ".csv", ".tsv", ".jsonl", ".ndjson", ".json")
"""What ``--events`` can write, by the file's extension (``-`` writes JSON lines to stdout)."""


class UsageError(TimelineError):
    """A command-line argument cannot be used as given (reported in one line, exit status 2)."""


def check_output(path: str | None, option: str, allowed: Sequence[str], *, stdout: bool = True) -> None:
    """Refuse an output whose extension says another format, or ``-`` where no text can be written."""
    if path is None:
        return
    if path == "-":
        if not stdout:
            msg = f"{option} -: this output cannot go to stdout; name a file ({', '.join(allowed)})"
            raise UsageError(msg)
        return
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        msg = (f"{option} {path}: cannot tell the format from {suffix or 'a name without an extension'}; "
               f"name the file with one of {', '.join(allowed)}" + (", or - for stdout" if stdout else ""))
        raise UsageError(msg)
    parent = Path(path).parent
    if parent.exists() and not parent.is_dir():
        msg = f"{option} {path}: {parent} is not a folder"
        raise UsageError(msg)


def write_text(path: str, text: str) -> None:
    """Write text to a file (its folder made as needed), or to stdout for ``-``."""
    if path == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def check_zones(values: list[str] | None, option: str = "--tz") -> None:
    """Check ``--tz [GLOB=]ZONE`` values before anything is read, with the closest zone for a misspelt one."""
    import difflib
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    for v in values or []:
        zone = v.rpartition("=")[2]
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            names = sorted(available_timezones())
            close = difflib.get_close_matches(zone, names, n=1, cutoff=0.6)
            if not close:
                tail = [n for n in names if n.lower().endswith("/" + zone.lower()) or n.lower() == zone.lower()]
                close = tail[:1]
            hint = f"; did you mean {close[0]!r}?" if close else "; expected an IANA name such as 'America/Los_Angeles' or 'UTC'"
            msg = f"{option} {v}: unknown time zone {zone!r}{hint}"
            raise UsageError(msg) from None


def check_paths(paths: list[str]) -> None:
    """Refuse a path that names nothing (a glob with no match, a missing file) before reading anything."""
    import glob as _glob

    for p in paths:
        if Path(p).exists():
            continue
        if any(ch in p for ch in "*?[") and _glob.glob(p, recursive=True):
            continue
        msg = f"{p}: no such file or folder" + ("; the glob matches nothing" if any(ch in p for ch in "*?[") else "")
        raise UsageError(msg)


def check_read_args(args: argparse.Namespace) -> None:
    """The checks every command that reads evidence makes before reading it."""
    check_paths(args.paths)
    check_zones(args.tz)
    if args.date is not None:
        import datetime as _dt

        try:
            _dt.date.fromisoformat(args.date)
        except ValueError:
            msg = f"--date {args.date}: expected a date as YYYY-MM-DD, e.g. 2024-08-12"
            raise UsageError(msg) from None


def check_nothing_read(events, paths: Sequence[str] = ()) -> None:  # noqa: ANN001
    """Fail when there was nothing to read or every line was rejected (after the account is printed)."""
    if not events.account:
        msg = "no evidence files found in " + (", ".join(paths) or "the paths given") + (
            " (" + "; ".join(events.notes[:3]) + ")" if events.notes else "")
        raise UsageError(msg)
    lines = sum(a.lines for a in events.account)
    if len(events) == 0 and lines and events.rejected >= lines - sum(a.blank + a.continuation_lines for a in events.account):
        msg = f"every line was rejected ({events.rejected:,} of {lines:,}): no events read; see the reasons above, or name the format with --format"
        raise UsageError(msg)


def write_events(events, path: str) -> None:  # noqa: ANN001
    """Write the event table as Parquet, CSV or JSON lines, by the file's extension (``-``: JSON lines on stdout)."""
    df = events.df
    if path == "-":
        sys.stdout.write(df.write_ndjson())
        sys.stdout.flush()
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = target.suffix.lower()
    if suffix in {".csv", ".tsv"}:
        df.write_csv(target, separator="\t" if suffix == ".tsv" else ",")
    elif suffix in {".jsonl", ".ndjson", ".json"}:
        df.write_ndjson(target)
    else:
        # zstd at level 1: about as small as the default level and twice as fast to write.
        df.write_parquet(target, compression="zstd", compression_level=1)


def _cmd_read(args: argparse.Namespace) -> int:
    check_read_args(args)
    check_output(args.events, "--events", EVENT_OUTPUTS)
    check_output(args.report_json, "--report-json", (".json",))
    # A Parquet output is written block by block as the logs are read: memory stays bounded
    # whatever their size, at no cost in time. A CSV or JSON-lines output is written from memory.
    text_output = bool(args.events) and (args.events == "-" or Path(args.events).suffix.lower() in _TEXT_OUTPUTS)
    if args.stream and (not args.events or text_output):
        msg = "--stream writes the event table to a Parquet file as it is read: name one with --events OUT.parquet"
        raise UsageError(msg)
    streamed = bool(args.events) and not text_output
    if streamed:
        Path(args.events).parent.mkdir(parents=True, exist_ok=True)
    # With no table asked for, the events are counted as they are read and none is kept.
    events = read_from_args(args, events_path=args.events if streamed else None, keep_events=bool(args.events))
    # With the events on stdout, the account goes to stderr.
    info = sys.stderr if "-" in (args.events, args.report_json) else sys.stdout
    print_account(events, out=info)
    print(file=info)
    print(events.summary(), file=info)
    warning = events.zone_warning
    if warning:
        print("\n" + warning, file=info)
    check_nothing_read(events, args.paths)
    empty = [a.file for a in events.account if a.events == 0]
    if args.events:
        if not streamed:
            write_events(events, args.events)
        if args.events != "-":
            print(f"events written to {args.events}", file=info)
    if args.report_json:
        write_text(args.report_json, json.dumps(events.report(), indent=2, default=str))
        if args.report_json != "-":
            print(f"account written to {args.report_json}", file=info)
    if empty:
        print(f"timeline read: no event read from {len(empty)} file(s): {', '.join(empty[:10])}", file=sys.stderr)
        return 1
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
    from timeline import __version__

    parser = argparse.ArgumentParser(
        prog="timeline", description="Reconstruct incidents from their evidence.",
        epilog="Run 'timeline COMMAND --help' for a command's options; the README's quick start shows a whole run.",
    )
    parser.add_argument("--version", action="version", version=f"timeline {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("read", help="read evidence into one event table and account for every line")
    _add_read_options(p)
    p.add_argument("--events", metavar="OUT", help="write the event table: .parquet, .csv, .tsv or .jsonl by the name's extension; - for JSON lines on stdout")
    p.add_argument(
        "--stream", action="store_true",
        help="insist that the event table is written block by block, never held in memory (what a Parquet "
        "--events output always gets): refuse a CSV or JSON-lines output, which is written from memory",
    )
    p.add_argument("--report-json", metavar="OUT", help="write the per-file account as JSON (- for stdout)")
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


_PYTHON_WORDS = (
    ("pass window=(start, end)", "pass --window START END"),
    ("window=(start, end)", "--window START END"),
    ("name one with format=", "name one with --format NAME"),
    ("(pass date= to set it)", "(pass --date YYYY-MM-DD to set it)"),
    ("keep_events=False", "no --events"),
)


def cli_words(message: str) -> str:
    """An error written for Python callers, in the command's own words (options, not keyword arguments)."""
    for py, cli in _PYTHON_WORDS:
        message = message.replace(py, cli)
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `timeline` command.

    A user's mistake (a bad option, a missing file, evidence that cannot be read)
    is one line on stderr naming the argument and the fix, and exit status 2;
    never a traceback.
    """
    words = list(sys.argv[1:] if argv is None else argv)
    _tune_allocator()
    own = bool(words) and words[0] in _OWN_COMMANDS
    parser = build_parser(features=not own)
    args = parser.parse_args(words)
    try:
        return int(args.func(args) or 0)
    except TimelineError as exc:
        print(f"timeline {args.command}: error: {cli_words(str(exc))}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError, NotADirectoryError) as exc:
        name = exc.filename or ""
        why = {FileNotFoundError: "no such file or folder", IsADirectoryError: "is a folder, expected a file",
               PermissionError: "permission denied", NotADirectoryError: "a part of the path is not a folder"}[type(exc)]
        print(f"timeline {args.command}: error: {name}: {why}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print(f"timeline {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
