"""Spark local mode beside polars on a large many-files incident: read, reduce, reconstruct.

Generates (once, into ``bench/data/spark-<lines>/``, git-ignored) an outage seen
by many hosts' logs with :mod:`spark_incident`, then times, interleaved run by
run so both engines see the same machine load:

* **polars**: ``tl.read(folder)`` then ``tl.reconstruct``;
* **spark**: ``tl.read(folder, engine="spark")`` (parsing in Spark's workers),
  ``for_reconstruct()`` (the reduce pass and the time-window filter on Spark,
  then collected), then ``tl.reconstruct`` on what came back;
* the **reduce pass alone** (``timeline.reduce.reduce``, one narwhals code) on
  the polars table in memory and on the cached Spark table.

The Spark session's start-up is timed apart (paid once per notebook or
cluster job). Both engines must give the same incident JSON, or the run fails.
Results are ratios against polars from the same run.

Usage::

    python bench/spark_bench.py --hosts 24 --hours 8 --rate 1.5 --runs 2 --master 'local[2]'
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TZ = "America/Los_Angeles"


def _generator():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("spark_incident", HERE / "spark_incident.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=24)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=1.5, help="requests per second per host")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--collect-limit", type=int, default=None, help="Spark: collect whole tables up to this many events")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)

    import polars as pl

    import timeline as tl
    from timeline.engines import spark as on_spark
    from timeline.reduce import reduce_polars

    folder = HERE / "data" / f"spark-h{args.hosts}-t{args.hours:g}-r{args.rate:g}"
    if not (folder / "made.json").exists():
        t = time.perf_counter()
        made = _generator().generate(folder, hosts=args.hosts, hours=args.hours, rate=args.rate)
        (folder / "made.json").write_text(json.dumps(made))
        print(f"generated {made['lines']:,} lines in {made['files']} files in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    made = json.loads((folder / "made.json").read_text())
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.name != "made.json")
    inputs = [p for p in folder.iterdir() if p.name != "made.json"]

    t = time.perf_counter()
    spark = on_spark.session(args.master)
    spark.range(1).count()
    startup = time.perf_counter() - t

    keys = ("polars", "spark", "polars_read", "spark_read", "spark_window", "polars_reconstruct", "spark_reconstruct", "reduce_polars", "reduce_spark")
    times: dict[str, list[float]] = {k: [] for k in keys}
    out_json: dict[str, str] = {}
    events = collected = 0
    for run in range(args.runs):
        t = time.perf_counter()
        table = tl.read(inputs, tz=TZ, quiet=True)
        times["polars_read"].append(time.perf_counter() - t)
        incident = tl.reconstruct(table, tz=TZ)
        times["polars"].append(time.perf_counter() - t)
        times["polars_reconstruct"].append(times["polars"][-1] - times["polars_read"][-1])
        out_json["polars"] = incident.to_json()
        events = len(table)
        t = time.perf_counter()
        reduce_polars(table.df, "1m")
        times["reduce_polars"].append(time.perf_counter() - t)
        del table

        t = time.perf_counter()
        stable = tl.read(inputs, tz=TZ, engine="spark", spark=spark)
        n = len(stable)
        t_read = time.perf_counter() - t
        sub = stable.for_reconstruct(collect_limit=args.collect_limit)
        collected = sub.df.height
        t_window = time.perf_counter() - t - t_read
        incident = tl.reconstruct(sub, tz=TZ)
        times["spark"].append(time.perf_counter() - t)
        times["spark_reconstruct"].append(times["spark"][-1] - t_read - t_window)
        times["spark_read"].append(t_read)
        times["spark_window"].append(t_window)
        out_json["spark"] = incident.to_json()
        assert n == events, (n, events)
        t = time.perf_counter()
        stable.reduce("1m")
        times["reduce_spark"].append(time.perf_counter() - t)
        # Spark would find the next run's parse in its cache (the same plan): start every run cold.
        spark.catalog.clearCache()
        print(f"run {run + 1}: polars {times['polars'][-1]:.1f} s (read {times['polars_read'][-1]:.1f}), spark {times['spark'][-1]:.1f} s "
              f"(read {t_read:.1f}, window+collect {t_window:.1f}); reduce polars {times['reduce_polars'][-1]:.2f} s, "
              f"spark {times['reduce_spark'][-1]:.2f} s", file=sys.stderr)
    if out_json["polars"] != out_json["spark"]:
        print("FAIL: the engines gave different incidents", file=sys.stderr)
        return 1
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "lines": made["lines"], "events": events, "files": made["files"], "bytes": size, "master": args.master,
        "runs": args.runs, "spark_startup_s": round(startup, 2),
        "median_s": {k: round(v, 2) for k, v in med.items()},
        "events_collected_for_reconstruct": collected,
        "ratio_spark_to_polars": round(med["spark"] / med["polars"], 2),
        "ratio_read_spark_to_polars": round(med["spark_read"] / med["polars_read"], 2),
        "ratio_reduce_spark_to_polars": round(med["reduce_spark"] / med["reduce_polars"], 2),
        "same_incident": True,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    _ = pl
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
