"""A real PostgreSQL server writes stderr, csvlog and jsonlog logs; timeline reads all three the same.

Needs the server binaries (Debian's ``postgresql`` package: ``initdb``, ``pg_ctl``,
``postgres``) and ``psql``. They are found through ``pg_config --bindir``, then
``/usr/lib/postgresql/*/bin``, then ``PATH``. Run as root, the server runs as an
unprivileged user (``nobody``'s uid via ``runuser``/``setpriv``), since
PostgreSQL refuses to start as root.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

import timeline.sources as sources

pytestmark = pytest.mark.postgres


def _bindir() -> Path | None:
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for c in candidates:
        if all((c / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return c
    return None


def _version(bindir: Path) -> int:
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1].split(".")[0])


BINDIR = _bindir()
PSQL = (BINDIR / "psql") if BINDIR and (BINDIR / "psql").exists() else (Path(shutil.which("psql")) if shutil.which("psql") else None)
if BINDIR is None or PSQL is None:
    pytest.skip(
        "PostgreSQL server binaries not found (initdb, pg_ctl, postgres via pg_config --bindir or "
        "/usr/lib/postgresql/*/bin, and psql); install Debian's 'postgresql' package",
        allow_module_level=True,
    )
if _version(BINDIR) < 15:
    pytest.skip(f"PostgreSQL {_version(BINDIR)} has no jsonlog (needs 15+)", allow_module_level=True)


def _run_as() -> tuple[list[str], int | None]:
    """Command prefix that drops root, and the uid to own files (None when not root)."""
    if os.geteuid() != 0:
        return [], None
    user = pwd.getpwnam("nobody")
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"], user.pw_uid
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "nobody", "--"], user.pw_uid
    pytest.skip("running as root without setpriv or runuser to start PostgreSQL as another user")
    return [], None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One throw-away cluster in a temp dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.sock = root / "sock"
        self.port = _free_port()
        self.prefix, uid = _run_as()
        self.env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PGTZ": "UTC"}
        self.sock.mkdir()
        if uid is not None:
            for p in (root, self.sock):
                os.chown(p, uid, -1)
            root.chmod(0o755)

    def run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix, *args], capture_output=True, text=True, env=self.env, check=check, timeout=timeout, cwd=self.root)

    def ctl(self, *args: str) -> None:
        self.run(str(BINDIR / "pg_ctl"), "-D", str(self.data), "-w", "-t", "30", *args)

    def psql(self, sql: str, *, user: str = "nobody", check: bool = False) -> subprocess.CompletedProcess[str]:
        return self.run(str(PSQL), "-X", "-h", "127.0.0.1", "-p", str(self.port), "-U", user, "-d", "postgres", "-c", sql, check=check)

    def psql_async(self, sql: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*self.prefix, str(PSQL), "-X", "-h", "127.0.0.1", "-p", str(self.port), "-U", "nobody", "-d", "postgres", "-c", sql],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env, cwd=self.root,
        )


@pytest.fixture(name="pg_logs", scope="module")
def fixture_pg_logs() -> Iterator[dict]:
    """Run a server through connection failures, a failing statement, a reload and a restart; return its logs."""
    # Not pytest's tmp_path: its parents are private to root, and the server runs as another user.
    root = Path(tempfile.mkdtemp(prefix="timeline-pg-"))
    try:
        yield from _run_server(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run_server(root: Path) -> Iterator[dict]:
    srv = Server(root)
    srv.run(str(BINDIR / "initdb"), "-D", str(srv.data), "-U", "nobody", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
    conf = srv.data / "postgresql.conf"
    with conf.open("a") as fh:
        fh.write(
            f"""
listen_addresses = '127.0.0.1'
port = {srv.port}
unix_socket_directories = '{srv.sock}'
logging_collector = on
log_destination = 'stderr,csvlog,jsonlog'
log_directory = 'log'
log_filename = 'postgresql-%Y%m%d.log'
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'America/Los_Angeles'
log_connections = on
log_disconnections = on
max_connections = 5
superuser_reserved_connections = 0
fsync = off
shared_buffers = 16MB
"""
        )
    wall: dict[str, dt.datetime] = {}
    holders: list[subprocess.Popen[str]] = []
    n_refused = 0
    try:
        wall["start"] = dt.datetime.now(dt.UTC)
        srv.ctl("start", "-l", str(root / "startup.log"))
        # A failing statement: ERROR with a STATEMENT line, and one with DETAIL and HINT.
        srv.psql("SELECT *\n  FROM no_such_table;")  # multi-line: tab-continued in stderr, quoted newline in csv
        srv.psql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);")
        srv.psql("INSERT INTO t VALUES (1);")
        srv.psql("DO $$ BEGIN RAISE EXCEPTION 'payment failed' USING DETAIL = 'card declined', HINT = 'retry later'; END $$;")
        # Fill every slot with sleeping sessions, then ask for more: "sorry, too many clients already".
        # A holder can itself be refused while earlier sessions are still closing, so the holders
        # are topped up until a probe is refused.
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            holders = [h for h in holders if h.poll() is None]
            while len(holders) < 5:
                holders.append(srv.psql_async("SELECT pg_sleep(60);"))
            time.sleep(0.3)
            busy = srv.psql("SELECT 1;")
            if "too many clients" in busy.stderr or "remaining connection slots" in busy.stderr:
                break
        wall["too_many_before"] = dt.datetime.now(dt.UTC)
        refused = [srv.psql("SELECT 1;") for _ in range(3)]
        wall["too_many_after"] = dt.datetime.now(dt.UTC)
        assert any("too many clients" in r.stderr for r in refused), [r.stderr for r in refused]
        n_refused = sum("too many clients" in r.stderr for r in refused)
        for h in holders:
            h.terminate()
        for h in holders:
            h.wait(timeout=10)
        # A reload after a parameter change, then a restart.
        with conf.open("a") as fh:
            fh.write("work_mem = '8MB'\n")
        wall["reload_before"] = dt.datetime.now(dt.UTC)
        srv.ctl("reload")
        time.sleep(0.5)
        srv.ctl("restart", "-m", "fast", "-l", str(root / "startup.log"))
        wall["restart_after"] = dt.datetime.now(dt.UTC)
        srv.psql("SELECT 1;")
    finally:
        for h in holders:
            if h.poll() is None:
                h.kill()
        srv.run(str(BINDIR / "pg_ctl"), "-D", str(srv.data), "-w", "-m", "fast", "stop", check=False)
    wall["end"] = dt.datetime.now(dt.UTC)
    log_dir = srv.data / "log"
    files = {p.suffix: p for p in log_dir.iterdir()}
    yield {"dir": log_dir, "files": files, "wall": wall, "refused": n_refused}


def _read(path: Path) -> tuple[pl.DataFrame, sources.FileAccount]:
    table = sources.read(path, quiet=True)
    assert len(table.account) == 1
    return table.df, table.account[0]


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_server_writes_all_three_logs(pg_logs):
    """The server wrote a stderr, a csvlog and a jsonlog file."""
    assert {".log", ".csv", ".json"} <= set(pg_logs["files"])


@pytest.mark.parametrize(("suffix", "fmt"), [(".log", "postgres_stderr"), (".csv", "postgres_csvlog"), (".json", "postgres_jsonlog")])
def test_every_line_is_accounted_for(pg_logs, suffix, fmt):
    """Each log is recognised and every one of its lines is an event, a continuation or blank; none rejected."""
    path = pg_logs["files"][suffix]
    _, account = _read(path)
    assert account.format == fmt
    assert account.rejected == 0, account.rejected_lines
    assert account.lines == _lines(path)
    assert account.balanced


def test_three_logs_agree_on_events_and_times(pg_logs):
    """stderr, csvlog and jsonlog give the same events at the same milliseconds with the same levels."""
    frames = {s: _read(pg_logs["files"][s])[0] for s in (".log", ".csv", ".json")}
    heights = {s: f.height for s, f in frames.items()}
    assert len(set(heights.values())) == 1, heights
    keyed = {s: f.select(pl.col("ts").dt.truncate("1ms"), pl.col("level").cast(pl.String)).sort("ts", "level") for s, f in frames.items()}
    assert keyed[".log"].equals(keyed[".csv"])
    assert keyed[".log"].equals(keyed[".json"])


def test_times_are_utc_within_the_run(pg_logs):
    """Times logged in America/Los_Angeles read as UTC instants inside the wall-clock span of the run."""
    df, account = _read(pg_logs["files"][".log"])
    wall = pg_logs["wall"]
    assert set(account.zones_seen) <= {"PDT", "PST"}
    first, last = df["ts"].min(), df["ts"].max()
    slack = dt.timedelta(seconds=2)
    assert wall["start"] - slack <= first <= last <= wall["end"] + slack


def test_too_many_clients_is_an_error_at_the_right_time(pg_logs):
    """Each refused connection is a FATAL 'too many clients' event, level error, logged while it happened."""
    df, _ = _read(pg_logs["files"][".log"])
    wall = pg_logs["wall"]
    hits = df.filter(pl.col("message").str.contains("sorry, too many clients already"))
    assert hits.height >= 3
    assert set(hits["level"].cast(pl.String)) == {"error"}
    late = hits.filter(pl.col("ts") >= wall["too_many_before"] - dt.timedelta(seconds=1))
    assert late.height >= pg_logs["refused"]
    assert late["ts"].max() <= wall["too_many_after"] + dt.timedelta(seconds=1)


def test_reload_and_restart_are_there(pg_logs):
    """The reload (SIGHUP, parameter changed) and the restart (shutdown, ready again) are events."""
    df, _ = _read(pg_logs["files"][".log"])
    messages = df["message"].to_list()
    assert any("received SIGHUP, reloading configuration files" in m for m in messages)
    assert any('parameter "work_mem" changed to "8MB"' in m for m in messages)
    assert any("received fast shutdown request" in m for m in messages)
    assert sum("database system is ready to accept connections" in m for m in messages) >= 2


def test_detail_hint_and_statement_join_their_error(pg_logs):
    """DETAIL, HINT and STATEMENT lines are joined to the ERROR they explain, in all three logs."""
    for suffix in (".log", ".csv", ".json"):
        df, _ = _read(pg_logs["files"][suffix])
        payment = df.filter(pl.col("message").str.starts_with("payment failed"))
        assert payment.height == 1, suffix
        text = payment["message"][0]
        assert "DETAIL:  card declined" in text and "HINT:  retry later" in text and "STATEMENT:  DO $$" in text, (suffix, text)
    _, account = _read(pg_logs["files"][".log"])
    assert account.continuation_lines >= 6
