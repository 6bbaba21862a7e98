"""How well `timeline read` reads a folder of real logs it was not written for.

    .venv/bin/python bench/corpus.py /path/to/folder [--json OUT] [--quiet]

Every file under the folder (dotfiles and ``*-expected.json`` files aside) is
read on its own, as a user would read it, and the script prints per file:
the format chosen (``generic*`` when the last-resort reader took it), lines,
events, rejected lines, the first and last time, and, where the folder says
how many records the file's own source expects, that number. Then the totals:
files read with nothing rejected, files with no event at all, files that fell
back to the generic reader, and expected-record matches.

Expected records are taken, when present, from:

- a ``.counts`` file in a folder: lines ``NAME RECORDS``;
- a ``NAME-expected.json`` beside a log (Filebeat's module tests): a JSON
  array whose length is the number of records.

Fetched logs are reference material: keep the folder outside the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import timeline as tl

try:
    from timeline.sources._zones import NaiveTimeWarning
except ImportError:  # an older timeline (measuring before and after), which warns of nothing
    NaiveTimeWarning = UserWarning  # noqa: N806


def _expected(folder: Path) -> dict[Path, int]:
    out: dict[Path, int] = {}
    for counts in folder.rglob(".counts"):
        for line in counts.read_text().splitlines():
            name, _, n = line.rpartition(" ")
            if name and n.isdigit():
                out[(counts.parent / name).resolve()] = int(n)
    for exp in folder.rglob("*-expected.json"):
        try:
            data = json.loads(exp.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, list):
            out[exp.with_name(exp.name[: -len("-expected.json")]).resolve()] = len(data)
    return out


def _files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and not p.name.endswith("-expected.json")
    )


def main(argv: list[str] | None = None) -> int:
    warnings.simplefilter("ignore", NaiveTimeWarning)  # the naive files are counted, not warned about one by one
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--json", metavar="OUT", help="save the per-file rows and the totals")
    parser.add_argument("--quiet", action="store_true", help="totals only")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    expected = _expected(folder)
    rows = []
    started = time.perf_counter()
    for path in _files(folder):
        row: dict = {"file": str(path.relative_to(folder)), "expected": expected.get(path.resolve())}
        try:
            events = tl.read(path, quiet=True)
            a = events.account[0]
            row.update(
                format=a.format, generic=bool(getattr(a, "generic", False)) or (a.format or "").startswith("generic"),
                lines=a.lines, events=a.events, rejected=a.rejected, first=a.first_ts, last=a.last_ts,
                naive=a.tz_assumed, error=None,
            )
        except Exception as exc:  # noqa: BLE001 - a file the reader fails on is a result here
            row.update(format=None, generic=False, lines=0, events=0, rejected=0, first=None, last=None, naive=False,
                       error=f"{type(exc).__name__}: {exc}"[:200])
        row["clean"] = row["error"] is None and row["events"] > 0 and row["rejected"] == 0
        rows.append(row)
    elapsed = time.perf_counter() - started
    if not args.quiet:
        print(f"{'file':58} {'format':22} {'lines':>6} {'events':>6} {'expect':>6} {'rej':>5}  first .. last")
        for r in rows:
            exp = "" if r["expected"] is None else str(r["expected"])
            fmt = (r["format"] or ("ERROR" if r["error"] else "-"))[:22]
            print(f"{r['file'][-58:]:58} {fmt:22} {r['lines']:>6} {r['events']:>6} {exp:>6} {r['rejected']:>5}  "
                  f"{(r['first'] or '')[:19]} .. {(r['last'] or '')[:19]}" + (f"  {r['error']}" if r["error"] else ""))
    with_exp = [r for r in rows if r["expected"] is not None]
    totals = {
        "files": len(rows),
        "clean": sum(r["clean"] for r in rows),
        "some_rejected": sum(r["rejected"] > 0 and r["events"] > 0 for r in rows),
        "no_event": sum(r["events"] == 0 for r in rows),
        "errors": sum(r["error"] is not None for r in rows),
        "generic": sum(r["generic"] for r in rows),
        "lines": sum(r["lines"] for r in rows),
        "rejected_lines": sum(r["rejected"] for r in rows),
        "with_expected": len(with_exp),
        "expected_match": sum(r["events"] == r["expected"] for r in with_exp),
        "seconds": round(elapsed, 2),
    }
    print(
        f"\n{totals['files']} files: {totals['clean']} read with nothing rejected, {totals['some_rejected']} with some lines rejected, "
        f"{totals['no_event']} with no event ({totals['errors']} errors); {totals['generic']} by the generic reader; "
        f"{totals['rejected_lines']:,} of {totals['lines']:,} lines rejected; "
        f"events = expected records in {totals['expected_match']} of {totals['with_expected']} files; {totals['seconds']} s"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "totals": totals}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
