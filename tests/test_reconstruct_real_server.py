"""A real PostgreSQL outage, acted out while the test runs, reconstructs to the truth recorded as it ran.

The test starts a PostgreSQL server, runs a small order service against it
(ten workers, each request opens a connection, runs a query and closes it) and
acts out the incident the sample describes, compressed into about a minute:

1. baseline traffic, with an unrelated change logged on another system;
2. the bad change: ``ALTER SYSTEM SET max_connections = 3`` and a restart, so
   all but two application connections are refused;
3. a rollback that does not work: the setting is reset and the server
   reloaded, but ``max_connections`` only changes on restart;
4. the fix that works: a restart; then recovery traffic.

The test records each act in UTC from its own clock, and the application
records each failed request. The evidence is what a responder would have: the
server's own log folder (``logging_collector``, ``log_timezone`` in
America/Los_Angeles so the reader meets PDT/PST), the application's log in
Python logging format (naive local time) and a change-log CSV. The
reconstruction must land each milestone within seconds of the truth; a table of
truth against reconstruction is printed (``pytest -s``) and attached to every
assertion message.

The incident lasts seconds, and the evidence stops 22 s after the fix; the
reconstruction runs with its default settings, every duration it uses read
off the incident itself.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import glob
import logging
import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import timeline as tl
from timeline.reconstruct import Incident, reconstruct

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TZ = "America/Los_Angeles"
DB_NAME = "pg-orders"  # the failing component, as the change log and the app name it
WORKERS = 10
PAUSE_S = 0.1  # each worker's pause between requests
BASELINE_S = 18.0
UNRELATED_AT_S = 8.0
FAILING_BEFORE_ROLLBACK_S = 10.0
FAILING_AFTER_ROLLBACK_S = 10.0
RECOVERY_S = 22.0

# How far each reconstructed milestone may be from the recorded truth, in seconds.
TOLERANCE_S = {
    "trigger": 2.0,  # the change log keeps whole seconds
    "impact_start": 2.0,
    "rollback (did not work)": 2.0,
    "restart (worked)": 2.0,
    "mitigated": 3.0,  # the last failure may be a refused connection while the server restarts
}



def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- finding and running the server binaries ----------------------------------------------------


def _bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: ``pg_config --bindir``, else the newest Debian-style install."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10)
            candidates.append(Path(out.stdout.strip()))
    candidates += sorted((Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")), key=lambda p: _version(p.parent.name), reverse=True)
    for cand in candidates:
        if (cand / "initdb").exists() and (cand / "pg_ctl").exists():
            return cand
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(x) for x in name.split(".") if x.isdigit())


def _as_server_user() -> list[str]:
    """The command prefix that runs server binaries as a non-root user (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root and no runuser to start PostgreSQL as the 'nobody' user")
    return [runuser, "-u", "nobody", "--"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A throwaway PostgreSQL cluster on a loopback port."""

    bindir: Path
    root: Path
    port: int
    prefix: list[str]

    @property
    def data(self) -> Path:
        """The data directory (named after the component, as a host would be)."""
        return self.root / DB_NAME

    @property
    def log_dir(self) -> Path:
        """Where the logging collector writes."""
        return self.data / "log"

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a server binary as the server's user."""
        cmd = [*self.prefix, str(self.bindir / args[0]), *args[1:]]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            msg = f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}"
            raise RuntimeError(msg)
        return done

    def pg_ctl(self, action: str, *extra: str) -> None:
        """pg_ctl start/restart/reload/stop, waiting for it to finish."""
        self.run("pg_ctl", action, "-D", str(self.data), "-w", "-t", "60", "-l", str(self.root / "pg_ctl.out"), *extra)

    def connect(self, user: str, dbname: str) -> object:
        """A psycopg connection (autocommit)."""
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=user, dbname=dbname, autocommit=True, connect_timeout=3)


def _start_server(bindir: Path) -> Server:
    prefix = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="timeline-pg-"))
    root.chmod(0o755)
    if prefix:
        shutil.chown(root, "nobody", "nogroup" if _group_exists("nogroup") else "nobody")
    server = Server(bindir, root, _free_port(), prefix)
    server.run("initdb", "-D", str(server.data), "-A", "trust", "-E", "UTF8", "--no-locale", "-U", "postgres", timeout=120)
    conf = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(server.port),
        "unix_socket_directories": f"'{root}'",
        "max_connections": "20",
        "superuser_reserved_connections": "1",
        "shared_buffers": "'16MB'",
        "fsync": "off",
        "logging_collector": "on",
        "log_destination": "'stderr,csvlog'",
        "log_directory": "'log'",
        "log_filename": "'postgresql-%Y-%m-%d.log'",
        "log_file_mode": "0644",
        "log_line_prefix": "'%m [%p] %q%u@%d '",
        "log_timezone": f"'{TZ}'",
        "log_connections": "on",
    }
    with (server.data / "postgresql.conf").open("a", encoding="utf-8") as f:
        f.write("\n# timeline test\n" + "".join(f"{k} = {v}\n" for k, v in conf.items()))
    server.pg_ctl("start")
    return server


def _group_exists(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


# --- the order service ------------------------------------------------------------------------


@dataclass
class OrderService:
    """Ten workers making requests that each open a connection, query and close; logs like a Python app."""

    server: Server
    log_path: Path
    stop: threading.Event = field(default_factory=threading.Event)
    failures: list[dt.datetime] = field(default_factory=list)
    successes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.logger = logging.getLogger(f"orders.api.{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        handler = logging.FileHandler(self.log_path, encoding="utf-8")
        fmt = logging.Formatter("%(asctime)s %(levelname)s [%(short)s] %(message)s")
        zone = ZoneInfo(TZ)
        fmt.converter = lambda secs: dt.datetime.fromtimestamp(secs, zone).timetuple()  # type: ignore[method-assign,assignment]
        handler.setFormatter(fmt)
        self.handler = handler
        self.logger.addHandler(handler)
        self.threads = [threading.Thread(target=self._work, args=(i,), daemon=True) for i in range(WORKERS)]
        try:
            import psycopg  # noqa: F401

            self.query = self._query_psycopg
        except ImportError:
            self.query = self._query_psql

    def _query_psycopg(self, order: int) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.server.port, user="app", dbname="orders", connect_timeout=3) as conn:
            conn.execute("SELECT id, status, total, pg_sleep(0.05) FROM orders WHERE id = %s", (order,)).fetchone()

    def _query_psql(self, order: int) -> None:
        sql = f"SELECT id, status, total, pg_sleep(0.05) FROM orders WHERE id = {order}"
        cmd = [str(self.server.bindir / "psql"), "-X", "-q", "-h", "127.0.0.1", "-p", str(self.server.port), "-U", "app", "-d", "orders", "-c", sql]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False, env={**os.environ, "PGCONNECT_TIMEOUT": "3"})
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip())

    def _work(self, worker: int) -> None:
        rng = random.Random(worker)
        log = logging.LoggerAdapter(self.logger, {"short": f"orders.api.worker-{worker}"})
        while not self.stop.is_set():
            order = rng.randint(1, 5000)
            began = time.monotonic()
            try:
                self.query(order)
            except Exception as exc:  # noqa: BLE001 - the app logs whatever the driver raised
                text = " ".join(str(exc).split())
                with self.lock:
                    self.failures.append(_now())
                log.error("GET /orders/%d 500: database %s: %s: %s", order, DB_NAME, type(exc).__name__, text)
            else:
                ms = (time.monotonic() - began) * 1000
                with self.lock:
                    self.successes += 1
                log.info("GET /orders/%d 200 in %.0fms", order, ms)
            self.stop.wait(PAUSE_S)

    def start(self) -> None:
        """Start the workers."""
        for t in self.threads:
            t.start()

    def shutdown(self) -> None:
        """Stop the workers and close the log."""
        self.stop.set()
        for t in self.threads:
            t.join(timeout=15)
        self.logger.removeHandler(self.handler)
        self.handler.close()


# --- the scenario -------------------------------------------------------------------------------


@dataclass
class Scenario:
    """What happened (truth, UTC from the test's clock) and where the evidence is."""

    truth: dict[str, dt.datetime]
    evidence: Path
    server: Server
    successes: int
    failures: int
    wall_s: float


def _change(path: Path, at: dt.datetime, who: str, what: str, target: str) -> None:
    """Append a change-log line as a change tool would: whole seconds, local offset."""
    new = not path.exists()
    with path.open("a", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["time", "who", "what", "target"])
        w.writerow([at.astimezone(ZoneInfo(TZ)).replace(microsecond=0).isoformat(), who, what, target])


def _alter_max_connections(server: Server, value: int | None) -> None:
    """ALTER SYSTEM as the superuser (who keeps a reserved slot even when the app has none).

    Backends of the app's refused connections hold every process slot for a moment
    before they are turned away, so even the superuser can be refused ("sorry, too
    many clients already"): try again, as a DBA would, for a few seconds.
    """
    import psycopg

    deadline = time.monotonic() + 10
    while True:
        try:
            conn = server.connect("postgres", "postgres")
            break
        except psycopg.OperationalError as exc:
            if "too many clients" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    try:
        if value is None:
            conn.execute("ALTER SYSTEM RESET max_connections")  # type: ignore[attr-defined]
        else:
            conn.execute(f"ALTER SYSTEM SET max_connections = {int(value)}")  # type: ignore[attr-defined]
    finally:
        conn.close()  # type: ignore[attr-defined]


def _run_scenario(server: Server) -> Scenario:
    t_begin = time.monotonic()
    evidence = server.root / "evidence"
    (evidence / "app").mkdir(parents=True)
    (evidence / "changes").mkdir()
    changes = evidence / "changes" / "changes.csv"
    conn = server.connect("postgres", "postgres")
    conn.execute("CREATE ROLE app LOGIN")  # type: ignore[attr-defined]
    conn.execute("CREATE DATABASE orders OWNER app")  # type: ignore[attr-defined]
    conn.close()  # type: ignore[attr-defined]
    conn = server.connect("app", "orders")
    conn.execute(  # type: ignore[attr-defined]
        "CREATE TABLE orders AS SELECT g AS id, (ARRAY['paid','shipped','open'])[1 + g % 3] AS status, (g % 97) * 1.25 AS total "
        "FROM generate_series(1, 5000) g"
    )
    conn.execute("ALTER TABLE orders ADD PRIMARY KEY (id)")  # type: ignore[attr-defined]
    conn.close()  # type: ignore[attr-defined]

    truth: dict[str, dt.datetime] = {}
    app = OrderService(server, evidence / "app" / "orders-api.log")
    app.start()
    try:
        time.sleep(UNRELATED_AT_S)
        truth["unrelated change"] = _now()
        _change(changes, truth["unrelated change"], "tom.becker", "Deploy storefront v2024.11.3 (static assets, checkout copy)", "storefront")
        time.sleep(BASELINE_S - UNRELATED_AT_S)

        truth["trigger"] = _now()
        _change(changes, truth["trigger"], "dmitri.k", f"CHG-3101 {DB_NAME}: max_connections 20 -> 3 (ALTER SYSTEM) and PostgreSQL restart", DB_NAME)
        _alter_max_connections(server, 3)
        server.pg_ctl("restart", "-m", "fast")
        time.sleep(FAILING_BEFORE_ROLLBACK_S)

        truth["rollback (did not work)"] = _now()
        _change(changes, truth["rollback (did not work)"], "dmitri.k", f"Roll back CHG-3101 on {DB_NAME}: ALTER SYSTEM RESET max_connections, pg_ctl reload", DB_NAME)
        _alter_max_connections(server, None)
        server.pg_ctl("reload")
        time.sleep(FAILING_AFTER_ROLLBACK_S)

        truth["restart (worked)"] = _now()
        _change(changes, truth["restart (worked)"], "dmitri.k", f"Restart PostgreSQL on {DB_NAME} so max_connections = 20 takes effect", DB_NAME)
        server.pg_ctl("restart", "-m", "fast")
        time.sleep(RECOVERY_S)
    finally:
        app.shutdown()
    during = [f for f in app.failures if f >= truth["trigger"]]
    if not during:
        msg = f"the bad change made no request fail ({app.successes} succeeded): the scenario did not happen"
        raise AssertionError(msg)
    truth["impact_start"] = min(during)
    truth["mitigated"] = max(during)
    before = [f for f in app.failures if f < truth["trigger"]]
    if before:
        msg = f"{len(before)} requests failed during the baseline, first at {before[0]}: the baseline is not clean"
        raise AssertionError(msg)
    return Scenario(truth, evidence, server, app.successes, len(app.failures), time.monotonic() - t_begin)


@pytest.fixture(name="scenario", scope="module")
def fixture_scenario() -> Iterator[Scenario]:
    """The outage, acted out against a real server, with its truth."""
    bindir = _bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl): not found via pg_config --bindir or /usr/lib/postgresql/*/bin")
    server = _start_server(bindir)
    try:
        scenario = _run_scenario(server)
        keep = os.environ.get("TIMELINE_KEEP_EVIDENCE")
        if keep:  # for a person debugging a failure: keep the evidence to read it again
            shutil.copytree(scenario.evidence, Path(keep) / "evidence", dirs_exist_ok=True)
            shutil.copytree(server.log_dir, Path(keep) / "evidence" / "db", dirs_exist_ok=True)
        yield scenario
    finally:
        with contextlib.suppress(Exception):
            server.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(server.root, ignore_errors=True)


def _read(scenario: Scenario, db_glob: str) -> tl.EventTable:  # type: ignore[name-defined]
    paths = [str(scenario.server.log_dir / db_glob), scenario.evidence / "app", scenario.evidence / "changes"]
    return tl.read(paths, tz=TZ, quiet=True)


@pytest.fixture(name="events", scope="module")
def fixture_events(scenario: Scenario):
    """The server's stderr log, the app log and the change log, read as a responder would."""
    return _read(scenario, "*.log")


@pytest.fixture(name="incident", scope="module")
def fixture_incident(events) -> Incident:
    """The reconstruction of the acted-out outage."""
    return reconstruct(events, tz=TZ)


# --- comparing ----------------------------------------------------------------------------------


def _found(inc: Incident) -> dict[str, dt.datetime | None]:
    """The reconstructed time of each acted-out milestone (attempts matched by what they did)."""
    rollbacks = [a for a in inc.attempts if a.action == "rollback"]
    worked = [a for a in inc.attempts if a.effective]
    return {
        "trigger": inc.at("trigger"),
        "impact_start": inc.at("impact_start"),
        "rollback (did not work)": rollbacks[0].at if rollbacks else None,
        "restart (worked)": worked[0].at if worked else None,
        "mitigated": inc.at("mitigated"),
    }


def _table(scenario: Scenario, inc: Incident) -> str:
    """Truth against reconstruction, with differences in seconds."""
    found = _found(inc)
    zone = ZoneInfo(TZ)
    lines = [
        f"scenario: {scenario.wall_s:.0f} s acted, {scenario.successes} requests succeeded, {scenario.failures} failed; bucket {inc.extra.get('bucket')}",
        f"{'milestone':<26} {'truth (' + TZ + ')':<30} {'reconstructed':<16} {'diff s':>8}  tolerance",
    ]
    for name, tol in TOLERANCE_S.items():
        want, got = scenario.truth[name], found[name]
        diff = f"{(got - want).total_seconds():+8.2f}" if got else "  missed"
        got_s = f"{got.astimezone(zone):%H:%M:%S.%f}"[:-3] if got else "-"
        lines.append(f"{name:<26} {want.astimezone(zone):%Y-%m-%d %H:%M:%S.%f}"[:-3].ljust(57) + f" {got_s:<16} {diff}  ±{tol:g}")
    lines.append("attempts found:")
    for a in inc.attempts:
        lines.append(f"  {a.at.astimezone(zone):%H:%M:%S.%f}"[:-3] + f" {a.action:<9} effective={a.effective!s:<5} {a.text[:70]}")
    for name in ("detected", "resolved"):
        m = inc.milestones.get(name)
        lines.append(f"{name}: " + (f"{m.at.astimezone(zone):%H:%M:%S} ({m.confidence}) {m.rule[:90]}" if m else f"not found ({inc.missing.get(name, '')[:90]})"))
    return "\n".join(lines)


@pytest.fixture(name="table", scope="module")
def fixture_table(scenario: Scenario, incident: Incident) -> str:
    """The comparison table, printed once."""
    text = _table(scenario, incident)
    print("\n" + text)
    return text


def _off(scenario: Scenario, incident: Incident, name: str) -> float | None:
    got = _found(incident)[name]
    return None if got is None else abs((got - scenario.truth[name]).total_seconds())


def test_server_log_read_without_rejections(events, table):
    """Every line of the server log, the app log and the change log is read (PDT/PST times included)."""
    bad = {a.file: a.rejected_reasons for a in events.account if a.rejected}
    assert bad == {}, table
    formats = {Path(a.file).name: a.format for a in events.account}
    assert any(f and "postgres" in f for f in formats.values()), f"{formats}\n{table}"


@pytest.mark.parametrize("name", list(TOLERANCE_S))
def test_milestone_within_seconds_of_truth(scenario, incident, table, name):
    """Each acted-out milestone is reconstructed within its tolerance of the recorded truth."""
    off = _off(scenario, incident, name)
    assert off is not None, f"{name} was not reconstructed\n{table}"
    assert off <= TOLERANCE_S[name], f"{name} is {off:.2f} s from the truth (tolerance {TOLERANCE_S[name]} s)\n{table}"


def test_trigger_is_the_database_change(incident, table):
    """The trigger is the max_connections change on the failing database, not the unrelated deploy."""
    trig = incident.milestones["trigger"]
    assert trig is not None, table
    assert any("max_connections" in e.message for e in trig.evidence), f"{trig.rule}\n{table}"
    assert trig.confidence == "high", f"{trig.rule}\n{table}"


def test_rollback_failed_then_restart_worked(scenario, incident, table):
    """The reload-only rollback is judged ineffective and the restart effective, in that order."""
    near = {
        name: [a for a in incident.attempts if abs((a.at - scenario.truth[name]).total_seconds()) <= TOLERANCE_S[name]]
        for name in ("rollback (did not work)", "restart (worked)")
    }
    rollback, restart = near["rollback (did not work)"], near["restart (worked)"]
    assert rollback and restart, table
    assert rollback[0].action == "rollback" and not rollback[0].effective, table
    assert restart[0].effective, table
    assert not any(a.effective for a in incident.attempts if a.at < restart[0].at), table


def test_csvlog_gives_the_same_milestones(scenario, incident, table):
    """Reading the server's csvlog instead of its stderr log moves no milestone by more than a second."""
    other = reconstruct(_read(scenario, "*.csv"), tz=TZ)
    a, b = _found(incident), _found(other)
    moved = {k: (a[k], b[k]) for k in a if (a[k] is None) != (b[k] is None) or (a[k] and b[k] and abs((a[k] - b[k]).total_seconds()) > 1)}
    assert moved == {}, f"{moved}\n{table}\ncsvlog:\n{_table(scenario, other)}"


def test_no_attempt_but_the_two_taken(scenario, incident, table):
    """Every mitigation attempt found is one of the two acts (the bad change's own restart is not an attempt)."""
    acts = [scenario.truth["rollback (did not work)"], scenario.truth["restart (worked)"]]
    extra = [a for a in incident.attempts if all(abs((a.at - t).total_seconds()) > TOLERANCE_S["restart (worked)"] for t in acts)]
    assert extra == [], table


def _with_early_error(events, before: dt.timedelta) -> Incident:
    """The same evidence with one unrelated error ``before`` its first line (as a longer log would hold)."""
    import polars as pl

    df = events.df
    noise = df.sort("ts").head(1).with_columns(
        (pl.col("ts") - before).alias("ts"),
        pl.lit("error").cast(df.schema["level"]).alias("level"),
        pl.lit("log").cast(df.schema["kind"]).alias("kind"),
        pl.lit("backup job: disk quota warning on backup-2").alias("message"),
        pl.lit("/elsewhere/backup.log").alias("file"),
    )
    return reconstruct(pl.concat([noise, df]), tz=TZ)


def test_one_unrelated_error_a_minute_earlier_keeps_impact_start(scenario, events, incident, table):
    """A single unrelated error a minute before the evidence starts does not move impact start (buckets stay 1 s)."""
    with_early_error = _with_early_error(events, dt.timedelta(minutes=1))
    a, b = incident.at("impact_start"), with_early_error.at("impact_start")
    assert a == b, f"impact_start {a} alone, {b} with the earlier error\n{table}\nwith it:\n{_table(scenario, with_early_error)}"


def test_one_unrelated_error_an_hour_earlier_keeps_trigger(scenario, events, incident, table):
    """A single unrelated error an hour before the evidence starts does not move the trigger."""
    with_early_error = _with_early_error(events, dt.timedelta(hours=1))
    a, b = incident.at("trigger"), with_early_error.at("trigger")
    assert a == b, f"trigger {a} alone, {b} with the earlier error\n{table}\nwith it:\n{_table(scenario, with_early_error)}"
