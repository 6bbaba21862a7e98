"""Make variants of a drill folder to test reconstruction beyond the words and durations of the drill.

A drill (``../shared/drills/*``: app log in Python logging, PostgreSQL stderr logs,
a ticket CSV, a Slack export, and optionally a change-log CSV and Alertmanager
deliveries, with ``truth.json``) is rewritten with:

- ``--stretch K``: every time moved to ``anchor + K * (t - anchor)`` (the anchor is the
  impact start): K=10 turns seven minutes of impact into seventy, K=0.2 into ninety
  seconds; traffic thins or thickens with it;
- ``--zone ZONE``: the naive local times (app log, tickets) and the database's zone
  abbreviation are written in another zone;
- ``--reword``: what people write is said another way (a table of paraphrases below:
  different words for the same acts, none of them in the shipped rules' samples);
- ``--no-alerts`` / ``--no-tickets``: someone else notices first;
- ``--busy N``: the logs of two other busy systems, N unrelated ERRORs a minute each,
  from an hour before the drill to an hour after.

The truth is moved with the times. Output: a folder that ``bench/score_drills.py`` reads.

    python bench/drill_variants.py ../shared/drills/hba-messy /tmp/v/messy-x10 --stretch 10 --reword
    python bench/score_drills.py /tmp/v/*
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import re
import shutil
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

# Paraphrases of what responders write: (pattern, replacement), applied to Slack text.
REWORD = [
    (r"(?i)^escalating to ([^,:]+), paging (<@\w+>)", r"\2 can you jump in? pulling in \1"),
    (r"(?i)^escalating to engineering", "handing this to engineering"),
    (r"(?i)^ack, investigating", "ack, digging in"),
    (r"(?i)^investigating\.", "Looking into it now."),
    (r"(?i)^found it:", "ok, the cause is clear:"),
    (r"(?i)^my bad\. reverting", "my bad, rolling back"),
    (r"(?i)^rolling back", "reverting"),
    (r"(?i)^ok, pointing (\w+) at ([\w-]+) now", r"switching \1 over to \2"),
    (r"(?i)^redirecting traffic to", "failing over to"),
    (r"(?i)\bResolved\.", "Incident closed."),
    (r"(?i)^anyone else seeing", "is anybody else getting"),
]


def _shift(k: float, anchor: dt.datetime):
    def f(t: dt.datetime) -> dt.datetime:
        return anchor + (t - anchor) * k
    return f


def _rewrite_naive(text: str, pattern: str, fmt_in: str, src: ZoneInfo, dst: ZoneInfo, f, frac: int) -> str:
    def sub(m: re.Match[str]) -> str:
        raw = m.group(0)
        t = dt.datetime.strptime(raw, fmt_in).replace(tzinfo=src)
        out = f(t.astimezone(dt.UTC)).astimezone(dst)
        s = out.strftime(fmt_in)
        if frac == 3:
            s = s[:-3]
        return s
    return re.sub(pattern, sub, text)


def make(src: Path, out: Path, *, stretch: float, zone: str | None, reword: bool, no_alerts: bool, no_tickets: bool, busy: float, seed: int) -> None:
    truth = json.loads((src / "truth.json").read_text())
    tz_src = ZoneInfo(truth.get("timezone", "America/Los_Angeles"))
    tz_dst = ZoneInfo(zone) if zone else tz_src
    anchor = dt.datetime.fromisoformat(truth["impact_start"])
    f = _shift(stretch, anchor)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    # App log: "2026-11-25 23:39:14,600" naive local.
    for p in src.glob("*.log"):
        text = p.read_text()
        if p.name.startswith("postgresql"):
            def pg(m: re.Match[str]) -> str:
                t = dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=tz_src)
                o = f(t.astimezone(dt.UTC)).astimezone(tz_dst)
                return o.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " " + o.tzname()
            text = re.sub(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) [A-Z]{2,5}\b", pg, text)
            text = re.sub(r"(database system was shut down at )\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]{2,5}", r"\1(time removed)", text)
        else:
            def app(m: re.Match[str]) -> str:
                t = dt.datetime.strptime(m.group(1) + "000", "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=tz_src)
                o = f(t.astimezone(dt.UTC)).astimezone(tz_dst)
                return o.strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
            text = re.sub(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})", app, text, flags=re.M)
        (out / p.name).write_text(text)
    # Tickets: minute-resolution naive local times in any column.
    if (src / "tickets.csv").exists() and not no_tickets:
        rows = list(csv.reader(io.StringIO((src / "tickets.csv").read_text())))
        for r in rows[1:]:
            for i, v in enumerate(r):
                if re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", v):
                    t = dt.datetime.strptime(v, "%Y-%m-%d %H:%M").replace(tzinfo=tz_src)
                    r[i] = f(t.astimezone(dt.UTC)).astimezone(tz_dst).strftime("%Y-%m-%d %H:%M")
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        (out / "tickets.csv").write_text(buf.getvalue())
    # Change log: ISO 8601 with offset.
    if (src / "changes.csv").exists():
        def iso(m: re.Match[str]) -> str:
            t = dt.datetime.fromisoformat(m.group(0))
            return f(t.astimezone(dt.UTC)).astimezone(tz_dst).isoformat(timespec="seconds")
        (out / "changes.csv").write_text(re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", iso, (src / "changes.csv").read_text()))
    if (src / "alertmanager.json").exists() and not no_alerts:
        def am(m: re.Match[str]) -> str:
            raw = m.group(2)
            if raw.startswith("0001-"):
                return m.group(0)
            t = dt.datetime.fromisoformat(re.sub(r"\.(\d{6})\d+", r".\1", raw))
            return f'"{m.group(1)}": "{f(t.astimezone(dt.UTC)).astimezone(tz_dst).isoformat()}"'
        (out / "alertmanager.json").write_text(re.sub(r'"(startsAt|endsAt)": "([^"]+)"', am, (src / "alertmanager.json").read_text()))
    # Slack: epoch ts strings; text reworded.
    for p in (src / "slack").rglob("*.json"):
        dest = out / "slack" / p.relative_to(src / "slack")
        dest.parent.mkdir(parents=True, exist_ok=True)
        data = json.loads(p.read_text())
        if isinstance(data, list) and data and isinstance(data[0], dict) and "ts" in data[0]:
            def ep(v: str) -> str:
                return f"{f(dt.datetime.fromtimestamp(float(v), dt.UTC)).timestamp():.6f}"
            for msg in data:
                for key in ("ts", "thread_ts", "latest_reply"):
                    if key in msg:
                        msg[key] = ep(msg[key])
                for rep in msg.get("replies", []):
                    rep["ts"] = ep(rep["ts"])
                if "edited" in msg and "ts" in msg["edited"]:
                    msg["edited"]["ts"] = ep(msg["edited"]["ts"])
                if reword and msg.get("subtype") != "bot_message":
                    for pat, rep in REWORD:
                        msg["text"] = re.sub(pat, rep, msg["text"])
        dest.write_text(json.dumps(data, indent=1))
    if busy > 0:
        rng = random.Random(seed)
        t0 = min(dt.datetime.fromisoformat(v) for k, v in truth.items() if isinstance(v, str) and re.match(r"\d{4}-", v))
        t0 = f(t0) - dt.timedelta(hours=1)
        t1 = f(dt.datetime.fromisoformat(truth["resolved"])) + dt.timedelta(hours=1)
        for name, msgs in (("payments-gw", ["provider timeout after {n}ms (merchant {m})", "webhook delivery failed: 502 (hook {m})"]),
                           ("search-cluster", ["rejected execution on node es-{a}: queue capacity exceeded", "shard [{m}][{a}] failed"])):
            lines, t = [], t0
            while t < t1:
                o = t.astimezone(tz_dst)
                lines.append(o.strftime("%Y-%m-%d %H:%M:%S,%f")[:-3] + f" ERROR [{name}] " + rng.choice(msgs).format(n=rng.randint(100, 9000), m=rng.randint(1, 9999), a=rng.randint(1, 6)))
                if rng.random() < 0.7:
                    lines.append(o.strftime("%Y-%m-%d %H:%M:%S,%f")[:-3] + f" INFO [{name}] GET /health 200")
                t += dt.timedelta(seconds=rng.expovariate(busy / 60))
            (out / f"{name}.log").write_text("\n".join(lines) + "\n")
    new_truth = {}
    for k, v in truth.items():
        if isinstance(v, str) and re.match(r"\d{4}-\d\d-\d\dT", v):
            t = dt.datetime.fromisoformat(v)
            if k == "first_ticket" or (k == "detected" and truth.get("detected_by", "customer") == "customer"):
                # The export keeps minutes: what the evidence can show is the moved minute, not the moved second.
                t = t.astimezone(tz_src).replace(second=0, microsecond=0)
            new_truth[k] = f(t).isoformat()
        else:
            new_truth[k] = v
    if "attempts" in truth:
        new_truth["attempts"] = [{**a, "at": f(dt.datetime.fromisoformat(a["at"])).isoformat()} for a in truth["attempts"]]
    new_truth["timezone"] = str(tz_dst)
    if no_alerts and truth.get("detected_by") == "alert":
        new_truth.pop("detected", None)
        new_truth.pop("detected_by", None)
    if no_tickets:
        new_truth.pop("first_ticket", None)
        if new_truth.get("detected_by") in (None, "customer"):
            new_truth.pop("detected", None)
    new_truth["variant"] = {"stretch": stretch, "zone": zone, "reword": reword, "no_alerts": no_alerts, "no_tickets": no_tickets, "busy": busy}
    (out / "truth.json").write_text(json.dumps(new_truth, indent=1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--stretch", type=float, default=1.0)
    ap.add_argument("--zone")
    ap.add_argument("--reword", action="store_true")
    ap.add_argument("--no-alerts", action="store_true")
    ap.add_argument("--no-tickets", action="store_true")
    ap.add_argument("--busy", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    make(a.src, a.out, stretch=a.stretch, zone=a.zone, reword=a.reword, no_alerts=a.no_alerts, no_tickets=a.no_tickets, busy=a.busy, seed=a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
