"""Generate one realistic log per shipped line-format family, for the format matrix benchmark.

Each file holds ``--lines`` lines (default 1,000,000) in one family, written
the ways real loggers of that family write it. Within a file the way the time
is written changes every quarter, where the family allows it (zones as
``-07:00`` offsets, ``Z``, ``-0700``, abbreviations and none; fractions of 0, 3,
6 and 9 digits, and ``datetime.isoformat()``'s six-or-none), optional fields
come and go, and multi-line records (tracebacks, stack traces, partial CRI
lines, slow-query blocks, DETAIL lines) appear as they do in the wild. Each
quarter spans many read blocks, so every shape's path is timed.

The three families of ``generate_logs.py`` (Python logging, ECS JSON lines,
PostgreSQL stderr) come from that generator; the others from here. The
manifest (``manifest.json``) records per family its file, format name, bytes,
lines and records (events a correct reader must find).

Usage::

    python bench/generate_matrix.py --lines 1000000 --out bench/data/matrix
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import generate_logs  # noqa: E402

DEFAULT_OUT = BENCH / "data" / "matrix"
SEED = 20240812
START = datetime(2024, 8, 12, 6, 0, 0, tzinfo=UTC)  # well clear of any DST change
PDT = timezone(timedelta(hours=-7))
CEST = timezone(timedelta(hours=2))

SERVICES = ("orders-api", "checkout-api", "billing-worker", "search-api", "edge-proxy", "auth")
HOSTS = ("web-1", "web-2", "web-3", "api-7", "worker-2", "db-1")
IPS = ("10.0.3.12", "10.0.3.13", "10.0.4.7", "10.0.5.21", "172.16.0.9", "192.168.1.40")
PATHS = ("/api/v1/orders", "/api/v1/orders/8812", "/api/v1/cart", "/api/v1/checkout", "/healthz",
         "/api/v2/search?q=sho%C3%A9s", "/static/app.3f9a.js", "/api/v1/users/José/prefs", "/login")
METHODS = ("GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH")
STATUSES = (200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 429, 500, 502, 503, 504)
AGENTS = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "curl/8.5.0", "kube-probe/1.29",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15", "python-requests/2.32.3")
ERRORS = ("connection refused", "sorry, too many clients already", "context deadline exceeded",
          "upstream timed out (110: Connection timed out)", "pool exhausted", "certificate has expired")
DBS = ("shop", "shop", "shop", "analytics", "auth", "postgres")
WORDS = ("order", "cart", "payment", "refund", "invoice", "user", "session", "token", "cache", "queue",
         "Zürich", "São Paulo", "naïve", "東京")


class Clock:
    """Increasing UTC times, about ``mean_ms`` apart, with bursts."""

    def __init__(self, rng: random.Random, mean_ms: float = 8.0) -> None:
        self.rng = rng
        self.t = START
        self.mean = mean_ms

    def tick(self) -> datetime:
        gap = self.rng.expovariate(1.0 / self.mean) * (0.1 if self.rng.random() < 0.2 else 1.0)
        self.t += timedelta(microseconds=int(gap * 1000) + 1)
        return self.t


def frac(t: datetime, digits: int) -> str:
    return "" if digits == 0 else "." + f"{t.microsecond:06d}{(t.microsecond * 7) % 1000:03d}"[:digits]


def iso(t: datetime, shape: str, digits: int, sep: str = "T") -> str:
    """``t`` written as an ISO 8601 time: zone shape ``offset``, ``Z``, ``nocolon``, ``abbr``, ``none`` or ``isoformat``."""
    if shape == "isoformat":  # datetime.isoformat(): six digits, or none when the microseconds are zero
        local = t.astimezone(PDT)
        if local.microsecond % 9 == 0:
            local = local.replace(microsecond=0)
        return local.isoformat(sep=sep)
    if shape == "Z":
        return t.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + frac(t, digits) + "Z"
    local = t.astimezone(PDT)
    base = local.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + frac(local, digits)
    return {"offset": base + "-07:00", "nocolon": base + "-0700", "abbr": base + " PDT", "none": base}[shape]


def quarter(i: int, n: int, options: tuple) -> object:
    return options[min(len(options) - 1, i * len(options) // max(n, 1))]


# A generator takes (rng, time, index, total) and returns the lines of one record.
Gen = Callable[[random.Random, datetime, int, int], list[str]]


def _msg(r: random.Random) -> str:
    return f"{r.choice(METHODS)} {r.choice(PATHS)} {r.choice(STATUSES)} {r.uniform(0.3, 900):.1f}ms"


def _level(r: random.Random, names: tuple[str, ...]) -> str:
    x = r.random()
    return names[0] if x < 0.12 else names[1] if x < 0.85 else names[2] if x < 0.95 else names[3]


def _stack(r: random.Random, indent: str = "\tat ") -> list[str]:
    return [f"{indent}com.example.{r.choice(WORDS).encode('ascii', 'ignore').decode() or 'x'}.Service.call(Service.java:{r.randint(10, 900)})"
            for _ in range(r.randint(2, 6))]


def gen_apache_access(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    zone = quarter(i, n, (PDT, UTC, CEST, PDT))
    local = t.astimezone(zone)
    user = r.choice(("-", "-", "-", "frank", "zoë"))
    tail = "" if quarter(i, n, (0, 1, 1, 0)) == 0 else f' "{r.choice(("-", "https://shop.example.com/cart"))}" "{r.choice(AGENTS)}"'
    return [f'{r.choice(IPS)} - {user} [{local.strftime("%d/%b/%Y:%H:%M:%S %z")}] "{r.choice(METHODS)} {r.choice(PATHS)} HTTP/1.1" '
            f"{r.choice(STATUSES)} {r.choice(('-', str(r.randint(0, 90000))))}{tail}"]


def gen_nginx_access(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    local = t.astimezone(quarter(i, n, (PDT, UTC, PDT, CEST)))
    return [f'{r.choice(IPS)} - - [{local.strftime("%d/%b/%Y:%H:%M:%S %z")}] "{r.choice(METHODS)} {r.choice(PATHS)} HTTP/1.1" '
            f'{r.choice(STATUSES)} {r.randint(0, 90000)} "{r.choice(("-", "https://shop.example.com/"))}" "{r.choice(AGENTS)}"']


def gen_apache_error(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    local = t.astimezone(PDT)
    digits = quarter(i, n, (6, 0, 6, 6))
    stamp = local.strftime("%a %b %d %H:%M:%S") + frac(local, digits) + local.strftime(" %Y")
    client = f" [client {r.choice(IPS)}:{r.randint(1024, 65535)}]" if r.random() < 0.6 else ""
    mod = r.choice(("proxy:error", "core:notice", "ssl:warn", "proxy_http:error", "mpm_event:notice"))
    return [f"[{stamp}] [{mod}] [pid {r.randint(100, 9999)}:tid {r.randint(10**14, 10**15)}]{client} "
            f"AH0{r.randint(1000, 2999)}: {r.choice(ERRORS)} for {r.choice(PATHS)}"]


def gen_nginx_error(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    local = t.astimezone(PDT)
    level = _level(r, ("info", "notice", "warn", "error"))
    return [f"{local.strftime('%Y/%m/%d %H:%M:%S')} [{level}] {r.randint(1, 64)}#{r.randint(1, 64)}: *{i} "
            f"{r.choice(ERRORS)} while connecting to upstream, client: {r.choice(IPS)}, server: api.example.com, "
            f'request: "{r.choice(METHODS)} {r.choice(PATHS)} HTTP/1.1", host: "api.example.com"']


def gen_syslog_rfc3164(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    local = t.astimezone(PDT)
    pri = f"<{r.randint(8, 190)}>" if quarter(i, n, (0, 1, 0, 1)) else ""
    app = r.choice(("sshd", "postgres", "CRON", "kernel", "systemd", "nginx"))
    pid = f"[{r.randint(100, 40000)}]" if app != "kernel" else ""
    return [f"{pri}{local.strftime('%b')} {local.day:>2} {local.strftime('%H:%M:%S')} {r.choice(HOSTS)} {app}{pid}: "
            f"{r.choice(('Accepted publickey for deploy from', 'FATAL:  sorry, too many clients already', 'session opened for user root by', 'Started Daily apt download activities.'))} {r.choice(IPS)}"]


def gen_syslog_rfc5424(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    shape, digits = quarter(i, n, (("Z", 3), ("offset", 6), ("Z", 0), ("offset", 9)))
    sd = '[exampleSDID@32473 iut="3" eventSource="Application"]' if r.random() < 0.3 else "-"
    return [f"<{r.randint(8, 190)}>1 {iso(t, shape, digits)} {r.choice(HOSTS)} {r.choice(SERVICES)} {r.randint(100, 9999)} "
            f"{r.choice(('-', 'ID47', 'audit'))} {sd} {_msg(r)}"]


def gen_glog(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    local = t.astimezone(PDT)
    lv = _level(r, ("I", "I", "W", "E"))
    out = [f"{lv}{local.strftime('%m%d %H:%M:%S')}{frac(local, 6)} {r.randint(1, 99999):>7} "
           f"{r.choice(('server.go', 'reflector.go', 'pool.go'))}:{r.randint(10, 999)}] {_msg(r)}"]
    if lv == "E" and r.random() < 0.3:
        out += [f"goroutine {r.randint(1, 900)} [running]:", "main.handler()", "\t/src/handler.go:41 +0x1d"]
    return out


def gen_log4j(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    local = t.astimezone(PDT)
    form = quarter(i, n, ("comma", "iso_ms", "spring", "comma"))
    level = _level(r, ("DEBUG", "INFO", "WARN", "ERROR"))
    logger = f"com.example.{r.choice(('checkout', 'orders', 'billing'))}.{r.choice(('OrderController', 'Repository', 'Client'))}"
    if form == "comma":
        line = f"{local.strftime('%Y-%m-%d %H:%M:%S')},{local.microsecond // 1000:03d} [http-nio-8080-exec-{r.randint(1, 40)}] {level:<5} {logger} - {_msg(r)}"
    elif form == "iso_ms":
        line = f"{iso(t, 'offset', 3)} [main] {level:<5} {logger} - {_msg(r)}"
    else:
        line = f"{iso(t, 'offset', 3)} {level:>5} {r.randint(100, 9999)} --- [{r.choice(('main', 'nio-8080-exec-1'))}] {logger} : {_msg(r)}"
    out = [line]
    if level == "ERROR" and r.random() < 0.5:
        out += [f"java.sql.SQLTransientConnectionException: {r.choice(ERRORS)}", *_stack(r)]
    return out


def gen_logfmt(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    key, shape, digits = quarter(i, n, (("ts", "Z", 3), ("time", "offset", 6), ("ts", "isoformat", 6), ("t", "Z", 9)))
    level = _level(r, ("debug", "info", "warn", "error"))
    extra = f' err="{r.choice(ERRORS)}"' if level == "error" else ""
    ref = f" request_id={r.getrandbits(64):016x}" if r.random() < 0.5 else ""
    return [f'{key}={iso(t, shape, digits)} level={level} caller={r.choice(("main.go", "db/pool.go"))}:{r.randint(10, 300)} '
            f'component={r.choice(SERVICES)} msg="{_msg(r)}"{extra}{ref} duration={r.uniform(0, 3):.3f}s']


def _json(obj: dict) -> list[str]:
    return [json.dumps(obj, ensure_ascii=False, separators=(",", ":"))]


def gen_bunyan_json(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    level = r.choice((20, 30, 30, 30, 30, 40, 50))
    rec = {"name": r.choice(SERVICES), "hostname": r.choice(HOSTS), "pid": r.randint(100, 9000), "level": level, "msg": _msg(r),
           "time": iso(t, "Z", 3), "v": 0}
    if r.random() < 0.4:
        rec["req_id"] = f"{r.getrandbits(64):016x}"
    if level == 50:
        rec["err"] = {"message": r.choice(ERRORS), "name": "DatabaseError", "stack": "DatabaseError: x\n    at Pool.connect (/app/db.js:41:11)"}
    return _json(rec)


def gen_logrus_json(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    shape, digits = quarter(i, n, (("offset", 0), ("Z", 9), ("offset", 3), ("Z", 0)))
    level = _level(r, ("debug", "info", "warning", "error"))
    rec = {"level": level, "msg": _msg(r), "time": iso(t, shape, digits), "component": r.choice(SERVICES)}
    if level == "error":
        rec["error"] = r.choice(ERRORS)
    return _json(rec)


def gen_zap_json(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    form = quarter(i, n, ("epoch", "isoformat", "epoch", "offset"))
    level = _level(r, ("debug", "info", "warn", "error"))
    ts: object = round(t.timestamp(), 6) if form == "epoch" else iso(t, form, 3)
    rec = {"level": level, "ts": ts, "logger": r.choice(SERVICES), "caller": f"server/main.go:{r.randint(10, 400)}", "msg": _msg(r)}
    if level == "error":
        rec |= {"error": r.choice(ERRORS), "stacktrace": "main.(*Pool).Query\n\t/src/db/pool.go:88"}
    return _json(rec)


def gen_structlog_json(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    # The shape: datetime.isoformat()-style times with an offset, "msg"-less structlog ("event").
    form = quarter(i, n, ("isoformat", "offset", "Z", "epoch"))
    ts: object = round(t.timestamp(), 6) if form == "epoch" else iso(t, form, 3)
    level = _level(r, ("debug", "info", "warning", "error"))
    rec = {"event": _msg(r), "level": level, "logger": r.choice(SERVICES), "timestamp": ts,
           "request_id": f"{r.getrandbits(96):024x}", "latency_ms": round(r.uniform(0.2, 900), 2)}
    if level == "error" and r.random() < 0.5:
        rec["exception"] = "Traceback (most recent call last):\n  File \"/srv/app/db.py\", line 41, in connect\npsycopg2.OperationalError: x"
    return _json(rec)


def gen_pino_json(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    level = r.choice((20, 30, 30, 30, 30, 40, 50))
    rec = {"level": level, "time": int(t.timestamp() * 1000), "pid": r.randint(100, 9000), "hostname": r.choice(HOSTS),
           "reqId": f"req-{i}", "msg": _msg(r), "responseTime": r.randint(1, 900)}
    if r.random() < 0.5:
        rec["res"] = {"statusCode": r.choice(STATUSES)}
    return _json(rec)


def gen_otel_json(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    ns = str(int(t.timestamp() * 1_000_000) * 1000 + r.randint(0, 999))
    sev = r.choice((("INFO", 9), ("INFO", 9), ("WARN", 13), ("ERROR", 17), ("DEBUG", 5)))
    rec = {"Timestamp": ns, "ObservedTimestamp": ns, "SeverityText": sev[0], "SeverityNumber": sev[1], "Body": _msg(r),
           "Resource": {"service.name": r.choice(SERVICES)}, "Attributes": {"http.status_code": r.choice(STATUSES)},
           "TraceId": f"{r.getrandbits(128):032x}", "SpanId": f"{r.getrandbits(64):016x}"}
    return _json(rec)


def gen_docker_json(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    digits = quarter(i, n, (9, 6, 9, 3))
    stream = "stderr" if r.random() < 0.15 else "stdout"
    return _json({"log": _msg(r) + "\n", "stream": stream, "time": iso(t, "Z", digits)})


def gen_cri(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    shape, digits = quarter(i, n, (("Z", 9), ("offset", 6), ("Z", 9), ("Z", 3)))
    stream = "stderr" if r.random() < 0.15 else "stdout"
    if r.random() < 0.05:  # a long line split by the runtime into partial lines
        return [f"{iso(t, shape, digits)} {stream} P {_msg(r)} part-one ",
                f"{iso(t + timedelta(microseconds=3), shape, digits)} {stream} F part-two"]
    return [f"{iso(t, shape, digits)} {stream} F {_msg(r)}"]


def gen_mysql_error(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    shape = quarter(i, n, ("Z", "offset", "Z", "offset"))
    prio = r.choice(("Note", "Note", "Warning", "ERROR", "System"))
    return [f"{iso(t, shape, 6)} {r.randint(0, 900)} [{prio}] [MY-0{r.randint(10000, 13999)}] [Server] Aborted connection "
            f"{r.randint(1, 900)} to db: '{r.choice(DBS)}' user: 'app' host: '{r.choice(IPS)}' (Got an error reading communication packets)."]


def gen_mariadb_error(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    local = t.astimezone(PDT)
    prio = r.choice(("Note", "Note", "Warning", "ERROR"))
    return [f"{local.strftime('%Y-%m-%d')} {local.hour:>2}{local.strftime(':%M:%S')} {r.randint(0, 900)} [{prio}] "
            f"Aborted connection {r.randint(1, 900)} to db: '{r.choice(DBS)}' user: 'app' host: '{r.choice(IPS)}' (Got timeout reading communication packets)"]


def gen_mysql_slow(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    secs = int(t.timestamp())
    return [f"# Time: {iso(t, 'Z', 6)}",
            f"# User@Host: app[app] @ {r.choice(HOSTS)} [{r.choice(IPS)}]  Id: {r.randint(1, 90000)}",
            f"# Query_time: {r.uniform(1, 30):.6f}  Lock_time: {r.uniform(0, 0.01):.6f} Rows_sent: {r.randint(0, 900)}  Rows_examined: {r.randint(0, 10**6)}",
            f"SET timestamp={secs};",
            f"SELECT * FROM orders WHERE customer_id = {r.randint(1, 10**6)} ORDER BY created_at DESC LIMIT 50;"]


def gen_postgres_jsonlog(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    local = t.astimezone(PDT)
    stamp = local.strftime("%Y-%m-%d %H:%M:%S") + frac(local, 3) + " PDT"
    sev = r.choice(("LOG", "LOG", "LOG", "ERROR", "WARNING", "FATAL"))
    rec = {"timestamp": stamp, "user": "app", "dbname": r.choice(DBS), "pid": r.randint(100, 90000), "remote_host": r.choice(IPS),
           "session_id": f"{r.getrandbits(32):08x}.{r.randint(100, 999):x}", "line_num": r.randint(1, 90), "txid": 0,
           "error_severity": sev, "message": f"duration: {r.uniform(0.1, 900):.3f} ms  statement: SELECT 1",
           "backend_type": "client backend", "query_id": 0}
    if sev != "LOG":
        rec["state_code"] = "53300"
    return _json(rec)


def gen_postgres_csvlog(r: random.Random, t: datetime, i: int, n: int) -> list[str]:
    local = t.astimezone(PDT)
    stamp = local.strftime("%Y-%m-%d %H:%M:%S") + frac(local, 3) + " PDT"
    sev = r.choice(("LOG", "LOG", "LOG", "ERROR", "FATAL"))
    msg = r.choice(('duration: 12.5 ms  statement: SELECT 1', 'relation ""ordrs"" does not exist', 'sorry, too many clients already'))
    return [f'{stamp},"app","{r.choice(DBS)}",{r.randint(100, 90000)},"{r.choice(IPS)}:{r.randint(1024, 65535)}",'
            f'6641f2a1.1092,{r.randint(1, 90)},"idle",{local.strftime("%Y-%m-%d %H:%M:%S")} PDT,5/77,0,{sev},00000,"{msg}",,,,,,,,,"api","client backend",,0']


GENERATORS: dict[str, Gen] = {
    "apache_access": gen_apache_access, "apache_error": gen_apache_error, "nginx_access": gen_nginx_access,
    "nginx_error": gen_nginx_error, "syslog_rfc3164": gen_syslog_rfc3164, "syslog_rfc5424": gen_syslog_rfc5424,
    "glog": gen_glog, "log4j": gen_log4j, "logfmt": gen_logfmt, "cri": gen_cri, "mysql_error": gen_mysql_error,
    "mariadb_error": gen_mariadb_error, "mysql_slow": gen_mysql_slow, "bunyan_json": gen_bunyan_json,
    "logrus_json": gen_logrus_json, "zap_json": gen_zap_json, "structlog_json": gen_structlog_json,
    "pino_json": gen_pino_json, "otel_json": gen_otel_json, "docker_json": gen_docker_json,
    "postgres_jsonlog": gen_postgres_jsonlog, "postgres_csvlog": gen_postgres_csvlog,
}
#: Families written by generate_logs.py (the reading benchmark's), with the format that reads them.
FROM_READ_BENCH = {"python_logging": ("python_logging", "app.log"), "ecs_json": ("jsonl", "app.jsonl"),
                   "postgres_stderr": ("postgres_stderr", "postgresql.log")}
#: Families whose records take more than one line (the record count is counted as written).
EXTENSIONS = {"postgres_csvlog": ".csv", "postgres_jsonlog": ".json"}


def records(gen: Gen, n_lines: int, seed: int) -> Iterator[tuple[datetime, list[str]]]:
    """(time, lines) of records until at least ``n_lines`` lines are written (the last record is kept whole)."""
    r = random.Random(seed)
    clock = Clock(r)
    written = 0
    while written < n_lines:
        t = clock.tick()
        lines = gen(r, t, written, n_lines)
        written += len(lines)
        yield t, lines


_READ_BENCH_WRITERS = {"python_logging": generate_logs.write_python_logging, "jsonl": generate_logs.write_jsonl,
                       "postgres_stderr": generate_logs.write_postgres_stderr}


def write_family(family: str, out: Path, n_lines: int, seed: int) -> dict:
    """Write one family's file; its manifest entry (records: the events a correct reader finds)."""
    if family in FROM_READ_BENCH:
        read_family, name = FROM_READ_BENCH[family]
        path = out / f"{family}{Path(name).suffix}"
        stats = _READ_BENCH_WRITERS[read_family](path, n_lines, seed)
        recs, lines = stats.events, stats.lines
        first, last = stats.first_ts_utc, stats.last_ts_utc
    else:
        gen = GENERATORS[family]
        suffix = EXTENSIONS.get(family, ".jsonl" if family.endswith("json") else ".log")
        path = out / f"{family}{suffix}"
        recs = lines = 0
        times: list[datetime] = []
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            for t, rec in records(gen, n_lines, seed):
                fh.write("\n".join(rec) + "\n")
                recs += 1
                lines += len(rec)
                if not times:
                    times.append(t)
        first, last = times[0].isoformat(), t.isoformat()
    # A log's modification time is its last write: year-less formats take their year from it.
    stamp = datetime.fromisoformat(last).timestamp() + 1
    os.utime(path, (stamp, stamp))
    return {"family": family, "format": family, "file": path.name, "bytes": path.stat().st_size, "lines": lines,
            "records": recs, "first_ts": first, "last_ts": last}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--families", nargs="*", default=None, help="default: all")
    args = ap.parse_args(argv)
    families = args.families or [*FROM_READ_BENCH, *GENERATORS]
    args.out.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"families": {}}
    for fam in families:
        info = write_family(fam, args.out, args.lines, args.seed)
        manifest["families"][fam] = info
        print(f"{fam:18} {info['bytes'] / 1e6:8.1f} MB  {info['records']:>9} records  {info['file']}", flush=True)
    manifest["lines"] = args.lines
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
