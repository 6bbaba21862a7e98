"""Apache Spark as the engine of the heavy part: reading, parsing, the time-window filter and the reduce pass.

At a large company an incident's logs are hundreds of GB across thousands of
hosts, already in object storage or on a cluster's file system. This module
runs the part whose cost grows with the logs on Spark (a cluster, Spark
Connect from a notebook, or ``local[*]`` on one machine) and hands what is
small — the events around the incident and the per-bucket counts — to polars,
where everything after the reduce pass runs as usual.

How a file is parsed on Spark (see :func:`read`): each line-oriented log is
parsed by timeline's own spec-driven reader (the declarative format specs in
``timeline/formats/*.toml``, the same code as the polars engine) inside
Spark's Python workers, one task per file (``mapInArrow``): every format
family, compressed files, continuation lines and the per-file account, with
events identical to the polars engine's by construction. A file is read
whole by one task, in file order, so multi-line records never straddle tasks.
The workers need ``timeline`` installed (on a cluster: the same package on
every node). Document exports (tickets, chat, alerts, changes) are small and
folder-shaped: they are read on the driver and joined to the Spark table.

pyspark is imported when this module is; ``timeline`` itself never imports it
unless Spark is asked for.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import warnings

import polars as pl
import pyarrow as pa
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import SparkSession
from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention
from pyspark.sql import types as T  # noqa: N812

from timeline._events import EventTable
from timeline.schema import EVENT_COLUMNS, conform, empty_events, in_event_order, sort_events
from timeline.sources._account import FileAccount, Rejection

# pyspark 4 checks the pandas version on first use and warns about pandas 3, which timeline does not
# use through Spark (tables move as Arrow): the warning would only confuse.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

__all__ = ["SparkEventTable", "EVENT_SPARK_SCHEMA", "session", "read", "events_from_parquet", "reduce"]

EVENT_SPARK_SCHEMA = T.StructType([
    T.StructField("ts", T.TimestampType()),
    T.StructField("source", T.StringType()),
    T.StructField("kind", T.StringType()),
    T.StructField("level", T.StringType()),
    T.StructField("host", T.StringType()),
    T.StructField("service", T.StringType()),
    T.StructField("message", T.StringType()),
    T.StructField("actor", T.StringType()),
    T.StructField("ref", T.StringType()),
    T.StructField("action", T.StringType()),
    T.StructField("attrs", T.StringType()),
    T.StructField("file", T.StringType()),
    T.StructField("line", T.LongType()),
])
"""The event schema (:data:`timeline.schema.EVENT_SCHEMA`) in Spark types: kind and level as strings, ``ts`` a UTC instant."""

_PARSED_SCHEMA = T.StructType([*EVENT_SPARK_SCHEMA.fields, T.StructField("job", T.LongType()), T.StructField("account", T.StringType())])

DEFAULT_COLLECT_LIMIT = 2_000_000
"""Event tables up to this many rows are collected whole for reconstruction; larger ones around the incident only."""


def session(master: str | None = None, remote: str | None = None, *, app_name: str = "timeline", conf: Mapping[str, str] | None = None) -> SparkSession:
    """A Spark session for timeline: a cluster's ``master``, a Spark Connect ``remote``, or ``local[*]``.

    Times are kept as UTC instants whatever the machine's zone (the session's
    time zone is set to UTC), and Arrow moves tables between Spark and polars.
    An existing session of the same kind is reused (``getOrCreate``).
    """
    builder = SparkSession.builder.appName(app_name)
    if remote:
        builder = builder.remote(remote)
    else:
        builder = builder.master(master or os.environ.get("TIMELINE_SPARK_MASTER", "local[*]"))
    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
    }
    if not remote:
        settings["spark.ui.enabled"] = "false"
        # In local mode the driver is the executor: the default 1 GB heap cannot hold a few
        # million events being handed to polars.
        settings["spark.driver.memory"] = os.environ.get("TIMELINE_SPARK_DRIVER_MEMORY", "4g")
    if (remote or master or "local").startswith("local"):
        # Spark on this machine (classic, or a Spark Connect server started here by remote="local[N]"):
        # its Python workers are this interpreter (with timeline and polars), not the first `python3` on the PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    if not remote:
        spark.sparkContext.setLogLevel(os.environ.get("TIMELINE_SPARK_LOG_LEVEL", "ERROR"))
    return spark


# ---------------------------------------------------------------------------------------------
# The event table on Spark


class SparkEventTable:
    """Events read on Spark, with the per-file account beside them.

    ``frame`` is the Spark DataFrame of events (:data:`EVENT_SPARK_SCHEMA`);
    ``account`` one :class:`FileAccount` per file, ``notes`` what was skipped.
    ``df`` collects the whole table into polars (for small inputs);
    :meth:`for_reconstruct` collects only what reconstruction needs.
    """

    def __init__(self, frame: SparkDataFrame, account: list[FileAccount], notes: list[str] | None = None) -> None:
        self.frame = frame
        self.account = account
        self.notes = notes or []
        self._df: pl.DataFrame | None = None
        self._count: int | None = None

    def __len__(self) -> int:
        if self._count is None:
            self._count = self.frame.count()
        return self._count

    def __repr__(self) -> str:
        return f"SparkEventTable({len(self.account)} files, {len(self):,} events)"

    @property
    def rejected(self) -> int:
        """Lines rejected across all files."""
        return sum(a.rejected for a in self.account)

    @property
    def df(self) -> pl.DataFrame:
        """The whole event table collected into polars, sorted as :func:`timeline.read` sorts it."""
        if self._df is None:
            self._df = to_polars(self.frame)
        return self._df

    def to_event_table(self) -> EventTable:
        """The whole table as a polars :class:`~timeline.EventTable` (collects every event)."""
        return EventTable(self.df, self.account, self.notes)

    def reduce(self, every: str, *, by: tuple[str, ...] = ("source", "level"), sample: bool = True) -> pl.DataFrame:
        """:func:`timeline.reduce.reduce` run on Spark; the small result comes back as polars."""
        return reduce(self.frame, every, by=by, sample=sample)

    def __getattr__(self, name: str) -> Any:
        # What a polars EventTable offers (summary(), report(), filter...) works on the collected table.
        if name.startswith("_") or name in ("frame", "account", "notes"):
            raise AttributeError(name)
        return getattr(self.to_event_table(), name)

    def for_reconstruct(self, *, window: tuple[Any, Any] | None = None, tz: str = "UTC", collect_limit: int | None = None) -> EventTable:
        """The events :func:`timeline.reconstruct` needs, as a polars :class:`~timeline.EventTable`.

        Up to ``collect_limit`` events the whole table is collected (the result
        is then the polars engine's by construction). Above it, the reduce pass
        runs on Spark to find the incident (the largest error burst, or
        ``window``), and only the machine events within a margin around it —
        wide enough for the look-back and the settling checks — plus every
        human-written event (tickets, chat, alerts, changes; few) are collected.
        The per-file account stays the whole read's. ``window`` times without
        a zone are in ``tz``; ``collect_limit`` defaults to
        ``$TIMELINE_SPARK_COLLECT_LIMIT`` or :data:`DEFAULT_COLLECT_LIMIT`.
        """
        if collect_limit is None:
            collect_limit = int(os.environ.get("TIMELINE_SPARK_COLLECT_LIMIT", DEFAULT_COLLECT_LIMIT))
        return EventTable(_for_reconstruct(self, window, tz, collect_limit), self.account, self.notes)


def to_polars(frame: SparkDataFrame) -> pl.DataFrame:
    """Collect a Spark event frame into the polars event table (schema, order and change tags as :func:`timeline.read` gives)."""
    table = frame.select(*EVENT_COLUMNS).toArrow()
    df = conform(pl.from_arrow(table)) if table.num_rows else empty_events()  # type: ignore[arg-type]
    if not in_event_order(df):
        df = sort_events(df)
    return df


def from_polars(spark: SparkSession, events: pl.DataFrame) -> SparkDataFrame:
    """A polars event table as a Spark frame of :data:`EVENT_SPARK_SCHEMA`."""
    return spark.createDataFrame(_to_arrow(conform(events)), schema=EVENT_SPARK_SCHEMA)


def _to_arrow(events: pl.DataFrame) -> pa.Table:
    return events.select(
        pl.col("ts").dt.cast_time_unit("us"),
        *(pl.col(c).cast(pl.String) for c in EVENT_COLUMNS[1:-1]),
        pl.col("line").cast(pl.Int64),
    ).to_arrow()


def reduce(frame: SparkDataFrame, every: str, *, by: tuple[str, ...] = ("source", "level"), sample: bool = True) -> pl.DataFrame:
    """The engine-neutral reduce pass (:func:`timeline.reduce.reduce`) on a Spark frame, collected into polars."""
    from timeline.reduce import reduce as reduce_any

    out = reduce_any(frame, every, by=by, sample=sample)
    table = out.toArrow()
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    return df.with_columns(pl.col(c).dt.replace_time_zone("UTC") for c in ("bucket", "first", "last") if df.schema[c] == pl.Datetime("us"))


def add_bucket(frame: SparkDataFrame, seconds: int) -> SparkDataFrame:
    """``bucket``: ``ts`` floored to a multiple of ``seconds`` since the epoch (what polars' truncate gives in UTC)."""
    width = seconds * 1_000_000
    return frame.withColumn("bucket", F.timestamp_micros(F.floor(F.unix_micros("ts") / F.lit(width)) * F.lit(width)))


def events_from_parquet(spark: SparkSession, path: str, *, account: list[FileAccount] | None = None) -> SparkEventTable:
    """A Parquet dataset of already-parsed events (e.g. what ``timeline read --events x.parquet`` wrote,
    or a table your pipeline keeps in object storage) as a :class:`SparkEventTable`.

    Missing event columns are read as nulls; ``kind`` and ``level`` are compared as strings.
    """
    raw = spark.read.parquet(path)
    have = set(raw.columns)
    if "ts" not in have:
        msg = f"{path}: the Parquet dataset has no 'ts' column; expected the event schema (timeline.schema.EVENT_SCHEMA)"
        from timeline._errors import InputError

        raise InputError(msg)
    cols = [
        (F.col(f.name).cast(f.dataType) if f.name in have else F.lit(None).cast(f.dataType)).alias(f.name)
        for f in EVENT_SPARK_SCHEMA.fields
    ]
    frame = raw.select(*cols)
    if account is None:
        n = frame.count()  # from the Parquet footers: every row is one event
        account = [FileAccount(file=path, format="parquet_events", kind="events", lines=n, events=n)]
    return SparkEventTable(frame, account)


# ---------------------------------------------------------------------------------------------
# Reading


def read(
    spark: SparkSession,
    paths: str | Path | Sequence[str | Path],
    *,
    format: Any = None,
    tz: Any = None,
    year: int | None = None,
    date: dt.date | str | None = None,
    formats_dir: str | Path | Sequence[str | Path] | None = None,
    sources: Mapping[str, str] | None = None,
    zone_abbreviations: Mapping[str, int] | None = None,
    day_first: bool | None = None,
    column_map: Mapping[str, str] | None = None,
    max_line_bytes: int | None = None,
    cache: bool = True,
) -> SparkEventTable:
    """Read files, folders, globs and object-store URLs on Spark into a :class:`SparkEventTable`.

    Takes the options of :func:`timeline.read`. Local paths (and paths every
    Spark worker sees, such as a shared mount) are expanded as the polars
    engine expands them; a URL with a scheme (``s3a://``, ``gs://``,
    ``abfss://``, ``hdfs://``, ``file://``), a folder or glob of them, is
    listed and read by Spark. A path or URL ending in ``.parquet`` (or a folder
    of Parquet files named so) is read as a dataset of already-parsed events.
    The parsed events stay in the cluster's memory (and disk) for the passes
    that follow; ``cache`` keeps a Parquet dataset's there too.
    """
    from timeline.sources import MAX_LINE_BYTES, _per_file, _size, documents
    from timeline.sources._inputs import InputFile, expand
    from timeline.sources._spec import SpecCatalog

    if isinstance(paths, (str, Path)):
        paths = [paths]
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    dirs = [str(formats_dir)] if isinstance(formats_dir, (str, Path)) else [str(d) for d in formats_dir or []]
    specs = SpecCatalog(dirs)
    notes: list[str] = []
    parquet = [str(p) for p in paths if _is_parquet(str(p))]
    urls = [str(p) for p in paths if _is_url(str(p)) and str(p) not in parquet]
    local = [p for p in paths if str(p) not in parquet and str(p) not in urls]
    items = expand(list(local), notes, documents.directory_units) if local else []

    common: dict[str, Any] = dict(year=year, date=date, zone_abbreviations=zone_abbreviations, day_first=day_first,
                                  max_line_bytes=max_line_bytes or MAX_LINE_BYTES, column_map=column_map)

    def options_for(path: Path | PurePosixPath) -> dict[str, Any]:
        return dict(common, format=_per_file(format, path), tz=_per_file(tz, path),  # type: ignore[arg-type]
                    source=_per_file(sources, path) if sources else None)  # type: ignore[arg-type]

    from timeline.sources import read_file

    frames: list[SparkDataFrame] = []
    driver_events: list[pl.DataFrame] = []
    accounts: list[tuple[tuple[int, str], FileAccount]] = []
    line_items: list[tuple[int, InputFile, dict[str, Any]]] = []
    for i, item in enumerate(items):
        opts = options_for(item.path)
        if _is_document(item, opts, specs):
            # Ticket, chat and alert exports: small, folder-shaped; read here by the polars readers.
            try:
                events, account = read_file(item, specs=specs, **opts)
            except (OSError, pl.exceptions.PolarsError) as exc:
                events, account = empty_events(), _unreadable(str(item.path), exc)
            driver_events.append(events)
            accounts.append(((i, str(item.path)), account))
        else:
            line_items.append((i, item, opts))

    if line_items:
        frame, got = _read_in_workers(spark, line_items, dirs, _size)
        frames.append(frame)
        accounts.extend(got)
    if urls:
        frame, got = _read_urls(spark, urls, options_for, dirs)
        frames.append(frame)
        accounts.extend(got)
    for p in parquet:
        table = events_from_parquet(spark, p)
        frames.append(table.frame.persist() if cache else table.frame)
        accounts.append(((1 << 31, p), table.account[0]))

    if driver_events:
        from timeline.sources._tagging import tag_db_changes

        docs = pl.concat(driver_events, how="vertical")
        if docs.height:
            frames.append(from_polars(spark, tag_db_changes(docs)))
    frame = frames[0] if frames else spark.createDataFrame([], schema=EVENT_SPARK_SCHEMA)
    for more in frames[1:]:
        frame = frame.unionByName(more)
    ordered = [a for _, a in sorted(accounts, key=lambda x: x[0])]
    return SparkEventTable(frame, ordered, notes)


def _is_url(path: str) -> bool:
    head, sep, _ = path.partition("://")
    return bool(sep) and head.isidentifier()


def _is_parquet(path: str) -> bool:
    return path.rstrip("/").lower().endswith(".parquet")


def _is_document(item: Any, opts: Mapping[str, Any], specs: Any) -> bool:
    from timeline.sources import _detect_document
    from timeline.sources._spec import resolve_spec

    if item.directory_reader is not None:
        return True
    forced = resolve_spec(opts["format"], specs) if opts.get("format") is not None else None
    if forced is not None:
        return forced.kind == "document"
    return _detect_document(item.path) is not None


def _unreadable(file: str, exc: BaseException) -> FileAccount:
    account = FileAccount(file=file, format=None)
    account.warnings.append(f"could not be read: {exc}")
    return account


def account_to_json(account: FileAccount) -> str:
    """A :class:`FileAccount` as JSON, every field kept (rejected examples too)."""
    return json.dumps(dataclasses.asdict(account))


def account_from_json(text: str) -> FileAccount:
    """The inverse of :func:`account_to_json`."""
    data = json.loads(text)
    data["examples"] = [Rejection(**r) for r in data.get("examples", [])]
    data["sniff"] = [tuple(s) for s in data.get("sniff", [])]
    return FileAccount(**data)


def _balanced_ids(sizes: list[int], partitions: int) -> list[int]:
    """Job ids such that ``spark.range(n, numPartitions=p)`` deals the largest files to different tasks.

    ``range`` cuts ids into contiguous runs; giving the k-th largest file an id
    in run ``k % p`` spreads the work as a card dealer would.
    """
    n = len(sizes)
    per = -(-n // partitions)
    order = sorted(range(n), key=lambda j: -sizes[j])
    ids = [0] * n
    for rank, j in enumerate(order):
        ids[j] = min((rank % partitions) * per + rank // partitions, n - 1)
    # ids must be a permutation of range(n): fall back to the plain order if the deal collides
    return ids if len(set(ids)) == n else list(range(n))


def _parallelism(spark: SparkSession) -> int:
    try:
        return max(1, spark.sparkContext.defaultParallelism)
    except Exception:  # noqa: BLE001 - Spark Connect has no SparkContext
        return int(spark.conf.get("spark.default.parallelism", "8") or 8)


def _events_batches(job: int, events: pl.DataFrame, account: FileAccount) -> Iterator[pa.RecordBatch]:
    table = _to_arrow(events)
    table = table.append_column("job", pa.array([job] * table.num_rows, pa.int64()))
    table = table.append_column("account", pa.nulls(table.num_rows, pa.string()))
    yield from table.to_batches(max_chunksize=65_536)
    row: dict[str, Any] = {f.name: [None] for f in EVENT_SPARK_SCHEMA.fields}
    row["job"] = [job]
    row["account"] = [account_to_json(account)]
    yield pa.RecordBatch.from_pydict(row, schema=table.schema)


def _read_one(item: Any, specs: Any, opts: Mapping[str, Any]) -> tuple[pl.DataFrame, FileAccount]:
    from timeline.sources import read_file
    from timeline.sources._tagging import tag_db_changes

    try:
        events, account = read_file(item, specs=specs, **opts)
    except (OSError, pl.exceptions.PolarsError) as exc:
        return empty_events(), _unreadable(str(item.path), exc)
    return tag_db_changes(events), account


def _worker(jobs: Mapping[int, tuple[Any, Any, dict[str, Any]]], dirs: list[str]) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from timeline.sources._spec import SpecCatalog

        specs = SpecCatalog(dirs)
        for batch in batches:
            for job in batch.column(0).to_pylist():
                item, where, opts = jobs[job]
                events, account = _read_one(where, specs, opts)
                if where.path != item.path:
                    account.file = str(item.path)
                    events = events.with_columns(pl.lit(str(item.path), pl.String).alias("file"))
                yield from _events_batches(job, events, account)

    return run


def _collect_parsed(parsed: SparkDataFrame) -> tuple[SparkDataFrame, list[tuple[int, str]]]:
    parsed = parsed.persist()
    rows = parsed.filter(F.col("account").isNotNull()).select("job", "account").collect()
    events = parsed.filter(F.col("account").isNull()).drop("job", "account")
    return events, [(int(r["job"]), r["account"]) for r in rows]


def _read_in_workers(spark: SparkSession, jobs: list[tuple[int, Any, dict[str, Any]]], dirs: list[str], size: Callable[[Path], int]):  # noqa: ANN202
    """Parse local files with timeline's own reader in Spark's Python workers, one task per file."""
    n = len(jobs)
    parts = min(n, _parallelism(spark) * 2)
    ids = _balanced_ids([size(item.path) for _, item, _ in jobs], parts)
    # A worker's folder is not the driver's (Spark Connect runs each session's workers in a folder
    # of its own): workers read by the absolute path, and name the file as the user did.
    by_id = {ids[k]: (item, _absolute(item), opts) for k, (_, item, opts) in enumerate(jobs)}
    index = {ids[k]: (i, str(item.path)) for k, (i, item, _) in enumerate(jobs)}
    parsed = spark.range(0, n, 1, parts).mapInArrow(_worker(by_id, dirs), _PARSED_SCHEMA)
    events, rows = _collect_parsed(parsed)
    return events, [(index[job], account_from_json(text)) for job, text in rows]


def _absolute(item: Any) -> Any:
    from timeline.sources._inputs import InputFile

    return InputFile(Path(os.path.abspath(item.path)), Path(os.path.abspath(item.root)), item.directory_reader)


def _url_worker(options_for: Callable[[PurePosixPath], dict[str, Any]], dirs: list[str], roots: list[str]) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from timeline.sources._inputs import InputFile, source_name
        from timeline.sources._spec import SpecCatalog

        specs = SpecCatalog(dirs)
        for batch in batches:
            for job, url, content in zip(batch.column("job").to_pylist(), batch.column("path").to_pylist(),
                                         batch.column("content").to_pylist(), strict=True):
                # (Spark names files as URLs, `file:/x` or `s3a://bucket/x`: the path part names the stream)
                where = PurePosixPath(urlparse(url).path)
                root = next((r for r in (PurePosixPath(urlparse(r).path) for r in roots) if where.is_relative_to(r)), where.parent)
                opts = options_for(where)
                if opts.get("source") is None:
                    opts["source"] = source_name(Path(str(where)), Path(str(root)))
                with tempfile.TemporaryDirectory() as tmp:
                    local = Path(tmp) / where.name
                    local.write_bytes(content)
                    events, account = _read_one(InputFile(local, Path(tmp)), specs, opts)
                account.file = url
                events = events.with_columns(pl.lit(url, pl.String).alias("file"))
                yield from _events_batches(job, events, account)

    return run


def _read_urls(spark: SparkSession, urls: list[str], options_for: Callable[[PurePosixPath], dict[str, Any]], dirs: list[str]):  # noqa: ANN202
    """Read object-store files (and folders or globs of them) that Spark can list, each parsed whole in a worker."""
    raw = (
        spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(urls)
        .select("path", "content")
        .withColumn("job", F.monotonically_increasing_id())
    )
    parsed = raw.select("job", "path", "content").mapInArrow(_url_worker(options_for, dirs, urls), _PARSED_SCHEMA)
    events, rows = _collect_parsed(parsed)
    got = [account_from_json(text) for _, text in rows]
    base = 1 << 30  # after the local files, in the order of their names
    return events, [((base, a.file), a) for a in got]


# ---------------------------------------------------------------------------------------------
# Reconstruction input: the window filter on Spark


def _for_reconstruct(table: SparkEventTable, window: tuple[Any, Any] | None, tz: str, collect_limit: int) -> pl.DataFrame:
    if len(table) <= collect_limit:
        return table.df
    from timeline.reconstruct import _signals as sg  # the burst rule the polars reconstruction uses
    from timeline.reduce import choose_bucket

    settings = sg.Settings()
    machine_kinds = list(sg.MACHINE_KINDS)
    frame = table.frame
    machine = frame.filter(F.col("kind").isin(machine_kinds) & F.col("ts").isNotNull())
    # (through Arrow: a collected Row would carry the time in this machine's zone, without one)
    span = pl.from_arrow(machine.agg(F.min("ts").alias("lo"), F.max("ts").alias("hi")).toArrow()).row(0, named=True)  # type: ignore[union-attr]
    if span["lo"] is None:
        return table.df
    lo, hi = (_utc(span["lo"]), _utc(span["hi"]))
    if window is not None:
        start, end = (_as_utc(w, tz) for w in window)
    else:
        # Bursts are judged per template against its own baseline: the machine errors (a small
        # part of the events) come back to be templated; each source's coverage is reduced on Spark.
        every, bucket_s = choose_bucket(lo, hi, target=240)
        errors = to_polars(machine.filter(F.col("level").isin(list(sg.ERROR_LEVELS))))
        cover = pl.from_arrow(machine.groupBy("source").agg(F.min("ts").alias("_cov_lo"), F.max("ts").alias("_cov_hi")).toArrow())
        cover = cover.with_columns(pl.col("_cov_lo").dt.replace_time_zone("UTC") if cover.schema["_cov_lo"].time_zone is None else pl.col("_cov_lo"),  # type: ignore[union-attr]
                                   pl.col("_cov_hi").dt.replace_time_zone("UTC") if cover.schema["_cov_hi"].time_zone is None else pl.col("_cov_hi"))  # type: ignore[union-attr]
        errors = sg.with_templates(errors).join(cover, on="source", how="left")
        bursts = sg.find_bursts(sg.excess_rate(errors, every, (lo, hi), settings.burst_factor), bucket_s)
        if not bursts:
            return table.df
        start, end = bursts[0].start, bursts[0].end
    # The reconstruction looks again around the burst (a margin of its length or the minimum
    # look-back), then looks back from it for the trigger: a generous margin of machine lines
    # comes back, with every human-written event and every database change record whole (the
    # trigger's look-back widens when nothing close explains the impact).
    look = max(settings.min_lookback, end - start)
    margin = 4 * look + dt.timedelta(hours=1)
    keep = frame.filter(
        ~F.col("kind").isin(machine_kinds) | F.col("ts").isNull()
        | F.col("ts").between(F.lit(start - margin), F.lit(end + margin))
        | ((F.col("kind") == "db") & F.col("action").isNotNull())
    )
    return to_polars(keep)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _as_utc(value: Any, tz: str) -> dt.datetime:
    from zoneinfo import ZoneInfo

    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when.astimezone(dt.UTC)
