"""Reading-speed benchmark: ``timeline read`` beside lnav, a per-line baseline and ``cat``.

For each generated family (Python-logging text, JSON lines, PostgreSQL
stderr) it runs, in the same session and interleaved run by run, whole
processes with start-up included:

``timeline``
    ``timeline read FILE --format NAME --tz ZONE --events OUT.parquet --quiet``,
    every field extracted into the event table, written to Parquet block by
    block as the log is read.
``timeline_summary``
    The same read with no table written: the events counted per source and
    level block by block, none kept (messages not joined, attrs not encoded);
    the per-file account and the summary (time span, events by source and
    level) printed, as lnav prints its query's answer; the event count is read
    from ``--report-json``.
``lnav``
    Debian's lnav, headless, with the format files in ``bench/lnav/``
    installed (``lnav -i``) into a private config dir, running an SQL query
    that reads an extracted field on every row.
``baseline``
    ``bench/baseline_re.py``: a per-line Python ``re`` + ``strptime`` loop.
``cat``
    ``cat FILE > /dev/null``: the floor.

Each tool's wall time and peak RSS (``os.wait4`` on the child) are the
median over ``--runs`` runs.  Every tool's record count is checked against
the generator's ``manifest.json`` so that a fast tool that skipped lines
cannot win.  The table shows seconds, lines/s, MB/s, peak RSS and RSS as a
multiple of the input size, then timeline's speed against lnav's and the
baseline's, next to the targets.

Usage::

    python bench/run_read.py                       # bench/data, generating it if missing
    python bench/run_read.py --lines 100000        # a quick, smaller set
    python bench/run_read.py --json bench/out/read.json --runs 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import generate_logs  # noqa: E402

#: timeline's speed over lnav's that the issue asks for, per family.
TARGET_VS_LNAV = {"python_logging": 2.0, "postgres_stderr": 2.0, "jsonl": 6.0}
#: Peak RSS over input size that the issue allows timeline.
TARGET_RSS_X = 2.5

DEFAULT_FORMATS = {"python_logging": "python_logging", "postgres_stderr": "postgres_stderr",
                   "jsonl": "ecs_json"}
DEFAULT_TIMELINE_CMD = ("{timeline} read {file} --format {format} --tz {tz} "
                        "--events {events} --quiet")

#: lnav format table and the query per family: a count of every record plus
#: an aggregate over an extracted (non-builtin) field, so lnav must parse it.
LNAV_QUERIES = {
    "python_logging": ("bench_pylog",
                       "SELECT count(*) AS n, sum(logger = 'app.db.pool') AS hits, "
                       "max(log_level) AS top FROM bench_pylog"),
    "postgres_stderr": ("bench_pg_stderr",
                        "SELECT count(*) AS n, sum(db = 'shop') AS hits, "
                        "max(log_level) AS top FROM bench_pg_stderr"),
    "jsonl": ("bench_ecs_json",
              "SELECT count(*) AS n, sum(\"service.name\" = 'edge-proxy') AS hits, "
              "max(log_level) AS top FROM bench_ecs_json"),
}

TOOLS = ("timeline", "timeline_summary", "lnav", "baseline", "cat")
TIMELINE_TOOLS = ("timeline", "timeline_summary")
TIMED_OUT = -999
GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None


@dataclass
class Run:
    """One process run: wall seconds, peak RSS and what it printed."""

    seconds: float
    max_rss_bytes: int
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Result:
    """The median of a tool's runs on one file, and whether its counts were right."""

    family: str
    tool: str
    file: str
    lines: int
    bytes: int
    seconds: float = float("nan")
    runs_s: list[float] = field(default_factory=list)
    max_rss_mb: float = float("nan")
    lines_per_s: float = float("nan")
    mb_per_s: float = float("nan")
    rss_x_input: float = float("nan")
    records_expected: int | None = None
    records_found: int | None = None
    check: str = ""
    command: str = ""


def run_process(argv: list[str], env: dict[str, str] | None = None,
                stdout_to_devnull: bool = False, timeout: float | None = None) -> Run:
    """Run one child process to completion, measuring wall time and peak RSS.

    Linux carries a process's peak RSS across ``execve``, so a child forked
    from this (large) Python process would report at least this process's
    RSS.  The command therefore runs under GNU ``/usr/bin/time``, a small
    process whose child's ``ru_maxrss`` is the command's own; without it,
    ``os.wait4`` on the direct child is used and small peaks read high.

    Parameters
    ----------
    argv : list of str
        The command.
    env : dict, optional
        Environment for the child.
    stdout_to_devnull : bool
        Send stdout to ``/dev/null`` (for ``cat``) instead of a temp file.
    timeout : float, optional
        Kill the command (its whole process group) after this many seconds;
        the run then has return code ``TIMED_OUT``.

    Returns
    -------
    Run
        Wall seconds, peak RSS of the command (bytes), return code, output.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r", suffix=".time") as tfile:
        stdout = subprocess.DEVNULL if stdout_to_devnull else out
        full = [GNU_TIME, "-f", "%M", "-o", tfile.name, *argv] if GNU_TIME else argv
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=stdout, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        timer = None
        timed_out = []
        if timeout:
            def _kill() -> None:
                timed_out.append(True)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            timer = threading.Timer(timeout, _kill)
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        if timer is not None:
            timer.cancel()
        proc.returncode = TIMED_OUT if timed_out else os.waitstatus_to_exitcode(status)
        rss = usage.ru_maxrss * 1024
        if GNU_TIME:
            lines = [ln for ln in tfile.read().splitlines() if ln.strip()]
            rss = int(lines[-1]) * 1024 if lines and lines[-1].strip().isdigit() else -1
        out.seek(0)
        err.seek(0)
        return Run(seconds, rss, proc.returncode,
                   out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


def lnav_env(lnav: str) -> dict[str, str]:
    """Install ``bench/lnav/*.json`` into a private lnav config dir and return its env.

    lnav 0.11 keeps formats in ``$XDG_CONFIG_HOME/lnav/formats/installed/``;
    ``lnav -i`` validates each file (samples included) and copies it there.
    """
    cfg = Path(tempfile.mkdtemp(prefix="bench-lnav-"))
    env = dict(os.environ, XDG_CONFIG_HOME=str(cfg), HOME=str(cfg))
    files = sorted(str(p) for p in (BENCH / "lnav").glob("*.json"))
    proc = subprocess.run([lnav, "-i", *files], env=env, capture_output=True, text=True, check=False)
    installed = list((cfg / "lnav" / "formats" / "installed").glob("*.json"))
    if proc.returncode != 0 or len(installed) != len(files):
        msg = f"lnav -i failed to install {files} into {cfg}: rc={proc.returncode}\n{proc.stderr}"
        raise RuntimeError(msg)
    return env


def parse_lnav_count(stdout: str) -> int | None:
    """Return the ``n`` column from lnav's headless query output (a header, then a row)."""
    rows = [ln.split() for ln in stdout.splitlines() if ln.strip()]
    if len(rows) < 2 or not rows[1] or not rows[1][0].isdigit():
        return None
    return int(rows[1][0])


def parquet_rows(path: Path) -> int | None:
    """Return the number of rows in a parquet file, or None if it is missing."""
    if not path.exists():
        return None
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def ensure_data(data: Path, lines: int | None, seed: int) -> dict:
    """Return the manifest in ``data``, generating the files first if needed."""
    manifest_path = data / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if (lines is None or manifest["lines"] == lines) and manifest["seed"] == seed:
            return manifest
    n = lines or generate_logs.DEFAULT_LINES
    print(f"generating {n:,} lines per family into {data} ...", file=sys.stderr)
    generate_logs.generate(data, n, seed)
    return json.loads(manifest_path.read_text(encoding="utf-8"))


def expected_records(family: str, tool: str, stats: dict) -> int:
    """How many records a tool must report for a file.

    lnav counts every prefixed line (PostgreSQL DETAIL/HINT/... lines are
    messages of their own there); timeline and the baseline join those into
    their primary event.
    """
    if tool == "lnav":
        return int(stats["records"])
    return int(stats["events"])


def build_commands(family: str, path: Path, args: argparse.Namespace, events: Path,
                   lnav_env_: dict[str, str] | None) -> dict[str, tuple[list[str], dict | None, bool]]:
    """Return, per tool, (argv, env, stdout_to_devnull)."""
    cmds: dict[str, tuple[list[str], dict | None, bool]] = {}
    cmd = shlex.split(args.timeline_cmd.format(timeline=args.timeline, file=shlex.quote(str(path)),
                                               format=shlex.quote(args.format_names[family]),
                                               tz=shlex.quote(args.tz), events=shlex.quote(str(events))))
    # The repository root on PYTHONPATH, so `python -m timeline.cli` works uninstalled.
    pypath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    if "timeline" in args.tools:
        cmds["timeline"] = (cmd, dict(os.environ, PYTHONPATH=pypath), False)
    if "timeline_summary" in args.tools:
        # The same read with no table written: the account and the summary printed (time span,
        # events by source and level), the event count taken from the --report-json account.
        at = cmd.index("--events") if "--events" in cmd else None
        bare = cmd if at is None else cmd[:at] + cmd[at + 2:]
        cmds["timeline_summary"] = ([*bare, "--report-json", str(report_path(events))], dict(os.environ, PYTHONPATH=pypath), False)
    if "lnav" in args.tools and lnav_env_ is not None:
        _, query = LNAV_QUERIES[family]
        cmds["lnav"] = ([args.lnav, "-n", "-c", f";{query}", str(path)], lnav_env_, False)
    if "baseline" in args.tools:
        cmds["baseline"] = ([sys.executable, str(BENCH / "baseline_re.py"), family, str(path),
                             "--tz", args.tz], None, False)
    if "cat" in args.tools:
        cmds["cat"] = (["cat", str(path)], None, True)
    return cmds


def found_records(tool: str, run: Run, events: Path) -> int | None:
    """Read a tool's record count from its output."""
    if tool == "lnav":
        return parse_lnav_count(run.stdout)
    if tool == "baseline":
        try:
            return int(json.loads(run.stdout)["events"])
        except (ValueError, KeyError):
            return None
    if tool == "timeline_summary":
        try:
            return sum(int(a["events"]) for a in json.loads(report_path(events).read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            return None
    if tool in TIMELINE_TOOLS:
        return parquet_rows(events)
    return None


def report_path(events: Path) -> Path:
    """Where the summary-only timeline run writes its account."""
    return events.with_suffix(".report.json")


def bench_family(family: str, stats: dict, data: Path, args: argparse.Namespace,
                 lnav_env_: dict[str, str] | None) -> list[Result]:
    """Run every tool ``args.runs`` times on one family's file, interleaved, and take medians."""
    path = data / stats["file"]
    events = Path(tempfile.gettempdir()) / f"bench-read-{os.getpid()}-{family}.parquet"
    cmds = build_commands(family, path, args, events, lnav_env_)
    run_process(["cat", str(path)], stdout_to_devnull=True)  # warm the page cache
    runs: dict[str, list[Run]] = {t: [] for t in cmds}
    for i in range(args.runs):
        for tool, (argv, env, devnull) in cmds.items():
            if any(r.returncode == TIMED_OUT for r in runs[tool]):
                continue  # one timeout is enough: do not spend it again
            if tool in TIMELINE_TOOLS:  # the output this tool writes, so that a failed run cannot pass on an old one
                (report_path(events) if tool == "timeline_summary" else events).unlink(missing_ok=True)
            r = run_process(argv, env=env, stdout_to_devnull=devnull, timeout=args.timeout)
            runs[tool].append(r)
            flag = ("" if r.returncode == 0 else
                    f"  TIMED OUT after {args.timeout:.0f} s" if r.returncode == TIMED_OUT else f"  rc={r.returncode}")
            print(f"  {family:16} {tool:15} run {i + 1}/{args.runs}: {r.seconds:7.2f} s "
                  f"{r.max_rss_bytes / 2**20:8.0f} MB{flag}", file=sys.stderr)
            if r.returncode != 0:
                print(f"    stderr: {r.stderr.strip()[-800:]}", file=sys.stderr)
    results = []
    for tool, rs in runs.items():
        argv = cmds[tool][0]
        res = Result(family, tool, str(path), int(stats["lines"]), int(stats["bytes"]),
                     command=shlex.join(argv))
        ok = [r for r in rs if r.returncode == 0]
        if not ok and rs and rs[-1].returncode == TIMED_OUT:
            res.seconds = rs[-1].seconds
            res.runs_s = [round(rs[-1].seconds, 4)]
            res.lines_per_s = res.lines / res.seconds
            res.mb_per_s = res.bytes / 1e6 / res.seconds
            res.check = f"TIMED OUT after {args.timeout:.0f} s: seconds and speeds are bounds"
            results.append(res)
            continue
        if not ok:
            res.check = f"failed (rc={rs[-1].returncode}): {rs[-1].stderr.strip()[-300:]}"
            results.append(res)
            continue
        res.runs_s = [round(r.seconds, 4) for r in ok]
        res.seconds = statistics.median(r.seconds for r in ok)
        rss = statistics.median(r.max_rss_bytes for r in ok)
        res.max_rss_mb = rss / 2**20
        res.rss_x_input = rss / res.bytes
        res.lines_per_s = res.lines / res.seconds
        res.mb_per_s = res.bytes / 1e6 / res.seconds
        if tool != "cat":
            res.records_expected = expected_records(family, tool, stats)
            res.records_found = found_records(tool, ok[-1], events)
            res.check = ("ok" if res.records_found == res.records_expected
                         else f"MISMATCH: {res.records_found} records, expected {res.records_expected}")
        else:
            res.check = "ok"
        results.append(res)
    if events.exists() and not args.keep_events:
        events.unlink()
    report_path(events).unlink(missing_ok=True)
    return results


def ratios(results: list[Result]) -> dict[str, dict[str, float]]:
    """Timeline's speed over each other tool's, per family (seconds_other / seconds_timeline)."""
    out: dict[str, dict[str, float]] = {}
    for fam in dict.fromkeys(r.family for r in results):
        by = {r.tool: r for r in results if r.family == fam}
        for name in TIMELINE_TOOLS:
            tl = by.get(name)
            if tl is None or tl.seconds != tl.seconds:
                continue
            key = fam if name == "timeline" else f"{fam} (summary)"
            out[key] = {f"vs_{t}": by[t].seconds / tl.seconds for t in ("lnav", "baseline", "cat")
                        if t in by and by[t].seconds == by[t].seconds}
    return out


def print_table(results: list[Result], rat: dict[str, dict[str, float]]) -> None:
    """Print the result table and the ratios against the targets."""
    head = (f"{'family':16} {'tool':9} {'seconds':>8} {'lines/s':>11} {'MB/s':>8} "
            f"{'peak RSS MB':>11} {'RSS/input':>9}  check")
    print(head)
    print("-" * len(head))
    for r in results:
        print(f"{r.family:16} {r.tool:15} {r.seconds:8.2f} {r.lines_per_s:11,.0f} {r.mb_per_s:8.1f} "
              f"{r.max_rss_mb:11.0f} {r.rss_x_input:8.2f}x  {r.check}")
    print()
    print("speed ratios: timeline's speed over the other tool's (its seconds / timeline's); "
          "'<' marks a timeline run killed at --timeout")
    print(f"{'family':25} {'input MB':>8} {'tl/lnav':>8} {'target':>7} {'tl/baseline':>11} "
          f"{'tl/cat':>7} {'tl RSS/input':>12} {'target':>7}")
    for key, rr in rat.items():
        fam, _, mode = key.partition(" ")
        tool = "timeline_summary" if mode else "timeline"
        tl = next(r for r in results if r.family == fam and r.tool == tool)
        vs_lnav = rr.get("vs_lnav", float("nan"))
        tgt = TARGET_VS_LNAV.get(fam, float("nan"))
        mark = "" if vs_lnav != vs_lnav else (" ok" if vs_lnav >= tgt else " LOW")
        rss_mark = " ok" if tl.rss_x_input <= TARGET_RSS_X else " HIGH"
        if tl.check.startswith("TIMED OUT"):
            mark, rss_mark = " <", " ?"  # the run was killed: the ratios are upper bounds
        print(f"{key:25} {tl.bytes / 1e6:8.1f} {vs_lnav:7.2f}x {tgt:5.1f}x{mark:4} "
              f"{rr.get('vs_baseline', float('nan')):10.2f}x {rr.get('vs_cat', float('nan')):6.3f}x "
              f"{tl.rss_x_input:11.2f}x {TARGET_RSS_X:5.1f}x{rss_mark}")


def default_timeline() -> str:
    """The ``timeline`` script beside this interpreter or on PATH, else ``python -m timeline.cli``."""
    here = Path(sys.executable).with_name("timeline")
    if here.exists():
        return shlex.quote(str(here))
    found = shutil.which("timeline")
    return shlex.quote(found) if found else f"{shlex.quote(sys.executable)} -m timeline.cli"


def parse_format_names(items: list[str]) -> dict[str, str]:
    """Parse ``FAMILY=NAME`` overrides onto the default format names."""
    names = dict(DEFAULT_FORMATS)
    for item in items:
        fam, sep, name = item.partition("=")
        if not sep or fam not in names:
            msg = f"--format-name expects FAMILY=NAME with FAMILY one of {sorted(names)}, got {item!r}"
            raise SystemExit(msg)
        names[fam] = name
    return names


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    ap = argparse.ArgumentParser(description="Reading-speed benchmark for `timeline read`.")
    ap.add_argument("--data", type=Path, default=None,
                    help="folder with generated files (default bench/data, or bench/data/lines-N with --lines)")
    ap.add_argument("--lines", type=int, default=None, help="generate N lines per family if not there yet")
    ap.add_argument("--seed", type=int, default=generate_logs.DEFAULT_SEED)
    ap.add_argument("--runs", type=int, default=3, help="runs per tool; the median is reported (default 3)")
    ap.add_argument("--families", nargs="+", default=list(generate_logs.FAMILIES),
                    choices=generate_logs.FAMILIES)
    ap.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    ap.add_argument("--tz", default="America/Los_Angeles")
    ap.add_argument("--timeline", default=default_timeline(),
                    help="the timeline command (default: the script beside this Python, else python -m timeline.cli)")
    ap.add_argument("--timeline-cmd", default=DEFAULT_TIMELINE_CMD,
                    help="command template with {timeline} {file} {format} {tz} {events}")
    ap.add_argument("--format-name", action="append", default=[], metavar="FAMILY=NAME",
                    help="timeline format name per family (default: "
                         + ", ".join(f"{k}={v}" for k, v in DEFAULT_FORMATS.items()) + ")")
    ap.add_argument("--lnav", default=shutil.which("lnav") or "lnav")
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="kill a run after this many seconds and report a bound (default 600)")
    ap.add_argument("--json", type=Path, default=None, help="write all results here")
    ap.add_argument("--keep-events", action="store_true", help="keep timeline's parquet output")
    args = ap.parse_args(argv)
    args.format_names = parse_format_names(args.format_name)

    data = args.data or (generate_logs.DEFAULT_OUT if args.lines is None
                         else generate_logs.DEFAULT_OUT / f"lines-{args.lines}")
    manifest = ensure_data(data, args.lines, args.seed)

    lnav_env_ = None
    if "lnav" in args.tools:
        if shutil.which(args.lnav) is None:
            print("lnav not found (apt-get install lnav); skipping it", file=sys.stderr)
        else:
            lnav_env_ = lnav_env(args.lnav)
    lnav_version = (subprocess.run([args.lnav, "-V"], capture_output=True, text=True, check=False).stdout.strip()
                    if lnav_env_ else None)

    load_before = os.getloadavg()
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        print(f"warning: load average {load_before[0]:.1f} on {os.cpu_count()} CPUs: other work will skew "
              "the figures", file=sys.stderr)
    results: list[Result] = []
    for fam in args.families:
        if fam not in manifest["files"]:
            print(f"{fam}: not in {data / 'manifest.json'}; skipping", file=sys.stderr)
            continue
        results += bench_family(fam, manifest["files"][fam], data, args, lnav_env_)
    rat = ratios(results)
    load_after = os.getloadavg()
    print()
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{lnav_version or 'no lnav'}, medians of {args.runs} whole-process runs, page cache warm, "
          f"load average {load_before[0]:.1f} before and {load_after[0]:.1f} after")
    print_table(results, rat)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"cpus": os.cpu_count(), "python": platform.python_version(), "lnav": lnav_version,
                   "load_before": load_before, "load_after": load_after,
                   "runs": args.runs, "tz": args.tz, "data": str(data), "seed": manifest["seed"],
                   "results": [asdict(r) for r in results], "ratios": rat,
                   "targets": {"vs_lnav": TARGET_VS_LNAV, "rss_x_input": TARGET_RSS_X}}
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}", file=sys.stderr)
    bad = [r for r in results if r.check != "ok"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
