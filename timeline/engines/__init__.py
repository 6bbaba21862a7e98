"""Where the heavy part of a run executes: polars on this machine (the default) or Apache Spark.

Everything engine-specific lives in :mod:`timeline.engines.spark`, imported only
when Spark is asked for, so the default engine needs neither pyspark nor Java.
"""

from __future__ import annotations

import argparse
from typing import Any

ENGINES = ("polars", "spark")


def add_engine_options(p: argparse.ArgumentParser) -> None:
    """The command-line options that pick the engine (shared by the commands that read evidence)."""
    p.add_argument("--engine", choices=ENGINES, default="polars",
                   help="where reading, parsing and the reduce pass run: polars on this machine (default) or Apache Spark")
    p.add_argument("--spark-master", metavar="URL",
                   help="with --engine spark: the cluster's master URL (default local[*], Spark on this machine)")
    p.add_argument("--spark-remote", metavar="sc://HOST:PORT",
                   help="with --engine spark: a Spark Connect server to run on instead of a master")


def read_on(engine: str, spark: Any, paths: Any, *, events_path: Any = None, quiet: bool | None = None,
            keep_events: bool = True, **options: Any) -> Any:
    """:func:`timeline.read` on another engine than polars: a :class:`~timeline.engines.spark.SparkEventTable` for Spark.

    ``spark`` is the session to run on (default: a ``local[*]`` one). The
    Spark table stays on the cluster until asked for (``.df`` collects it,
    ``.for_reconstruct()`` collects what reconstruction needs); write it where
    you want with ``.frame.write.parquet(url)`` rather than ``events_path``.
    """
    if engine not in ENGINES:
        msg = f"engine must be one of {', '.join(ENGINES)}, got {engine!r}"
        raise ValueError(msg)
    if events_path is not None:
        msg = "events_path is for the polars engine; on Spark write the table with .frame.write.parquet(URL)"
        raise ValueError(msg)
    from timeline.engines import spark as on_spark

    return on_spark.read(spark if spark is not None else on_spark.session(), paths, **options)


def read_from_args(args: argparse.Namespace, events_path: str | None = None) -> Any:
    """The shared read options of the command line, read on Spark (``--engine spark``)."""
    from timeline.cli import _per_file_option
    from timeline.engines import spark as on_spark

    spark = on_spark.session(master=args.spark_master, remote=args.spark_remote)
    table = on_spark.read(
        spark, args.paths,
        format=_per_file_option(args.format), tz=_per_file_option(args.tz), formats_dir=args.formats_dir,
        year=args.year, date=args.date, day_first=args.day_first,
        column_map=dict(v.split("=", 1) for v in args.column_map) if args.column_map else None,
    )
    if events_path is not None:
        table.df.write_parquet(events_path, compression="zstd", compression_level=1)
    return table


def add_bucket(native: Any, every: str) -> Any:
    """A native frame with ``bucket``: ``ts`` floored to a multiple of ``every`` since the epoch (UTC).

    For the engines where narwhals cannot truncate to a multiple of a unit; in
    UTC the epoch-aligned floor is what polars' ``dt.truncate`` gives.
    """
    from timeline.reduce import NICE_BUCKETS

    seconds = dict(NICE_BUCKETS).get(every)
    if seconds is None:
        msg = f"bucket size {every!r} is not one of {', '.join(name for name, _ in NICE_BUCKETS)}"
        raise ValueError(msg)
    module = type(native).__module__
    if module.startswith("pyspark."):
        from timeline.engines.spark import add_bucket as spark_bucket

        return spark_bucket(native, seconds)
    msg = f"no bucket arithmetic for frames of {module}.{type(native).__name__}"
    raise TypeError(msg)
