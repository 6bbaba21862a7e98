"""ServiceNow incidents: Table API / JSONv2 JSON and the list view's CSV export.

An incident yields ``created`` (``opened_at``, else ``sys_created_on``; the
message is ``short_description`` and ``description``), ``resolved`` and
``closed``. Numeric state, impact, urgency and priority codes are mapped.
Reference fields may be plain values or ``{display_value, link, value}``.
Times such as ``2023-10-09 14:44:05`` carry no zone: the Table API writes UTC,
a UI export the exporting user's zone, so they take the ``tz`` option
(UTC by default, and the account says so).
"""

from __future__ import annotations

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
    human_or_reject,
    join_text,
    load_document,
    json_head,
    new_account,
    norm,
    records_of,
    text_of,
)

STATE = {"1": "new", "2": "in progress", "3": "on hold", "6": "resolved", "7": "closed", "8": "canceled"}
PRIORITY_LEVELS = {"1": "critical", "2": "error", "3": "warning", "4": "info", "5": "info"}
# UI export labels -> field names
LABELS = {
    "number": "number", "opened": "opened_at", "opened_at": "opened_at", "short_description": "short_description",
    "description": "description", "caller": "caller_id", "caller_id": "caller_id", "opened_by": "opened_by",
    "priority": "priority", "state": "state", "incident_state": "state", "impact": "impact", "urgency": "urgency",
    "category": "category", "assignment_group": "assignment_group", "assigned_to": "assigned_to",
    "resolved": "resolved_at", "resolved_at": "resolved_at", "resolved_by": "resolved_by", "closed": "closed_at",
    "closed_at": "closed_at", "closed_by": "closed_by", "created": "sys_created_on", "sys_created_on": "sys_created_on",
    "updated": "sys_updated_on", "sys_updated_on": "sys_updated_on", "sys_id": "sys_id", "close_code": "close_code",
    "resolution_code": "close_code", "close_notes": "close_notes", "resolution_notes": "close_notes", "cmdb_ci": "cmdb_ci",
    "configuration_item": "cmdb_ci",
}
TIMES = (("opened_at", "created"), ("resolved_at", "resolved"), ("closed_at", "closed"))


def _code(value: Any) -> str:
    text = text_of(value) or ""
    return text.split(" - ")[0].strip()


class ServiceNowReader:
    """Reads ServiceNow incident exports (JSON or CSV)."""

    name = "servicenow"
    directory = False

    def detect(self, path: Path) -> float:
        """Sure for incident records (``number`` INC..., ``opened_at`` / ``sys_created_on``)."""
        head = head_text(path, 8192)
        if '"number"' in head and ('"opened_at"' in head or '"sys_created_on"' in head):
            items = records_of(json_head(path), "result", "records")
            if items and isinstance(items[0], Mapping) and "number" in items[0]:
                return 0.95
            return 0.0
        header = {LABELS.get(norm(h)) for h in csv_header(path)}
        if {"number", "short_description"} <= header and ("opened_at" in header or "sys_created_on" in header):
            return 0.9
        return 0.0

    def read(self, path: Path, options: DocumentOptions) -> tuple[pl.DataFrame, FileAccount]:
        """Read incidents into lifecycle events."""
        account = new_account(path, self.name, "ticket", options)
        rows = Rows(account, "ticket")
        if head_text(path, 64).lstrip()[:1] in ("{", "["):
            doc = load_document(path)
            records = [(i, r) for i, r in enumerate(records_of(doc, "result", "records") or [], 1)]
        else:
            header, raw = csv_records(path)
            names = [LABELS.get(norm(h), norm(h)) for h in header]
            records = [(line, by_name(names, row)) for line, row in raw]
        times = HumanTimes(options)
        for col in ("opened_at", "sys_created_on", "resolved_at", "closed_at"):
            times.column(col, (text_of(r.get(col)) for _, r in records if isinstance(r, Mapping)))
        for line, r in records:
            account.lines += 1
            if not isinstance(r, Mapping):
                account.reject(line, "not an incident object", str(r)[:200])
                continue
            _incident(r, line, rows, times)
        finish_tz_note(account, times, options)
        return rows.finish()


def _incident(r: Mapping[str, Any], line: int, rows: Rows, times: HumanTimes) -> None:
    account = rows.account
    ref = text_of(r.get("number")) or text_of(r.get("sys_id"))
    short = text_of(r.get("short_description")) or ""
    state = _code(r.get("state"))
    attrs = {
        "state": STATE.get(state, text_of(r.get("state"))),
        "priority": text_of(r.get("priority")),
        "impact": text_of(r.get("impact")),
        "urgency": text_of(r.get("urgency")),
        "category": text_of(r.get("category")),
        "assignment_group": text_of(r.get("assignment_group")),
        "assigned_to": text_of(r.get("assigned_to")),
        "cmdb_ci": text_of(r.get("cmdb_ci")),
        "close_code": text_of(r.get("close_code")),
        "sys_id": text_of(r.get("sys_id")),
        "short_description": short,
    }
    level = PRIORITY_LEVELS.get(_code(r.get("priority")), "info")
    opened_col = "opened_at" if text_of(r.get("opened_at")) else "sys_created_on"
    created = human_or_reject(times, text_of(r.get(opened_col)), opened_col, account, line)
    if created is None:
        if not text_of(r.get(opened_col)):
            account.reject(line, "incident has no opened_at or sys_created_on", ref or "")
        return
    actor = text_of(r.get("caller_id")) or text_of(r.get("opened_by"))
    rows.add(created, "created", join_text(short, text_of(r.get("description"))), line=line, actor=actor, ref=ref, level=level, attrs=attrs)
    for col, action in TIMES[1:]:
        value = text_of(r.get(col))
        if not value:
            continue
        when = human_or_reject(times, value, col, account, line)
        if when is not None:
            who = text_of(r.get("resolved_by" if action == "resolved" else "closed_by")) or text_of(r.get("assigned_to"))
            text = join_text(f"{action}: {short}", text_of(r.get("close_notes")) if action == "resolved" else None)
            rows.add(when, action, text, line=line, actor=who, ref=ref, attrs={"close_code": text_of(r.get("close_code"))})


register(ServiceNowReader())
