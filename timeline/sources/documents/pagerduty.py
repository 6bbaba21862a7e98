"""PagerDuty: incidents, log entries, webhooks (v3 and legacy v2), Events API v2 and change events.

- incidents (``{"incidents": [...]}`` or ``{"incident": {...}}``): ``fired`` at
  ``created_at``; ``assigned`` and ``acknowledged`` from ``assignments`` /
  ``acknowledgements``; ``resolved`` at ``resolved_at`` (or the last status
  change of a resolved incident);
- log entries (``{"log_entries": [...]}``): one event each, by type
  (trigger, acknowledge, escalate, assign, annotate, resolve, notify...);
- webhook v3 deliveries (``{"event": {"event_type": "incident.acknowledged", ...}}``),
  legacy v2 (``{"messages": [{"event": "incident.trigger", ...}]}``);
- Events API v2 events (``event_action`` trigger/acknowledge/resolve with a
  ``dedup_key``); acknowledge/resolve events carry no time and are reported;
- change events (``{"routing_key", "payload": {summary, timestamp}, "links"}``
  or ``{"change_events": [...]}``): ``kind = change``, ``deployed`` (or
  ``rolled_back`` when the summary says so).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from timeline.sources._account import FileAccount
from timeline.sources.documents import DocumentOptions, register
from timeline.sources.documents._common import Rows, text_of, first, head_text, json_head, load_document, new_account, time_or_reject

LOG_ENTRY_ACTIONS = {
    "trigger_log_entry": "fired",
    "acknowledge_log_entry": "acknowledged",
    "unacknowledge_log_entry": "unacknowledged",
    "resolve_log_entry": "resolved",
    "assign_log_entry": "assigned",
    "escalate_log_entry": "escalated",
    "notify_log_entry": "notified",
    "annotate_log_entry": "annotated",
    "reach_trigger_limit_log_entry": "trigger_limit",
    "repeat_escalation_path_log_entry": "escalated",
    "exhaust_escalation_path_log_entry": "escalation_exhausted",
    "snooze_log_entry": "snoozed",
    "urgency_change_log_entry": "urgency_changed",
    "priority_change_log_entry": "priority_changed",
    "link_log_entry": "linked",
    "delegate_log_entry": "assigned",
    "reopen_log_entry": "reopened",
}
EVENT_ACTIONS = {
    "triggered": "fired", "trigger": "fired", "acknowledged": "acknowledged", "acknowledge": "acknowledged",
    "unacknowledged": "unacknowledged", "unacknowledge": "unacknowledged", "escalated": "escalated", "escalate": "escalated",
    "reassigned": "assigned", "assign": "assigned", "delegated": "assigned", "delegate": "assigned",
    "resolved": "resolved", "resolve": "resolved", "reopened": "reopened", "annotated": "annotated", "annotate": "annotated",
    "priority_updated": "priority_changed", "responder.added": "responder_added", "responder.replied": "responder_replied",
    "status_update_published": "status_update", "conference_bridge.updated": "bridge_updated", "service_updated": "service_changed",
}
SEVERITY_LEVELS = {"critical": "critical", "error": "error", "warning": "warning", "info": "info"}
_ROLLBACK = re.compile(r"\b(roll(ed|ing)?[ -]?back|revert(ed|ing)?)\b", re.IGNORECASE)


def _shape(doc: Any) -> str | None:
    """Which PagerDuty document this is (by its keys)."""
    item = doc[0] if isinstance(doc, list) and doc else doc
    if not isinstance(item, Mapping):
        return None
    if isinstance(item.get("log_entries"), list) and "messages" not in item:
        return "log_entries"
    if isinstance(item.get("incidents"), list) or (isinstance(item.get("incident"), Mapping) and "incident_number" in item["incident"]):
        return "incidents"
    if isinstance(item.get("change_events"), list):
        return "change_events"
    if isinstance(item.get("event"), Mapping) and "event_type" in item["event"]:
        return "webhook_v3"
    if isinstance(item.get("messages"), list) and item["messages"] and isinstance(item["messages"][0], Mapping) and str(item["messages"][0].get("event", "")).startswith("incident."):
        return "webhook_v2"
    if "routing_key" in item and "event_action" in item:
        return "events_v2"
    if "routing_key" in item and isinstance(item.get("payload"), Mapping) and "summary" in item["payload"]:
        return "change_event"
    if str(item.get("type", "")).endswith("_log_entry"):
        return "log_entries"
    return None


class PagerDutyReader:
    """Reads PagerDuty incidents, log entries, webhooks, Events API v2 and change events."""

    name = "pagerduty"
    directory = False

    def detect(self, path: Path) -> float:
        """Sure when the document has one of PagerDuty's shapes."""
        head = head_text(path, 8192)
        if not any(k in head for k in ('"log_entries"', '"incidents"', '"incident"', '"event_type"', '"routing_key"', '"change_events"', '_log_entry"', '"messages"')):
            return 0.0
        return 0.95 if _shape(json_head(path)) else 0.0

    def read(self, path: Path, options: DocumentOptions) -> tuple[pl.DataFrame, FileAccount]:
        """Read the document into alert (or change) lifecycle events."""
        account = new_account(path, self.name, "alert", options)
        rows = Rows(account, "alert")
        doc = load_document(path)
        docs = doc if isinstance(doc, list) else [doc]
        shape = _shape(doc)
        if shape == "log_entries" and docs and str(first(docs[0], "type") or "").endswith("_log_entry"):
            docs = [{"log_entries": docs}]
        handler = {
            "log_entries": _log_entries,
            "incidents": _incidents,
            "change_events": _change_events,
            "webhook_v3": _webhook_v3,
            "webhook_v2": _webhook_v2,
            "events_v2": _events_v2,
            "change_event": _change_events,
        }.get(shape or "")
        if handler is None:
            account.lines += len(docs)
            account.reject(1, "not a PagerDuty incidents, log entries, webhook, events or change document", str(doc)[:200], count=len(docs))
            return rows.finish()
        handler(docs, rows, options)
        return rows.finish()


def _objects(items: Iterable[Any], account: FileAccount, what: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """Number the records of an export, count each as read, and reject those that are not objects."""
    for n, item in enumerate(items, 1):
        account.lines += 1
        if not isinstance(item, Mapping):
            account.reject(n, f"{what} is not an object", str(item)[:200])
            continue
        yield n, item


def _incident_ref(inc: Any) -> str | None:
    if isinstance(inc, Mapping):
        return text_of(inc.get("id")) or text_of(inc.get("incident_number"))
    return text_of(inc)


def _log_entries(docs: list[Any], rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    entries = (e for d in docs if isinstance(d, Mapping) for e in d.get("log_entries", []))
    for n, e in _objects(entries, account, "log entry"):
        etype = str(e.get("type", ""))
        when = time_or_reject(e.get("created_at"), account, n, "created_at", options.tz)
        if when is None:
            if not e.get("created_at"):
                account.reject(n, "log entry has no created_at", etype)
            continue
        action = LOG_ENTRY_ACTIONS.get(etype, etype.removesuffix("_log_entry") or "updated")
        incident = e.get("incident") or {}
        title = first(incident, "summary", "title") or ""
        channel = e.get("channel") or {}
        note = first(channel, "summary") if action == "annotated" else None
        assignees = [a.get("summary") for a in e.get("assignees", []) or [] if isinstance(a, Mapping)]
        summary = e.get("summary") or ""
        text = note or (title if action == "fired" else summary or title)
        if assignees and action in ("assigned", "escalated"):
            text = f"{text} ({', '.join(filter(None, assignees))})" if text else ", ".join(filter(None, assignees))
        level = "critical" if action == "fired" and first(incident, "urgency") == "high" else "warning" if action in ("fired", "escalated") else "info"
        rows.add(
            when, action, text, line=n,
            actor=first(e, "agent.summary", "agent.name"),
            ref=_incident_ref(incident),
            level=level,
            service=first(e, "service.summary", "service.name"),
            attrs={"log_entry_id": e.get("id"), "type": etype, "incident": title, "channel": first(channel, "type"), "assignees": assignees, "summary": summary if text != summary else None},
        )


def _incidents(docs: list[Any], rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    incidents = (
        inc for d in docs for inc in (d.get("incidents") if isinstance(d.get("incidents"), list) else [d.get("incident")])
    )
    for n, inc in _objects(incidents, account, "incident"):
        ref = _incident_ref(inc)
        title = inc.get("title") or inc.get("summary") or inc.get("description") or ""
        created = time_or_reject(inc.get("created_at"), account, n, "created_at", options.tz)
        if created is None:
            if not inc.get("created_at"):
                account.reject(n, "incident has no created_at", ref or "")
            continue
        service = first(inc, "service.summary", "service.name")
        attrs = {"incident_number": inc.get("incident_number"), "status": inc.get("status"), "urgency": inc.get("urgency"), "incident_key": inc.get("incident_key"), "priority": first(inc, "priority.summary", "priority.name"), "html_url": inc.get("html_url"), "title": title}
        level = "critical" if inc.get("urgency") == "high" else "warning"
        rows.add(created, "fired", title, line=n, actor="pagerduty", ref=ref, level=level, service=service, attrs=attrs)
        for a in inc.get("assignments", []) or []:
            when = time_or_reject(a.get("at"), account, n, "assignments.at", options.tz) if isinstance(a, Mapping) else None
            if when is not None:
                who = first(a, "assignee.summary", "assignee.name")
                rows.add(when, "assigned", f"assigned to {who}: {title}", line=n, actor=who, ref=ref, service=service, attrs={"title": title})
        for a in inc.get("acknowledgements", []) or []:
            when = time_or_reject(a.get("at"), account, n, "acknowledgements.at", options.tz) if isinstance(a, Mapping) else None
            if when is not None:
                who = first(a, "acknowledger.summary", "acknowledger.name")
                rows.add(when, "acknowledged", f"acknowledged by {who}: {title}", line=n, actor=who, ref=ref, service=service, attrs={"title": title})
        if inc.get("status") == "resolved":
            value = inc.get("resolved_at") or inc.get("last_status_change_at")
            when = time_or_reject(value, account, n, "resolved_at", options.tz)
            if when is not None:
                rows.add(when, "resolved", f"resolved: {title}", line=n, actor=first(inc, "last_status_change_by.summary"), ref=ref, service=service, attrs={"from": "resolved_at" if inc.get("resolved_at") else "last_status_change_at"})


def _webhook_v3(docs: list[Any], rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    for n, d in enumerate(docs, 1):
        account.lines += 1
        ev = d.get("event") if isinstance(d, Mapping) else None
        if not isinstance(ev, Mapping):
            account.reject(n, "webhook delivery has no event object", str(d)[:200])
            continue
        etype = str(ev.get("event_type", ""))
        when = time_or_reject(ev.get("occurred_at"), account, n, "occurred_at", options.tz)
        if when is None:
            if not ev.get("occurred_at"):
                account.reject(n, "webhook event has no occurred_at", etype)
            continue
        data = ev.get("data") or {}
        incident = data.get("incident") if isinstance(data.get("incident"), Mapping) else data
        resource, _, verb = etype.partition(".")
        action = EVENT_ACTIONS.get(verb, verb.replace(".", "_") or "updated")
        title = first(incident, "title", "summary") or ""
        text = data.get("content") or data.get("message") or title
        if action in ("assigned", "escalated"):
            who = [a.get("summary") for a in data.get("assignees", []) or [] if isinstance(a, Mapping)]
            if who:
                text = f"{title} ({', '.join(filter(None, who))})"
        level = "critical" if action == "fired" and first(incident, "urgency") == "high" else "warning" if action in ("fired", "escalated") else "info"
        rows.add(
            when, action, text, line=n,
            actor=first(ev, "agent.summary", "agent.name") or ("pagerduty" if action == "fired" else None),
            ref=_incident_ref(incident) if resource == "incident" else text_of(data.get("id")),
            level=level,
            service=first(incident, "service.summary"),
            attrs={"event_id": ev.get("id"), "event_type": etype, "status": first(incident, "status"), "number": first(incident, "number"), "title": title, "urgency": first(incident, "urgency"), "html_url": first(incident, "html_url")},
        )


def _webhook_v2(docs: list[Any], rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    messages = (m for d in docs if isinstance(d, Mapping) for m in d.get("messages", []))
    for n, m in _objects(messages, account, "message"):
        verb = str(m.get("event", "")).partition(".")[2]
        action = EVENT_ACTIONS.get(verb, verb or "updated")
        inc = m.get("incident") or {}
        entries = m.get("log_entries") or []
        entry = entries[0] if entries and isinstance(entries[0], Mapping) else {}
        value = m.get("created_on") or entry.get("created_at") or (inc.get("created_at") if action == "fired" else None)
        when = time_or_reject(value, account, n, "created_on", options.tz)
        if when is None:
            if not value:
                account.reject(n, "message has no created_on", str(m.get("event")))
            continue
        title = inc.get("title") or first(inc, "trigger_summary_data.subject", "trigger_summary_data.description", "summary") or ""
        actor = first(entry, "agent.summary", "agent.name") or first(inc, "last_status_change_by.name", "last_status_change_by.summary")
        level = "warning" if action in ("fired", "escalated") else "info"
        text = first(entry, "channel.summary") if action == "annotated" else title
        rows.add(when, action, text or title, line=n, actor=actor or ("pagerduty" if action == "fired" else None), ref=_incident_ref(inc), level=level, service=first(inc, "service.name", "service.summary"), attrs={"event": m.get("event"), "message_id": m.get("id"), "incident_number": inc.get("incident_number"), "status": inc.get("status"), "title": title})


def _events_v2(docs: list[Any], rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    for n, e in enumerate(docs, 1):
        account.lines += 1
        if not isinstance(e, Mapping) or "event_action" not in e:
            account.reject(n, "not an Events API v2 event", str(e)[:200])
            continue
        action = EVENT_ACTIONS.get(str(e["event_action"]), str(e["event_action"]))
        payload = e.get("payload") or {}
        value = payload.get("timestamp") or e.get("timestamp")
        if not value:
            account.reject(n, f"Events API v2 {e['event_action']} event carries no timestamp", str(e.get("dedup_key")))
            continue
        when = time_or_reject(value, account, n, "payload.timestamp", options.tz)
        if when is None:
            continue
        rows.add(
            when, action, payload.get("summary") or str(e.get("dedup_key") or ""), line=n,
            actor=payload.get("source") or e.get("client") or "pagerduty",
            ref=e.get("dedup_key"),
            level=SEVERITY_LEVELS.get(str(payload.get("severity", "")).lower(), "warning") if action == "fired" else "info",
            host=payload.get("source"),
            service=payload.get("component") or payload.get("group"),
            attrs={"class": payload.get("class"), "group": payload.get("group"), "custom_details": payload.get("custom_details"), "links": e.get("links"), "client": e.get("client")},
        )


def _change_events(docs: list[Any], rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    items: list[Any] = []
    for d in docs:
        items.extend(d["change_events"] if isinstance(d, Mapping) and isinstance(d.get("change_events"), list) else [d])
    for n, e in _objects(items, account, "change event"):
        payload = e.get("payload") if isinstance(e.get("payload"), Mapping) else e
        value = payload.get("timestamp") or e.get("timestamp")
        when = time_or_reject(value, account, n, "timestamp", options.tz)
        if when is None:
            if not value:
                account.reject(n, "change event has no timestamp", str(payload.get("summary")))
            continue
        summary = payload.get("summary") or ""
        details = payload.get("custom_details") or {}
        action = "rolled_back" if _ROLLBACK.search(summary) else "deployed"
        actor = first(details, "user", "author", "deployer", "triggered_by") if isinstance(details, Mapping) else None
        rows.add(
            when, action, summary, line=n, kind="change",
            actor=actor or payload.get("source"),
            ref=e.get("id") or (first(details, "deploy_id", "build_id", "build_num", "version", "sha") if isinstance(details, Mapping) else None),
            host=payload.get("source"),
            service=next((s.get("summary") for s in e.get("services", []) or [] if isinstance(s, Mapping)), None),
            attrs={"custom_details": details, "links": e.get("links"), "source": payload.get("source")},
        )


register(PagerDutyReader())
