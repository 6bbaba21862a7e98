"""Seeded generator of large, realistic log files for the reading benchmark.

Writes three format families, each with ``--lines`` physical lines (default
1,000,000), into ``bench/data/`` (git-ignored):

``app.log``
    Python ``logging`` text, ``%(asctime)s %(levelname)s [%(name)s] %(message)s``,
    local naive time (America/Los_Angeles, August, so PDT), with about 7 % of
    the lines inside tracebacks (continuation lines without a prefix).
``app.jsonl``
    JSON lines in the structlog/ECS style: ``@timestamp`` in ISO 8601 with an
    offset (``-07:00`` for most services, ``+00:00`` for the edge proxy),
    ``log.level``, ``log.logger``, ``message`` and dotted attribute keys.
    ``error.type``/``error.message`` and ``tenant.id`` first appear after
    row 500, so a reader that infers its schema from the first 100 rows drops
    them.
``postgresql.log``
    PostgreSQL stderr with ``log_line_prefix='%m [%p] %q%u@%d '`` and
    ``log_timezone`` giving ``PDT``: background processes stop the prefix at
    ``%q``; ERRORs carry DETAIL/HINT/CONTEXT/STATEMENT lines with their own
    prefix; multi-line statements, deadlock details and autovacuum reports
    continue on TAB-indented lines.

The same seed and line count always give byte-identical files.  A
``manifest.json`` beside them records, per file, the line, record and
continuation counts that a reader must reproduce, so the runner can check
that every tool really parsed every line.

Usage::

    python bench/generate_logs.py                 # 1 M lines per family
    python bench/generate_logs.py --lines 20000 --out /tmp/small
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

DEFAULT_LINES = 1_000_000
DEFAULT_SEED = 20240812
DEFAULT_OUT = Path(__file__).resolve().parent / "data"

#: Local wall-clock start of every file (America/Los_Angeles, PDT = UTC-7).
START_LOCAL = datetime(2024, 8, 12, 6, 0, 0)
PDT = timezone(timedelta(hours=-7))

FAMILIES = ("python_logging", "jsonl", "postgres_stderr")
FILE_NAMES = {
    "python_logging": "app.log",
    "jsonl": "app.jsonl",
    "postgres_stderr": "postgresql.log",
}


@dataclass
class FileStats:
    """What a correct reader of one generated file must find.

    Attributes
    ----------
    family : str
        The format family (``python_logging``, ``jsonl``, ``postgres_stderr``).
    file : str
        File name inside the output folder.
    lines : int
        Physical lines written.
    bytes : int
        File size in bytes.
    records : int
        Lines that start a record (carry a timestamp prefix, or JSON objects).
    continuation_lines : int
        Lines without a prefix that join the record before them (traceback
        lines, TAB lines).
    events : int
        Events after joining every continuation: for PostgreSQL, the
        DETAIL/HINT/CONTEXT/STATEMENT lines join their primary line too.
    prefixed_secondary : int
        PostgreSQL only: DETAIL/HINT/CONTEXT/STATEMENT lines (with a prefix).
    first_ts_utc, last_ts_utc : str
        ISO times of the first and last record, in UTC.
    """

    family: str
    file: str
    lines: int = 0
    bytes: int = 0
    records: int = 0
    continuation_lines: int = 0
    events: int = 0
    prefixed_secondary: int = 0
    first_ts_utc: str = ""
    last_ts_utc: str = ""


class _Clock:
    """Monotonic local clock advancing by seeded exponential gaps."""

    def __init__(self, rng: np.random.Generator, mean_ms: float, n: int) -> None:
        gaps = rng.exponential(mean_ms * 1000.0, size=n + 1).astype(np.int64)
        self._us = np.cumsum(gaps)
        self._i = 0

    def tick(self) -> datetime:
        """Return the next local timestamp."""
        us = int(self._us[min(self._i, len(self._us) - 1)])
        self._i += 1
        return START_LOCAL + timedelta(microseconds=us)


class _Picker:
    """Cheap seeded choices, drawn in blocks from numpy."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._block = rng.random(65536)
        self._i = 0

    def u(self) -> float:
        """Return a uniform float in [0, 1)."""
        if self._i >= len(self._block):
            self._block = self._rng.random(65536)
            self._i = 0
        v = float(self._block[self._i])
        self._i += 1
        return v

    def int(self, lo: int, hi: int) -> int:
        """Return an integer in [lo, hi]."""
        return lo + int(self.u() * (hi - lo + 1))

    def choice(self, seq: tuple | list):  # type: ignore[no-untyped-def]
        """Return one element of ``seq``."""
        return seq[int(self.u() * len(seq))]

    def weighted(self, items: tuple, cum: tuple[float, ...]):  # type: ignore[no-untyped-def]
        """Return one of ``items`` given cumulative weights ``cum`` ending at 1."""
        x = self.u()
        for item, c in zip(items, cum, strict=True):
            if x < c:
                return item
        return items[-1]

    def hexid(self, n: int) -> str:
        """Return ``n`` hex digits."""
        out = ""
        while len(out) < n:
            out += f"{int(self.u() * 16**8):08x}"
        return out[:n]


def _cum(weights: tuple[float, ...]) -> tuple[float, ...]:
    total = sum(weights)
    out, acc = [], 0.0
    for w in weights:
        acc += w / total
        out.append(acc)
    out[-1] = 1.0
    return tuple(out)


# --------------------------------------------------------------------------
# Shared vocabulary
# --------------------------------------------------------------------------

USERS = ("alice", "bob", "chen.wei", "dmitri", "José.García", "zoë", "priya", "ops-bot",
         "svc-billing", "marta", "kenji", "françois")
PATHS = ("/api/v1/orders", "/api/v1/orders/{id}", "/api/v1/cart", "/api/v1/checkout",
         "/api/v1/users/{id}", "/api/v1/search", "/healthz", "/api/v1/payments",
         "/api/v1/inventory/{id}", "/metrics")
METHODS = ("GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH")
HOSTS = ("10.0.3.12", "10.0.3.13", "10.0.4.7", "10.0.5.21", "172.16.0.9")
TABLES = ("orders", "order_items", "payments", "users", "inventory", "sessions", "carts")
CITIES = ("Berlin", "Köln", "São Paulo", "Zürich", "Seattle", "Lyon", "Kraków", "Tokyo")


def _path(p: _Picker) -> str:
    return p.choice(PATHS).replace("{id}", str(p.int(1, 999_999)))


# --------------------------------------------------------------------------
# 1. Python logging text
# --------------------------------------------------------------------------

PY_LOGGERS = ("app.api.orders", "app.api.checkout", "app.db.pool", "app.worker.billing",
              "app.cache", "uvicorn.access", "uvicorn.error", "sqlalchemy.engine.Engine",
              "celery.worker.strategy", "urllib3.connectionpool", "app.auth", "app.search")
PY_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PY_LEVEL_CUM = _cum((14, 68, 11, 6.3, 0.7))


def _py_message(p: _Picker, level: str, logger: str) -> str:
    if logger == "uvicorn.access":
        return (f'{p.choice(HOSTS)}:{p.int(30000, 65000)} - "{p.choice(METHODS)} {_path(p)} '
                f'HTTP/1.1" {p.choice((200, 200, 200, 201, 204, 304, 400, 404, 500, 502))}')
    if level == "DEBUG":
        return p.choice((
            f"cache lookup key=order:{p.int(1, 999999)} hit={p.choice(('True', 'False'))}",
            f"acquired connection from pool (size={p.int(5, 20)}, overflow={p.int(0, 5)})",
            f"SELECT orders.id, orders.status FROM orders WHERE orders.id = %(id)s "
            f"[cached since {p.int(1, 900)}.{p.int(0, 999):03d}s ago]",
            f"span {p.hexid(16)} finished in {p.int(1, 900)} ms",
            f"retry policy: attempt={p.int(1, 5)} backoff={p.int(1, 30) / 10:.1f}s",
        ))
    if level == "INFO":
        return p.choice((
            f"order {p.int(100000, 999999)} created for user {p.choice(USERS)} total={p.int(1, 90000) / 100:.2f} EUR",
            f"payment authorized order={p.int(100000, 999999)} provider=stripe latency_ms={p.int(40, 2400)}",
            f"user {p.choice(USERS)} logged in from {p.choice(CITIES)} ({p.choice(HOSTS)})",
            f"task billing.charge[{p.hexid(8)}-{p.hexid(4)}] succeeded in {p.int(1, 9000) / 1000:.3f}s",
            f"search q=\"{p.choice(('lamp', 'chaise longue', 'café table', 'desk', 'Stuhl'))}\" "
            f"results={p.int(0, 500)} took {p.int(2, 800)}ms",
            f"cache warmed: {p.int(100, 50000)} keys in {p.int(10, 5000)} ms",
            f"inventory reserved sku=SKU-{p.int(10000, 99999)} qty={p.int(1, 12)}",
            f"Started GET {_path(p)} request_id={p.hexid(12)}",
        ))
    if level == "WARNING":
        return p.choice((
            f"slow query took {p.int(500, 9000)} ms: SELECT * FROM {p.choice(TABLES)} WHERE id = {p.int(1, 99999)}",
            f"connection pool near capacity: {p.int(17, 20)}/20 in use, {p.int(0, 40)} waiting",
            f"Retrying (Retry(total={p.int(0, 4)}, connect=None, read=None, redirect=None)) after connection "
            f"broken by 'ReadTimeoutError(\"HTTPSConnectionPool(host='api.stripe.com', port=443): "
            f"Read timed out. (read timeout={p.int(5, 30)})\")': /v1/charges",
            f"rate limit approaching for tenant t-{p.int(1, 400)}: {p.int(80, 99)}% of quota",
            f"deprecated parameter 'page_size' used by client {p.choice(HOSTS)}",
        ))
    return p.choice((
        f"could not charge order {p.int(100000, 999999)}: card_declined",
        f"request failed: {p.choice(METHODS)} {_path(p)} -> 500 after {p.int(5, 30000)} ms",
        f"database error while saving order {p.int(100000, 999999)}",
        f"worker lost connection to broker amqp://rabbitmq:5672//, reconnecting in {p.int(1, 32)}s",
        f"QueuePool limit of size 20 overflow 5 reached, connection timed out, timeout 30.00",
    ))


_TB_FRAMES = (
    ('/srv/app/api/orders.py', 'create_order', 'order = service.create(payload)'),
    ('/srv/app/services/orders.py', 'create', 'self.repo.save(order)'),
    ('/srv/app/db/repo.py', 'save', 'session.flush()'),
    ('/srv/app/.venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py', '_execute_context',
     'self.dialect.do_execute('),
    ('/srv/app/.venv/lib/python3.11/site-packages/sqlalchemy/engine/default.py', 'do_execute',
     'cursor.execute(statement, parameters)'),
    ('/srv/app/workers/billing.py', 'charge', 'resp = client.charges.create(**kwargs)'),
    ('/srv/app/.venv/lib/python3.11/site-packages/urllib3/connectionpool.py', 'urlopen',
     'httplib_response = self._make_request('),
    ('/srv/app/cache.py', 'get', 'return self._client.get(key)'),
)
_TB_ERRORS = (
    'psycopg2.OperationalError: connection to server at "db-primary" (10.0.3.5), port 5432 failed: '
    'FATAL:  sorry, too many clients already',
    'sqlalchemy.exc.IntegrityError: (psycopg2.errors.UniqueViolation) duplicate key value violates '
    'unique constraint "orders_pkey"',
    "KeyError: 'shipping_address'",
    "TimeoutError: [Errno 110] Connection timed out",
    "redis.exceptions.ConnectionError: Error 111 connecting to cache:6379. Connection refused.",
    "ValueError: invalid literal for int() with base 10: 'n/a'",
    "stripe.error.CardError: Request req_{hex}: Your card was declined.",
)


def _py_traceback(p: _Picker) -> list[str]:
    out = ["Traceback (most recent call last):"]
    for _ in range(p.int(2, 5)):
        path, func, code = p.choice(_TB_FRAMES)
        out.append(f'  File "{path}", line {p.int(12, 1900)}, in {func}')
        out.append(f"    {code}")
    out.append(p.choice(_TB_ERRORS).replace("{hex}", p.hexid(14)))
    return out


def write_python_logging(path: Path, n_lines: int, seed: int) -> FileStats:
    """Write ``n_lines`` lines of Python logging text and return what a reader must find.

    Parameters
    ----------
    path : Path
        Output file.
    n_lines : int
        Exact number of physical lines to write.
    seed : int
        Seed of the random generator.

    Returns
    -------
    FileStats
        Counts and time range of the written file.
    """
    rng = np.random.default_rng([seed, 1])
    p = _Picker(rng)
    clock = _Clock(rng, mean_ms=18.0, n=n_lines)
    st = FileStats("python_logging", path.name)
    lines: list[str] = []
    first = last = None
    while st.lines < n_lines:
        t = clock.tick()
        first = first or t
        last = t
        level = p.weighted(PY_LEVELS, PY_LEVEL_CUM)
        logger = p.choice(PY_LOGGERS)
        msg = _py_message(p, level, logger)
        lines.append(f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d} {level} [{logger}] {msg}")
        st.records += 1
        st.lines += 1
        # ~7 % of all lines are traceback lines, attached to ERROR/CRITICAL records.
        if level in ("ERROR", "CRITICAL") and p.u() < 0.115:
            tb = _py_traceback(p)
            if st.lines + len(tb) <= n_lines:
                lines.extend(tb)
                st.lines += len(tb)
                st.continuation_lines += len(tb)
    st.events = st.records
    _finish(path, lines, st, first, last, PDT)
    return st


# --------------------------------------------------------------------------
# 2. JSON lines (structlog / ECS style)
# --------------------------------------------------------------------------

JS_SERVICES = ("orders-api", "checkout-api", "billing-worker", "search-api", "edge-proxy")
JS_LOGGERS = {
    "orders-api": ("orders.views", "orders.service", "db.pool"),
    "checkout-api": ("checkout.flow", "payments.client", "db.pool"),
    "billing-worker": ("billing.tasks", "payments.client"),
    "search-api": ("search.query", "search.index"),
    "edge-proxy": ("proxy.access", "proxy.upstream"),
}
JS_LEVELS = ("debug", "info", "warning", "error", "critical")
JS_LEVEL_CUM = _cum((10, 74, 10, 5.5, 0.5))


def write_jsonl(path: Path, n_lines: int, seed: int) -> FileStats:
    """Write ``n_lines`` JSON objects, one a line, and return what a reader must find.

    Parameters
    ----------
    path : Path
        Output file.
    n_lines : int
        Exact number of lines (records) to write.
    seed : int
        Seed of the random generator.

    Returns
    -------
    FileStats
        Counts and time range of the written file.
    """
    rng = np.random.default_rng([seed, 2])
    p = _Picker(rng)
    clock = _Clock(rng, mean_ms=18.0, n=n_lines)
    st = FileStats("jsonl", path.name)
    lines: list[str] = []
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    first = last = None
    for row in range(n_lines):
        t_local = clock.tick()
        first = first or t_local
        last = t_local
        svc = p.choice(JS_SERVICES)
        logger = p.choice(JS_LOGGERS[svc])
        # No errors before row 600: the error.* keys first appear late.
        level = p.weighted(JS_LEVELS, JS_LEVEL_CUM) if row >= 600 else p.choice(("debug", "info", "info"))
        aware = t_local.replace(tzinfo=PDT)
        if svc == "edge-proxy":
            aware = aware.astimezone(timezone.utc)
        rec: dict[str, object] = {
            "@timestamp": aware.isoformat(timespec="microseconds"),
            "log.level": level,
            "log.logger": logger,
            "service.name": svc,
            "host.name": f"{svc}-{p.hexid(5)}-{p.int(0, 3)}",
            "trace.id": p.hexid(32),
        }
        if svc == "edge-proxy":
            status = p.choice((200, 200, 200, 200, 204, 301, 404, 499, 502, 503))
            method, url = p.choice(METHODS), _path(p)
            rec["message"] = f"{method} {url} {status}"
            rec["http.request.method"] = method
            rec["url.path"] = url
            rec["http.response.status_code"] = status
            rec["event.duration"] = p.int(100_000, 4_000_000_000)
            rec["client.ip"] = p.choice(HOSTS)
        elif level in ("error", "critical"):
            etype, emsg = p.choice((
                ("OperationalError", "connection to server at \"db-primary\" (10.0.3.5), port 5432 failed: "
                                     "FATAL:  sorry, too many clients already"),
                ("IntegrityError", "duplicate key value violates unique constraint \"orders_pkey\""),
                ("TimeoutError", "upstream payments timed out after 30s"),
                ("CardError", "Your card was declined."),
            ))
            rec["message"] = p.choice(("order creation failed", "charge failed", "request failed",
                                       "could not reserve inventory"))
            rec["error.type"] = etype
            rec["error.message"] = emsg
            if p.u() < 0.1:
                rec["error.stack_trace"] = "\n".join(_py_traceback(p))
        else:
            rec["message"] = _py_message(p, level.upper(), logger)
            if p.u() < 0.4:
                rec["user.name"] = p.choice(USERS)
            if p.u() < 0.3:
                rec["order.id"] = p.int(100000, 999999)
            if p.u() < 0.2:
                rec["duration_ms"] = round(p.u() * 2500, 3)
        if row >= 1000 and p.u() < 0.5:
            rec["tenant.id"] = f"t-{p.int(1, 400)}"
        lines.append(dumps(rec))
        st.records += 1
        st.lines += 1
    st.events = st.records
    _finish(path, lines, st, first, last, PDT)
    return st


# --------------------------------------------------------------------------
# 3. PostgreSQL stderr, log_line_prefix='%m [%p] %q%u@%d '
# --------------------------------------------------------------------------

PG_SESSIONS = (("app", "shop"), ("app", "shop"), ("app", "shop"), ("report", "analytics"),
               ("postgres", "postgres"), ("billing", "shop"))


def _pg_prefix(t: datetime, pid: int, user: str | None, db: str | None) -> str:
    ts = f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d} PDT [{pid}] "
    return ts if user is None else f"{ts}{user}@{db} "


def _pg_event(p: _Picker) -> list[tuple[str | None, str]]:
    """Return one PostgreSQL event as [(level or None for a TAB line, text)]."""
    x = p.u()
    tbl = p.choice(TABLES)
    oid = p.int(1, 99999)
    if x < 0.34:
        ms = p.int(1, 30000) / 1000 + p.int(0, 3) * 250
        if p.u() < 0.88:
            return [("LOG", f"duration: {ms:.3f} ms  statement: SELECT id, status, total FROM {tbl} "
                            f"WHERE id = {oid}")]
        return [("LOG", f"duration: {ms:.3f} ms  statement: SELECT o.id, o.total, u.email"),
                (None, f"FROM {tbl} o"),
                (None, "JOIN users u ON u.id = o.user_id"),
                (None, f"WHERE o.created_at > now() - interval '{p.int(1, 48)} hours'"),
                (None, f"  AND u.city = '{p.choice(CITIES)}'")]
    if x < 0.50:
        return [("LOG", f"connection received: host={p.choice(HOSTS)} port={p.int(30000, 65000)}")]
    if x < 0.64:
        u, d = p.choice(PG_SESSIONS)
        return [("LOG", f"connection authorized: user={u} database={d} application_name="
                        f"{p.choice(('orders-api', 'psql', 'billing-worker', 'metabase'))}")]
    if x < 0.78:
        u, d = p.choice(PG_SESSIONS)
        return [("LOG", f"disconnection: session time: 0:{p.int(0, 59):02d}:{p.int(0, 59):02d}.{p.int(0, 999):03d} "
                        f"user={u} database={d} host={p.choice(HOSTS)} port={p.int(30000, 65000)}")]
    if x < 0.84:
        return [("ERROR", f'duplicate key value violates unique constraint "{tbl}_pkey"'),
                ("DETAIL", f"Key (id)=({oid}) already exists."),
                ("STATEMENT", f"INSERT INTO {tbl} (id, status, city) VALUES ({oid}, 'new', '{p.choice(CITIES)}')")]
    if x < 0.87:
        a, b = p.int(1000, 99999), p.int(1000, 99999)
        return [("ERROR", "deadlock detected"),
                ("DETAIL", f"Process {a} waits for ShareLock on transaction {p.int(10**6, 10**7)}; "
                           f"blocked by process {b}."),
                (None, f"Process {b} waits for ShareLock on transaction {p.int(10**6, 10**7)}; "
                       f"blocked by process {a}."),
                (None, f"Process {a}: UPDATE {tbl} SET status = 'paid' WHERE id = {oid}"),
                (None, f"Process {b}: UPDATE {tbl} SET status = 'shipped' WHERE id = {oid + 1}"),
                ("HINT", "See server log for query details."),
                ("CONTEXT", f'while updating tuple (0,{p.int(1, 80)}) in relation "{tbl}"'),
                ("STATEMENT", f"UPDATE {tbl} SET status = 'paid' WHERE id = {oid}")]
    if x < 0.90:
        return [("ERROR", "canceling statement due to statement timeout"),
                ("STATEMENT", f"SELECT count(*) FROM {tbl} WHERE created_at > '2024-08-01'")]
    if x < 0.92:
        return [("ERROR", f'column "{p.choice(("stauts", "totl", "user"))}" does not exist at character {p.int(8, 40)}'),
                ("HINT", f'Perhaps you meant to reference the column "{tbl}.status".'),
                ("STATEMENT", f"SELECT stauts FROM {tbl} WHERE id = {oid}")]
    if x < 0.935:
        return [("FATAL", f'password authentication failed for user "{p.choice(("report", "app", "metabase"))}"'),
                ("DETAIL", 'Connection matched pg_hba.conf line 99: "host all all 10.0.0.0/8 scram-sha-256"')]
    if x < 0.95:
        return [("FATAL", "sorry, too many clients already")]
    if x < 0.96:
        return [("FATAL", "terminating connection due to administrator command")]
    if x < 0.975:
        return [("WARNING", "there is no transaction in progress")]
    return [("LOG", f'temporary file: path "base/pgsql_tmp/pgsql_tmp{p.int(1000, 99999)}.{p.int(0, 9)}", '
                    f"size {p.int(1, 400) * 1048576}"),
            ("STATEMENT", f"SELECT * FROM {tbl} ORDER BY created_at DESC")]


def _pg_background(p: _Picker) -> list[tuple[str | None, str]]:
    x = p.u()
    if x < 0.35:
        tbl = p.choice(TABLES)
        return [("LOG", f'automatic vacuum of table "shop.public.{tbl}": index scans: {p.int(0, 2)}'),
                (None, f"pages: 0 removed, {p.int(100, 90000)} remain, 0 skipped due to pins, 0 skipped frozen"),
                (None, f"tuples: {p.int(0, 9000)} removed, {p.int(1000, 900000)} remain, 0 are dead but "
                       f"not yet removable, oldest xmin: {p.int(10**6, 10**7)}"),
                (None, f"buffer usage: {p.int(100, 90000)} hits, {p.int(0, 900)} misses, {p.int(0, 900)} dirtied"),
                (None, f"avg read rate: {p.u() * 20:.3f} MB/s, avg write rate: {p.u() * 20:.3f} MB/s"),
                (None, f"system usage: CPU: user: {p.u():.2f} s, system: {p.u() / 5:.2f} s, elapsed: {p.u() * 3:.2f} s")]
    if x < 0.65:
        return [("LOG", "checkpoint starting: time")]
    if x < 0.95:
        return [("LOG", f"checkpoint complete: wrote {p.int(10, 9000)} buffers ({p.u() * 10:.1f}%); "
                        f"0 WAL file(s) added, 0 removed, {p.int(0, 5)} recycled; write={p.u() * 270:.3f} s, "
                        f"sync={p.u() / 10:.3f} s, total={p.u() * 270:.3f} s; sync files={p.int(1, 90)}, "
                        f"longest=0.003 s, average=0.001 s; distance={p.int(1, 900) * 1024} kB, "
                        f"estimate={p.int(1, 900) * 1024} kB")]
    if x < 0.98:
        return [("LOG", 'received SIGHUP, reloading configuration files'),
                ("LOG", f'parameter "work_mem" changed to "{p.choice(("4MB", "64MB", "256MB"))}"')]
    return [("LOG", f"server process (PID {p.int(1000, 99999)}) was terminated by signal 9: Killed"),
            ("DETAIL", f"Failed process was running: SELECT * FROM {p.choice(TABLES)}")]


_PG_SECONDARY = frozenset(("DETAIL", "HINT", "CONTEXT", "STATEMENT", "QUERY", "LOCATION"))


def write_postgres_stderr(path: Path, n_lines: int, seed: int) -> FileStats:
    """Write ``n_lines`` lines of PostgreSQL stderr and return what a reader must find.

    Parameters
    ----------
    path : Path
        Output file.
    n_lines : int
        Exact number of physical lines to write.
    seed : int
        Seed of the random generator.

    Returns
    -------
    FileStats
        Counts and time range of the written file.
    """
    rng = np.random.default_rng([seed, 3])
    p = _Picker(rng)
    clock = _Clock(rng, mean_ms=25.0, n=n_lines)
    st = FileStats("postgres_stderr", path.name)
    lines: list[str] = []
    bg_pids = {"checkpointer": 812, "autovacuum": 0}
    first = last = None
    while st.lines < n_lines:
        t = clock.tick()
        first = first or t
        last = t
        if p.u() < 0.06:
            parts = _pg_background(p)
            pid = bg_pids["checkpointer"] if parts[0][1].startswith("checkpoint") else p.int(20000, 99999)
            user = db = None
        else:
            parts = _pg_event(p)
            pid = p.int(1000, 99999)
            if parts[0][1].startswith("connection received"):
                user, db = "[unknown]", "[unknown]"
            else:
                user, db = p.choice(PG_SESSIONS)
        if st.lines + len(parts) > n_lines:
            parts = [("LOG", "checkpoint starting: time")]
            user = db = None
        prefix = _pg_prefix(t, pid, user, db)
        for level, text in parts:
            if level is None:
                lines.append(f"\t{text}")
                st.continuation_lines += 1
            else:
                lines.append(f"{prefix}{level}:  {text}")
                st.records += 1
                if level in _PG_SECONDARY:
                    st.prefixed_secondary += 1
                else:
                    st.events += 1
            st.lines += 1
    _finish(path, lines, st, first, last, PDT)
    return st


# --------------------------------------------------------------------------


def _finish(path: Path, lines: list[str], st: FileStats, first: datetime | None,
            last: datetime | None, tz: timezone) -> None:
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(data)
    st.bytes = len(data)
    if first is not None and last is not None:
        st.first_ts_utc = first.replace(tzinfo=tz).astimezone(timezone.utc).isoformat()
        st.last_ts_utc = last.replace(tzinfo=tz).astimezone(timezone.utc).isoformat()


WRITERS: dict[str, Callable[[Path, int, int], FileStats]] = {
    "python_logging": write_python_logging,
    "jsonl": write_jsonl,
    "postgres_stderr": write_postgres_stderr,
}


def generate(out: Path, n_lines: int = DEFAULT_LINES, seed: int = DEFAULT_SEED,
             families: tuple[str, ...] = FAMILIES) -> dict[str, FileStats]:
    """Write every requested family into ``out`` plus ``manifest.json``.

    Parameters
    ----------
    out : Path
        Output folder; created if missing.
    n_lines : int
        Physical lines per file.
    seed : int
        Seed; the same seed and ``n_lines`` give byte-identical files.
    families : tuple of str
        Which families to write.

    Returns
    -------
    dict of str to FileStats
        Per family, what a correct reader must find.
    """
    if n_lines < 1:
        msg = f"--lines must be at least 1, got {n_lines}"
        raise ValueError(msg)
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        msg = f"unknown families {unknown}; expected some of {list(FAMILIES)}"
        raise ValueError(msg)
    out.mkdir(parents=True, exist_ok=True)
    stats = {fam: WRITERS[fam](out / FILE_NAMES[fam], n_lines, seed) for fam in families}
    manifest = {"seed": seed, "lines": n_lines, "tz": "America/Los_Angeles",
                "files": {fam: asdict(s) for fam, s in stats.items()}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return stats


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=DEFAULT_LINES, help="lines per file (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default bench/data)")
    ap.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    args = ap.parse_args(argv)
    stats = generate(args.out, args.lines, args.seed, tuple(args.families))
    for s in stats.values():
        print(f"{args.out / s.file}: {s.lines:,} lines, {s.bytes / 1e6:.1f} MB, {s.records:,} records, "
              f"{s.continuation_lines:,} continuation lines, {s.events:,} events", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
