#!/usr/bin/env python3
"""Generate the sample incident evidence folders, deterministically.

Two scenarios come out of this one seeded, standard-library-only script:

``seed`` (the default)
    A realistic recreation of the 2024-08-12 database outage described in the
    worked-example postmortem: a ``postgresql.conf`` change in a maintenance
    window lowers ``max_connections`` on ``db-primary`` from 400 to 40, the
    application pools (about 200 connections) are refused, customers notice
    first, a reload-only rollback does not help and a failover to
    ``db-backup`` does. Written to ``data/incidents/2024-08-12-db-outage/``.

``noisy``
    A different, noisier incident over two days (2024-10-02/03): a
    ``CREATE INDEX`` migration locks the ``orders`` table five minutes after an
    unrelated ``orders-api`` deploy, a nightly cron job bursts errors every
    night, staff (not customers) detect it, and rolling back the deploy does
    not help. Only generated into temporary folders by the tests.

Both write the same file layout (see ``README.md`` in the seed folder) and a
``truth.json`` with the ground-truth milestones in ISO 8601 UTC.

Usage::

    python data/make_sample_incident.py                      # seed scenario
    python data/make_sample_incident.py --out /tmp/x
    python data/make_sample_incident.py --variant noisy --out /tmp/noisy

Running it twice gives byte-identical output.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

SEED = 20240812
UTC = timezone.utc
PDT = timezone(timedelta(hours=-7), "PDT")
DEFAULT_OUT = Path(__file__).resolve().parent / "incidents" / "2024-08-12-db-outage"

DB_IP = {"db-primary": "10.0.3.5", "db-backup": "10.0.3.6"}
APP_IP = {
    "web-1": "10.0.2.11",
    "web-2": "10.0.2.12",
    "orders-api-1": "10.0.2.21",
    "orders-api-2": "10.0.2.22",
    "reporting": "10.0.4.9",
}
APP_NAME = {"web-1": "web", "web-2": "web", "orders-api-1": "orders-api", "orders-api-2": "orders-api"}
PG_VERSION = (
    "PostgreSQL 16.2 (Ubuntu 16.2-1.pgdg22.04+1) on x86_64-pc-linux-gnu, "
    "compiled by gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0, 64-bit"
)
PG_CONF = "/etc/postgresql/16/main/postgresql.conf"
MSG_TOO_MANY = "sorry, too many clients already"
MSG_RESERVED = "remaining connection slots are reserved for roles with the SUPERUSER attribute"
MSG_TIMEOUT = "canceling statement due to statement timeout"


# --------------------------------------------------------------------------- time formats


def at(day: date, hms: str) -> datetime:
    """Return the aware local (PDT) datetime for ``HH:MM:SS[.ffffff]`` on ``day``."""
    t = datetime.strptime(hms, "%H:%M:%S.%f" if "." in hms else "%H:%M:%S").time()
    return datetime.combine(day, t, tzinfo=PDT)


def iso_utc(t: datetime) -> str:
    """Return ISO 8601 UTC with offset, as ``truth.json`` and the JSON contract use."""
    return t.astimezone(UTC).isoformat(timespec="milliseconds")


def py_asctime(t: datetime) -> str:
    """Python logging ``%(asctime)s``: naive local time, comma before milliseconds."""
    t = t.astimezone(PDT)
    return t.strftime("%Y-%m-%d %H:%M:%S") + f",{t.microsecond // 1000:03d}"


def structlog_ts(t: datetime) -> str:
    """structlog ``TimeStamper(fmt="iso", utc=True)``: microseconds and ``Z``."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def nginx_time(t: datetime) -> str:
    """nginx ``$time_local``."""
    return t.astimezone(PDT).strftime("%d/%b/%Y:%H:%M:%S -0700")


def pg_m(t: datetime, tz: timezone) -> str:
    """PostgreSQL ``%m`` in ``log_timezone`` ``tz`` (``PDT`` or ``UTC``)."""
    t = t.astimezone(tz)
    return t.strftime("%Y-%m-%d %H:%M:%S") + f".{t.microsecond // 1000:03d} {tz.tzname(None)}"


def pg_t(t: datetime, tz: timezone) -> str:
    """PostgreSQL ``%t`` (no milliseconds) in ``tz``."""
    return t.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S ") + tz.tzname(None)


def zd_time(t: datetime) -> str:
    """Zendesk API time: ISO UTC to the second with ``Z``."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slack_ts(t: datetime) -> str:
    """Slack message ``ts``: epoch seconds and six decimals, as a string."""
    micros = round(t.timestamp() * 1_000_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def ms(n: float) -> timedelta:
    """Return a timedelta of ``n`` milliseconds."""
    return timedelta(milliseconds=n)


# --------------------------------------------------------------------------- record sinks


def tabbed(text: str) -> str:
    """A message as PostgreSQL's stderr log writes it: a tab after each newline."""
    return re.sub(r"\n(?!\t)", "\n\t", text)


class PgStderr:
    """PostgreSQL stderr log, ``log_line_prefix = '%m [%p] %q%u@%d '``."""

    def __init__(self, tz: timezone) -> None:
        self.tz = tz
        self.recs: list[tuple[datetime, str]] = []

    def add(
        self,
        t: datetime,
        pid: int,
        level: str,
        msg: str,
        who: str | None = None,
        extra: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Append one message; ``who`` is ``user@db`` for session processes."""
        prefix = f"{pg_m(t, self.tz)} [{pid}] " + (f"{who} " if who else "")
        # elog.c's append_with_tabs: every newline inside a message is followed by a tab.
        lines = [f"{prefix}{level}:  {tabbed(msg)}"]
        lines += [f"{prefix}{lvl}:  {tabbed(text)}" for lvl, text in extra]
        self.recs.append((t, "\n".join(lines)))


CSV_QUOTED = {1, 2, 4, 7, 13, 14, 15, 16, 18, 19, 21, 22, 23}


class PgCsv:
    """PostgreSQL 16 csvlog (26 columns), quoting as ``csvlog.c`` does."""

    def __init__(self, tz: timezone) -> None:
        self.tz = tz
        self.rows: list[tuple[datetime, int, list[object]]] = []
        self.starts: dict[int, datetime] = {}

    def add(
        self,
        t: datetime,
        pid: int,
        sev: str,
        msg: str,
        *,
        state: str = "00000",
        user: str = "",
        db: str = "",
        conn: str = "",
        line: int = 1,
        tag: str = "",
        start: datetime | None = None,
        vxid: str = "",
        detail: str = "",
        hint: str = "",
        context: str = "",
        query: str = "",
        app: str = "",
        backend: str = "client backend",
    ) -> None:
        """Append one csvlog row; a pid keeps its start time (line numbers are set when rendered)."""
        start = self.starts.setdefault(pid, start or t)
        sid = f"{int(start.timestamp()):x}.{pid:x}"
        cols: list[object] = [
            pg_m(t, self.tz), user, db, pid, conn, sid, line, tag, pg_t(start, self.tz), vxid,
            0, sev, state, msg, detail, hint, "", "", context, query, "", "", app, backend, "", 0,
        ]
        self.rows.append((t, pid, cols))

    @property
    def recs(self) -> list[tuple[datetime, str]]:
        """The rows rendered in time order, each process numbering its own lines from 1."""
        seen: dict[int, int] = {}
        out: list[tuple[datetime, str]] = []
        for t, pid, cols in sorted(self.rows, key=lambda r: r[0]):
            seen[pid] = seen.get(pid, 0) + 1
            cols = [*cols[:6], seen[pid], *cols[7:]]
            fields = []
            for i, v in enumerate(cols):
                s = str(v)
                fields.append(('"' + s.replace('"', '""') + '"' if s else "") if i in CSV_QUOTED else s)
            out.append((t, ",".join(fields)))
        return out


@dataclass
class Sim:
    """Everything one scenario writes, kept as time-stamped records."""

    rng: random.Random
    web: list[tuple[datetime, str]] = field(default_factory=list)
    orders: list[tuple[datetime, str]] = field(default_factory=list)
    nginx: list[tuple[datetime, str]] = field(default_factory=list)
    primary: PgStderr = field(default_factory=lambda: PgStderr(PDT))
    backup: PgCsv = field(default_factory=lambda: PgCsv(UTC))
    incident_errors: list[datetime] = field(default_factory=list)

    def next_pid(self, t: datetime) -> int:
        """Return a backend pid for a process forked at ``t`` (Linux pids grow with time)."""
        return 10_000 + int((t.timestamp() - 1_722_000_000) * 5) % 3_000_000 + self.rng.randint(0, 4)

    def weblog(self, t: datetime, level: str, logger: str, msg: str) -> None:
        """Append a Python logging record to ``app/web.log``."""
        self.web.append((t, f"{py_asctime(t)} {level} [{logger}] {msg}"))

    def slog(self, t: datetime, event: str, logger: str, level: str, **fields: object) -> None:
        """Append a structlog JSON line to ``app/orders-api.jsonl``."""
        rec = dict(fields)
        rec.update(event=event, logger=logger, level=level, timestamp=structlog_ts(t))
        self.orders.append((t, json.dumps(rec)))

    def pg_log(self, host: str, t: datetime, pid: int, sev: str, msg: str, **kw: object) -> None:
        """Write one server message to the log of ``host`` in its own format."""
        if host == "db-primary":
            who = f"{kw['user']}@{kw['db']}" if kw.get("user") else None
            extra = [(k.upper(), str(kw[k])) for k in ("detail", "hint", "statement") if kw.get(k)]
            self.primary.add(t, pid, sev, msg, who, extra)
        else:
            args = {k: v for k, v in kw.items() if k != "statement"}
            if kw.get("statement"):
                args["query"] = kw["statement"]
            self.backup.add(t, pid, sev, msg, **args)  # type: ignore[arg-type]


def uid(rng: random.Random, n: int = 32) -> str:
    """Return ``n`` random hex digits."""
    return f"{rng.getrandbits(4 * n):0{n}x}"


def uuid4(rng: random.Random) -> str:
    """Return a random RFC 4122 version-4 UUID string."""
    h = uid(rng)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"


# --------------------------------------------------------------------------- traffic


@dataclass(frozen=True)
class Endpoint:
    """One route as nginx sees it."""

    method: str
    path: str
    service: str  # web | orders | static
    db: str  # "" (no database), "read" or "write"
    weight: float


ENDPOINTS = [
    Endpoint("GET", "/", "web", "", 8),
    Endpoint("GET", "/products/{slug}", "web", "", 14),
    Endpoint("GET", "/account", "web", "read", 9),
    Endpoint("GET", "/account/settings", "web", "read", 2),
    Endpoint("GET", "/orders", "web", "read", 7),
    Endpoint("GET", "/orders/{oid}", "web", "read", 5),
    Endpoint("POST", "/login", "web", "read", 3),
    Endpoint("POST", "/cart/items", "web", "write", 4),
    Endpoint("GET", "/api/orders", "orders", "read", 6),
    Endpoint("GET", "/api/orders/{oid}", "orders", "read", 5),
    Endpoint("POST", "/api/checkout", "orders", "write", 3),
    Endpoint("GET", "/static/js/main.{js}.js", "static", "", 5),
    Endpoint("GET", "/static/css/app.{css}.css", "static", "", 3),
    Endpoint("GET", "/favicon.ico", "static", "", 1),
]
SLUGS = ["walnut-desk-lamp", "linen-throw", "ceramic-mug-set", "oak-side-table", "wool-rug-160x230",
         "brass-wall-hook", "glass-carafe", "rattan-chair", "cotton-duvet", "stoneware-bowl"]
UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.6533.64 Mobile Safari/537.36",
    "ShopApp/4.12.0 (iPhone; iOS 17.5.1; Scale/3.00)",
]
BOT_UA = "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"
SITE = "https://shop.example.com"

# The frontend asset hashes change with the frontend deploy.
ASSETS_BEFORE = {"js": "3f9a1c07", "css": "b71e22d0"}
ASSETS_AFTER = {"js": "8b2e4d91", "css": "b71e22d0"}

PY = "/srv/web/.venv/lib/python3.10/site-packages"
POOL_FRAMES = [
    f'  File "{PY}/psycopg2/pool.py", line 169, in getconn',
    "    return self._getconn(key)",
    f'  File "{PY}/psycopg2/pool.py", line 93, in _getconn',
    "    return self._connect(key)",
    f'  File "{PY}/psycopg2/pool.py", line 63, in _connect',
    "    conn = psycopg2.connect(*self._args, **self._kwargs)",
    f'  File "{PY}/psycopg2/__init__.py", line 122, in connect',
    "    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)",
]
VIEW_FRAMES = {
    "/account": ('  File "/srv/web/app/views/account.py", line 58, in account', "    with db.connection() as conn:"),
    "/account/settings": ('  File "/srv/web/app/views/account.py", line 91, in settings', "    with db.connection() as conn:"),
    "/orders": ('  File "/srv/web/app/views/orders.py", line 34, in order_list', "    with db.connection() as conn:"),
    "/orders/{oid}": ('  File "/srv/web/app/views/orders.py", line 52, in order_detail', "    with db.connection() as conn:"),
    "/login": ('  File "/srv/web/app/views/auth.py", line 27, in login', "    user = users.authenticate(form.email, form.password)"),
    "/cart/items": ('  File "/srv/web/app/views/cart.py", line 40, in add_item', "    with db.connection() as conn:"),
}


def libpq_connect_error(host: str, fatal: str) -> str:
    """The libpq >= 14 text a refused connection produces (with its trailing newline)."""
    return f'connection to server at "{host}" ({DB_IP[host]}), port 5432 failed: FATAL:  {fatal}\n'


def web_traceback(path: str, err: str, host: str, fatal: str) -> str:
    """A Python 3.10 traceback as ``logger.exception`` prints it under the message."""
    view = VIEW_FRAMES.get(path, VIEW_FRAMES["/account"])
    lines = ["Traceback (most recent call last):", *view]
    if err == "timeout":
        lines += ['  File "/srv/web/app/repo/orders.py", line 118, in add_cart_item',
                  "    cur.execute(INSERT_CART_ITEM, params)",
                  f"psycopg2.errors.QueryCanceled: {MSG_TIMEOUT}", ""]
        return "\n".join(lines)
    lines += [
        f'  File "/usr/lib/python3.10/contextlib.py", line 135, in __enter__',
        "    return next(self.gen)",
        '  File "/srv/web/app/db.py", line 44, in connection',
        "    conn = _pool.getconn()",
        *POOL_FRAMES,
        "psycopg2.OperationalError: " + libpq_connect_error(host, fatal),
    ]
    return "\n".join(lines)


def orders_traceback(err: str, host: str, fatal: str) -> str:
    """The structlog ``exception`` field (``format_exc_info``) for an orders-api failure."""
    if err == "timeout":
        return ("Traceback (most recent call last):\n"
                '  File "/srv/orders-api/orders_api/checkout.py", line 141, in place_order\n'
                "    cur.execute(INSERT_ORDER, params)\n"
                f"psycopg2.errors.QueryCanceled: {MSG_TIMEOUT}\n")
    frames = "\n".join(f.replace("/srv/web/.venv/lib/python3.10", "/srv/orders-api/.venv/lib/python3.11")
                       for f in POOL_FRAMES)
    return ("Traceback (most recent call last):\n"
            '  File "/srv/orders-api/orders_api/db.py", line 61, in acquire\n'
            "    conn = self._pool.getconn()\n" + frames + "\n"
            "psycopg2.OperationalError: " + libpq_connect_error(host, fatal))


ORDER_SQL = ("INSERT INTO orders (customer_id, status, total_cents, currency, created_at)\n"
             "VALUES ($1, 'placed', $2, 'USD', now()) RETURNING id")
CART_SQL = "INSERT INTO orders (customer_id, status, created_at) VALUES ($1, 'cart', now()) ON CONFLICT DO NOTHING"

FailFn = Callable[[datetime, str, Endpoint], str | None]
HostFn = Callable[[datetime, str], str]
RateFn = Callable[[datetime], float]


def simulate_traffic(
    sim: Sim,
    start: datetime,
    end: datetime,
    rate: RateFn,
    fail: FailFn,
    host_of: HostFn,
    assets: Callable[[datetime], dict[str, str]],
    forced: Iterable[tuple[datetime, Endpoint, str, str]] = (),
) -> None:
    """Draw requests as a Poisson process and write every log line they cause.

    ``fail(t, instance, endpoint)`` returns an error kind (``too_many``,
    ``reserved``, ``timeout``) or None; ``host_of(t, instance)`` names the
    database the instance is connected to. ``forced`` requests are added at
    exact times as ``(time, endpoint, instance, error kind)`` (used to pin the
    first and last errors of an incident).
    """
    rng = sim.rng
    weights = [e.weight for e in ENDPOINTS]
    nets = ["198.51.100", "203.0.113", "192.0.2"] + [f"100.{rng.randint(64, 127)}.{rng.randint(0, 255)}" for _ in range(40)]
    clients = [(f"{rng.choice(nets)}.{rng.randint(2, 254)}", rng.choice(UAS), rng.randint(10_000, 99_999))
               for _ in range(420)]
    reqs: list[tuple[datetime, Endpoint, str | None, str | None]] = []
    t = start
    while True:
        t = t + timedelta(seconds=rng.expovariate(rate(t)))
        if t >= end:
            break
        reqs.append((t, rng.choices(ENDPOINTS, weights)[0], None, None))
    reqs += list(forced)
    reqs.sort(key=lambda r: r[0])
    gunicorn_pid = [3121]
    for t, ep, pinned, forced_err in reqs:
        ip, ua, user = rng.choice(clients)
        oid = rng.randint(700_000, 799_999)
        path = ep.path.format(slug=rng.choice(SLUGS), oid=oid, **assets(t))
        ref = SITE + rng.choice(["/", "/account", "/orders", f"/products/{rng.choice(SLUGS)}"])
        req_id = uid(rng, 16)
        if ep.service == "static":
            status = rng.choice([200, 200, 304])
            size = 0 if status == 304 else {"js": 184_211, "css": 40_932}.get(ep.path[8:10].strip("/"), 15_086)
            sim.nginx.append((t, f'{ip} - - [{nginx_time(t)}] "{ep.method} {path} HTTP/1.1" {status} {size} "{ref}" "{ua}"'))
            continue
        if ep.service == "web":
            inst = pinned or rng.choice(["web-1", "web-2"])
        else:
            inst = pinned or rng.choice(["orders-api-1", "orders-api-2"])
        err = forced_err or (fail(t, inst, ep) if ep.db else None)
        host = host_of(t, inst)
        dur = rng.lognormvariate(3.5, 0.5)
        status = 200 if ep.method == "GET" else (302 if ep.service == "web" else 201)
        if err in ("too_many", "reserved"):
            fatal = MSG_TOO_MANY if err == "too_many" else MSG_RESERVED
            pid = sim.next_pid(t)
            dur = rng.uniform(4, 25)
            t_conn = t - ms(dur * 0.8)
            sim.pg_log(host, t_conn, pid, "LOG", f"connection received: host={APP_IP[inst]} port={rng.randint(32768, 60999)}",
                       user="[unknown]", db="[unknown]", conn=f"{APP_IP[inst]}:{rng.randint(32768, 60999)}",
                       tag="", backend="not initialized")
            t_fatal = t_conn + ms(2 + rng.random() * 3)
            sim.pg_log(host, t_fatal, pid, "FATAL", fatal, state="53300", user="app", db="shop",
                       conn=f"{APP_IP[inst]}:{rng.randint(32768, 60999)}", tag="startup", line=2, app="")
            sim.incident_errors.append(t_fatal)
        elif err == "timeout":
            pid = rng.choice([22311, 22318, 22342, 22390, 22417, 22455])
            dur = 5000 + rng.uniform(0, 40)
            t_start = t - ms(dur)
            if rng.random() < 0.5:
                sim.pg_log(host, t_start + ms(1000 + rng.uniform(0, 5)), pid, "LOG",
                           f"process {pid} still waiting for RowExclusiveLock on relation 16412 of database 16390 after "
                           f"{1000 + rng.uniform(0, 2):.3f} ms", user="app", db="shop",
                           detail=f"Process holding the lock: 30411. Wait queue: {pid}.",
                           statement=CART_SQL if ep.service == "web" else ORDER_SQL)
            sim.pg_log(host, t - ms(3), pid, "ERROR", MSG_TIMEOUT, state="57014", user="app", db="shop",
                       statement=CART_SQL if ep.service == "web" else ORDER_SQL)
            sim.incident_errors.append(t - ms(3))
        if ep.service == "web":
            if err:
                status = 503
                fatal = MSG_TOO_MANY if err == "too_many" else MSG_RESERVED
                if err == "timeout":
                    status = 500
                worker_timeout = err != "timeout" and rng.random() < 0.06
                if inst == "web-1":
                    sim.web.append((t, f"{py_asctime(t)} ERROR [app.db] database error during {ep.method} {ep.path.split('{')[0].rstrip('/') or '/'}"
                                       f" request_id={req_id}\n" + web_traceback(ep.path, err, host, fatal)))
                if worker_timeout:
                    t_end = t + timedelta(seconds=30, milliseconds=rng.randint(0, 900))
                    if inst == "web-1":
                        gunicorn_pid[0] += rng.randint(3, 40)
                        sim.weblog(t_end, "CRITICAL", "gunicorn.error", f"WORKER TIMEOUT (pid:{gunicorn_pid[0] - 7})")
                        sim.weblog(t_end + ms(rng.randint(40, 300)), "INFO", "gunicorn.error", f"Booting worker with pid: {gunicorn_pid[0]}")
                    sim.nginx.append((t_end, f'{ip} - - [{nginx_time(t_end)}] "{ep.method} {path} HTTP/1.1" 504 167 "{ref}" "{ua}"'))
                    continue
            elif ep.db and host == "db-primary" and rng.random() < 0.004:
                sim.weblog(t, "WARNING", "app.db", f"slow query ({dur * 40:.0f} ms) in {ep.path.split('{')[0]} request_id={req_id}")
            t_end = t + ms(2 if err else dur)
            if inst == "web-1":
                sim.weblog(t_end, "INFO", "app.request",
                           f"{ep.method} {path} {status} {dur:.0f}ms user={user if ep.db else '-'} request_id={req_id}")
                if ep.path == "/login" and not err:
                    sim.weblog(t_end - ms(1), "INFO", "app.auth", f"login succeeded user={user}")
            size = {200: rng.randint(9_000, 48_000), 302: 0, 500: 2_311, 503: 197}[status]
            sim.nginx.append((t_end, f'{ip} - - [{nginx_time(t_end)}] "{ep.method} {path} HTTP/1.1" {status} {size} "{ref}" "{ua}"'))
            continue
        # orders-api
        ctx = {"request_id": req_id, "host": inst, "method": ep.method, "path": path}
        if err:
            fatal = MSG_TOO_MANY if err == "too_many" else MSG_RESERVED
            ev = "db_query_failed" if err == "timeout" else "db_connect_failed"
            sim.slog(t, ev, "orders_api.db", "error", **ctx, db_host=host, exception=orders_traceback(err, host, fatal))
            status = 500
            dur = rng.uniform(3, 15) if err != "timeout" else dur
        elif ep.path == "/api/checkout" and rng.random() < 0.035:
            # Background noise: the payment provider times out now and then, all day.
            sim.slog(t + ms(10_000), "payment_provider_timeout", "orders_api.payments", "warning", **ctx,
                     provider="payflow", timeout_s=10.0, attempt=1)
            sim.slog(t + ms(10_004), "checkout_failed", "orders_api.checkout", "error", **ctx,
                     reason="payment provider timeout", customer_id=user)
            status, dur = 502, 10_006.0
        sim.slog(t + ms(dur), "request_finished", "orders_api.http", "info" if status < 500 else "warning", **ctx,
                 status=status, duration_ms=round(dur, 1))
        size = {200: rng.randint(600, 9_000), 201: 412, 500: 61, 502: 73}[status]
        t_end = t + ms(dur)
        sim.nginx.append((t_end, f'{ip} - - [{nginx_time(t_end)}] "{ep.method} {path} HTTP/1.1" {status} {size} "{ref}" "{ua}"'))


def bot_storm(sim: Sim, start: datetime, minutes: float, per_s: float) -> None:
    """A crawler hammering URLs that do not exist: a burst of 404s, unrelated to anything."""
    rng = sim.rng
    t, end = start, start + timedelta(minutes=minutes)
    while True:
        t += timedelta(seconds=rng.expovariate(per_s))
        if t >= end:
            return
        path = rng.choice(["/wp-login.php", "/xmlrpc.php", "/.env", "/old-catalog/", "/shop/item.php",
                           "/products/archive/", "/blog/feed/"]) + (f"?p={rng.randint(1, 9999)}" if rng.random() < 0.5 else "")
        sim.nginx.append((t, f'203.0.113.77 - - [{nginx_time(t)}] "GET {path} HTTP/1.1" 404 153 "-" "{BOT_UA}"'))


def web_background(sim: Sim, start: datetime, end: datetime) -> None:
    """Low-rate unrelated warnings and errors in ``web.log`` all day."""
    rng = sim.rng
    t = start
    while True:
        t += timedelta(seconds=rng.expovariate(1 / 420))
        if t >= end:
            return
        r = rng.random()
        if r < 0.45:
            sim.weblog(t, "WARNING", "app.session", f"rejected expired session cookie for user={rng.randint(10_000, 99_999)}")
        elif r < 0.7:
            sim.weblog(t, "ERROR", "app.mail", "failed to send order confirmation to customer "
                       f"{rng.randint(10_000, 99_999)}: SMTPServerDisconnected('Connection unexpectedly closed')")
        elif r < 0.85:
            sim.weblog(t, "WARNING", "app.cache", "redis GET took 512ms (key=catalog:v3:home)")
        else:
            sim.weblog(t, "INFO", "app.jobs", f"refreshed recommendations for {rng.randint(200, 900)} products")


# --------------------------------------------------------------------------- PostgreSQL background


def checkpoint_msg(rng: random.Random, buffers: int | None = None, write_s: float | None = None) -> str:
    """A PostgreSQL 16 ``checkpoint complete`` message."""
    b = buffers if buffers is not None else rng.randint(300, 4000)
    w = write_s if write_s is not None else rng.uniform(20, 260)
    return (f"checkpoint complete: wrote {b} buffers ({b / 16384 * 100:.1f}%); 0 WAL file(s) added, 0 removed, "
            f"{rng.randint(0, 3)} recycled; write={w:.3f} s, sync={rng.uniform(0.001, 0.05):.3f} s, "
            f"total={w + 0.06:.3f} s; sync files={rng.randint(20, 90)}, longest=0.00{rng.randint(1, 9)} s, "
            f"average=0.001 s; distance={rng.randint(4000, 60000)} kB, estimate={rng.randint(30000, 70000)} kB")


def autovacuum_msg(rng: random.Random, table: str) -> str:
    """A multi-line PostgreSQL 16 autovacuum report (tab-indented continuation lines)."""
    pages = rng.randint(1000, 40000)
    scanned = rng.randint(100, pages // 3)
    rem = rng.randint(100, 9000)
    return (f'automatic vacuum of table "shop.public.{table}": index scans: 1\n'
            f"\tpages: 0 removed, {pages} remain, {scanned} scanned ({scanned / pages * 100:.2f}% of total)\n"
            f"\ttuples: {rem} removed, {rng.randint(40000, 900000)} remain, 0 are dead but not yet removable\n"
            f"\tremovable cutoff: {88412310 + rng.randint(0, 90000)}, which was {rng.randint(1, 40)} XIDs old when operation ended\n"
            f"\tindex scan needed: {scanned // 2} pages from table ({scanned / pages * 50:.2f}% of total) had {rem} dead item identifiers removed\n"
            f'\tindex "{table}_pkey": pages: {rng.randint(100, 3000)} in total, 0 newly deleted, 0 currently deleted, 0 reusable\n'
            f"\tavg read rate: {rng.uniform(0.5, 9):.3f} MB/s, avg write rate: {rng.uniform(0.5, 9):.3f} MB/s\n"
            f"\tbuffer usage: {rng.randint(2000, 90000)} hits, {rng.randint(10, 900)} misses, {rng.randint(10, 900)} dirtied\n"
            f"\tWAL usage: {rng.randint(500, 9000)} records, {rng.randint(10, 900)} full page images, {rng.randint(10**5, 10**7)} bytes\n"
            f"\tsystem usage: CPU: user: {rng.uniform(0, .3):.2f} s, system: {rng.uniform(0, .1):.2f} s, elapsed: {rng.uniform(.2, 4):.2f} s")


SLOW_SQL = [
    "SELECT o.id, o.status, o.total_cents, o.created_at FROM orders o WHERE o.customer_id = $1 ORDER BY o.created_at DESC LIMIT 50",
    "SELECT p.id, p.slug, sum(oi.qty) FROM products p JOIN order_items oi ON oi.product_id = p.id GROUP BY p.id, p.slug ORDER BY 3 DESC LIMIT 20",
    "UPDATE sessions SET last_seen = now() WHERE id = $1",
]


@dataclass(frozen=True)
class Era:
    """A stretch of a server's life between restarts: what runs and which pid checkpoints."""

    start: datetime
    end: datetime
    checkpointer: int
    app_traffic: bool = True
    standby: bool = False


def primary_background(sim: Sim, eras: list[Era], checkpoint_every: float = 15) -> None:
    """Checkpoints, autovacuum, slow queries, pool churn and client noise on ``db-primary``."""
    rng = sim.rng
    P = sim.primary
    lsn = 0x4E3A0F88
    for era in eras:
        word = "restartpoint" if era.standby else "checkpoint"
        t = era.start + timedelta(minutes=rng.uniform(2, checkpoint_every))
        while True:
            done = t + timedelta(seconds=rng.uniform(30, 270))
            if done >= era.end:
                break
            P.add(t, era.checkpointer, "LOG", f"{word} starting: time")
            P.add(done, era.checkpointer, "LOG", checkpoint_msg(rng).replace("checkpoint", word))
            if era.standby:
                lsn += rng.randint(0x100000, 0x900000)
                P.add(done + ms(1), era.checkpointer, "LOG", f"recovery restart point at 3/{lsn:08X}",
                      extra=[("DETAIL", f"Last completed transaction was at log time {pg_m(done - ms(900), UTC)[:-4]}+00.")])
            t += timedelta(minutes=checkpoint_every)
        if era.standby or not era.app_traffic:
            continue
        t = era.start
        while True:
            t += timedelta(seconds=rng.expovariate(1 / 1500))
            if t >= era.end:
                break
            P.add(t, sim.next_pid(t), "LOG", autovacuum_msg(rng, rng.choice(["sessions", "orders", "cart_items", "events"])))
        t = era.start
        while True:  # pool churn: a connection recycled every couple of minutes
            t += timedelta(seconds=rng.expovariate(1 / 150))
            if t >= era.end:
                break
            inst = rng.choice(list(APP_NAME))
            pid, port = sim.next_pid(t), rng.randint(32768, 60999)
            P.add(t, pid, "LOG", f"connection received: host={APP_IP[inst]} port={port}", "[unknown]@[unknown]")
            P.add(t + ms(6), pid, "LOG", f"connection authorized: user=app database=shop application_name={APP_NAME[inst]} "
                  "SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)", "app@shop")
            sess = timedelta(seconds=rng.uniform(1500, 1800))
            if t - sess > era.start:
                P.add(t + ms(rng.uniform(50, 900)), sim.next_pid(t - sess), "LOG",
                      f"disconnection: session time: {str(sess)[:-3]} user=app database=shop host={APP_IP[inst]} "
                      f"port={rng.randint(32768, 60999)}", "app@shop")
        t = era.start
        while True:  # slow queries, duplicate keys, clients that vanish: ordinary noise
            t += timedelta(seconds=rng.expovariate(1 / 600))
            if t >= era.end:
                break
            pid = sim.next_pid(t - timedelta(seconds=rng.uniform(60, 1700)))
            r = rng.random()
            if r < 0.5:
                P.add(t, pid, "LOG", f"duration: {rng.uniform(1000, 4200):.3f} ms  statement: {rng.choice(SLOW_SQL)}", "app@shop")
            elif r < 0.75:
                email = f"{rng.choice(['ana', 'li', 'sam', 'jo', 'kim'])}{rng.randint(1, 999)}@example.org"
                P.add(t, pid, "ERROR", 'duplicate key value violates unique constraint "users_email_key"', "app@shop",
                      [("DETAIL", f"Key (email)=({email}) already exists."),
                       ("STATEMENT", "INSERT INTO users (email, password_hash, created_at)\n\tVALUES ($1, $2, now())\n\tRETURNING id")])
            else:
                P.add(t, pid, "LOG", "could not receive data from client: Connection reset by peer", "app@shop")


def backup_background(sim: Sim, start: datetime, end: datetime, every: float = 15) -> None:
    """A quiet streaming standby: restartpoints only."""
    rng = sim.rng
    boot = start - timedelta(days=13, hours=23, minutes=51, seconds=54.2)  # the standby has run for two weeks
    for pid in (876, 879, 881, 885):  # postmaster, startup, checkpointer, walreceiver
        sim.backup.starts.setdefault(pid, boot)
    t = start + timedelta(minutes=rng.uniform(0, every))
    lsn = 0x41000028
    while True:
        done = t + timedelta(seconds=rng.uniform(30, 250))
        if done >= end:
            return
        sim.backup.add(t, 881, "LOG", "restartpoint starting: time", backend="checkpointer")
        sim.backup.add(done, 881, "LOG", checkpoint_msg(rng).replace("checkpoint complete", "restartpoint complete"),
                       backend="checkpointer")
        lsn += rng.randint(0x100000, 0x900000)
        sim.backup.add(done + ms(1), 881, "LOG", f"recovery restart point at 3/{lsn:08X}",
                       detail=f"Last completed transaction was at log time {pg_m(done - ms(rng.randint(5, 900)), UTC)[:-4]}+00.",
                       backend="checkpointer")
        t += timedelta(minutes=every)


# --------------------------------------------------------------------------- Slack


@dataclass(frozen=True)
class Person:
    """A Slack (and sometimes Zendesk) user."""

    key: str
    slack_id: str
    name: str
    real_name: str
    title: str


PEOPLE = [
    Person("maya", "U04M8QK2T1A", "maya.ortiz", "Maya Ortiz", "Support Lead"),
    Person("jonas", "U04N1B7Q9ZC", "jonas.weber", "Jonas Weber", "Support Agent"),
    Person("priya", "U03HX2PLM7D", "priya.raman", "Priya Raman", "Backend Engineer (on call)"),
    Person("sam", "U03KD9V4R2E", "sam.okafor", "Sam Okafor", "SRE"),
    Person("dmitri", "U02TQ5NW8YF", "dmitri.kovalenko", "Dmitri Kovalenko", "DBA"),
    Person("tom", "U05A6C3XJ4G", "tom.becker", "Tom Becker", "Frontend Engineer"),
    Person("weze", "U02PL7MZ1KH", "weze.chimi", "Weze Donald Chimi", "Engineering Manager"),
    Person("lena", "U05F2H8RT6J", "lena.fischer", "Lena Fischer", "Account Executive"),
]
WHO = {p.key: p for p in PEOPLE}
BOTS = {
    "deploybot": ("B05DPL0Y1AB", "Deploybot"),
    "ci": ("B04C1BU1LD2", "CI"),
    "standup": ("B03STNDUP7Q", "Standup Bot"),
    "zendesk": ("B02ZNDSK9X4", "Zendesk"),
}
TEAM = "T01SHOPFRNT"


class Channel:
    """Messages of one Slack channel, with helpers for threads, edits and bots."""

    def __init__(self, name: str, sim: Sim) -> None:
        self.name, self.rng = name, sim.rng
        self.msgs: list[dict[str, object]] = []
        self.by_label: dict[str, dict[str, object]] = {}

    def say(self, t: datetime, who: str, text: str, *, label: str = "", thread: str = "",
            edited: datetime | None = None, reactions: list[tuple[str, list[str]]] | None = None) -> None:
        """Append a human message (optionally a thread reply, edited, with reactions)."""
        p = WHO[who]
        m: dict[str, object] = {
            "client_msg_id": uuid4(self.rng), "type": "message", "text": text, "user": p.slack_id, "ts": slack_ts(t),
            "team": TEAM, "user_team": TEAM, "source_team": TEAM,
            "user_profile": {"avatar_hash": uid(self.rng, 12), "first_name": p.real_name.split()[0],
                             "real_name": p.real_name, "display_name": p.name.split(".")[0], "team": TEAM,
                             "name": p.name, "is_restricted": False, "is_ultra_restricted": False},
        }
        if edited:
            m["edited"] = {"user": p.slack_id, "ts": f"{int(edited.timestamp())}.000000"}
        if reactions:
            m["reactions"] = [{"name": n, "users": [WHO[u].slack_id for u in us], "count": len(us)} for n, us in reactions]
        if thread:
            parent = self.by_label[thread]
            m["thread_ts"] = parent["ts"]
            m["parent_user_id"] = parent["user"]
            parent.setdefault("thread_ts", parent["ts"])
            replies = parent.setdefault("replies", [])
            assert isinstance(replies, list)
            replies.append({"user": p.slack_id, "ts": m["ts"]})
            users = sorted({str(r["user"]) for r in replies})
            parent.update(reply_count=len(replies), reply_users_count=len(users), latest_reply=m["ts"],
                          reply_users=users, is_locked=False, subscribed=False)
        if label:
            self.by_label[label] = m
        self.msgs.append(m)

    def join(self, t: datetime, who: str) -> None:
        """Append a ``channel_join`` system message."""
        p = WHO[who]
        self.msgs.append({"type": "message", "subtype": "channel_join", "ts": slack_ts(t), "user": p.slack_id,
                          "text": f"<@{p.slack_id}> has joined the channel"})

    def bot(self, t: datetime, bot: str, text: str) -> None:
        """Append a ``bot_message``."""
        bid, name = BOTS[bot]
        self.msgs.append({"type": "message", "subtype": "bot_message", "text": text, "ts": slack_ts(t),
                          "username": name, "bot_id": bid})


def write_slack(out: Path, channels: list[tuple[Channel, datetime, str, str]], day: date) -> None:
    """Write an unpacked Slack export: users, channels, integration logs, one file per channel per UTC day."""
    slack = out / "slack"
    users = [{
        "id": p.slack_id, "team_id": TEAM, "name": p.name, "deleted": False, "color": "9f69e7",
        "real_name": p.real_name, "tz": "America/Los_Angeles", "tz_label": "Pacific Daylight Time", "tz_offset": -25200,
        "profile": {"title": p.title, "phone": "", "skype": "", "real_name": p.real_name, "real_name_normalized": p.real_name,
                    "display_name": p.name.split(".")[0], "display_name_normalized": p.name.split(".")[0],
                    "fields": None, "status_text": "", "status_emoji": "", "status_expiration": 0,
                    "avatar_hash": f"g{p.slack_id[-8:].lower()}", "first_name": p.real_name.split()[0],
                    "last_name": p.real_name.split()[-1], "team": TEAM},
        "is_admin": p.key in ("weze", "sam"), "is_owner": False, "is_primary_owner": False, "is_restricted": False,
        "is_ultra_restricted": False, "is_bot": False, "is_app_user": False, "updated": 1719878400,
        "is_email_confirmed": True, "who_can_share_contact_card": "EVERYONE",
    } for p in PEOPLE]
    users.append({"id": "USLACKBOT", "team_id": TEAM, "name": "slackbot", "deleted": False, "real_name": "Slackbot",
                  "tz": "America/Los_Angeles", "tz_label": "Pacific Daylight Time", "tz_offset": -25200,
                  "profile": {"real_name": "Slackbot", "display_name": "Slackbot", "team": TEAM},
                  "is_admin": False, "is_owner": False, "is_bot": False, "is_app_user": False, "updated": 0})
    chans = []
    for ch, created, creator, purpose in channels:
        members = sorted({str(m["user"]) for m in ch.msgs if "user" in m})
        chans.append({"id": "C" + uid(random.Random(ch.name), 10).upper(), "name": ch.name, "created": int(created.timestamp()),
                      "creator": WHO[creator].slack_id, "is_archived": False, "is_general": ch.name == "general",
                      "members": members, "pins": [], "topic": {"value": "", "creator": "", "last_set": 0},
                      "purpose": {"value": purpose, "creator": WHO[creator].slack_id, "last_set": int(created.timestamp())}})
        by_day: dict[str, list[dict[str, object]]] = {}
        for m in sorted(ch.msgs, key=lambda m: float(str(m["ts"]))):
            d = datetime.fromtimestamp(float(str(m["ts"])), UTC).strftime("%Y-%m-%d")
            by_day.setdefault(d, []).append(m)
        for d, msgs in by_day.items():
            dump_json(slack / ch.name / f"{d}.json", msgs)
    dump_json(slack / "users.json", users)
    dump_json(slack / "channels.json", chans)
    base = int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp()) - 86400 * 400
    logs = [{"user_id": WHO[w].slack_id, "user_name": WHO[w].name, "date": str(base + i * 86400 * 37),
             "change_type": "added", "app_id" if b != "deploybot" else "service_id": f"A0{i}{BOTS[b][0][3:]}",
             "app_type" if b != "deploybot" else "service_type": BOTS[b][1], "scope": "incoming-webhook,chat:write"}
            for i, (b, w) in enumerate([("zendesk", "maya"), ("standup", "weze"), ("ci", "sam"), ("deploybot", "sam")])]
    dump_json(slack / "integration_logs.json", logs)


def dump_json(path: Path, obj: object) -> None:
    """Write JSON the way an export tool does: indented, UTF-8, trailing newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- Zendesk


GROUPS = {"Support": 360004412211, "Billing": 360004412255, "Engineering": 360004412299}
AGENTS = {"maya": 381204857112, "jonas": 381204857140, "priya": 381204857301, "billing": 381204857188}
ZD = "https://shopfront.zendesk.com/api/v2"


@dataclass
class Ticket:
    """One Zendesk ticket and the audits that built it."""

    id: int
    created: datetime
    subject: str
    body: str
    requester: int
    channel: str
    tags: list[str]
    group: str = "Support"
    priority: str = "normal"
    type: str = "question"
    status: str = "new"
    assignee: int | None = None
    problem_id: int | None = None
    has_incidents: bool = False
    updated: datetime | None = None
    audits: list[dict[str, object]] = field(default_factory=list)


class Desk:
    """A tiny Zendesk: tickets change through audits, which are recorded as the API returns them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.tickets: dict[int, Ticket] = {}
        self.next_audit = 26_148_093_110_000
        self.next_event = 26_148_093_120_000

    def _ids(self) -> tuple[int, int]:
        self.next_audit += self.rng.randint(3, 900)
        return self.next_audit, self.next_audit

    def _event(self, kind: str, **kw: object) -> dict[str, object]:
        self.next_event += self.rng.randint(1, 7)
        return {"id": self.next_event, "type": kind, **kw}

    def open(self, tid: int, t: datetime, subject: str, body: str, requester: int, channel: str,
             tags: list[str]) -> None:
        """A customer creates a ticket (audit with the public first comment and Create events)."""
        tk = Ticket(tid, t, subject, body, requester, channel, tags, updated=t)
        self.tickets[tid] = tk
        aid, _ = self._ids()
        events = [self._event("Comment", author_id=requester, body=body, html_body=f'<div class="zd-comment"><p>{body}</p></div>',
                              plain_body=body, public=True, attachments=[], audit_id=aid)]
        for f, v in (("subject", subject), ("requester_id", str(requester)), ("status", "new"), ("priority", "normal"),
                     ("type", "question"), ("group_id", str(GROUPS["Support"])), ("tags", tags)):
            events.append(self._event("Create", value=v, field_name=f))
        tk.audits.append({"id": aid, "ticket_id": tid, "created_at": zd_time(t), "author_id": requester,
                          "metadata": {"system": {"client": UAS[0], "ip_address": f"198.51.100.{tid % 250}",
                                                  "location": "San Jose, CA, United States"}, "custom": {}},
                          "events": events, "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}}})

    def update(self, tid: int, t: datetime, author: int, comment: str | None = None, public: bool = True,
               via: str = "web", **changes: object) -> None:
        """An agent (or a trigger) updates the ticket: optional comment plus field changes."""
        tk = self.tickets[tid]
        aid, _ = self._ids()
        events: list[dict[str, object]] = []
        if comment:
            events.append(self._event("Comment", author_id=author, body=comment,
                                      html_body=f'<div class="zd-comment"><p>{comment}</p></div>', plain_body=comment,
                                      public=public, attachments=[], audit_id=aid))
        for f, v in changes.items():
            attr = {"group_id": "group", "assignee_id": "assignee"}.get(f, f)
            prev = getattr(tk, attr)
            if f == "group_id":
                prev, v = GROUPS[str(prev)], GROUPS[str(v)]
                tk.group = next(k for k, g in GROUPS.items() if g == v)
            else:
                setattr(tk, attr, v)
            events.append(self._event("Change", value=None if v is None else str(v), field_name=f,
                                      previous_value=None if prev is None else str(prev)))
        tk.updated = t
        tk.audits.append({"id": aid, "ticket_id": tid, "created_at": zd_time(t), "author_id": author,
                          "metadata": {"system": {"client": "Zendesk Agent Workspace" if via == "web" else "Zendesk",
                                                  "ip_address": "10.0.9.14"}, "custom": {}},
                          "events": events, "via": {"channel": via, "source": {"from": {}, "to": {}, "rel": None}}})

    def write(self, out: Path, brand: int = 360000412233) -> None:
        """Write the incremental export and the audits export."""
        tickets = []
        for tk in sorted(self.tickets.values(), key=lambda k: (k.updated or k.created, k.id)):
            upd = tk.updated or tk.created
            cf = [{"id": 360012040111, "value": "account_access" if "account" in tk.tags else None}]
            tickets.append({
                "url": f"{ZD}/tickets/{tk.id}.json", "id": tk.id, "external_id": None,
                "via": {"channel": tk.channel, "source": {"from": {}, "to": {}, "rel": None}},
                "created_at": zd_time(tk.created), "updated_at": zd_time(upd), "generated_timestamp": int(upd.timestamp()),
                "type": tk.type, "subject": tk.subject, "raw_subject": tk.subject, "description": tk.body,
                "priority": tk.priority, "status": tk.status, "recipient": "support@shop.example.com",
                "requester_id": tk.requester, "submitter_id": tk.requester, "assignee_id": tk.assignee,
                "organization_id": None, "group_id": GROUPS[tk.group], "collaborator_ids": [], "follower_ids": [],
                "email_cc_ids": [], "forum_topic_id": None, "problem_id": tk.problem_id, "has_incidents": tk.has_incidents,
                "is_public": True, "due_at": None, "tags": tk.tags, "custom_fields": cf, "satisfaction_rating": None,
                "sharing_agreement_ids": [], "custom_status_id": 360002113371, "fields": cf, "followup_ids": [],
                "ticket_form_id": 360000998811, "brand_id": brand, "allow_channelback": False, "allow_attachments": True,
                "from_messaging_channel": False,
            })
        dump_json(out / "tickets" / "zendesk-tickets.json",
                  {"tickets": tickets, "next_page": None, "count": len(tickets), "end_of_stream": True,
                   "end_time": tickets[-1]["generated_timestamp"]})
        audits = sorted((a for tk in self.tickets.values() for a in tk.audits), key=lambda a: (a["created_at"], a["id"]))
        dump_json(out / "tickets" / "zendesk-ticket-audits.json",
                  {"audits": audits, "next_page": None, "previous_page": None, "count": len(audits)})


# --------------------------------------------------------------------------- writers


def write_lines(path: Path, recs: list[tuple[datetime, str]]) -> None:
    """Write time-sorted records (stable for equal times), one or more lines each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    recs = sorted(recs, key=lambda r: r[0])
    path.write_text("".join(text + "\n" for _, text in recs), encoding="utf-8")


def write_by_local_day(folder: Path, pattern: str, recs: list[tuple[datetime, str]], tz: timezone,
                       header: str = "") -> None:
    """Split records into daily files named by ``pattern`` (strftime) in ``tz``, as log rotation does."""
    days: dict[str, list[tuple[datetime, str]]] = {}
    for r in recs:
        days.setdefault(r[0].astimezone(tz).strftime(pattern), []).append(r)
    for name, rs in days.items():
        write_lines(folder / name, rs)


def write_changes(out: Path, rows: list[tuple[datetime, str, str, str]]) -> None:
    """Write ``changes/changes.csv`` (``time,who,what,target``; ISO 8601 with offset)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["time", "who", "what", "target"])
    for t, who, what, target in sorted(rows):
        w.writerow([t.astimezone(PDT).isoformat(), who, what, target])
    (out / "changes").mkdir(parents=True, exist_ok=True)
    (out / "changes" / "changes.csv").write_text(buf.getvalue(), encoding="utf-8")


def write_common(out: Path, sim: Sim) -> None:
    """Write the app, nginx and PostgreSQL files of a scenario."""
    write_lines(out / "app" / "web.log", sim.web)
    write_lines(out / "app" / "orders-api.jsonl", sim.orders)
    write_lines(out / "nginx" / "access.log", sim.nginx)
    write_by_local_day(out / "postgres" / "db-primary", "postgresql-%Y-%m-%d.log", sim.primary.recs, PDT)
    write_by_local_day(out / "postgres" / "db-backup", "postgresql-%Y-%m-%d.csv", sim.backup.recs, UTC)


SEED_README = """\
# Sample incident: 2024-08-12 database outage

A realistic recreation of the outage in the worked-example postmortem
(`postmortem-2024-08-12.md`: "Outage Due to Database Connection Issues"), as the
evidence an incident commander would collect afterwards. Everything here is
**generated** by `data/make_sample_incident.py` (seeded, standard library only);
do not edit by hand: change the script and run

    python data/make_sample_incident.py            # rewrites this folder, byte for byte

`tests/test_sample_incident_data.py` checks that this folder equals a fresh
generation. A second, noisier scenario (two days, a different trigger, nightly
error bursts, staff detection) comes from `--variant noisy --out DIR`; it is not
committed.

All logs cover 12:00-18:00 PDT on 2024-08-12 (19:00-01:00 UTC), an excerpt of
the day as someone would attach it to a postmortem. The incident runs
{impact_l} to {mitigated_l} PDT ({impact_u} to {mitigated_u} UTC).

## Files

| file | what | format | time zone |
|---|---|---|---|
| `app/web.log` | the `web` service (instance `web-1` only): one line per request, DB errors with Python tracebacks, gunicorn worker timeouts | Python `logging`, `%(asctime)s %(levelname)s [%(name)s] %(message)s`; tracebacks are continuation lines, and a libpq message ends in a newline, so a blank line follows it | naive local (PDT, UTC-7), `2024-08-12 14:14:37,421` |
| `app/orders-api.jsonl` | the `orders-api` service (both instances, `host` field) | structlog JSON lines (`JSONRenderer`, `add_logger_name`, `add_log_level`, `TimeStamper(fmt="iso", utc=True)`): bound fields first, then `event`, `logger`, `level`, `timestamp`; tracebacks in `exception` | UTC, `2024-08-12T21:15:29.831000Z` |
| `nginx/access.log` | the load balancer in front of both services and static files | nginx `combined` | `[12/Aug/2024:14:14:37 -0700]` |
| `postgres/db-primary/postgresql-2024-08-12.log` | the primary | PostgreSQL 16 stderr, `log_line_prefix = '%m [%p] %q%u@%d '`, `log_connections = on`, `log_min_duration_statement = 1s`, `log_autovacuum_min_duration = 0`. DETAIL/HINT/STATEMENT lines carry the prefix; multi-line messages (autovacuum, statements) continue on tab-indented lines without it | `log_timezone = 'America/Los_Angeles'`: `2024-08-12 14:14:37.411 PDT` |
| `postgres/db-backup/postgresql-2024-08-1[23].csv` | the streaming standby, promoted at 15:45 | PostgreSQL 16 csvlog, 26 columns (`log_time` ... `backend_type, leader_pid, query_id`); fields may hold newlines. Rotated daily in its `log_timezone`, hence two files | UTC: `2024-08-12 22:45:02.664 UTC` |
| `tickets/zendesk-tickets.json` | all tickets touched that day, latest state | Zendesk incremental ticket export (`tickets`, `next_page`, `count`, `end_of_stream`, `end_time`) | UTC, `2024-08-12T21:30:12Z` |
| `tickets/zendesk-ticket-audits.json` | every change to those tickets | Zendesk ticket audits (`audits[].events[]` of type `Comment`, `Create`, `Change` with `field_name`, `value`, `previous_value`) | UTC |
| `slack/` | unpacked Slack export: `users.json`, `channels.json`, `integration_logs.json`, `general/` and `incident-db/` with one file per **UTC** day | Slack export JSON; `ts` is an epoch string with 6 decimals; threads (`thread_ts`, `reply_count`, `replies`), an edited message, reactions, `channel_join`, `bot_message` | epoch (UTC) |
| `changes/changes.csv` | the change log | CSV `time,who,what,target`, ISO 8601 with offset | `2024-08-12T14:12:00-07:00` |
| `.truth.json` | the ground truth below, for tests (a hidden file, so `timeline read` skips it) | JSON, ISO 8601 UTC | UTC |

Hosts: `db-primary` 10.0.3.5, `db-backup` 10.0.3.6, `web-1`/`web-2` 10.0.2.11/12,
`orders-api-1`/`orders-api-2` 10.0.2.21/22. Database `shop`, role `app`.

## What happened (ground truth)

| milestone | PDT | UTC | evidence |
|---|---|---|---|
| trigger | {trigger_l} | {trigger_u} | `changes.csv` CHG-2231 (`max_connections` 400 -> 40, with shared_buffers/work_mem/effective_cache_size); PG log: `received fast shutdown request` ... `database system is ready to accept connections` at 14:12:00-14:12:03. A reload at 14:10:41 had already logged `parameter "max_connections" cannot be changed without restarting the server` |
| impact_start | {impact_l} | {impact_u} | first `FATAL:  sorry, too many clients already` on db-primary; the first `psycopg2.OperationalError` in `web.log` and the first 503 in `access.log` follow within milliseconds |
| detected (by **customer**) | {detected_l} | {detected_u} | Zendesk #48207 created; no alert fired (there is no alert source at all) |
| escalated | {escalated_l} | {escalated_u} | #48207 audit: `group_id` Support -> Engineering, priority urgent; "escalating to engineering" in #incident-db at 14:35:41 |
| acknowledged | {acknowledged_l} | {acknowledged_u} | "investigating, db not responding to connection requests" in #incident-db |
| identified | {identified_l} | {identified_u} | "found it: the max_connections change from the maintenance window" (edited at 15:01) |
| mitigation attempt 1, **not effective** | {rollback_l} | {rollback_u} | `changes.csv` rollback; PG log `received SIGHUP` at 15:30:52 and `parameter "max_connections" cannot be changed without restarting the server`: a reload cannot lower or raise `max_connections`, so the limit stayed 40 and the errors went on ("still erroring after rollback", 15:35) |
| mitigation attempt 2, **effective** | {failover_l} | {failover_u} | `changes.csv` failover; db-backup csvlog `received promote request`, `selected new timeline ID: 2`, `database system is ready to accept connections`; app instances switch to db-backup between 15:45:41 and 15:46:50 |
| mitigated | {mitigated_l} | {mitigated_u} | the last connection refusal (the last instance still on db-primary); "errors cleared" in chat at 15:48 |
| resolved | {resolved_l} | {resolved_u} | "resolved, all green" in #incident-db; tickets solved 16:02; db-primary back as a standby of db-backup at 15:58:41 |

The written postmortem's seven entries are 14:30 (detected), 14:35 (escalated),
14:40 (acknowledged), 15:00 (identified), 15:30 (rollback), 15:45 (failover) and
16:00 (resolved). What it missed, and the evidence shows:

- the configuration change went out at 14:12, and users were affected from
  {impact_l}, about {lead_min} minutes before the first customer report;
- no alert fired: customers detected it, then staff (#general, 14:41);
- the 15:30 rollback was only a reload, which cannot change `max_connections`; the
  errors stopped only after the 15:45 failover.

## Noise (things that are *not* the incident)

- the frontend deploy at 14:05 (`changes.csv`, Deploybot in #general, new asset hashes in `access.log`), and unrelated changes at 09:40, 11:15 and 17:20;
- the 14:12 restart blip: four `FATAL:  terminating connection due to administrator command`, one `the database system is starting up`, three retried `connection lost` warnings in `web.log`, no 5xx;
- all day, at a low rate: payment provider timeouts (`payment_provider_timeout`, 502 on `/api/checkout`), SMTP errors, expired session cookies, slow-query and duplicate-key lines on the primary, autovacuum reports;
- a crawler's 404 storm from 203.0.113.77, 13:21-13:30;
- chat hypotheticals ("could it be the frontend deploy?", "should we restart the web pods?", "should we fail over to db-backup?" long before the failover), standup, CI, Deploybot and Zendesk bot messages, unrelated tickets (password reset, invoice, shipping address, billing e-mail, refund) before and after.
"""


# --------------------------------------------------------------------------- the seed scenario


def build_seed(out: Path) -> None:
    """The 2024-08-12 outage: max_connections 400 -> 40 in a maintenance window."""
    rng = random.Random(SEED)
    sim = Sim(rng)
    day = date(2024, 8, 12)
    T = lambda hms: at(day, hms)  # noqa: E731
    span = (T("12:00:00"), T("18:00:00"))

    sighup = T("14:10:41.207")
    restart = T("14:12:00.814")
    ready = T("14:12:03.355")
    impact = T("14:14:37.412")
    rollback = T("15:30:00")
    reload2 = T("15:30:52.118")
    failover = T("15:45:00")
    promote = T("15:45:02.664")
    switch = {"web-1": T("15:45:41.200"), "web-2": T("15:46:08.900"),
              "orders-api-1": T("15:46:22.300"), "orders-api-2": T("15:46:49.700")}
    primary_stop, primary_start = T("15:55:10.031"), T("15:58:41.502")

    def host_of(t: datetime, inst: str) -> str:
        return "db-backup" if inst in switch and t >= switch[inst] else "db-primary"

    def fail(t: datetime, inst: str, ep: Endpoint) -> str | None:
        if t < impact or host_of(t, inst) != "db-primary":
            return None
        ramp = min(1.0, (t - impact).total_seconds() / 150)
        p = 0.35 + 0.47 * ramp + (0.05 if t >= reload2 else 0)
        if rng.random() >= p:
            return None
        return "too_many" if rng.random() < 0.72 else "reserved"

    def rate(t: datetime) -> float:
        base = 0.16 + 0.04 * ((t - span[0]).total_seconds() / 21600)
        return base * (1.35 if impact <= t < switch["orders-api-2"] else 1.0)  # users retry

    def assets(t: datetime) -> dict[str, str]:
        return ASSETS_AFTER if t >= T("14:05:31") else ASSETS_BEFORE

    simulate_traffic(sim, span[0], span[1], rate, fail, host_of, assets,
                     forced=[(impact + ms(9), ENDPOINTS[2], "web-1", "too_many")])
    bot_storm(sim, T("13:21:07"), 9, 0.6)
    web_background(sim, span[0], span[1])

    # The restart blip: pools lose their connections, retry, and succeed; no user-facing errors.
    for inst, dt in (("web-1", 0.9), ("web-1", 1.6), ("web-1", 2.7)):
        t = restart + timedelta(seconds=dt)
        sim.weblog(t, "WARNING", "app.db", "connection lost (server closed the connection unexpectedly), retrying in 2s")
    sim.weblog(ready + ms(1900), "INFO", "app.db", "reconnected to db-primary:5432")
    sim.slog(restart + ms(1210), "db_connection_lost", "orders_api.db", "warning", host="orders-api-1",
             db_host="db-primary", error="server closed the connection unexpectedly", retry_in_s=2)
    sim.slog(ready + ms(2302), "db_reconnected", "orders_api.db", "info", host="orders-api-1", db_host="db-primary")

    # ---- db-primary
    old_pm = 1187
    np = sim.next_pid(restart + ms(900))  # the new postmaster after the 14:12 restart
    ns = sim.next_pid(primary_start)  # the postmaster of the rebuilt standby
    last_switch = max(switch.values())
    primary_background(sim, [
        Era(span[0], restart, old_pm + 3),
        Era(ready, last_switch, np + 3),
        Era(last_switch, primary_stop, np + 3, app_traffic=False),
        Era(primary_start + timedelta(seconds=1), span[1], ns + 2, app_traffic=False, standby=True),
    ])
    P = sim.primary
    P.add(sighup, old_pm, "LOG", "received SIGHUP, reloading configuration files")
    P.add(sighup + ms(1), old_pm, "LOG", 'parameter "max_connections" cannot be changed without restarting the server')
    P.add(sighup + ms(1), old_pm, "LOG", 'parameter "shared_buffers" cannot be changed without restarting the server')
    P.add(sighup + ms(1), old_pm, "LOG", 'parameter "work_mem" changed to "64MB"')
    P.add(sighup + ms(1), old_pm, "LOG", 'parameter "effective_cache_size" changed to "48GB"')
    P.add(sighup + ms(2), old_pm, "LOG", f'configuration file "{PG_CONF}" contains errors; unaffected changes were applied')

    def shutdown(t0: datetime, pm: int, active: list[int], buffers: int) -> None:
        P.add(t0, pm, "LOG", "received fast shutdown request")
        P.add(t0 + ms(1), pm, "LOG", "aborting any active transactions")
        for i, pid in enumerate(active):
            P.add(t0 + ms(2 + i), pid, "FATAL", "terminating connection due to administrator command", "app@shop")
        P.add(t0 + ms(9), pm, "LOG", f'background worker "logical replication launcher" (PID {pm + 9}) exited with exit code 1')
        P.add(t0 + ms(12), pm + 3, "LOG", "shutting down")
        P.add(t0 + ms(13), pm + 3, "LOG", "checkpoint starting: shutdown immediate")
        P.add(t0 + ms(290), pm + 3, "LOG", checkpoint_msg(rng, buffers, write_s=0.251))
        P.add(t0 + ms(301), pm, "LOG", "database system is shut down")

    def startup(t0: datetime, pm: int) -> None:
        P.add(t0, pm, "LOG", f"starting {PG_VERSION}")
        P.add(t0 + ms(1), pm, "LOG", 'listening on IPv4 address "0.0.0.0", port 5432')
        P.add(t0 + ms(1), pm, "LOG", 'listening on IPv6 address "::", port 5432')
        P.add(t0 + ms(2), pm, "LOG", 'listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"')

    shutdown(restart, old_pm, [sim.next_pid(restart - timedelta(minutes=m)) for m in (3, 9, 17, 26)], 2204)
    startup(ready - ms(1640), np)
    P.add(ready - ms(1601), np + 4, "LOG", f"database system was shut down at {pg_t(restart + ms(301), PDT)}")
    # A client that was too quick hits the starting-up window.
    P.add(ready - ms(1200), np + 6, "LOG", f"connection received: host={APP_IP['web-1']} port=50112", "[unknown]@[unknown]")
    P.add(ready - ms(1198), np + 6, "FATAL", "the database system is starting up", "app@shop")
    P.add(ready, np, "LOG", "database system is ready to accept connections")
    P.add(ready + ms(640), np + 11, "LOG", "connection received: host=10.0.3.6 port=41022", "[unknown]@[unknown]")
    P.add(ready + ms(648), np + 11, "LOG", "replication connection authorized: user=replicator application_name=db-backup "
          "SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)", "replicator@[unknown]")
    # The pools refill up to the new limit (37 usable slots) before the first refusal.
    pool: list[tuple[datetime, int, str]] = []
    for i in range(37):
        t = ready + timedelta(seconds=1.2 + (impact - ready).total_seconds() * (i / 37) ** 1.6 * 0.97)
        inst = rng.choice(list(APP_NAME))
        pid = sim.next_pid(t)
        pool.append((t, pid, inst))
        P.add(t, pid, "LOG", f"connection received: host={APP_IP[inst]} port={rng.randint(32768, 60999)}", "[unknown]@[unknown]")
        P.add(t + ms(5), pid, "LOG", f"connection authorized: user=app database=shop application_name={APP_NAME[inst]} "
              "SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)", "app@shop")
    # A retry storm from the pools on top of the refused requests.
    t = impact
    while True:
        t += timedelta(seconds=rng.expovariate(0.2 if t < reload2 else 0.3))
        live = [i for i in APP_NAME if host_of(t, i) == "db-primary"]
        if not live:
            break
        inst = rng.choice(live)
        pid = sim.next_pid(t)
        P.add(t, pid, "LOG", f"connection received: host={APP_IP[inst]} port={rng.randint(32768, 60999)}", "[unknown]@[unknown]")
        P.add(t + ms(3), pid, "FATAL", MSG_TOO_MANY if rng.random() < 0.7 else MSG_RESERVED, "app@shop")
        sim.incident_errors.append(t + ms(3))
    P.add(T("14:58:12.440"), sim.next_pid(T("14:58:10")), "LOG", "statement: SHOW max_connections;", "postgres@postgres")
    P.add(T("15:20:31.019"), sim.next_pid(T("15:20:29")), "LOG",
          "statement: SELECT count(*), state FROM pg_stat_activity GROUP BY state;", "postgres@postgres")
    # The rollback: the old file is restored and reloaded, but max_connections needs a restart.
    P.add(reload2, np, "LOG", "received SIGHUP, reloading configuration files")
    P.add(reload2 + ms(1), np, "LOG", 'parameter "max_connections" cannot be changed without restarting the server')
    P.add(reload2 + ms(1), np, "LOG", 'parameter "shared_buffers" cannot be changed without restarting the server')
    P.add(reload2 + ms(1), np, "LOG", 'parameter "work_mem" changed to "4MB"')
    P.add(reload2 + ms(1), np, "LOG", 'parameter "effective_cache_size" changed to "24GB"')
    P.add(reload2 + ms(2), np, "LOG", f'configuration file "{PG_CONF}" contains errors; unaffected changes were applied')
    # After the failover each instance's pool drains off the primary.
    for t0, pid, inst in pool:
        t = switch[inst] + ms(rng.uniform(100, 4000))
        sess = t - t0
        h, rem = divmod(sess.total_seconds(), 3600)
        m, sec = divmod(rem, 60)
        P.add(t, pid, "LOG", f"disconnection: session time: {int(h)}:{int(m):02d}:{sec:06.3f} user=app database=shop "
              f"host={APP_IP[inst]} port={rng.randint(32768, 60999)}", "app@shop")
    P.add(promote + ms(210), np + 12, "LOG", "could not receive data from client: Connection reset by peer", "replicator@[unknown]")
    # The primary is stopped, rewound and restarted as a standby of db-backup with max_connections = 400.
    shutdown(primary_stop, np, [], 512)
    startup(primary_start, ns)
    P.add(primary_start + ms(40), ns + 3, "LOG",
          f"database system was shut down in recovery at {pg_t(primary_start - timedelta(seconds=48), PDT)}")
    P.add(primary_start + ms(41), ns + 3, "LOG", "entering standby mode")
    P.add(primary_start + ms(60), ns + 3, "LOG", "redo starts at 3/4E2F1AB0")
    P.add(primary_start + ms(310), ns + 3, "LOG", "consistent recovery state reached at 3/4E3A0F88")
    P.add(primary_start + ms(312), ns, "LOG", "database system is ready to accept read-only connections")
    P.add(primary_start + ms(420), ns + 6, "LOG", "started streaming WAL from primary at 3/4E000000 on timeline 2")

    # ---- db-backup (UTC csvlog): quiet standby, a blip at the primary restart, then the promotion.
    backup_background(sim, span[0], promote)
    B = sim.backup
    B.add(restart + ms(330), 885, "FATAL", "could not receive data from WAL stream: server closed the connection unexpectedly\n"
          "\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.",
          state="XX000", backend="walreceiver")
    B.add(restart + ms(340), 879, "LOG", "waiting for WAL to become available at 3/4A0001B8", backend="startup")
    B.add(ready + ms(651), 35113, "LOG", "started streaming WAL from primary at 3/4A000000 on timeline 1", backend="walreceiver")
    B.add(promote, 879, "LOG", "received promote request", backend="startup")
    B.add(promote + ms(1), 35113, "FATAL", "terminating walreceiver process due to administrator command",
          state="57P01", backend="walreceiver")
    B.add(promote + ms(4), 879, "LOG", "invalid record length at 3/4E2F1A38: expected at least 24, got 0", backend="startup")
    B.add(promote + ms(4), 879, "LOG", f"redo done at 3/4E2F1A00 system usage: CPU: user: 41.28 s, system: 66.02 s, "
          f"elapsed: {(promote - B.starts[879]).total_seconds():.2f} s", backend="startup")
    B.add(promote + ms(5), 879, "LOG", f"last completed transaction was at log time {pg_m(promote - ms(1817), UTC)[:-4]}+00",
          backend="startup")
    B.add(promote + ms(9), 879, "LOG", "selected new timeline ID: 2", backend="startup")
    B.add(promote + ms(21), 879, "LOG", "archive recovery complete", backend="startup")
    B.add(promote + ms(30), 881, "LOG", "checkpoint starting: force", backend="checkpointer")
    B.add(promote + ms(33), 876, "LOG", "database system is ready to accept connections", backend="postmaster")
    B.add(promote + ms(2140), 881, "LOG", checkpoint_msg(rng, 311, write_s=1.904), backend="checkpointer")
    for inst, t0 in switch.items():
        for k in range(9):
            t = t0 + ms(40 + k * rng.uniform(20, 400))
            pid = 36000 + len(B.rows)
            conn = f"{APP_IP[inst]}:{rng.randint(32768, 60999)}"
            B.add(t, pid, "LOG", f"connection received: host={APP_IP[inst]} port={conn.split(':')[1]}", user="", db="",
                  conn=conn, tag="", start=t, backend="not initialized")
            B.add(t + ms(5), pid, "LOG", f"connection authorized: user=app database=shop application_name={APP_NAME[inst]} "
                  "SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)", user="app", db="shop",
                  conn=conn, line=2, tag="authentication", start=t, vxid="", app="", backend="client backend")
    t = promote + timedelta(minutes=4)
    while t < span[1]:
        pid = rng.randint(36100, 39000)
        B.add(t, pid, "LOG", f"duration: {rng.uniform(1000, 3300):.3f} ms  statement: {rng.choice(SLOW_SQL)}",
              user="app", db="shop", conn=f"10.0.2.2{rng.randint(1, 2)}:{rng.randint(32768, 60999)}", line=rng.randint(3, 900),
              tag="SELECT", start=t - timedelta(minutes=rng.randint(1, 20)), vxid=f"{rng.randint(3, 60)}/{rng.randint(100, 9999)}",
              app="orders-api")
        t += timedelta(seconds=rng.expovariate(1 / 540))
    t = promote + timedelta(minutes=9)
    while t < span[1]:
        B.add(t, 881, "LOG", "checkpoint starting: time", backend="checkpointer")
        B.add(t + timedelta(seconds=rng.uniform(30, 240)), 881, "LOG", checkpoint_msg(rng), backend="checkpointer")
        t += timedelta(minutes=15)
    B.add(primary_start + ms(380), 39411, "LOG", "connection received: host=10.0.3.5 port=46120", conn="10.0.3.5:46120",
          backend="not initialized")
    B.add(primary_start + ms(389), 39411, "LOG", "replication connection authorized: user=replicator application_name=db-primary "
          "SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)", user="replicator",
          conn="10.0.3.5:46120", line=2, tag="authentication", app="db-primary", backend="walsender")

    # ---- changes
    write_changes(out, [
        (T("09:40:00"), "sam.okafor", "Renew TLS certificate on lb-1 (CHG-2226)", "nginx"),
        (T("11:15:00"), "ci-bot", "Deploy orders-api v1.38.2 (commit 9d0e3b7): copy fixes in receipts", "orders-api"),
        (T("14:05:00"), "tom.becker", "Deploy frontend v2024.08.12.2 (commit a41c9e2): static assets, checkout copy", "frontend"),
        (T("14:12:00"), "dmitri.kovalenko", "Maintenance window CHG-2231: postgresql.conf tuning (shared_buffers 8GB->16GB, "
         "work_mem 4MB->64MB, effective_cache_size 24GB->48GB, max_connections 400->40) and PostgreSQL restart", "db-primary"),
        (rollback, "dmitri.kovalenko", "Roll back CHG-2231: restore previous postgresql.conf and reload", "db-primary"),
        (failover, "dmitri.kovalenko", "Fail over: promote db-backup to primary; point DATABASE_URL of web and orders-api at db-backup",
         "db-backup"),
        (T("15:55:00"), "dmitri.kovalenko", "Rebuild db-primary as standby of db-backup (pg_rewind), max_connections=400", "db-primary"),
        (T("17:20:00"), "ci-bot", "Deploy web v3.14.1 (commit 50c2f8e): dependency bumps", "web"),
    ])

    # ---- tickets
    desk = Desk(rng)
    c = [462003118451 + i * 7919 for i in range(16)]
    desk.open(48199, T("11:02:44"), "Password reset email never arrives",
              "I requested a password reset three times this morning and nothing arrived, not even in spam.", c[0], "email", ["password_reset"])
    desk.update(48199, T("11:31:10"), AGENTS["jonas"], "Hi! We resent the reset link from our side; it can take a few minutes. "
                "Please let us know if it still does not show up.", status="pending", assignee_id=AGENTS["jonas"])
    desk.update(48199, T("12:26:05"), AGENTS["jonas"], "Glad it worked!", status="solved")
    desk.open(48203, T("12:48:19"), "Question about my invoice",
              "My last invoice shows VAT although I entered a business tax ID. Can you re-issue it?", c[1], "web", ["billing"])
    desk.update(48203, T("13:05:52"), AGENTS["maya"], None, group_id="Billing", assignee_id=AGENTS["billing"], status="open")
    desk.open(48205, T("13:40:02"), "How do I change my shipping address?",
              "I moved last week. Where do I change the default shipping address?", c[2], "chat", ["shipping", "how_to"])
    desk.update(48205, T("13:57:40"), AGENTS["jonas"], "You can change it under Account > Addresses. Let us know if you need help!",
                status="solved", assignee_id=AGENTS["jonas"])
    first = T("14:30:12")
    desk.open(48207, first, "Can't access my account - error page",
              "When I open My Account I get an error page saying the service is temporarily unavailable. "
              "Tried twice, same thing.", c[3], "web", ["account", "error"])
    desk.open(48208, T("14:32:40"), "Orders page shows an error",
              "I'm trying to check the status of order 771842 and the orders page just says 503 Service Unavailable.",
              c[4], "email", ["orders", "error"])
    desk.update(48207, T("14:33:21"), AGENTS["maya"], "Thanks for reporting this, we're looking into it right now.",
                status="open", assignee_id=AGENTS["maya"])
    escalated = T("14:35:08")
    desk.update(48207, escalated, AGENTS["maya"], "Second report of 503s on account/orders pages in a few minutes "
                "(see #48208). Escalating to Engineering.", public=False, group_id="Engineering",
                assignee_id=AGENTS["priya"], priority="urgent", type="problem")
    desk.update(48208, T("14:36:02"), AGENTS["maya"], "We're aware of errors on the orders page and engineering is investigating.",
                status="open", type="incident", problem_id=48207, assignee_id=AGENTS["maya"])
    for tid, hms, subj, body, ch, tags in (
        (48209, "14:38:55", "Checkout failing", "Checkout spins and then says something went wrong. Is there an outage?", "chat", ["checkout", "error"]),
        (48210, "14:51:30", "site down??", "Nothing under my account loads. Login page errors out too.", "web", ["account", "error"]),
        (48211, "15:06:14", "Error 503 when viewing order history", "Order history has been failing for half an hour.", "email", ["orders", "error"]),
        (48212, "15:20:47", "Still can't log in", "I keep getting an error when I log in. Please fix, I need my invoice.", "web", ["account", "login"]),
    ):
        desk.open(tid, T(hms), subj, body, c[tid - 48200], ch, tags)
        desk.update(tid, T(hms) + timedelta(minutes=rng.randint(2, 6), seconds=rng.randint(0, 59)), AGENTS["jonas"],
                    "We're aware of the issue and engineering is working on it. We'll update you as soon as it's fixed.",
                    status="open", type="incident", problem_id=48207, assignee_id=AGENTS["jonas"])
    desk.tickets[48207].has_incidents = True
    desk.update(48207, T("15:01:33"), AGENTS["priya"], "Cause identified: a database configuration change from today's maintenance "
                "window (max_connections lowered). Working on the fix.", public=False)
    desk.open(48213, T("15:40:29"), "Change billing email", "Please send invoices to accounts@ourfirm.example from now on.",
              c[13], "email", ["billing"])
    desk.update(48213, T("15:52:03"), AGENTS["maya"], None, group_id="Billing", assignee_id=AGENTS["billing"], status="open")
    desk.update(48207, T("16:02:11"), AGENTS["priya"], "Service has been restored; the database traffic was failed over and "
                "the configuration corrected. Sorry for the trouble!", status="solved")
    for tid in (48208, 48209, 48210, 48211, 48212):
        desk.update(tid, T("16:02:13") + ms(400 * (tid - 48207)), AGENTS["priya"], "Service has been restored. Sorry for the trouble!",
                    via="rule", status="solved")
    desk.open(48214, T("16:44:58"), "Refund for duplicate charge",
              "I was charged twice for order 771455. Can you refund one of them?", c[14], "web", ["billing", "refund"])
    desk.open(48215, T("17:26:31"), "Password reset link expired", "The reset link says it expired. Can you send a new one?",
              c[15], "email", ["password_reset"])
    desk.update(48215, T("17:39:02"), AGENTS["jonas"], "Sent a new link, it is valid for 24 hours.", status="solved",
                assignee_id=AGENTS["jonas"])
    desk.write(out)

    # ---- Slack
    inc, gen = Channel("incident-db", sim), Channel("general", sim)
    gen.bot(T("09:30:00.412"), "standup", "Good morning! Time for the *Platform* standup. Reply in thread with yesterday / today / blockers.")
    gen.say(T("09:41:12.118"), "sam", "TLS cert on lb-1 renewed, no action needed from anyone :lock:")
    gen.bot(T("11:15:48.903"), "deploybot", "orders-api v1.38.2 deployed to *production* by ci-bot (9d0e3b7) :white_check_mark:")
    gen.say(T("12:14:03.551"), "lena", "anyone up for lunch at the taco place?", reactions=[("taco", ["tom", "sam"])])
    gen.say(T("13:55:20.004"), "dmitri", "Heads-up: db-primary maintenance window 14:00-14:30 (CHG-2231, postgresql.conf tuning). "
            "Expect a short blip when PostgreSQL restarts.")
    gen.say(T("13:59:31.870"), "tom", "deploying frontend v2024.08.12.2 at 14:05, static assets + checkout copy")
    gen.bot(T("14:05:44.215"), "deploybot", "frontend v2024.08.12.2 deployed to *production* by tom.becker (a41c9e2) :white_check_mark:")
    gen.say(T("14:13:02.660"), "dmitri", "db-primary tuning applied and PostgreSQL restarted, all back up :white_check_mark:")
    gen.bot(T("14:20:00.121"), "ci", "main :large_green_circle: build #4812 passed (web, 6m 12s)")
    gen.say(T("14:41:09.336"), "lena", "is the site down? a customer on the phone says their order page errors, I see it too")
    gen.say(T("14:42:30.982"), "maya", "yes, engineering is on it in #incident-db")
    gen.bot(T("15:10:00.555"), "ci", "main :red_circle: build #4815 failed (orders-api, flaky test test_receipt_pdf)")
    gen.say(T("16:04:18.740"), "weze", "The 14:14-15:47 errors on account/orders are resolved, details in #incident-db. Thanks all.")
    gen.bot(T("17:20:31.004"), "deploybot", "web v3.14.1 deployed to *production* by ci-bot (50c2f8e) :white_check_mark:")
    gen.bot(T("18:30:00.330"), "ci", "nightly :large_green_circle: build #4821 passed (all services, 14m 40s)")
    gen.say(T("19:02:44.020"), "tom", "frontend release notes for today are up in the wiki")

    inc.join(T("14:35:20.118"), "maya")
    inc.say(T("14:35:41.442"), "maya", "escalating to engineering: customers get 503/error pages on /account and /orders since ~14:30, "
            "2 tickets so far (#48207, #48208). <@U03HX2PLM7D> can you take a look?", label="esc")
    inc.join(T("14:36:02.007"), "priya")
    inc.join(T("14:37:10.901"), "sam")
    inc.bot(T("14:38:56.300"), "zendesk", "New ticket #48209 *Checkout failing* (chat) -> Support")
    acknowledged = T("14:40:12.225")
    inc.say(acknowledged, "priya", "investigating, db not responding to connection requests: app logs are full of "
            "`FATAL:  sorry, too many clients already` from db-primary", label="ack")
    inc.say(T("14:41:30.513"), "sam", "could it be the frontend deploy at 14:05? that's the only deploy today")
    inc.join(T("14:42:01.640"), "tom")
    inc.say(T("14:42:40.877"), "tom", "frontend deploy was static assets + copy, it doesn't talk to the db. I can roll it back if you want")
    inc.say(T("14:43:05.260"), "priya", "let's not roll back yet, the errors come from the db layer")
    inc.join(T("14:44:10.003"), "weze")
    inc.say(T("14:46:22.741"), "weze", "I'll take IC. Priya on the db side, Sam on the app side. Maya, can you send the customers a holding reply?")
    inc.say(T("14:46:58.310"), "maya", "on it :+1:", thread="esc")
    inc.say(T("14:48:10.115"), "sam", "should we restart the web pods? maybe the pools are wedged")
    inc.say(T("14:49:30.902"), "priya", "restarting won't help, the server itself refuses new connections. checking pg_stat_activity")
    inc.bot(T("14:51:31.087"), "zendesk", "New ticket #48210 *site down??* (web) -> Support")
    inc.say(T("14:53:40.447"), "sam", "should we fail over to db-backup?")
    inc.say(T("14:54:15.661"), "weze", "not until we know why. does the backup even have the same config?")
    inc.say(T("14:56:02.015"), "priya", "was there any maintenance on db-primary today?")
    inc.join(T("14:57:12.509"), "dmitri")
    inc.say(T("14:58:01.733"), "dmitri", "yes, CHG-2231 in the 14:00 window: shared_buffers, work_mem, max_connections. restarted at 14:12")
    identified = T("15:00:08.391")
    inc.say(identified, "priya", "found it: the max_connections change from the maintenance window. `SHOW max_connections` says 40, "
            "our pools want ~200", label="found", edited=T("15:01:10"), reactions=[("eyes", ["weze", "sam"])])
    inc.say(T("15:01:40.268"), "dmitri", "ugh, yes. 40 was meant for after the pgbouncer rollout, my mistake", thread="found")
    inc.say(T("15:02:10.554"), "sam", "that also explains the `remaining connection slots are reserved` errors", thread="found")
    inc.say(T("15:03:02.990"), "weze", "ok. plan: roll back the config. Dmitri, how long?", thread="found")
    inc.say(T("15:04:30.402"), "sam", "if the rollback doesn't work we could fail over to db-backup, it still has max_connections=400")
    inc.bot(T("15:06:15.220"), "zendesk", "New ticket #48211 *Error 503 when viewing order history* (email) -> Support")
    inc.say(T("15:12:44.061"), "weze", "update for support: cause found, fix in progress, ETA ~30 min")
    inc.say(T("15:20:02.846"), "dmitri", "preparing the rollback, previous conf is postgresql.conf.bak-20240812")
    inc.bot(T("15:20:48.004"), "zendesk", "New ticket #48212 *Still can't log in* (web) -> Support")
    inc.say(T("15:30:15.330"), "dmitri", "rolling back the config change now", label="rb")
    inc.say(T("15:31:02.114"), "dmitri", "reverted postgresql.conf and reloaded", thread="rb")
    inc.say(T("15:35:30.650"), "priya", "still erroring after rollback. `SHOW max_connections` still says 40", thread="rb")
    inc.say(T("15:36:10.208"), "dmitri", "right, max_connections only changes on restart, a reload doesn't apply it. "
            "a restart drops everything again though", thread="rb")
    inc.say(T("15:37:22.781"), "weze", "restart or fail over? is the backup caught up?")
    inc.say(T("15:39:05.093"), "sam", "replication lag on db-backup is 0 bytes")
    inc.say(T("15:41:48.477"), "weze", "fail over. Dmitri promotes, Sam flips DATABASE_URL")
    inc.say(T("15:45:05.902"), "dmitri", "failing over to db-backup", label="fo")
    inc.say(T("15:45:31.250"), "dmitri", "db-backup promoted, timeline 2", thread="fo")
    inc.say(T("15:46:00.708"), "sam", "DATABASE_URL updated, rolling web and orders-api", thread="fo")
    inc.say(T("15:48:20.533"), "priya", "errors cleared, no `too many clients` since 15:46:50", reactions=[("tada", ["weze", "maya", "sam"])])
    inc.say(T("15:50:12.119"), "maya", "customers confirm pages load again")
    inc.say(T("15:55:40.001"), "dmitri", "rebuilding db-primary as a standby of db-backup with max_connections=400")
    inc.say(T("15:59:12.660"), "dmitri", "db-primary back online as standby, streaming from db-backup")
    resolved = T("16:00:30.412")
    inc.say(resolved, "weze", "resolved, all green. postmortem tomorrow, I'll own it", reactions=[("white_check_mark", ["priya", "dmitri", "sam"])])
    inc.bot(T("16:02:15.900"), "zendesk", "Ticket #48207 *Can't access my account - error page* solved by Priya Raman (+5 linked incidents)")
    inc.say(T("17:35:08.145"), "weze", "postmortem draft is in the wiki, please add what I missed")
    inc.say(T("17:48:51.090"), "dmitri", "added the config diff and the reload vs restart detail")
    write_slack(out, [(gen, T("09:00:00") - timedelta(days=900), "weze", "Company-wide announcements and chatter"),
                      (inc, T("09:00:00") - timedelta(days=300), "sam", "Database incidents: one thread per incident")], day)

    write_common(out, sim)
    impact_start = min(sim.incident_errors)
    mitigated = max(sim.incident_errors)
    if not (abs(impact_start - impact) < ms(50) and mitigated < switch["orders-api-2"] + timedelta(seconds=1)):
        msg = f"seed scenario drifted: impact_start={impact_start}, mitigated={mitigated}"
        raise RuntimeError(msg)
    truth = {
        "scenario": "seed",
        "title": "2024-08-12 database outage: max_connections lowered in a maintenance window",
        "timezone": "America/Los_Angeles",
        "window": {"start": iso_utc(span[0]), "end": iso_utc(span[1])},
        "milestones": {
            "trigger": {"at": iso_utc(T("14:12:00")), "what": "CHG-2231 postgresql.conf change (max_connections 400->40) "
                        "applied with a PostgreSQL restart on db-primary", "source": "changes/changes.csv",
                        "db_log_at": iso_utc(restart)},
            "impact_start": {"at": iso_utc(impact_start), "what": "first FATAL 53300 on db-primary; first app error a few ms later",
                             "source": "postgres/db-primary/postgresql-2024-08-12.log"},
            "detected": {"at": iso_utc(first), "by": "customer", "what": "ticket #48207 created",
                         "source": "tickets/zendesk-tickets.json"},
            "escalated": {"at": iso_utc(escalated), "what": "ticket #48207 moved to the Engineering group",
                          "source": "tickets/zendesk-ticket-audits.json"},
            "acknowledged": {"at": iso_utc(acknowledged), "what": "'investigating' in #incident-db",
                             "source": "slack/incident-db/2024-08-12.json"},
            "identified": {"at": iso_utc(identified), "what": "'found it: the max_connections change' in #incident-db",
                           "source": "slack/incident-db/2024-08-12.json"},
            "mitigated": {"at": iso_utc(mitigated), "what": "last connection refusal; all app instances on db-backup",
                          "attempt": 1},
            "resolved": {"at": iso_utc(resolved), "what": "'resolved, all green' in #incident-db",
                         "source": "slack/incident-db/2024-08-12.json"},
        },
        "mitigation_attempts": [
            {"at": iso_utc(rollback), "action": "rolled_back", "target": "db-primary", "effective": False,
             "what": "postgresql.conf restored and reloaded (SIGHUP); max_connections needs a restart, so it stayed 40",
             "db_log_at": iso_utc(reload2)},
            {"at": iso_utc(failover), "action": "failover", "target": "db-backup", "effective": True,
             "what": "db-backup promoted, DATABASE_URL switched", "db_log_at": iso_utc(promote)},
        ],
        "no_alert_fired": True,
        "decoys": [
            {"at": iso_utc(T("14:05:00")), "what": "frontend deploy (unrelated)", "source": "changes/changes.csv"},
            {"at": iso_utc(T("13:21:07")), "what": "404 storm from a crawler (unrelated)", "source": "nginx/access.log"},
            {"at": iso_utc(restart), "what": "restart blip: a few FATAL 57P01/57P03 lines, requests retried, no 5xx",
             "source": "postgres/db-primary/postgresql-2024-08-12.log"},
            {"at": None, "what": "payment provider timeouts (502 on /api/checkout) and SMTP errors at a low rate all day"},
        ],
        "seed_timeline": [
            {"local": "14:30", "milestone": "detected"}, {"local": "14:35", "milestone": "escalated"},
            {"local": "14:40", "milestone": "acknowledged"}, {"local": "15:00", "milestone": "identified"},
            {"local": "15:30", "milestone": "mitigation_attempt", "effective": False},
            {"local": "15:45", "milestone": "mitigation_attempt", "effective": True},
            {"local": "16:00", "milestone": "resolved"},
        ],
    }
    dump_json(out / ".truth.json", truth)

    def pair(t: datetime) -> dict[str, str]:
        return {"l": t.astimezone(PDT).strftime("%H:%M:%S.%f")[:12], "u": iso_utc(t)}

    points = {"trigger": T("14:12:00"), "impact": impact_start, "detected": first, "escalated": escalated,
              "acknowledged": acknowledged, "identified": identified, "rollback": rollback, "failover": failover,
              "mitigated": mitigated, "resolved": resolved}
    fill = {f"{k}_{x}": v for k, t in points.items() for x, v in pair(t).items()}
    fill["lead_min"] = str(round((first - impact_start).total_seconds() / 60))
    (out / "README.md").write_text(SEED_README.format(**fill), encoding="utf-8")


# --------------------------------------------------------------------------- the noisy scenario


def build_noisy(out: Path) -> None:
    """A two-day, noisier incident: a locking migration five minutes after an unrelated deploy."""
    rng = random.Random(SEED + 1)
    sim = Sim(rng)
    d1, d2 = date(2024, 10, 2), date(2024, 10, 3)
    T = lambda hms, d=d2: at(d, hms)  # noqa: E731
    span = (T("00:00:00", d1), T("23:59:59", d2))
    deploy, trigger = T("10:15:00"), T("10:20:00")
    lock_from = T("10:20:03.902")
    cancel = T("10:55:00")
    lock_to = T("10:55:06.517")

    def fail(t: datetime, inst: str, ep: Endpoint) -> str | None:
        if ep.db == "write" and lock_from + timedelta(seconds=5) <= t <= lock_to and rng.random() < 0.93:
            return "timeout"
        return None

    def rate(t: datetime) -> float:
        h = t.astimezone(PDT).hour
        busy = 1.8 if lock_from <= t <= lock_to else 1.0  # users retry failed checkouts
        return busy * (0.03 if h < 7 else (0.12 if h < 20 else 0.06))

    simulate_traffic(sim, span[0], span[1], rate, fail, lambda t, i: "db-primary",
                     lambda t: ASSETS_BEFORE,
                     forced=[(lock_from + timedelta(seconds=5, milliseconds=311), ENDPOINTS[7], "web-1", "timeout"),
                             (lock_to - ms(420), ENDPOINTS[10], "orders-api-1", "timeout")])
    for d in (d1, d2):
        bot_storm(sim, at(d, "04:12:00") if d == d1 else at(d, "16:40:00"), 6, 0.5)
        web_background(sim, at(d, "00:00:00"), at(d, "23:59:00"))
        # The nightly invoice export: an error burst every night at 02:00, unrelated to the incident.
        t = at(d, "02:00:03.118")
        while t < at(d, "02:11:00"):
            sim.slog(t, "invoice_export_failed", "orders_api.jobs.invoices", "error", host="orders-api-2", job="nightly_invoice_export",
                     error="ReadTimeoutError: Read timed out. (read timeout=30)", bucket="invoices-archive", attempt=rng.randint(1, 3))
            t += timedelta(seconds=rng.expovariate(1 / 9))
        for k in range(3):
            tt = at(d, "02:03:10") + timedelta(seconds=40 * k + rng.uniform(0, 9))
            sim.primary.add(tt, 18800 + k, "ERROR", MSG_TIMEOUT, "reporting@shop",
                            [("STATEMENT", "SELECT customer_id, sum(total_cents) FROM orders\n\tWHERE created_at >= $1 GROUP BY 1")])
        primary_background(sim, [Era(at(d, "00:00:00"), at(d, "23:59:00"), 1190)])
        backup_background(sim, at(d, "00:00:00"), at(d, "23:59:00"))
    P = sim.primary
    P.add(T("10:20:03.118"), 30411, "LOG", "connection authorized: user=migrator database=shop application_name=alembic "
          "SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)", "migrator@shop")
    P.add(T("10:20:03.902"), 30411, "LOG", "statement: CREATE INDEX orders_status_created_idx ON orders (status, created_at);",
          "migrator@shop")
    P.add(T("10:55:06.410"), 30411, "ERROR", "canceling statement due to user request", "migrator@shop",
          [("STATEMENT", "CREATE INDEX orders_status_created_idx ON orders (status, created_at);")])
    P.add(T("10:55:06.412"), 30411, "LOG", "disconnection: session time: 0:35:03.294 user=migrator database=shop host=10.0.5.3 port=51515",
          "migrator@shop")

    write_changes(out, [
        (T("16:30:00", d1), "ci-bot", "Deploy web v3.20.0", "web"),
        (T("09:05:00"), "sam.okafor", "Raise nginx worker_connections to 4096", "nginx"),
        (deploy, "ci-bot", "Deploy orders-api v1.42.0 (commit 77ab01c)", "orders-api"),
        (trigger, "ci-bot", "Run migration 0142_orders_status_idx (CREATE INDEX on orders)", "db-primary"),
        (T("10:45:00"), "sam.okafor", "Roll back orders-api to v1.41.3", "orders-api"),
        (cancel, "dmitri.kovalenko", "pg_cancel_backend(30411): cancel migration 0142 index build", "db-primary"),
        (T("22:00:00"), "dmitri.kovalenko", "Re-run migration 0142 with CREATE INDEX CONCURRENTLY", "db-primary"),
    ])

    desk = Desk(rng)
    c = [462003118451 + i * 7919 for i in range(12)]
    desk.open(51002, T("15:12:00", d1), "Billing question", "Do you offer annual billing?", c[0], "email", ["billing"])
    desk.update(51002, T("15:40:00", d1), AGENTS["maya"], "Yes! Switch under Account > Plan.", status="solved")
    desk.open(51010, T("08:20:41"), "Password reset", "Reset link not working", c[1], "web", ["password_reset"])
    desk.update(51010, T("08:41:02"), AGENTS["jonas"], "Sent a fresh link.", status="solved")
    desk.open(51014, T("10:41:17"), "Checkout error", "Placing an order fails with an error after a few seconds.", c[2], "web", ["checkout", "error"])
    desk.open(51015, T("10:47:50"), "Cannot add items to cart", "Add to cart spins and fails.", c[3], "chat", ["cart", "error"])
    desk.update(51014, T("10:49:02"), AGENTS["maya"], "Engineering is investigating.", status="open", type="problem",
                priority="high", group_id="Engineering", assignee_id=AGENTS["priya"])
    desk.update(51015, T("10:50:40"), AGENTS["maya"], "Engineering is investigating.", status="open", type="incident",
                problem_id=51014)
    desk.tickets[51014].has_incidents = True
    desk.update(51014, T("11:25:10"), AGENTS["priya"], "Fixed, sorry!", status="solved")
    desk.update(51015, T("11:25:12"), AGENTS["priya"], "Fixed, sorry!", status="solved", via="rule")
    desk.write(out)

    inc, gen = Channel("incidents", sim), Channel("general", sim)
    for d in (d1, d2):
        gen.bot(at(d, "09:30:00.100"), "standup", "Good morning! Time for the *Platform* standup.")
        for hms in ("11:00:00.500", "15:00:00.700", "19:00:00.800"):
            gen.bot(at(d, hms), "ci", f"main :large_green_circle: build #{rng.randint(5000, 5999)} passed")
        gen.bot(at(d, "02:11:30.000"), "ci", "nightly_invoice_export :red_circle: finished with 41 errors (S3 timeouts)")
    gen.bot(T("16:30:40", d1), "deploybot", "web v3.20.0 deployed to *production* :white_check_mark:")
    gen.bot(T("10:15:41.009"), "deploybot", "orders-api v1.42.0 deployed to *production* (77ab01c) :white_check_mark:")
    gen.bot(T("10:20:02.330"), "ci", "migrate :arrow_forward: running 0142_orders_status_idx on db-primary")
    detected = T("10:31:40.220")
    gen.say(detected, "lena", "anyone else seeing checkout 500s? my test order failed twice")
    gen.say(T("10:32:15.000"), "tom", "could be the orders-api deploy from 10:15?")
    inc.join(T("10:34:00.100"), "sam")
    escalated = T("10:34:10.560")
    inc.say(escalated, "sam", "paging DB on-call: checkout and add-to-cart fail since ~10:20 <@U03HX2PLM7D>", label="esc")
    inc.join(T("10:36:40.000"), "priya")
    ack = T("10:37:05.118")
    inc.say(ack, "priya", "investigating, seeing `canceling statement due to statement timeout` on inserts into orders")
    inc.say(T("10:39:22.700"), "sam", "could it be the orders-api deploy at 10:15? should we roll it back?")
    inc.say(T("10:40:01.000"), "priya", "maybe, or the nightly export again? it timed out at 2am too")
    inc.say(T("10:44:12.900"), "sam", "rolling back orders-api to v1.41.3 just in case", label="rb")
    inc.bot(T("10:45:40.000"), "deploybot", "orders-api v1.41.3 deployed to *production* (rollback) :white_check_mark:")
    inc.say(T("10:50:33.000"), "sam", "still failing after the rollback", thread="rb")
    inc.join(T("10:51:00.000"), "dmitri")
    identified = T("10:52:30.300")
    inc.say(identified, "dmitri", "found it: the CREATE INDEX from migration 0142 holds a lock on orders, inserts wait and time out")
    inc.say(T("10:53:10.000"), "priya", "should we fail over to db-backup? (hypothetically, if cancel doesn't work)")
    inc.say(T("10:55:02.000"), "dmitri", "cancelling the index build now (pg_cancel_backend 30411)")
    inc.say(T("10:57:45.000"), "priya", "errors cleared, checkout works again")
    resolved = T("11:20:00.450")
    inc.say(resolved, "sam", "resolved. re-running the migration CONCURRENTLY tonight")
    inc.say(T("17:40:00.000"), "sam", "postmortem draft up")
    write_slack(out, [(gen, T("09:00:00") - timedelta(days=900), "weze", "Company-wide"),
                      (inc, T("09:00:00") - timedelta(days=200), "sam", "Incidents")], d2)
    write_common(out, sim)
    truth = {
        "scenario": "noisy",
        "title": "2024-10-03 checkout failures: CREATE INDEX locked orders",
        "timezone": "America/Los_Angeles",
        "window": {"start": iso_utc(span[0]), "end": iso_utc(span[1])},
        "milestones": {
            "trigger": {"at": iso_utc(trigger), "what": "migration 0142 CREATE INDEX on orders", "source": "changes/changes.csv"},
            "impact_start": {"at": iso_utc(min(sim.incident_errors)), "what": "first statement timeout on an insert into orders"},
            "detected": {"at": iso_utc(detected), "by": "staff", "what": "'anyone else seeing checkout 500s?' in #general"},
            "escalated": {"at": iso_utc(escalated), "what": "'paging DB on-call' in #incidents"},
            "acknowledged": {"at": iso_utc(ack), "what": "'investigating' in #incidents"},
            "identified": {"at": iso_utc(identified), "what": "'found it: the CREATE INDEX' in #incidents"},
            "mitigated": {"at": iso_utc(max(sim.incident_errors)), "what": "last statement timeout", "attempt": 1},
            "resolved": {"at": iso_utc(resolved), "what": "'resolved' in #incidents"},
        },
        "mitigation_attempts": [
            {"at": iso_utc(T("10:45:00")), "action": "rolled_back", "target": "orders-api", "effective": False},
            {"at": iso_utc(cancel), "action": "cancelled_migration", "target": "db-primary", "effective": True},
        ],
        "no_alert_fired": True,
        "decoys": [
            {"at": iso_utc(deploy), "what": "orders-api deploy 5 minutes before the trigger"},
            {"at": iso_utc(at(d1, "02:00:03")), "what": "nightly invoice export error burst (both nights)"},
            {"at": iso_utc(at(d2, "02:00:03")), "what": "nightly invoice export error burst (both nights)"},
        ],
    }
    dump_json(out / ".truth.json", truth)


def generate(out: Path, variant: str = "seed") -> Path:
    """Write one scenario into ``out`` (replacing what is there) and return ``out``.

    Parameters
    ----------
    out : Path
        Target folder; it is emptied of the files this script writes first.
    variant : {"seed", "noisy"}
        Which scenario to write.
    """
    builders = {"seed": build_seed, "noisy": build_noisy}
    if variant not in builders:
        msg = f"unknown variant {variant!r}; expected one of {sorted(builders)}"
        raise ValueError(msg)
    for sub in ("app", "nginx", "postgres", "tickets", "slack", "changes"):
        shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    builders[variant](out)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", choices=["seed", "noisy"], default="seed")
    ap.add_argument("--out", type=Path, default=None, help=f"output folder (default for seed: {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    out = args.out or (DEFAULT_OUT if args.variant == "seed" else None)
    if out is None:
        ap.error("--variant noisy needs --out DIR (it is not committed as data)")
    generate(out, args.variant)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
