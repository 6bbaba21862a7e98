"""Seeded generator of a many-files incident: one outage seen by many hosts' logs.

Each host writes three logs — Python ``logging`` text with tracebacks
(``app/web-NNN.log``), nginx access lines (``nginx/access-NNN.log``) and
structlog JSON lines (``orders/orders-NNN.jsonl``) — and each database node a
PostgreSQL stderr log with DETAIL/STATEMENT lines (``postgres/db-N/postgresql.log``),
local times in America/Los_Angeles (PDT) where the format writes them naive.
A configuration change (``changes/changes.csv``) restarts the primary at a
random time in the afternoon; connections are refused for 15-35 minutes and
every tier logs errors until it recovers. Background errors run all day.

This is the shape of logs that outgrow one machine (thousands of files from
as many hosts), at a size this machine can hold: the Spark tests read a few
MB of it, the Spark benchmark as many lines as asked for.

Usage::

    python bench/spark_incident.py --hosts 40 --hours 6 --rate 2 --out /tmp/many
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

PDT = timezone(timedelta(hours=-7))
DAY = datetime(2024, 8, 12, 8, 0, tzinfo=PDT)
PATHS = ("/api/orders", "/api/account", "/api/cart", "/api/login", "/healthz", "/api/search")


def _py(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"


def _nginx(t: datetime) -> str:
    return t.strftime("%d/%b/%Y:%H:%M:%S -0700")


def _pg(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d} PDT"


def generate(out: Path, *, hosts: int = 8, hours: float = 4.0, rate: float = 1.0, db_nodes: int = 2, seed: int = 20240812) -> dict[str, object]:
    """Write the incident's files under ``out``; return what was written (files, lines, the outage window).

    ``rate`` is requests per second per host; every request writes an app line,
    an nginx line and (one in three) an orders line.
    """
    rng = random.Random(seed)
    span = timedelta(hours=hours)
    outage_start = DAY + span * rng.uniform(0.45, 0.6)
    outage_end = outage_start + timedelta(minutes=rng.uniform(15, 35))
    change_at = outage_start - timedelta(minutes=rng.uniform(1, 4))
    lines = 0
    files = 0
    for h in range(hosts):
        app, nginx, orders = [], [], []
        t = DAY + timedelta(seconds=rng.uniform(0, 2))
        while t < DAY + span:
            down = outage_start <= t < outage_end
            path = rng.choice(PATHS)
            if down and rng.random() < 0.6:
                app.append(f"{_py(t)} ERROR [app.db] request failed: {path}")
                app.append("Traceback (most recent call last):")
                app.append('  File "/srv/app/db.py", line 41, in connect')
                app.append("    return psycopg2.connect(dsn)")
                app.append('psycopg2.OperationalError: connection to server at "db-primary" (10.0.3.5), port 5432 failed: FATAL:  sorry, too many clients already')
                nginx.append(f'10.0.{h % 250}.{rng.randint(2, 250)} - - [{_nginx(t)}] "GET {path} HTTP/1.1" 502 157 "-" "ShopApp/4.12.0"')
                if rng.random() < 0.34:
                    orders.append(json.dumps({"host": f"orders-{h:03d}", "path": path, "status": 500, "event": "request_failed",
                                              "error": "connection refused", "logger": "orders_api.http", "level": "error",
                                              "timestamp": t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}))
            else:
                ms = rng.randint(5, 120)
                if rng.random() < 0.002:
                    app.append(f"{_py(t)} ERROR [app.mail] failed to send order confirmation: SMTPServerDisconnected('Connection unexpectedly closed')")
                elif rng.random() < 0.05:
                    app.append(f"{_py(t)} WARNING [app.cache] cache miss storm on {path} ({rng.randint(50, 900)} keys)")
                else:
                    app.append(f"{_py(t)} INFO [app.request] GET {path} 200 {ms}ms user={rng.randint(1, 99999)}")
                nginx.append(f'10.0.{h % 250}.{rng.randint(2, 250)} - - [{_nginx(t)}] "GET {path} HTTP/1.1" 200 {rng.randint(200, 20000)} "-" "Mozilla/5.0"')
                if rng.random() < 0.34:
                    orders.append(json.dumps({"host": f"orders-{h:03d}", "path": path, "status": 200, "duration_ms": ms,
                                              "event": "request_finished", "logger": "orders_api.http", "level": "info",
                                              "timestamp": t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}))
            t += timedelta(seconds=rng.expovariate(rate))
        for rel, body in ((f"app/web-{h:03d}.log", app), (f"nginx/access-{h:03d}.log", nginx), (f"orders/orders-{h:03d}.jsonl", orders)):
            _write(out / rel, body)
            lines += len(body)
            files += 1
    for d in range(db_nodes):
        pg: list[str] = []
        t = DAY + timedelta(seconds=rng.uniform(0, 5))
        while t < DAY + span:
            pid = rng.randint(1000, 99999)
            if outage_start <= t < outage_end and d == 0:
                pg.append(f"{_pg(t)} [{pid}] app@shop FATAL:  sorry, too many clients already")
            elif rng.random() < 0.01:
                pg.append(f'{_pg(t)} [{pid}] app@shop ERROR:  duplicate key value violates unique constraint "users_email_key"')
                pg.append(f"{_pg(t)} [{pid}] app@shop DETAIL:  Key (email)=(u{rng.randint(1, 9999)}@example.org) already exists.")
                pg.append(f"{_pg(t)} [{pid}] app@shop STATEMENT:  INSERT INTO users (email, created_at)")
                pg.append("\tVALUES ($1, now())")
            else:
                pg.append(f"{_pg(t)} [{pid}] app@shop LOG:  duration: {rng.uniform(0.1, 40):.3f} ms  statement: SELECT 1")
            t += timedelta(seconds=rng.expovariate(rate * max(1, hosts // 4)))
        _write(out / f"postgres/db-{d}/postgresql.log", pg)
        lines += len(pg)
        files += 1
    _write(out / "changes/changes.csv", [
        "time,who,what,target",
        f"{change_at.isoformat()},sam.okafor,Apply postgresql.conf tuning (CHG-4410): max_connections 200 -> 100,db-primary",
        f"{(outage_end - timedelta(minutes=3)).isoformat()},dana.lee,Roll back CHG-4410 on db-primary,db-primary",
    ])
    return {"files": files + 1, "lines": lines, "outage": [outage_start.isoformat(), outage_end.isoformat()]}


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--hosts", type=int, default=8)
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--rate", type=float, default=1.0, help="requests per second per host")
    parser.add_argument("--seed", type=int, default=20240812)
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.out, hosts=args.hosts, hours=args.hours, rate=args.rate, seed=args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
