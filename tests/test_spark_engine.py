"""The Spark engine gives the polars engine's events, accounts and incident (PySpark in local mode).

One ``local[2]`` session serves the whole test session. Deselect with ``-m 'not spark'``;
the tests skip when pyspark or Java is missing.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

import timeline as tl
from timeline.cli import main
from timeline.reduce import reduce_polars

pytestmark = pytest.mark.spark

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "incidents" / "2024-08-12-db-outage"
TZ = "America/Los_Angeles"

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")
if shutil.which("java") is None:
    pytest.skip("Java is not installed: the Spark engine needs Java 17 or later", allow_module_level=True)

from timeline.cli import build_parser  # noqa: E402
from timeline.engines import spark as on_spark  # noqa: E402 - after the skips

# The commands' modules are imported here, not first inside a test's captured output: some bind
# sys.stdout as a default argument when imported, and capsys closes its stream after the test.
build_parser()


@pytest.fixture(name="spark", scope="session")
def fixture_spark():  # noqa: ANN201
    # Two cores, few shuffle partitions: the tables here are small.
    return on_spark.session("local[2]", conf={"spark.sql.shuffle.partitions": "4", "spark.default.parallelism": "4"})


def _bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(name="sample_both", scope="module")
def fixture_sample_both(spark):  # noqa: ANN001, ANN201
    polars_table = tl.read(SAMPLE, quiet=True)
    spark_table = tl.read(SAMPLE, engine="spark", spark=spark)
    return polars_table, spark_table


def _accounts(table) -> list[dict]:  # noqa: ANN001
    return [a.to_dict() for a in table.account]


def test_sample_events_and_accounts_are_the_polars_engines(sample_both) -> None:  # noqa: ANN001
    polars_table, spark_table = sample_both
    assert isinstance(spark_table, on_spark.SparkEventTable)
    assert len(spark_table) == len(polars_table) > 10_000
    assert spark_table.df.equals(polars_table.df)
    assert _accounts(spark_table) == _accounts(polars_table)
    # Every family of the sample went through Spark or the driver: regex text, JSON lines, CSV, csvlog, documents.
    formats = {a.format for a in spark_table.account}
    assert {"python_logging", "nginx_access", "postgres_stderr", "postgres_csvlog", "structlog_json", "zendesk", "slack"} <= formats


def test_sample_incident_json_is_identical(sample_both) -> None:  # noqa: ANN001
    polars_table, spark_table = sample_both
    want = tl.reconstruct(polars_table, tz=TZ).to_json()
    got = tl.reconstruct(spark_table.for_reconstruct(), tz=TZ).to_json()
    assert got == want
    assert json.loads(got)["milestones"]


def test_cli_engine_spark_prints_and_writes_the_same_incident(spark, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert main(["reconstruct", str(SAMPLE), "--tz", TZ, "--json", str(tmp_path / "polars.json"), "-q"]) == 0
    polars_out = capsys.readouterr().out
    # The command's session is the test's (getOrCreate): a master is named to show the option is taken.
    assert main(["reconstruct", str(SAMPLE), "--tz", TZ, "--json", str(tmp_path / "spark.json"), "-q",
                 "--engine", "spark", "--spark-master", "local[2]"]) == 0
    spark_out = capsys.readouterr().out
    assert spark_out.replace("spark.json", "polars.json") == polars_out
    assert (tmp_path / "spark.json").read_text() == (tmp_path / "polars.json").read_text()


def test_reduce_pass_is_the_same_code_on_both_engines(sample_both) -> None:  # noqa: ANN001
    polars_table, spark_table = sample_both
    for every, by in (("1m", ("source", "level")), ("5m", ("kind", "level", "service"))):
        want = reduce_polars(polars_table.df, every, by=by)
        got = spark_table.reduce(every, by=by)
        assert got.columns == want.columns
        keys = ["bucket", *by]
        got = got.with_columns(pl.col("n").cast(want.schema["n"])).sort(keys, nulls_last=True)
        assert got.equals(want.sort(keys, nulls_last=True)), every


def test_many_files_windowed_on_spark_gives_the_same_incident(spark, tmp_path: Path) -> None:  # noqa: ANN001
    gen = _bench("spark_incident")
    # Sixteen hours of 10 hosts: the window filter on Spark leaves most of the day out.
    made = gen.generate(tmp_path / "many", hosts=10, hours=16, rate=0.04, db_nodes=2, seed=7)
    assert made["files"] > 30
    polars_table = tl.read(tmp_path / "many", tz=TZ, quiet=True)
    spark_table = tl.read(tmp_path / "many", tz=TZ, engine="spark", spark=spark)
    assert len(spark_table) == len(polars_table)
    assert _accounts(spark_table) == _accounts(polars_table)
    windowed = spark_table.for_reconstruct(collect_limit=1_000)
    assert 0 < windowed.df.height < len(polars_table)  # the filter ran on Spark and left events out
    want = tl.reconstruct(polars_table, tz=TZ)
    got = tl.reconstruct(windowed, tz=TZ)
    assert got.to_json() == want.to_json()
    start, end = (dt_ for dt_ in made["outage"])
    assert want.window[0] <= pl.Series([end]).str.to_datetime(time_zone="UTC")[0]
    assert want.window[1] >= pl.Series([start]).str.to_datetime(time_zone="UTC")[0]


def test_a_parquet_dataset_of_events_reads_as_the_same_table(spark, sample_both, tmp_path: Path) -> None:  # noqa: ANN001
    polars_table, _ = sample_both
    folder = tmp_path / "events.parquet"
    folder.mkdir()
    # A dataset of several files, as a pipeline would keep it in object storage.
    df = polars_table.df
    half = df.height // 2
    df.slice(0, half).write_parquet(folder / "part-0.parquet")
    df.slice(half).write_parquet(folder / "part-1.parquet")
    table = tl.read(str(folder), engine="spark", spark=spark)
    assert table.df.equals(df)
    got = json.loads(tl.reconstruct(table.for_reconstruct(), tz=TZ).to_json())
    want = json.loads(tl.reconstruct(df, tz=TZ).to_json())
    # The dataset is one input of already-parsed events, each one an event.
    assert got.pop("ingest") == [{"file": str(folder), "format": "parquet_events", "lines": df.height, "events": df.height,
                                  "continuation_lines": 0, "rejected": 0}]
    assert want.pop("ingest") == []
    assert got == want


def test_a_parquet_dataset_without_times_is_refused_by_name(spark, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "other.parquet"
    pl.DataFrame({"when": ["x"], "message": ["y"]}).write_parquet(path)
    with pytest.raises(tl.InputError if hasattr(tl, "InputError") else Exception, match="no 'ts' column"):
        tl.read(str(path), engine="spark", spark=spark)


def test_url_inputs_are_listed_and_read_by_spark(spark, tmp_path: Path) -> None:  # noqa: ANN001
    logs = tmp_path / "bucket" / "app"
    logs.mkdir(parents=True)
    shutil.copy(SAMPLE / "app" / "web.log", logs / "web.log")
    shutil.copy(SAMPLE / "nginx" / "access.log", logs / "access.log")
    url = f"file://{tmp_path / 'bucket'}"
    table = tl.read(url, engine="spark", spark=spark, tz=TZ)
    local = tl.read(tmp_path / "bucket", tz=TZ, quiet=True)
    got = table.df.with_columns(pl.col("file").str.replace("^file:", ""))
    want = local.df.with_columns(pl.col("file").map_elements(lambda f: str(Path(f).resolve()), return_dtype=pl.String))
    key = ["ts", "file", "line"]
    assert got.sort(key).equals(want.sort(key))
    assert sorted(a.format for a in table.account) == ["nginx_access", "python_logging"]
    assert sum(a.events for a in table.account) == len(local)
    assert {a.source for a in table.account} == {a.source for a in local.account}


def test_account_survives_its_trip_through_spark() -> None:
    from timeline.sources._account import FileAccount

    account = FileAccount(file="x.log", format="generic", lines=5, events=2, blank=1, sniff=[("generic", 0.9)])
    account.reject(4, "no pattern matched", "garbage")
    account.reject(5, "no pattern matched", "more garbage")
    back = on_spark.account_from_json(on_spark.account_to_json(account))
    assert back == account
    assert back.to_dict() == account.to_dict()


def test_polars_stays_the_default_and_needs_no_spark() -> None:
    code = (
        "import sys, timeline as tl; tl.read(sys.argv[1], quiet=True);"
        "import timeline.cli; timeline.cli.build_parser();"
        "assert 'pyspark' not in sys.modules, 'pyspark was imported'"
    )
    import subprocess

    done = subprocess.run([sys.executable, "-c", code, str(SAMPLE / "app" / "web.log")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_the_spark_connect_notebook_runs_against_a_spark_connect_server(monkeypatch) -> None:  # noqa: ANN001
    """notebooks/04-spark-connect.ipynb, attached through Spark Connect (a server started on this machine)."""
    pytest.importorskip("grpc", reason="Spark Connect needs pyspark[connect] (grpcio)")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("TIMELINE_SPARK_REMOTE", "local[2]")
    path = REPO / "notebooks" / "04-spark-connect.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "Spark Connect: local[2]" in printed
    assert "same incident as the polars engine: True" in printed


def test_compressed_and_forced_format_files_read_as_on_polars(spark, tmp_path: Path) -> None:  # noqa: ANN001
    import gzip

    (tmp_path / "db").mkdir()
    raw = (SAMPLE / "postgres" / "db-primary" / "postgresql-2024-08-12.log").read_bytes()
    (tmp_path / "db" / "postgresql.log.1.gz").write_bytes(gzip.compress(raw))
    shutil.copy(SAMPLE / "app" / "web.log", tmp_path / "web.txt")
    options = {"format": {"*.txt": "python_logging"}, "tz": {"*.txt": TZ, "*": "UTC"}}
    want = tl.read(tmp_path, quiet=True, **options)
    got = tl.read(tmp_path, engine="spark", spark=spark, **options)
    assert got.df.equals(want.df)
    assert _accounts(got) == _accounts(want)
    assert {Path(a.file).name: a.compression for a in got.account} == {"postgresql.log.1.gz": "gzip", "web.txt": None}
    assert {Path(a.file).name: a.format for a in got.account} == {"postgresql.log.1.gz": "postgres_stderr", "web.txt": "python_logging"}
