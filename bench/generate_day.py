"""Generate a busy day of logs with an outage inside it, for the reconstruction benchmark.

The outage is the sample incident (``data/incidents/2024-08-12-db-outage``:
a ``max_connections`` change on ``db-primary`` at 14:12 PDT, connection
errors in the web app, orders API, nginx and PostgreSQL logs, tickets, Slack
and the change log), copied as it is. Around it, several other services log
the whole of 2024-08-12 (PDT) as busy services do: traffic that follows the
day (quiet at night, peaks at midday and in the evening), a steady trickle of
their own unrelated errors (timeouts, retries, a cron job's warnings), a
traceback now and then, in the formats such services write:

- ``services/checkout/app.log``   Python logging text, naive local time, tracebacks
- ``services/search/search.jsonl``  JSON lines with ``datetime.isoformat()`` times and offsets
- ``services/catalog/catalog.jsonl`` ECS JSON lines with ``Z`` times
- ``services/edge/access.log``     nginx access log, ``-0700``
- ``services/worker/worker.log``   Python logging text, a nightly batch

``--events N`` sets the total number of events (the sample's ~12 k included).
``--slice`` also writes ``slice/``: the same evidence with every service log
cut to 12:00-18:00 PDT around the outage, the small slice whose
reconstruction the whole day's must equal.

Usage::

    python bench/generate_day.py --events 1000000 --out /tmp/day-1m --slice
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "incidents" / "2024-08-12-db-outage"
SAMPLE_EVENTS = 11_932  # what `timeline read` finds in the sample folder
DAY = date(2024, 8, 12)
PDT = timezone(timedelta(hours=-7))
DAY_START = datetime(DAY.year, DAY.month, DAY.day, tzinfo=PDT)
SLICE = (DAY_START + timedelta(hours=12), DAY_START + timedelta(hours=18))

# Share of the day's background events per service.
SERVICES = {"checkout": 0.22, "search": 0.26, "catalog": 0.18, "edge": 0.28, "worker": 0.06}
PATHS = ("/api/cart", "/api/cart/items", "/api/checkout", "/api/search?q=bowl", "/api/search?q=sho%C3%A9s",
         "/products/stoneware-bowl", "/products/linen-napkins", "/account", "/healthz", "/static/app.7c1e.js")
AGENTS = ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "ShopApp/4.12.0 (iPhone; iOS 17.5.1)",
          "kube-probe/1.29", "curl/8.5.0", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15")
# Each service's background errors: steady all day, so they are not the incident.
ERROR_SHARE = 0.0012


def rate(hour: float) -> float:
    """Relative traffic at a local hour: night trough, midday and evening peaks."""
    return 0.25 + 0.9 * math.exp(-((hour - 12.5) / 3.0) ** 2) + 0.7 * math.exp(-((hour - 20) / 2.0) ** 2)


def times(rng: random.Random, n: int) -> list[datetime]:
    """``n`` sorted times over the day, distributed by ``rate``."""
    grid = [rate(h / 60) for h in range(24 * 60)]
    total = sum(grid)
    out: list[datetime] = []
    for minute, weight in enumerate(grid):
        k = int(n * weight / total + rng.random())
        base = DAY_START + timedelta(minutes=minute)
        out.extend(sorted(base + timedelta(microseconds=rng.randrange(60_000_000)) for _ in range(k)))
    return out


def _py_time(t: datetime) -> str:
    local = t.astimezone(PDT)
    return local.strftime("%Y-%m-%d %H:%M:%S") + f",{local.microsecond // 1000:03d}"


def checkout(rng: random.Random, t: datetime) -> list[str]:
    x = rng.random()
    if x < ERROR_SHARE:
        return [f"{_py_time(t)} ERROR [checkout.payments] payment provider timeout after {rng.randint(10, 30)}s order={rng.randint(10**5, 10**6)}",
                "Traceback (most recent call last):",
                '  File "/srv/checkout/payments.py", line 88, in charge',
                "    resp = self.session.post(url, json=body, timeout=self.timeout)",
                "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.payments.example', port=443): Read timed out."]
    if x < 0.03:
        return [f"{_py_time(t)} WARNING [checkout.cart] cart {rng.randint(10**5, 10**6)} has a stale price for sku {rng.randint(1000, 9999)}, repriced"]
    return [f"{_py_time(t)} INFO [checkout.http] {rng.choice(('GET', 'POST', 'GET'))} {rng.choice(PATHS)} 200 {rng.randint(4, 300)}ms "
            f"request_id={rng.getrandbits(64):016x}"]


def search(rng: random.Random, t: datetime) -> list[str]:
    local = t.astimezone(PDT)
    x = rng.random()
    level, msg = ("info", f"GET {rng.choice(PATHS)} 200 {rng.uniform(0.5, 400):.1f}ms")
    if x < ERROR_SHARE:
        level, msg = "error", f"index shard {rng.randint(0, 11)} query timed out after {rng.randint(2, 9)}s, retrying on a replica"
    elif x < 0.02:
        level, msg = "warning", f"slow query {rng.uniform(1, 5):.2f}s for q={rng.choice(('bowl', 'linen', 'mug', 'glaze'))}"
    rec = {"ts": local.isoformat(), "level": level, "logger": "search.api", "msg": msg,
           "request_id": f"{rng.getrandbits(96):024x}", "latency_ms": round(rng.uniform(0.2, 900), 2)}
    return [json.dumps(rec)]


def catalog(rng: random.Random, t: datetime) -> list[str]:
    x = rng.random()
    level, msg = "info", f"served {rng.choice(PATHS)} from cache in {rng.randint(1, 40)}ms"
    if x < ERROR_SHARE:
        level, msg = "error", f"image resize failed for sku {rng.randint(1000, 9999)}: unsupported colour profile"
    rec = {"@timestamp": t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z", "log.level": level,
           "log.logger": "catalog.http", "message": msg, "service.name": "catalog", "host.name": f"catalog-{rng.randint(1, 4)}",
           "trace.id": f"{rng.getrandbits(128):032x}"}
    return [json.dumps(rec, separators=(",", ":"))]


def edge(rng: random.Random, t: datetime) -> list[str]:
    local = t.astimezone(PDT)
    status = 200 if rng.random() > 0.03 else rng.choice((301, 304, 404, 499))
    if rng.random() < ERROR_SHARE / 4:
        status = 502
    return [f'203.0.113.{rng.randint(1, 254)} - - [{local.strftime("%d/%b/%Y:%H:%M:%S %z")}] "{rng.choice(("GET", "GET", "POST"))} '
            f'{rng.choice(PATHS)} HTTP/1.1" {status} {rng.randint(0, 40000)} "https://shop.example.com/" "{rng.choice(AGENTS)}"']


def worker(rng: random.Random, t: datetime) -> list[str]:
    x = rng.random()
    if x < ERROR_SHARE:
        return [f"{_py_time(t)} ERROR [worker.email] could not deliver receipt to customer {rng.randint(10**4, 10**5)}: 421 try again later"]
    if x < 0.05:
        return [f"{_py_time(t)} WARNING [worker.batch] batch {rng.randint(1, 900)} took {rng.uniform(30, 90):.0f}s (budget 30s)"]
    return [f"{_py_time(t)} INFO [worker.batch] processed {rng.randint(1, 500)} jobs from queue {rng.choice(('emails', 'exports', 'thumbnails'))}"]


WRITERS = {"checkout": ("checkout/app.log", checkout), "search": ("search/search.jsonl", search),
           "catalog": ("catalog/catalog.jsonl", catalog), "edge": ("edge/access.log", edge), "worker": ("worker/worker.log", worker)}


def generate(out: Path, events: int, seed: int, with_slice: bool) -> dict:
    """Write the day (and its slice); return counts."""
    if out.exists():
        shutil.rmtree(out)
    day = out / "day"
    shutil.copytree(SAMPLE, day / "incident")
    if with_slice:
        shutil.copytree(SAMPLE, out / "slice" / "incident")
    background = max(0, events - SAMPLE_EVENTS)
    counts = {}
    for k, (name, share) in enumerate(SERVICES.items()):
        rel, write = WRITERS[name]
        rng = random.Random(seed * 31 + k)
        path = day / "services" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        cut = None
        if with_slice:
            cut_path = out / "slice" / "services" / rel
            cut_path.parent.mkdir(parents=True, exist_ok=True)
            cut = cut_path.open("w", encoding="utf-8")
        n = 0
        with path.open("w", encoding="utf-8") as fh:
            buf: list[str] = []
            for t in times(rng, int(background * share)):
                text = "\n".join(write(rng, t)) + "\n"
                buf.append(text)
                n += 1
                if cut is not None and SLICE[0] <= t < SLICE[1]:
                    cut.write(text)
                if len(buf) >= 10_000:
                    fh.write("".join(buf))
                    buf.clear()
            fh.write("".join(buf))
        if cut is not None:
            cut.close()
        counts[name] = n
    info = {"events": SAMPLE_EVENTS + sum(counts.values()), "services": counts, "slice": [t.isoformat() for t in SLICE]}
    (out / "day.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=20240812)
    ap.add_argument("--slice", action="store_true", help="also write slice/ (12:00-18:00 PDT)")
    args = ap.parse_args(argv)
    info = generate(args.out, args.events, args.seed, args.slice)
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
