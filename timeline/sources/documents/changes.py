"""Change logs: a generic change log (CSV or JSON) and GitHub deployment statuses.

Generic change log: one record per change with a time, who made it, what
was done and to what. The header ``time,who,what,target`` and close variants
(``timestamp``/``date``/``when``/``at``; ``user``/``actor``/``author``/``by``;
``action``/``change``/``description``/``summary``; ``service``/``host``/
``component``/``environment``) are recognised. The action is taken from the
text of ``what`` (:data:`ACTIONS`): ``rolled_back``, ``deployed``,
``restarted``, ``failover``, ``scaled``, ``flag_changed``, ``config_change``,
``migrated``, else ``changed``. An ``action`` column, when present, wins.

GitHub: ``deployment_status`` webhook deliveries (``{"deployment_status":
{...}, "deployment": {...}}``), the REST list of statuses, and ``deployment``
deliveries. ``success`` is ``deployed`` (``rolled_back`` when the task or
description says rollback), ``failure``/``error`` ``deploy_failed``,
``pending``/``queued``/``in_progress`` ``deploying``, ``inactive`` ``superseded``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from timeline.sources._account import FileAccount
from timeline.sources.documents import DocumentOptions, register
from timeline.sources.documents._common import (
    HumanTimes,
    Rows,
    by_name,
    csv_header,
    csv_records,
    finish_tz_note,
    first,
    head_text,
    human_or_reject,
    join_text,
    load_document,
    json_head,
    new_account,
    norm,
    records_of,
    text_of,
)

# The action a change's text names: the first matching pattern wins.
ACTIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (action, re.compile(pattern, re.IGNORECASE))
    for action, pattern in (
        ("rolled_back", r"\b(roll(ed|ing|s)?[ -]?back|revert(ed|ing|s)?|undo|undid)\b"),
        ("failover", r"\b(fail(ed|ing|s)?[ -]?over|promot(e|ed|ing))\b"),
        ("deployed", r"\b(deploy(ed|ing|s)?|releas(e|ed|ing)|ship(ped)?|rolled out|roll(ing)? out|upgrad(e|ed|ing))\b"),
        ("config_change", r"\b(config(uration)?|postgresql\.conf|my\.cnf|parameters?|settings?|tun(e|ed|ing)|max_connections|pool[_ ]size|alter system)\b"),
        ("restarted", r"\b(restart(ed|ing|s)?|reboot(ed|ing|s)?|bounc(e|ed|ing))\b"),
        ("scaled", r"\b(scal(e|ed|ing)|resiz(e|ed|ing)|add(ed)? (replicas|nodes|capacity))\b"),
        ("flag_changed", r"\b(feature[ -]?flag|flag|toggle[ds]?|kill[ -]?switch)\b"),
        ("migrated", r"\b(migrat(e|ed|ion|ing))\b"),
    )
)
TIME_NAMES = ("time", "timestamp", "ts", "date", "datetime", "when", "at", "time_utc", "changed_at", "created_at", "occurred_at")
WHO_NAMES = ("who", "user", "actor", "author", "by", "changed_by", "owner", "username", "deployer", "person")
WHAT_NAMES = ("what", "change", "description", "summary", "message", "details", "event", "title", "text")
TARGET_NAMES = ("target", "service", "host", "component", "system", "environment", "env", "resource", "app", "application")
REF_NAMES = ("id", "change_id", "ref", "ticket", "deploy_id", "version", "sha", "commit")
GITHUB_ACTIONS = {"success": "deployed", "failure": "deploy_failed", "error": "deploy_failed", "pending": "deploying", "queued": "deploying", "in_progress": "deploying", "inactive": "superseded"}


_CHANGE_ID = re.compile(r"\b([A-Z][A-Z0-9]{1,9}-\d+)\b")
_COMMIT = re.compile(r"\bcommit ([0-9a-f]{7,40})\b")


def change_ref(text: str) -> str | None:
    """A change id written in the text (``CHG-2231``, ``OPS-42``), else a commit sha, else None."""
    m = _CHANGE_ID.search(text) or _COMMIT.search(text)
    return m.group(1) if m else None


def change_action(text: str) -> str:
    """The lifecycle verb a change's description names (see :data:`ACTIONS`)."""
    for action, pattern in ACTIONS:
        if pattern.search(text):
            return action
    return "changed"


def _pick(names: list[str], options: tuple[str, ...]) -> str | None:
    for o in options:
        if o in names:
            return o
    return None


def _columns(names: list[str]) -> dict[str, str | None]:
    return {
        "time": _pick(names, TIME_NAMES),
        "who": _pick(names, WHO_NAMES),
        "what": _pick(names, WHAT_NAMES),
        "target": _pick(names, TARGET_NAMES),
        "ref": _pick(names, REF_NAMES),
        "action": "action" if "action" in names else "type" if "type" in names else None,
    }


def _is_github(d: Any) -> bool:
    if not isinstance(d, Mapping):
        return False
    if isinstance(d.get("deployment_status"), Mapping) or (isinstance(d.get("deployment"), Mapping) and "repository" in d):
        return True
    return "state" in d and "environment" in d and "created_at" in d and ("deployment_url" in d or "target_url" in d or "log_url" in d)


class ChangesReader:
    """Reads generic change logs (CSV/JSON) and GitHub deployment statuses."""

    name = "changes"
    directory = False

    def detect(self, path: Path) -> float:
        """Sure for a change-log header (a time, who/what columns) or GitHub deployment JSON."""
        head = head_text(path, 8192)
        stripped = head.lstrip()[:1]
        if stripped in ("{", "["):
            if not any(k in head for k in ('"deployment', '"who"', '"what"', '"change"', '"target"', '"deployer"')):
                return 0.0
            doc = json_head(path)
            items = records_of(doc, "deployment_statuses", "changes", "records") or ([doc] if isinstance(doc, Mapping) else [])
            if items and _is_github(items[0]):
                return 0.95
            if items and isinstance(items[0], Mapping):
                cols = _columns([norm(k) for k in items[0]])
                if cols["time"] and cols["what"] and (cols["who"] or cols["target"]):
                    return 0.8
            return 0.0
        names = [norm(h) for h in csv_header(path)]
        if not names or len(names) > 12:
            return 0.0
        cols = _columns(names)
        if cols["time"] and cols["what"] and (cols["who"] or cols["target"]):
            return 0.8 if names[:4] != ["time", "who", "what", "target"] else 0.95
        return 0.0

    def read(self, path: Path, options: DocumentOptions) -> tuple[pl.DataFrame, FileAccount]:
        """Read every change into one event."""
        account = new_account(path, self.name, "change", options)
        rows = Rows(account, "change")
        if head_text(path, 64).lstrip()[:1] in ("{", "["):
            doc = load_document(path)
            items = records_of(doc, "deployment_statuses", "changes", "records") or ([doc] if isinstance(doc, Mapping) else [])
            if items and _is_github(items[0]):
                _github(items, rows, options)
                return rows.finish()
            records = [(i, {norm(k): v for k, v in r.items()} if isinstance(r, Mapping) else r) for i, r in enumerate(items, 1)]
        else:
            header, raw = csv_records(path)
            names = [norm(h) for h in header]
            records = [(line, by_name(names, row)) for line, row in raw]
        _generic(records, rows, options)
        return rows.finish()


def _generic(records: list[tuple[int, Any]], rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    names: list[str] = []
    for _, r in records:
        if isinstance(r, Mapping):
            names.extend(k for k in r if k not in names)
    cols = _columns(names)
    times = HumanTimes(options, time_format=(options.spec_options or {}).get("time_format"))
    tcol = cols["time"]
    if tcol:
        times.column(tcol, (r.get(tcol) for _, r in records if isinstance(r, Mapping)))
    used = {c for c in cols.values() if c}
    for line, r in records:
        account.lines += 1
        if not isinstance(r, Mapping):
            account.reject(line, "change is not an object", str(r)[:200])
            continue
        value = r.get(tcol) if tcol else None
        if value in (None, ""):
            account.reject(line, f"change has no {tcol or 'time'}", str(r)[:200])
            continue
        when = human_or_reject(times, value, tcol or "time", account, line)
        if when is None:
            continue
        what = text_of(r.get(cols["what"])) if cols["what"] else ""
        target = text_of(r.get(cols["target"])) if cols["target"] else None
        given = text_of(r.get(cols["action"])) if cols["action"] else None
        action = norm(given) if given else change_action(what or "")
        message = f"{what} ({target})" if target and target not in (what or "") else what or ""
        rows.add(
            when, action, message, line=line,
            actor=text_of(r.get(cols["who"])) if cols["who"] else None,
            ref=(text_of(r.get(cols["ref"])) if cols["ref"] else None) or change_ref(what or ""),
            service=target,
            attrs={"target": target, **{k: v for k, v in r.items() if k not in used}},
        )
    finish_tz_note(account, times, options)


def _github(items: list[Any], rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    for n, d in enumerate(items, 1):
        account.lines += 1
        if not isinstance(d, Mapping):
            account.reject(n, "not a deployment status object", str(d)[:200])
            continue
        status = d.get("deployment_status") if isinstance(d.get("deployment_status"), Mapping) else (d if "state" in d else None)
        deployment = d.get("deployment") if isinstance(d.get("deployment"), Mapping) else {}
        repo = first(d, "repository.full_name")
        if status is None:
            # a `deployment` delivery: the deployment was requested
            value, state, action = deployment.get("created_at"), None, "deploy_requested"
        else:
            value, state = status.get("created_at"), str(status.get("state", ""))
            action = GITHUB_ACTIONS.get(state, state or "changed")
        when = time_or_reject_iso(value, account, n, options)
        if when is None:
            continue
        text = " ".join(str(x) for x in (first(deployment, "task"), first(deployment, "description"), first(status, "description")) if x)
        if action == "deployed" and re.search(r"roll ?back|revert", text, re.IGNORECASE):
            action = "rolled_back"
        env = first(status, "environment") or deployment.get("environment")
        sha = str(deployment.get("sha") or "")[:7]
        what = f"{repo or ''} {deployment.get('ref') or ''}{'@' + sha if sha else ''}".strip()
        message = join_text(f"{what} to {env}: {state or 'requested'}".strip(), first(status, "description"), sep=" - ")
        rows.add(
            when, action, message, line=n,
            actor=first(status, "creator.login") or first(deployment, "creator.login") or first(d, "sender.login"),
            ref=text_of(deployment.get("id")) or text_of(first(status, "id")),
            level="error" if action == "deploy_failed" else "info",
            service=env,
            attrs={"state": state, "environment": env, "sha": deployment.get("sha"), "git_ref": deployment.get("ref"), "task": deployment.get("task"), "repository": repo, "status_id": first(status, "id"), "target_url": first(status, "target_url", "log_url")},
        )


def time_or_reject_iso(value: Any, account: FileAccount, n: int, options: DocumentOptions) -> Any:
    """GitHub's ISO ``created_at`` (or the rejection)."""
    from timeline.sources.documents._common import time_or_reject

    if value in (None, ""):
        account.reject(n, "deployment status has no created_at", "")
        return None
    return time_or_reject(value, account, n, "created_at", options.tz)


register(ChangesReader())
