"""Prometheus Alertmanager: webhook payloads (v4) and the API's alert list.

A file may hold one payload, a list of them, or one per line (as webhook
receivers log them), or the ``/api/v2/alerts`` list. Each alert yields
``fired`` at ``startsAt`` and, once its status is resolved, ``resolved`` at
``endsAt``; the zero ``endsAt`` (``0001-01-01T00:00:00Z``) of a firing alert is
no time at all. A repeated notification of the same alert (same fingerprint
and start) adds nothing and is merged (the account says how many).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from timeline.sources._account import FileAccount
from timeline.sources.documents import DocumentOptions, register
from timeline.sources.documents._common import Rows, head_text, json_head, load_document, new_account, time_or_reject

SEVERITY_LEVELS = {"critical": "critical", "page": "critical", "error": "error", "major": "error", "high": "error", "warning": "warning", "warn": "warning", "minor": "warning", "info": "info", "none": "info", "low": "info"}


def _is_payload(d: Any) -> bool:
    return isinstance(d, Mapping) and isinstance(d.get("alerts"), list) and ("groupKey" in d or "receiver" in d or "version" in d)


def _is_api_alert(d: Any) -> bool:
    return isinstance(d, Mapping) and "labels" in d and "startsAt" in d


class AlertmanagerReader:
    """Reads Alertmanager webhook payloads and API alert lists."""

    name = "alertmanager"
    directory = False

    def detect(self, path: Path) -> float:
        """Sure for a payload (``alerts`` + ``groupKey``) or a list of alerts with labels and ``startsAt``."""
        head = head_text(path, 8192)
        if '"startsAt"' not in head and '"groupKey"' not in head:
            return 0.0
        doc = json_head(path)
        items = doc if isinstance(doc, list) else [doc]
        if items and (_is_payload(items[0]) or _is_api_alert(items[0])):
            return 0.95
        return 0.0

    def read(self, path: Path, options: DocumentOptions) -> tuple[pl.DataFrame, FileAccount]:
        """Read every alert of every payload into fired/resolved events."""
        account = new_account(path, self.name, "alert", options)
        rows = Rows(account, "alert")
        doc = load_document(path)
        items = doc if isinstance(doc, list) else [doc]
        seen_fired: set[tuple[str, Any]] = set()
        seen_resolved: set[tuple[str, Any]] = set()
        merged = 0
        n = 0
        for p, item in enumerate(items, 1):
            if _is_payload(item):
                payload, alerts = item, item["alerts"]
            elif _is_api_alert(item):
                payload, alerts = {}, [item]
            else:
                account.lines += 1
                account.reject(p, "not an Alertmanager payload or alert", str(item)[:200])
                continue
            for alert in alerts:
                n += 1
                account.lines += 1
                if not isinstance(alert, Mapping):
                    account.reject(p, "alert is not an object", str(alert)[:200])
                    continue
                labels = alert.get("labels") or {}
                ann = alert.get("annotations") or {}
                fp = str(alert.get("fingerprint") or _fingerprint(labels))
                status = alert.get("status")
                if isinstance(status, Mapping):  # API v2: {"state": "active"|"suppressed"|"unprocessed"}
                    status = "firing" if status.get("state") != "resolved" else "resolved"
                status = status or payload.get("status") or "firing"
                starts = time_or_reject(alert.get("startsAt"), account, p, "startsAt", options.tz)
                ends = time_or_reject(alert.get("endsAt"), account, p, "endsAt", options.tz)
                if starts is None:
                    if not alert.get("startsAt"):
                        account.reject(p, "alert has no startsAt", fp)
                    continue
                name = labels.get("alertname", "alert")
                summary = ann.get("summary") or ann.get("description") or ann.get("message") or name
                text = f"[{name}] {summary}" if summary != name else name
                level = SEVERITY_LEVELS.get(str(labels.get("severity", "")).lower(), "warning")
                attrs = {
                    "labels": labels,
                    "annotations": ann,
                    "receiver": payload.get("receiver"),
                    "group_key": payload.get("groupKey"),
                    "generator_url": alert.get("generatorURL"),
                    "external_url": payload.get("externalURL"),
                }
                common = {"line": p, "actor": "alertmanager", "ref": fp, "host": labels.get("instance"), "service": labels.get("service") or labels.get("job")}
                new = False
                if (fp, starts) not in seen_fired:
                    seen_fired.add((fp, starts))
                    rows.add(starts, "fired", text, level=level, attrs=attrs, **common)
                    new = True
                if status == "resolved" and ends is not None and (fp, ends) not in seen_resolved:
                    seen_resolved.add((fp, ends))
                    rows.add(ends, "resolved", f"resolved: {text}", level="info", attrs=attrs, **common)
                    new = True
                if not new:
                    merged += 1
        if merged:
            account.warnings.append(f"{merged} repeated notifications of alerts already seen (same fingerprint and times) merged")
        return rows.finish()


def _fingerprint(labels: Mapping[str, Any]) -> str:
    """A stable id from the label set, for payloads that omit ``fingerprint``."""
    return hashlib.sha1(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]  # noqa: S324 - an id, not security


register(AlertmanagerReader())
