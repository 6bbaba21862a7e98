"""A day reconstructed: ``timeline reconstruct`` on a busy day of 1 M to 10 M events with an outage inside.

For each size, ``generate_day.py`` writes the day (the sample outage among
several busy services, see its docstring) and a slice of it (12:00-18:00 PDT).
The benchmark runs ``timeline reconstruct day --tz America/Los_Angeles --json``
as a whole process (wall time and peak RSS, medians of ``--runs``), then the
same on the slice, and checks that the incident found in the whole day is the
one found in the slice: the same window, milestones (time and confidence),
mitigation attempts and earliest machine signal. The table shows how time and
memory grow with the day (per million events: flat means linear growth).

``--phases`` also times, in one process per size, where the time goes:
reading the files into the event table, and reconstructing from it; with
``--profile OUT`` a cProfile of that process is written for the largest size.

Usage::

    python bench/run_reconstruct.py                              # 1 M, 2 M, 5 M, 10 M events
    python bench/run_reconstruct.py --sizes 1000000 --runs 1 --phases
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import generate_day  # noqa: E402
from run_read import run_process  # noqa: E402

TZ = "America/Los_Angeles"
PHASES = r"""
import json, sys, time, cProfile, pstats
t0 = time.perf_counter()
import timeline as tl
from timeline.reconstruct import reconstruct
path, tz, prof = sys.argv[1], sys.argv[2], sys.argv[3]
p = cProfile.Profile() if prof else None
if p: p.enable()
t1 = time.perf_counter()
events = tl.read(path, tz=tz, quiet=True)
n = len(events)
t2 = time.perf_counter()
incident = reconstruct(events, tz=tz)
t3 = time.perf_counter()
if p:
    p.disable()
    pstats.Stats(p).sort_stats("cumulative").dump_stats(prof)
print(json.dumps({"events": n, "import_s": t1 - t0, "read_s": t2 - t1, "reconstruct_s": t3 - t2}))
"""


def timeline_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("timeline")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "timeline.cli"]


def summary(path: Path) -> dict:
    """What must be equal between the day and its slice."""
    d = json.loads(path.read_text())
    return {
        "window": d["incident"]["window"],
        "milestones": {k: (v or {}).get("at") and [v["at"], v.get("confidence")] for k, v in d["milestones"].items()},
        "attempts": [[a["at"], a["action"], a["effective"]] for a in d["mitigation_attempts"]],
        "earliest_machine_signal": (d.get("earliest_machine_signal") or {}).get("at"),
    }


def ensure(data: Path, events: int) -> dict:
    out = data / f"day-{events}"
    info_path = out / "day.json"
    if not info_path.exists():
        print(f"generating a day of {events:,} events into {out} ...", file=sys.stderr, flush=True)
        generate_day.generate(out, events, 20240812, with_slice=True)
    return json.loads(info_path.read_text())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 2_000_000, 5_000_000, 10_000_000])
    ap.add_argument("--data", type=Path, default=BENCH / "data" / "day")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--phases", action="store_true", help="also time read and reconstruct separately, in process")
    ap.add_argument("--profile", type=Path, default=None, help="cProfile of the largest size's phases run")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    rows = []
    failures = []
    for size in args.sizes:
        info = ensure(args.data, size)
        folder = args.data / f"day-{size}"
        with tempfile.TemporaryDirectory() as tmp:
            day_json, slice_json = Path(tmp) / "day.json", Path(tmp) / "slice.json"
            day_runs = []
            for _ in range(args.runs):
                r = run_process([*timeline_cmd(), "reconstruct", str(folder / "day"), "--tz", TZ, "--json", str(day_json), "-q"],
                                timeout=args.timeout)
                if r.returncode != 0:
                    failures.append(f"{size}: reconstruct failed rc={r.returncode}: {r.stderr[-400:]}")
                day_runs.append(r)
            s = run_process([*timeline_cmd(), "reconstruct", str(folder / "slice"), "--tz", TZ, "--json", str(slice_json), "-q"],
                            timeout=args.timeout)
            same = day_json.exists() and slice_json.exists() and summary(day_json) == summary(slice_json)
            if not same:
                failures.append(f"{size}: the day's incident differs from the slice's")
                if day_json.exists() and slice_json.exists():
                    print(json.dumps({"day": summary(day_json), "slice": summary(slice_json)}, indent=1), file=sys.stderr)
        seconds = statistics.median(r.seconds for r in day_runs)
        rss = statistics.median(r.max_rss_bytes for r in day_runs)
        row = {"events": info["events"], "bytes": sum(f.stat().st_size for f in (folder / "day").rglob("*") if f.is_file()),
               "seconds": seconds, "peak_rss_mb": rss / 2**20, "slice_seconds": s.seconds, "same_incident": same}
        if args.phases:
            prof = str(args.profile) if args.profile and size == max(args.sizes) else ""
            p = subprocess.run([sys.executable, "-c", PHASES, str(folder / "day"), TZ, prof], capture_output=True, text=True, check=False)
            if p.returncode == 0:
                row |= json.loads(p.stdout.strip().splitlines()[-1])
            else:
                failures.append(f"{size}: phases run failed: {p.stderr[-400:]}")
        rows.append(row)
        print(f"  {size:>10,} events: {seconds:6.1f} s, peak {rss / 2**20:7.0f} MB, slice {s.seconds:5.1f} s, same incident: {same}",
              file=sys.stderr, flush=True)
    base = rows[0]
    print()
    print(f"timeline reconstruct on a busy day with an outage (whole process, median of {args.runs}), "
          f"{os.cpu_count()} CPUs, load {tuple(round(x, 1) for x in os.getloadavg())}")
    header = (f"{'events':>11} {'MB':>6} {'seconds':>8} {'s/M ev':>7} {'peak MB':>8} {'MB/M ev':>8} "
              f"{'time x':>7} {'rss x':>6} {'read s':>7} {'recon s':>8} {'same incident':>13}")
    print(header)
    print("-" * len(header))
    for row in rows:
        m = row["events"] / 1e6
        print(f"{row['events']:>11,} {row['bytes'] / 1e6:6.0f} {row['seconds']:8.1f} {row['seconds'] / m:7.2f} "
              f"{row['peak_rss_mb']:8.0f} {row['peak_rss_mb'] / m:8.0f} {row['seconds'] / base['seconds']:6.1f}x "
              f"{row['peak_rss_mb'] / base['peak_rss_mb']:5.1f}x "
              f"{row.get('read_s', float('nan')):7.1f} {row.get('reconstruct_s', float('nan')):8.1f} {str(row['same_incident']):>13}")
    if failures:
        print("\nFAILED:")
        for f in failures:
            print("  " + f)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"rows": rows, "failures": failures}, indent=1) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
