"""The format matrix: every shipped line-format family on the notebook path, beside lnav where lnav reads it.

One command reads one generated file per family (``generate_matrix.py``,
about a million lines each, generated on first use) as a user does in a
notebook: a whole Python process that imports timeline, calls
``tl.read(path, format=..., tz=...)`` and runs one group-by over an extracted
field (``notebook_path.py``). Where lnav 0.11 reads the family (its built-in
formats, or the format files in ``bench/lnav/``), lnav answers a query over
the same file in the same interleaved run (``lnav -n -c ';SELECT ...'``).

The table gives, per family: input MB, timeline's seconds and MB/s (medians
of ``--runs``), its peak RSS as a multiple of the input, the seconds spent in
the read and in the query, its speed per byte relative to the fastest text
family (the issue asks that none be more than 3x slower: ``SLOW`` marks it),
and lnav's seconds and the ratio lnav/timeline (above 1: timeline is faster).
Every run's events, rejected lines and first and last times are checked
against the generator's manifest; a wrong count or time fails the run.

Only ratios within one run mean anything on a shared machine; the table's
columns are stable, so two commits' tables can be compared side by side.

Usage::

    python bench/run_matrix.py                          # 1 M lines per family into bench/data/matrix
    python bench/run_matrix.py --lines 200000 --runs 1  # quicker
    python bench/run_matrix.py --families ecs_json zap_json --json bench/out/matrix.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import generate_matrix  # noqa: E402
from run_read import lnav_env, run_process  # noqa: E402

TZ = "America/Los_Angeles"

#: The extracted field each family's group-by reads: an event column, or a key of attrs.
FIELDS = {
    "python_logging": "col:service", "ecs_json": "attrs:$['log.logger']", "postgres_stderr": "attrs:$.db",
    "apache_access": "attrs:$.user", "apache_error": "col:service", "nginx_access": "attrs:$.method",
    "nginx_error": "attrs:$.server", "syslog_rfc3164": "col:service", "syslog_rfc5424": "attrs:$.msgid",
    "glog": "attrs:$.file", "log4j": "attrs:$.thread", "logfmt": "attrs:$.caller", "cri": "attrs:$.stream",
    "mysql_error": "attrs:$.err_code", "mariadb_error": "attrs:$.thread", "mysql_slow": "attrs:$.client_host",
    "bunyan_json": "attrs:$.name", "logrus_json": "attrs:$.component", "zap_json": "attrs:$.caller",
    "structlog_json": "attrs:$.logger", "pino_json": "attrs:$.hostname", "otel_json": "attrs:$.SeverityText",
    "docker_json": "attrs:$.stream", "postgres_jsonlog": "attrs:$.dbname", "postgres_csvlog": "attrs:$.database_name",
}

#: lnav's table for the family and a query over an extracted field where lnav has one. lnav's built-in
#: formats read some families only in part (``java_log`` a quarter of log4j's shapes, ``syslog_log``
#: no <PRI> prefix): the count it finds is shown, and the ratio is marked when it read fewer records.
LNAV = {
    "python_logging": ("bench_pylog", "sum(logger = 'app.db.pool')"),
    "ecs_json": ("bench_ecs_json", "sum(\"service.name\" = 'edge-proxy')"),
    "postgres_stderr": ("bench_pg_stderr", "sum(db = 'shop')"),
    "apache_access": ("access_log", "sum(cs_method = 'POST')"),
    "nginx_access": ("access_log", "sum(cs_method = 'POST')"),
    "apache_error": ("error_log", "count(log_level)"),
    "syslog_rfc5424": ("syslog_log", "sum(log_procname = 'auth')"),
    "syslog_rfc3164": ("syslog_log", "sum(log_procname = 'sshd')"),
    "glog_log": ("glog_log", "count(log_level)"),
    "glog": ("glog_log", "count(log_level)"),
    "log4j": ("java_log", "count(log_level)"),
    "logfmt": ("logfmt_log", "count(log_level)"),
}
#: Families read by a regex over text lines: the fastest of these per byte is the matrix's yardstick.
TEXT = ("python_logging", "postgres_stderr", "apache_access", "apache_error", "nginx_access", "nginx_error",
        "syslog_rfc3164", "syslog_rfc5424", "glog", "log4j", "logfmt", "cri", "mysql_error", "mariadb_error", "mysql_slow")
SLOW_LIMIT = 3.0


def ensure(data: Path, lines: int, families: list[str]) -> dict:
    manifest_path = data / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"families": {}}
    missing = [f for f in families if f not in manifest["families"] or manifest.get("lines") != lines
               or not (data / manifest["families"][f]["file"]).exists()]
    if missing:
        print(f"generating {len(missing)} families of {lines:,} lines into {data} ...", file=sys.stderr, flush=True)
        generate_matrix.main(["--lines", str(lines), "--out", str(data), "--families", *missing])
        manifest = json.loads(manifest_path.read_text())
    return manifest


def check(info: dict, out: dict) -> str:
    """'' when the read found every record with the right first and last time; else what is wrong."""
    problems = []
    if out.get("events") != info["records"]:
        problems.append(f"events {out.get('events')} != {info['records']}")
    if out.get("rejected"):
        problems.append(f"{out['rejected']} rejected")
    if out.get("null_ts"):
        problems.append(f"{out['null_ts']} without a time")
    for key in ("first_ts", "last_ts"):
        want, got = info.get(key), out.get(key)
        if want and got and abs((datetime.fromisoformat(got) - datetime.fromisoformat(want)).total_seconds()) > 1.0:
            problems.append(f"{key} {got} != {want}")
    return "; ".join(problems)


def lnav_count(stdout: str) -> int | None:
    rows = [ln.split() for ln in stdout.strip().splitlines()]
    try:
        return int(rows[1][0])
    except (IndexError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, default=None, help="default: bench/data/matrix (or matrix-N for other sizes)")
    ap.add_argument("--families", nargs="*", default=None)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-lnav", action="store_true")
    ap.add_argument("--lnav", default=shutil.which("lnav") or "lnav")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    families = args.families or [*generate_matrix.FROM_READ_BENCH, *generate_matrix.GENERATORS]
    data = args.data or BENCH / "data" / ("matrix" if args.lines == 1_000_000 else f"matrix-{args.lines}")
    manifest = ensure(data, args.lines, families)
    env_lnav = None
    if not args.no_lnav and shutil.which(args.lnav):
        env_lnav = lnav_env(args.lnav)
    elif not args.no_lnav:
        print("lnav not found (apt-get install lnav): timeline only", file=sys.stderr)
    load_before = tuple(round(x, 1) for x in os.getloadavg())
    runs: dict[str, dict[str, list]] = {f: {"tl": [], "lnav": [], "out": []} for f in families}
    failures = []
    for run in range(args.runs):
        for fam in families:
            info = manifest["families"][fam]
            path = data / info["file"]
            argv_tl = [sys.executable, str(BENCH / "notebook_path.py"), str(path), info["format"], TZ, FIELDS[fam]]
            r = run_process(argv_tl, timeout=args.timeout)
            out = {}
            if r.returncode == 0:
                try:
                    out = json.loads(r.stdout.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    out = {}
            problem = check(info, out) if r.returncode == 0 else f"rc={r.returncode}: {r.stderr.strip()[-300:]}"
            if problem:
                failures.append(f"{fam} run {run + 1}: {problem}")
            runs[fam]["tl"].append(r)
            runs[fam]["out"].append(out)
            if env_lnav is not None and fam in LNAV:
                table, agg = LNAV[fam]
                query = f";SELECT count(*) AS n, {agg} AS hits, max(log_level) AS top FROM {table}"
                runs[fam]["lnav"].append(run_process([args.lnav, "-n", "-c", query, str(path)], env=env_lnav, timeout=args.timeout))
            print(f"  run {run + 1} {fam:17} timeline {r.seconds:6.2f} s"
                  + (f"  lnav {runs[fam]['lnav'][-1].seconds:6.2f} s" if runs[fam]["lnav"] else "")
                  + (f"  PROBLEM {problem}" if problem else ""), file=sys.stderr, flush=True)
    load_after = tuple(round(x, 1) for x in os.getloadavg())
    rows = []
    for fam in families:
        info = manifest["families"][fam]
        tl_s = statistics.median(r.seconds for r in runs[fam]["tl"])
        rss = statistics.median(r.max_rss_bytes for r in runs[fam]["tl"])
        outs = [o for o in runs[fam]["out"] if o]
        read_s = statistics.median(o["read_s"] for o in outs) if outs else float("nan")
        query_s = statistics.median(o["query_s"] for o in outs) if outs else float("nan")
        row = {"family": fam, "kind": "text" if fam in TEXT else "json/csv", "mb": info["bytes"] / 1e6,
               "lines": info["lines"], "records": info["records"], "tl_s": tl_s, "mb_s": info["bytes"] / 1e6 / tl_s,
               "rss_x": rss / info["bytes"], "read_s": read_s, "query_s": query_s}
        if runs[fam]["lnav"]:
            ln_s = statistics.median(r.seconds for r in runs[fam]["lnav"])
            found = lnav_count(runs[fam]["lnav"][-1].stdout)
            row |= {"lnav_s": ln_s, "lnav_records": found, "vs_lnav": ln_s / tl_s}
        rows.append(row)
    fastest_text = max((r["mb_s"] for r in rows if r["kind"] == "text"), default=float("nan"))
    print()
    print(f"format matrix: {args.lines:,} lines per family, medians of {args.runs} whole-process runs "
          f"(import, tl.read(path, format, tz='{TZ}'), one group-by), {os.cpu_count()} CPUs, "
          f"load {load_before} -> {load_after}")
    header = (f"{'family':17} {'kind':8} {'MB':>6} {'tl s':>6} {'MB/s':>6} {'xfast':>6} {'RSS x':>6} "
              f"{'read s':>6} {'query s':>7} {'lnav s':>7} {'lnav/tl':>8}  note")
    print(header)
    print("-" * len(header))
    for row in rows:
        slower = fastest_text / row["mb_s"]
        note = []
        if slower > SLOW_LIMIT:
            note.append("SLOW")
        vs = row.get("vs_lnav")
        if vs is not None and row.get("lnav_records") is None:
            note.append("lnav printed no count: its query failed, the ratio means nothing")
        elif vs is not None and row.get("lnav_records") != row["records"]:
            note.append(f"lnav read {row['lnav_records']:,} of {row['records']:,} records")
        print(f"{row['family']:17} {row['kind']:8} {row['mb']:6.0f} {row['tl_s']:6.2f} {row['mb_s']:6.1f} {slower:5.1f}x "
              f"{row['rss_x']:5.2f}x {row['read_s']:6.2f} {row['query_s']:7.3f} "
              + (f"{row['lnav_s']:7.2f} {vs:7.2f}x" if vs is not None else f"{'-':>7} {'-':>8}")
              + ("  " + "; ".join(note) if note else ""))
        row["x_slower_than_fastest_text"] = slower
    if failures:
        print("\nFAILED checks:")
        for f in failures:
            print("  " + f)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        lnav_v = subprocess.run([args.lnav, "-V"], capture_output=True, text=True, check=False).stdout.strip() if env_lnav else None
        args.json.write_text(json.dumps({"lines": args.lines, "runs": args.runs, "lnav": lnav_v, "load": [load_before, load_after],
                                         "rows": rows, "failures": failures}, indent=1) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
