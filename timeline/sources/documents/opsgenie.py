"""Opsgenie alerts: the REST API's alert objects and webhook (integration action) payloads.

- REST (``{"data": [...]}`` or ``{"data": {...}}``): ``fired`` at ``createdAt``;
  ``acknowledged`` and ``resolved`` at ``createdAt`` plus ``report.ackTime`` /
  ``report.closeTime``, which are durations in milliseconds, not times;
- webhook (``{"action": "Acknowledge", "alert": {...}}``): one event per
  delivery, at ``alert.createdAt`` (epoch **ms**) for ``Create`` and at
  ``alert.updatedAt`` (epoch **ns**) for every later action.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from timeline.sources._account import FileAccount
from timeline.sources.documents import DocumentOptions, register
from timeline.sources.documents._common import Rows, head_text, json_head, load_document, new_account, time_or_reject

PRIORITY_LEVELS = {"P1": "critical", "P2": "error", "P3": "warning", "P4": "info", "P5": "info"}
WEBHOOK_ACTIONS = {
    "Create": "fired", "Acknowledge": "acknowledged", "UnAcknowledge": "unacknowledged", "Close": "resolved",
    "AddNote": "annotated", "Escalate": "escalated", "EscalateNext": "escalated", "AssignOwnership": "assigned",
    "TakeOwnership": "assigned", "AddResponder": "responder_added", "AddRecipient": "responder_added",
    "AddTeam": "responder_added", "Snooze": "snoozed", "SnoozeEnded": "snooze_ended", "Delete": "deleted",
    "UpdatePriority": "priority_changed", "UpdateMessage": "updated", "UpdateDescription": "updated",
    "AddTags": "updated", "RemoveTags": "updated", "CustomAction": "custom_action",
}


def _is_rest_alert(a: Any) -> bool:
    return isinstance(a, Mapping) and "tinyId" in a and "createdAt" in a and "message" in a


def _is_webhook(d: Any) -> bool:
    return isinstance(d, Mapping) and isinstance(d.get("alert"), Mapping) and "action" in d and ("alertId" in d["alert"] or "tinyId" in d["alert"])


class OpsgenieReader:
    """Reads Opsgenie REST alert lists and webhook payloads."""

    name = "opsgenie"
    directory = False

    def detect(self, path: Path) -> float:
        """Sure for REST alerts (``tinyId`` + ``createdAt``) or webhook payloads (``action`` + ``alert.alertId``)."""
        head = head_text(path, 8192)
        if '"tinyId"' not in head and '"alertId"' not in head:
            return 0.0
        items = _items(json_head(path))
        if items and (_is_rest_alert(items[0]) or _is_webhook(items[0])):
            return 0.95
        return 0.0

    def read(self, path: Path, options: DocumentOptions) -> tuple[pl.DataFrame, FileAccount]:
        """Read alerts into fired/acknowledged/resolved events."""
        account = new_account(path, self.name, "alert", options)
        rows = Rows(account, "alert")
        doc = load_document(path)
        for n, item in enumerate(_items(doc) or [], 1):
            account.lines += 1
            if _is_webhook(item):
                _webhook(item, n, rows, options)
            elif _is_rest_alert(item):
                _rest(item, n, rows, options)
            else:
                account.reject(n, "not an Opsgenie alert or webhook payload", str(item)[:200])
        return rows.finish()


def _items(doc: Any) -> list[Any] | None:
    if isinstance(doc, Mapping):
        data = doc.get("data")
        if isinstance(data, list):
            return data
        if isinstance(data, Mapping):
            return [data]
        return [doc]
    return doc if isinstance(doc, list) else None


def _rest(a: Mapping[str, Any], n: int, rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    created = time_or_reject(a.get("createdAt"), account, n, "createdAt", options.tz)
    if created is None:
        return
    ref = a.get("alias") or a.get("id")
    message = a.get("message") or ""
    level = PRIORITY_LEVELS.get(str(a.get("priority", "P3")), "warning")
    attrs = {"id": a.get("id"), "tinyId": a.get("tinyId"), "status": a.get("status"), "priority": a.get("priority"), "tags": a.get("tags"), "count": a.get("count"), "owner": a.get("owner"), "integration": (a.get("integration") or {}).get("name"), "message": message}
    rows.add(created, "fired", message, line=n, actor=a.get("source") or "opsgenie", ref=ref, level=level, host=a.get("entity"), attrs=attrs)
    report = a.get("report") or {}
    for key, action, who_key in (("ackTime", "acknowledged", "acknowledgedBy"), ("closeTime", "resolved", "closedBy")):
        ms = report.get(key)
        if isinstance(ms, (int, float)) and not isinstance(ms, bool) and ms >= 0:
            when = created + dt.timedelta(milliseconds=ms)
            who = report.get(who_key)
            rows.add(when, action, f"{action} by {who}: {message}" if who else f"{action}: {message}", line=n, actor=who, ref=ref, host=a.get("entity"), attrs={"from": f"createdAt + report.{key} ms", key: ms})
        elif ms is not None:
            account.reject(n, f"report.{key} is not a duration in ms", str(ms))


def _webhook(d: Mapping[str, Any], n: int, rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    alert = d["alert"]
    raw_action = str(d.get("action"))
    action = WEBHOOK_ACTIONS.get(raw_action, raw_action.lower() or "updated")
    if action == "fired":
        when = time_or_reject(alert.get("createdAt"), account, n, "alert.createdAt", options.tz, epoch_unit="ms" if isinstance(alert.get("createdAt"), int) else None)
    else:
        value = alert.get("updatedAt") or alert.get("createdAt")
        unit = ("ns" if "updatedAt" in alert else "ms") if isinstance(value, int) else None
        when = time_or_reject(value, account, n, "alert.updatedAt", options.tz, epoch_unit=unit)
    if when is None:
        if not (alert.get("createdAt") or alert.get("updatedAt")):
            account.reject(n, "webhook alert has no createdAt/updatedAt", raw_action)
        return
    message = alert.get("message") or ""
    text = alert.get("note") if action == "annotated" and alert.get("note") else message
    level = PRIORITY_LEVELS.get(str(alert.get("priority", "P3")), "warning") if action == "fired" else "info"
    rows.add(
        when, action, text, line=n,
        actor=alert.get("username") or (d.get("source") or {}).get("name") or ("opsgenie" if action == "fired" else None),
        ref=alert.get("alias") or alert.get("alertId"),
        level=level,
        host=alert.get("entity"),
        attrs={"alertId": alert.get("alertId"), "tinyId": alert.get("tinyId"), "action": raw_action, "tags": alert.get("tags"), "priority": alert.get("priority"), "integration": d.get("integrationName"), "message": message, "escalation": d.get("escalation")},
    )


register(OpsgenieReader())
