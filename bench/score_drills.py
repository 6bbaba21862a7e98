"""Score reconstruction against drills with a recorded truth.

Each folder holds an incident's evidence and a ``truth.json`` (the keys of
``../shared/drills/README.md``: ``trigger_at``, ``impact_start``, ``detected``
and ``detected_by``, ``escalated``, ``acknowledged``, ``identified``,
``mitigated``, ``resolved``, ``attempts`` or ``rollback_at``/``failover_at`` with
``effective_attempt``; times in UTC). The truth file is hidden from the reader
(the folder is copied without it), the incident is reconstructed with the
default settings, and each milestone is compared with its truth: within 30 s
(60 s where only a ticket proves it) is right.

    python bench/score_drills.py ../shared/drills/* [--tz America/Los_Angeles]

Prints one row per drill and milestone, and the totals.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
from pathlib import Path

import timeline as tl

KEYS = {
    "trigger": "trigger_at", "impact_start": "impact_start", "detected": "detected", "escalated": "escalated",
    "acknowledged": "acknowledged", "identified": "identified", "mitigated": "mitigated", "resolved": "resolved",
}


def _t(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def truth_attempts(truth: dict) -> list[tuple[dt.datetime, str, bool]]:
    if truth.get("attempts"):
        out = []
        for a in truth["attempts"]:
            words = a["action"].lower()
            kind = next((k for k in ("rollback", "failover", "restart") if k in words or (k == "rollback" and "revert" in words)), words)
            out.append((_t(a["at"]), kind, bool(a["effective"])))
        return out
    out = []
    for key, kind in (("rollback_at", "rollback"), ("failover_at", "failover"), ("restart_at", "restart")):
        if truth.get(key):
            out.append((_t(truth[key]), kind, truth.get("effective_attempt") == kind))
    return sorted(out)


def score(folder: Path, tz: str | None) -> list[dict]:
    truth = json.loads((folder / "truth.json").read_text())
    tz = tz or truth.get("timezone", "UTC")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / folder.name
        shutil.copytree(folder, work, ignore=shutil.ignore_patterns("truth.json", "NOTES.md", "README.md"))
        events = tl.read(work, tz=tz)
        inc = tl.reconstruct(events, tz=tz)
    rows = []
    for name, key in KEYS.items():
        want = _t(truth.get(key) or (truth.get("first_ticket") if name == "detected" else None))
        got = inc.at(name)
        tol = 60.0 if name == "detected" and truth.get("detected_by", "customer") == "customer" else 30.0
        if want is None and name in ("detected",) and "detected" not in truth and "first_ticket" not in truth:
            rows.append({"drill": folder.name, "milestone": name, "ok": True, "error_s": None, "note": "no truth to compare"})
            continue
        if want is None:
            ok = got is None
            err = None
        else:
            err = None if got is None else (got - want).total_seconds()
            ok = err is not None and abs(err) <= tol
        extra = ""
        if name == "detected" and inc.milestones.get("detected") is not None:
            by = truth.get("detected_by")
            if by and inc.milestones["detected"].by != by:
                ok = False
            extra = f"by {inc.milestones['detected'].by} (truth {by or 'first ticket'})"
        rows.append({"drill": folder.name, "milestone": name, "ok": ok, "error_s": err, "note": extra or (inc.missing.get(name) or "")[:70]})
    want_att = truth_attempts(truth)
    got_att = [(a.at, a.action, a.effective) for a in inc.attempts]
    matched = []
    for at, kind, eff in want_att:
        hit = [g for g in got_att if abs((g[0] - at).total_seconds()) <= 30 and g[1] == kind]
        matched.append(bool(hit) and hit[0][2] == eff)
    extra_att = [g for g in got_att if not any(abs((g[0] - at).total_seconds()) <= 30 for at, _, _ in want_att)]
    rows.append({"drill": folder.name, "milestone": "attempts", "ok": all(matched) and not extra_att,
                 "error_s": None, "note": f"{sum(matched)}/{len(want_att)} judged right, {len(extra_att)} not in the truth"})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--tz", default=None)
    args = ap.parse_args(argv)
    total = right = 0
    for folder in args.folders:
        if not (folder / "truth.json").exists():
            continue
        for r in score(folder, args.tz):
            total += 1
            right += r["ok"]
            err = "" if r["error_s"] is None else f"{r['error_s']:+.1f} s"
            print(f"{r['drill']:<22} {r['milestone']:<14} {'ok ' if r['ok'] else 'BAD'} {err:>10}  {r['note']}")
    print(f"{right} right of {total}")
    return 0 if right == total else 1


if __name__ == "__main__":
    sys.exit(main())
