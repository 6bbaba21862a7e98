"""Zendesk tickets: API / incremental-export JSON, ticket audits, and the UI's CSV export.

What each record becomes:

- a ticket (``{"tickets": [...]}``, ``{"ticket": {...}}``, incremental export
  pages): a ``created`` event whose message is the subject and description,
  and, when side-loaded metric sets carry them, ``assigned``, ``solved`` and
  ``reopened`` events;
- an audit (``{"audits": [...]}``): one event per audit, named by its most
  telling change (``solved``, ``closed``, ``reopened``, ``escalated`` for a
  group change or an escalation tag, ``assigned``, ``commented``...);
- a UI CSV row: ``created`` plus ``assigned`` and ``solved`` where its
  ``Assigned at`` / ``Solved at`` columns are filled (durations such as
  ``Resolution time`` are kept as attributes, never read as times).

Users side-loaded in the same file (``"users": [...]``) turn ids into names.
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
    head_text,
    html_to_text,
    human_or_reject,
    join_text,
    json_document,
    json_head,
    new_account,
    norm,
    time_or_reject,
)

STATUS_ACTIONS = {
    "new": "created",
    "open": "opened",
    "pending": "pending",
    "hold": "on_hold",
    "solved": "solved",
    "closed": "closed",
    "deleted": "deleted",
}
PRIORITY_LEVELS = {"urgent": "critical", "high": "error", "normal": "warning", "low": "info"}
_ESCALATION_TAG = re.compile(r"escalat", re.IGNORECASE)
# Which change names an audit when it holds several (first wins).
_AUDIT_PRECEDENCE = ("reopened", "solved", "closed", "escalated", "assigned", "unassigned", "pending", "on_hold", "opened", "priority_changed", "commented", "internal_note", "updated")

CSV_MARKERS = {"id", "subject", "requester", "created_at", "status"}
CSV_TIMES = {"assigned_at": "assigned", "initially_assigned_at": None, "solved_at": "solved"}


class ZendeskReader:
    """Reads Zendesk ticket JSON, audit JSON and UI CSV exports."""

    name = "zendesk"
    directory = False

    def detect(self, path: Path) -> float:
        """Sure for a tickets page/incremental export/audits list; likely for the UI CSV."""
        head = head_text(path, 8192)
        if '"tickets"' in head or '"ticket"' in head or '"audits"' in head:
            doc = json_head(path)
            if isinstance(doc, Mapping):
                tickets = doc.get("tickets") if isinstance(doc.get("tickets"), list) else [doc["ticket"]] if isinstance(doc.get("ticket"), Mapping) else None
                if tickets is not None:
                    if not tickets:
                        return 0.6 if "end_of_stream" in doc or "next_page" in doc else 0.0
                    t = tickets[0]
                    if isinstance(t, Mapping) and "requester_id" in t and "created_at" in t and ("via" in t or "subject" in t):
                        return 0.95
                audits = doc.get("audits")
                if isinstance(audits, list) and audits and isinstance(audits[0], Mapping) and "ticket_id" in audits[0] and "events" in audits[0]:
                    return 0.95
            return 0.0
        header = {norm(h) for h in csv_header(path)}
        if CSV_MARKERS <= header and ("requester_id" in header or "solved_at" in header or "via" in header or "group" in header):
            return 0.85
        return 0.0

    def read(self, path: Path, options: DocumentOptions) -> tuple[pl.DataFrame, FileAccount]:
        """Read the tickets, audits or CSV rows into lifecycle events."""
        account = new_account(path, self.name, "ticket", options)
        rows = Rows(account, "ticket")
        doc = json_document(path)
        if doc is None and head_text(path, 64).lstrip()[:1] in ("{", "["):
            from timeline.sources.documents._common import load_json

            doc = load_json(path)  # raises with the place of the JSON error
        if isinstance(doc, Mapping):
            users = _users(doc)
            if isinstance(doc.get("audits"), list):
                _read_audits(doc["audits"], users, rows, options)
            else:
                tickets = doc.get("tickets") if isinstance(doc.get("tickets"), list) else [doc.get("ticket")]
                metrics = _metric_sets(doc)
                _read_tickets(tickets, users, metrics, rows, options)
        else:
            _read_csv(path, rows, options)
        return rows.finish()


def _users(doc: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for u in doc.get("users", []) or []:
        if isinstance(u, Mapping) and u.get("id") is not None:
            out[str(u["id"])] = str(u.get("name") or u.get("email") or u["id"])
    return out


def _metric_sets(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for m in doc.get("metric_sets", []) or doc.get("ticket_metrics", []) or []:
        if isinstance(m, Mapping) and m.get("ticket_id") is not None:
            out[str(m["ticket_id"])] = m
    return out


def _who(value: Any, users: Mapping[str, str]) -> str | None:
    if value in (None, ""):
        return None
    return users.get(str(value), str(value))


def _read_tickets(tickets: list[Any], users: Mapping[str, str], metrics: Mapping[str, Mapping[str, Any]], rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    for i, t in enumerate(tickets, 1):
        account.lines += 1
        if not isinstance(t, Mapping) or t.get("id") is None:
            account.reject(i, "ticket: not an object with an id", str(t)[:200])
            continue
        ref = str(t["id"])
        created = time_or_reject(t.get("created_at"), account, i, "created_at", options.tz)
        if created is None:
            if t.get("created_at") in (None, ""):
                account.reject(i, "ticket has no created_at", ref)
            continue
        level = PRIORITY_LEVELS.get(str(t.get("priority") or "").lower(), "info")
        via = t.get("via") or {}
        attrs = {
            "status": t.get("status"),
            "priority": t.get("priority"),
            "type": t.get("type"),
            "tags": t.get("tags"),
            "via": via.get("channel") if isinstance(via, Mapping) else via,
            "requester": _who(t.get("requester_id"), users),
            "assignee": _who(t.get("assignee_id"), users),
            "group_id": t.get("group_id"),
            "organization_id": t.get("organization_id"),
            "problem_id": t.get("problem_id"),
            "subject": t.get("subject"),
            "updated_at": t.get("updated_at"),
            "due_at": t.get("due_at"),
            "url": t.get("url"),
        }
        message = join_text(t.get("subject") or t.get("raw_subject"), html_to_text(t.get("description")))
        rows.add(created, "created", message, line=i, actor=_who(t.get("requester_id") or t.get("submitter_id"), users), ref=ref, level=level, attrs=attrs)
        m = metrics.get(ref) or t.get("metric_set") or {}
        if isinstance(m, Mapping):
            subject = t.get("subject") or ""
            for key, action in (("initially_assigned_at", "assigned"), ("solved_at", "solved")):
                when = time_or_reject(m.get(key), account, i, key, options.tz) if m.get(key) else None
                if when is not None:
                    who = _who(t.get("assignee_id"), users) if action == "assigned" else None
                    rows.add(when, action, f"{action.replace('_', ' ')}: {subject}".strip(": "), line=i, actor=who, ref=ref, level="info", attrs={"from": f"metric_set.{key}"})


def _read_audits(audits: list[Any], users: Mapping[str, str], rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    for i, a in enumerate(audits, 1):
        account.lines += 1
        if not isinstance(a, Mapping) or a.get("ticket_id") is None:
            account.reject(i, "audit: not an object with a ticket_id", str(a)[:200])
            continue
        when = time_or_reject(a.get("created_at"), account, i, "created_at", options.tz)
        if when is None:
            if not a.get("created_at"):
                account.reject(i, "audit has no created_at", str(a.get("id")))
            continue
        ref = str(a["ticket_id"])
        actor = _who(a.get("author_id"), users)
        actions: list[str] = []
        texts: list[str] = []
        changes: list[dict[str, Any]] = []
        created = False
        for e in a.get("events", []) or []:
            if not isinstance(e, Mapping):
                continue
            etype = e.get("type")
            if etype == "Comment":
                body = html_to_text(e.get("plain_body") or e.get("body") or e.get("html_body"))
                actions.append("commented" if e.get("public", True) else "internal_note")
                texts.append(body)
                continue
            if etype == "Create":
                created = True
                changes.append({"field": e.get("field_name"), "value": e.get("value")})
                continue
            if etype != "Change":
                continue
            field = e.get("field_name")
            value, previous = e.get("value"), e.get("previous_value")
            changes.append({"field": field, "value": value, "previous": previous})
            if field == "status":
                v, p = str(value or "").lower(), str(previous or "").lower()
                if p in ("solved", "closed") and v in ("open", "new", "pending", "hold"):
                    actions.append("reopened")
                else:
                    actions.append(STATUS_ACTIONS.get(v, "status_changed"))
                texts.append(f"status {previous} -> {value}")
            elif field == "assignee_id":
                actions.append("assigned" if value else "unassigned")
                texts.append(f"assigned to {_who(value, users)}" if value else "unassigned")
            elif field == "group_id":
                actions.append("escalated" if previous else "assigned")
                texts.append(f"group {previous} -> {value}")
            elif field == "priority":
                actions.append("priority_changed")
                texts.append(f"priority {previous} -> {value}")
            elif field == "tags":
                new = _tags(value) - _tags(previous)
                if any(_ESCALATION_TAG.search(t) for t in new):
                    actions.append("escalated")
                    texts.append(f"tagged {', '.join(sorted(new))}")
        if created:
            # The ticket's first audit: its comment is the description; the
            # ticket itself (from the tickets export) carries the `created` event.
            actions = ["commented" if x == "commented" else x for x in actions if x not in ("opened", "created")]
        action = next((x for x in _AUDIT_PRECEDENCE if x in actions), "updated")
        level = "warning" if action == "escalated" else "info"
        via = a.get("via") or {}
        rows.add(
            when,
            action,
            join_text(*texts) or action,
            line=i,
            actor=actor,
            ref=ref,
            level=level,
            attrs={"audit_id": a.get("id"), "actions": actions if len(actions) > 1 else None, "changes": changes, "first_audit": created or None, "via": via.get("channel") if isinstance(via, Mapping) else None},
        )


def _tags(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, list):
        return {str(v) for v in value}
    return set(str(value).split())


def _read_csv(path: Path, rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    header, records = csv_records(path)
    names = [norm(h) for h in header]
    times = HumanTimes(options)
    dicts = [(line, by_name(names, row)) for line, row in records]
    for col in ("created_at", *CSV_TIMES):
        times.column(col, (d.get(col) for _, d in dicts))
    for line, d in dicts:
        account.lines += 1
        ref = d.get("id") or d.get("ticket_id")
        created = human_or_reject(times, d.get("created_at"), "created_at", account, line)
        if created is None:
            if not d.get("created_at"):
                account.reject(line, "row has no Created at", ref or "")
            continue
        level = PRIORITY_LEVELS.get((d.get("priority") or "").lower(), "info")
        attrs = {k: v for k, v in d.items() if v and k not in ("subject", "description", "created_at")}
        rows.add(created, "created", join_text(d.get("subject"), d.get("description")), line=line, actor=d.get("requester"), ref=ref, level=level, attrs=attrs)
        for col, action in CSV_TIMES.items():
            if action is None or not d.get(col):
                continue
            when = human_or_reject(times, d.get(col), col, account, line)
            if when is not None:
                who = d.get("assignee") if action == "assigned" else None
                rows.add(when, action, f"{action}: {d.get('subject') or ''}".strip(": "), line=line, actor=who, ref=ref, attrs={"from": col})
    finish_tz_note(account, times, options)


register(ZendeskReader())
