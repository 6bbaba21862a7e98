"""Freshdesk tickets (API JSON) and ticket conversations.

A ticket yields ``created`` (subject plus ``description_text``, or the HTML
``description`` turned into text) and, from ``stats`` (``include=stats``),
``responded``, ``resolved``, ``closed`` and ``reopened``. Numeric status,
priority and source codes are mapped to their names. ``due_by`` and
``fr_due_by`` are deadlines, not lifecycle times, and stay attributes.
A conversations list (``[{body_text, incoming, private, user_id, ticket_id,
created_at}]``) yields one ``commented`` / ``internal_note`` event each.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from timeline.sources._account import FileAccount
from timeline.sources.documents import DocumentOptions, register
from timeline.sources.documents._common import (
    Rows,
    head_text,
    html_to_text,
    join_text,
    load_document,
    json_head,
    new_account,
    records_of,
    time_or_reject,
)

STATUS = {2: "open", 3: "pending", 4: "resolved", 5: "closed", 6: "waiting on customer", 7: "waiting on third party"}
PRIORITY = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
PRIORITY_LEVELS = {1: "info", 2: "warning", 3: "error", 4: "critical"}
SOURCE = {1: "email", 2: "portal", 3: "phone", 4: "forum", 5: "twitter", 6: "facebook", 7: "chat", 8: "mobihelp", 9: "feedback widget", 10: "outbound email", 11: "ecommerce", 12: "bot"}
STATS = (("first_responded_at", "responded"), ("resolved_at", "resolved"), ("closed_at", "closed"), ("reopened_at", "reopened"))


def _is_ticket(t: Any) -> bool:
    return isinstance(t, Mapping) and "id" in t and "created_at" in t and ("fr_due_by" in t or ("requester_id" in t and "responder_id" in t and isinstance(t.get("status"), int)))


def _is_conversation(c: Any) -> bool:
    return isinstance(c, Mapping) and "ticket_id" in c and "incoming" in c and "created_at" in c and ("body_text" in c or "body" in c)


class FreshdeskReader:
    """Reads Freshdesk ticket lists, single tickets and conversation lists."""

    name = "freshdesk"
    directory = False

    def detect(self, path: Path) -> float:
        """Sure when the records carry Freshdesk's keys (``fr_due_by``, numeric status; or conversations)."""
        head = head_text(path, 8192)
        if not ('"fr_due_by"' in head or '"responder_id"' in head or '"incoming"' in head):
            return 0.0
        items = _items(json_head(path))
        if items and (_is_ticket(items[0]) or _is_conversation(items[0])):
            return 0.95
        return 0.0

    def read(self, path: Path, options: DocumentOptions) -> tuple[pl.DataFrame, FileAccount]:
        """Read tickets or conversations into lifecycle events."""
        account = new_account(path, self.name, "ticket", options)
        rows = Rows(account, "ticket")
        doc = load_document(path)
        for i, t in enumerate(_items(doc) or [], 1):
            account.lines += 1
            if _is_conversation(t):
                _conversation(t, i, rows, options)
            elif isinstance(t, Mapping) and t.get("id") is not None:
                _ticket(t, i, rows, options)
            else:
                account.reject(i, "not a Freshdesk ticket or conversation object", str(t)[:200])
        return rows.finish()


def _items(doc: Any) -> list[Any] | None:
    if isinstance(doc, Mapping) and ("fr_due_by" in doc or "ticket_id" in doc):
        return [doc]
    return records_of(doc, "tickets", "results", "conversations")


def _ticket(t: Mapping[str, Any], i: int, rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    ref = str(t["id"])
    created = time_or_reject(t.get("created_at"), account, i, "created_at", options.tz)
    if created is None:
        if not t.get("created_at"):
            account.reject(i, "ticket has no created_at", ref)
        return
    requester = t.get("requester") if isinstance(t.get("requester"), Mapping) else None
    actor = (requester or {}).get("name") or (requester or {}).get("email") or t.get("requester_id")
    subject = t.get("subject") or ""
    description = t.get("description_text") or html_to_text(t.get("description"))
    attrs = {
        "status": STATUS.get(t.get("status"), t.get("status")),
        "priority": PRIORITY.get(t.get("priority"), t.get("priority")),
        "source": SOURCE.get(t.get("source"), t.get("source")),
        "type": t.get("type"),
        "tags": t.get("tags"),
        "requester_id": t.get("requester_id"),
        "responder_id": t.get("responder_id"),
        "group_id": t.get("group_id"),
        "is_escalated": t.get("is_escalated"),
        "due_by": t.get("due_by"),
        "fr_due_by": t.get("fr_due_by"),
        "subject": subject,
    }
    level = PRIORITY_LEVELS.get(t.get("priority"), "info")
    rows.add(created, "created", join_text(subject, description), line=i, actor=actor, ref=ref, level=level, attrs=attrs)
    stats = t.get("stats") if isinstance(t.get("stats"), Mapping) else {}
    for key, action in STATS:
        if stats.get(key):
            when = time_or_reject(stats[key], account, i, f"stats.{key}", options.tz)
            if when is not None:
                who = t.get("responder_id") if action in ("responded", "resolved", "closed") else None
                rows.add(when, action, f"{action}: {subject}", line=i, actor=who, ref=ref, attrs={"from": f"stats.{key}"})


def _conversation(c: Mapping[str, Any], i: int, rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    when = time_or_reject(c.get("created_at"), account, i, "created_at", options.tz)
    if when is None:
        return
    body = c.get("body_text") or html_to_text(c.get("body"))
    action = "internal_note" if c.get("private") else "commented"
    rows.add(when, action, body, line=i, actor=c.get("user_id"), ref=str(c.get("ticket_id")), attrs={"conversation_id": c.get("id"), "incoming": c.get("incoming"), "source": c.get("source")})


register(FreshdeskReader())
