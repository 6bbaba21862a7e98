"""Generate the sample incident history in data/incident-history/ (seeded, reproducible).

Two years (2023-2024) of incidents across five services, one JSON file per
incident in the DESIGN.md contract, with ``severity``, ``service`` and ``tags``
under ``incident``. Durations are lognormal (skewed, as real ones are); the
``search`` team gets faster over the two years (detection and mitigation
times shrink, fewer customer-found incidents) and ``payments`` gets slower
(longer mitigation, more incidents found by customers). A few incidents lack
an end (no mitigation recorded, still open), as real stores do.

Run from the repository root::

    python data/make_incident_history.py            # rewrites data/incident-history/
    python data/make_incident_history.py --out DIR --seed 7
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np

SEED = 20240812
START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

# service: (incidents per year, home time zone, trend in TTD/TTM over the two years:
# multiplier at the start -> at the end)
SERVICES: dict[str, tuple[float, str, tuple[float, float]]] = {
    "checkout": (42, "America/Los_Angeles", (1.0, 1.0)),
    "payments": (38, "America/New_York", (0.6, 2.6)),
    "search": (45, "Europe/Berlin", (1.8, 0.45)),
    "auth": (27, "America/Los_Angeles", (1.0, 1.0)),
    "notifications": (33, "Asia/Kolkata", (1.0, 1.1)),
}
SEVERITIES = ("SEV1", "SEV2", "SEV3")
SEVERITY_P = (0.1, 0.3, 0.6)
# median minutes from impact start to mitigation per severity: deliberately weak
# relation to severity (duration and severity are not correlated, VOID).
TTM_MEDIAN_MIN = {"SEV1": 38.0, "SEV2": 45.0, "SEV3": 52.0}
# detection: who noticed, and the median minutes it took them
DETECT_MEDIAN_MIN = {"alert": 4.0, "staff": 14.0, "customer": 32.0}

CAUSES = {
    "checkout": ["cart service deploy raised 5xx", "Redis session store evictions", "CDN config push broke assets"],
    "payments": ["card processor timeouts", "ledger DB connection pool exhausted", "fraud-check latency spike"],
    "search": ["index shard out of memory", "query cache stampede", "reindex job saturated cluster"],
    "auth": ["token signing key rotation failed", "LDAP sync lagged", "rate limiter misconfigured"],
    "notifications": ["push provider throttling", "email queue backlog", "template render errors after deploy"],
}
ACTIONS = ["rollback", "restart", "failover", "scale-up", "feature flag off"]


def _lognormal(rng: np.random.Generator, median_min: float, sigma: float) -> float:
    """Seconds drawn from a lognormal with the given median (minutes)."""
    return float(rng.lognormal(np.log(median_min * 60.0), sigma))


def _iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _milestone(t: dt.datetime | None, rule: str, source: str, message: str, **extra: object) -> dict | None:
    if t is None:
        return None
    return {
        "at": _iso(t),
        **extra,
        "confidence": "high",
        "rule": rule,
        "evidence": [{"source": source, "file": f"{source}.log", "line": 1, "message": message}],
    }


def make_incident(rng: np.random.Generator, k: int, service: str, impact: dt.datetime) -> dict:
    """One incident in the JSON contract."""
    rate, tz, (f0, f1) = SERVICES[service]
    progress = (impact - START) / (END - START)
    factor = f0 * (f1 / f0) ** progress  # smooth multiplicative trend
    severity = str(rng.choice(SEVERITIES, p=SEVERITY_P))
    p_customer = 0.18
    if service == "payments":
        p_customer = 0.10 + 0.35 * progress
    elif service == "search":
        p_customer = 0.35 - 0.28 * progress
    p_staff = 0.14
    detected_by = str(rng.choice(["alert", "staff", "customer"], p=[1 - p_staff - p_customer, p_staff, p_customer]))
    ttd = _lognormal(rng, DETECT_MEDIAN_MIN[detected_by] * factor, 0.9)
    detected = impact + dt.timedelta(seconds=round(ttd))
    acknowledged = detected + dt.timedelta(seconds=round(_lognormal(rng, 3.0, 0.8)))
    escalated = detected + dt.timedelta(seconds=round(_lognormal(rng, 9.0, 0.7))) if rng.random() < 0.6 else None
    ttm = ttd + _lognormal(rng, TTM_MEDIAN_MIN[severity] * factor, 0.85)
    mitigated = impact + dt.timedelta(seconds=round(ttm))
    mitigated = max(mitigated, acknowledged + dt.timedelta(minutes=1))
    identified = acknowledged + dt.timedelta(seconds=round(_lognormal(rng, 18.0 * factor, 0.8)))
    resolved = mitigated + dt.timedelta(seconds=round(_lognormal(rng, 35.0, 0.9)))
    trigger = impact - dt.timedelta(seconds=round(_lognormal(rng, 6.0, 1.0))) if rng.random() < 0.7 else None
    # gaps in the record, as real stores have them
    if rng.random() < 0.05:
        identified = None
    if rng.random() < 0.04:
        mitigated = None  # nobody recorded when impact stopped
    if rng.random() < 0.015:
        resolved = None  # still open
    by: str | None = detected_by
    if rng.random() < 0.03:
        by = None  # detection source not recorded
    cause = str(rng.choice(CAUSES[service]))
    n_attempts = 0 if mitigated is None else int(rng.choice([1, 1, 1, 2, 2, 3]))
    attempts = []
    for j in range(n_attempts):
        last = j == n_attempts - 1
        at = mitigated if last else acknowledged + (mitigated - acknowledged) * float(rng.uniform(0.2, 0.9))
        attempts.append(
            {"at": _iso(at), "action": str(rng.choice(ACTIONS)), "effective": last, "evidence": []}
        )
    attempts.sort(key=lambda a: a["at"])
    milestones = {
        "trigger": _milestone(trigger, "change_before_impact", "changes", f"deploy {service} {k:04d}"),
        "impact_start": _milestone(impact, "first_error_burst", service, f"{cause}: errors rising"),
        "detected": _milestone(
            detected,
            {"alert": "first_alert", "customer": "first_customer_ticket", "staff": "first_chat_report"}[detected_by],
            {"alert": "alerts", "customer": "tickets", "staff": "slack#incidents"}[detected_by],
            f"{service} {cause}",
            by=by,
        ),
        "escalated": _milestone(escalated, "page_escalation", "pagerduty", f"escalated to {service} on-call"),
        "acknowledged": _milestone(acknowledged, "page_ack", "pagerduty", "acknowledged"),
        "identified": _milestone(identified, "cause_named_in_chat", "slack#incidents", f"root cause: {cause}"),
        "mitigated": _milestone(mitigated, "error_rate_baseline", service, "error rate back at baseline"),
        "resolved": _milestone(resolved, "resolution_event", "tickets", "marked resolved"),
    }
    times = {m: (None if v is None else dt.datetime.fromisoformat(v["at"])) for m, v in milestones.items()}

    def gap(a: str, b: str) -> float | None:
        return None if times[a] is None or times[b] is None else (times[b] - times[a]).total_seconds()

    first = trigger or impact
    last = resolved or mitigated or detected
    iid = f"INC-{impact:%Y}-{k:04d}"
    return {
        "incident": {
            "id": iid,
            "title": f"{service}: {cause}",
            "timezone": tz,
            "window": {"start": _iso(first - dt.timedelta(minutes=30)), "end": _iso(last + dt.timedelta(minutes=30))},
            "severity": severity,
            "service": service,
            "tags": [f"team:{service}", "customer-facing" if severity != "SEV3" else "internal"],
        },
        "milestones": milestones,
        "mitigation_attempts": attempts,
        "gaps": {
            "time_to_detect_s": gap("impact_start", "detected"),
            "time_to_escalate_s": gap("detected", "escalated"),
            "time_to_acknowledge_s": gap("detected", "acknowledged"),
            "time_to_identify_s": gap("impact_start", "identified"),
            "time_to_mitigate_s": gap("impact_start", "mitigated"),
            "time_to_resolve_s": gap("impact_start", "resolved"),
        },
        "earliest_machine_signal": {
            "at": _iso(impact + dt.timedelta(seconds=int(rng.integers(5, 60)))),
            "template": f"ERROR {service} <*> failed: <*>",
            "lead_time_s": max(0.0, (detected - impact).total_seconds() - 30.0),
        },
        "entries": [
            {"at": v["at"], "milestone": m, "text": v["evidence"][0]["message"], "source": v["evidence"][0]["source"],
             "file": v["evidence"][0]["file"], "line": 1}
            for m, v in milestones.items()
            if v is not None
        ],
        "ingest": [],
    }


def _impact_times(rng: np.random.Generator, rate_per_year: float) -> list[dt.datetime]:
    """Poisson arrivals over the period, weighted toward working hours (UTC-agnostic)."""
    years = (END - START).days / 365.25
    n = int(rng.poisson(rate_per_year * years))
    span = (END - START).total_seconds()
    out = []
    while len(out) < n:
        t = START + dt.timedelta(seconds=float(rng.uniform(0, span)))
        # thin arrivals at night: deploys and traffic peaks happen by day
        if rng.random() < (1.0 if 8 <= t.hour <= 20 else 0.45):
            out.append(t.replace(microsecond=0))
    return sorted(out)


def generate(out: Path, seed: int = SEED) -> int:
    """Write the history into ``out`` (its old *.json files removed); return how many incidents."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    arrivals = [(t, s) for s, (rate, _tz, _f) in SERVICES.items() for t in _impact_times(rng, rate)]
    arrivals.sort()
    per_year: dict[int, int] = {}
    for t, service in arrivals:
        per_year[t.year] = per_year.get(t.year, 0) + 1
        doc = make_incident(rng, per_year[t.year], service, t)
        name = f"{t:%Y-%m-%d}-{doc['incident']['id'].lower()}-{service}.json"
        (out / name).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return len(arrivals)


def main() -> None:
    """Command line: ``python data/make_incident_history.py [--out DIR] [--seed N]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "incident-history")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    n = generate(args.out, args.seed)
    print(f"wrote {n} incidents to {args.out}")


if __name__ == "__main__":
    main()
