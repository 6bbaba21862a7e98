"""Jira issues: the CSV export and REST / webhook issue JSON with its changelog.

- CSV (``Summary, Issue key, Issue id, ..., Created, Updated, Resolved``):
  ``created`` (reporter, summary and description) and ``resolved``; each
  ``Comment`` cell (``14/Nov/18 10:39 AM;557058:ab12;text``) is a ``commented``
  event. Dates are Jira's ``dd/MMM/yy h:mm a`` by default; another instance
  format goes in ``spec_options={"time_format": "%Y-%m-%d %H:%M"}`` (strptime),
  and anything else is read by dateparser, once per distinct value.
- JSON (``{"issues": [...]}``, one issue, or a webhook delivery): ``created``,
  one event per changelog history (status changes become ``in_progress``,
  ``resolved``, ``closed``, ``reopened``, ``escalated``; assignee changes
  ``assigned``), and each comment.
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
    adf_to_text,
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
    repeated,
    time_or_reject,
)

DEFAULT_TIME_FORMAT = "%d/%b/%y %I:%M %p"
PRIORITY_LEVELS = {"highest": "critical", "blocker": "critical", "critical": "critical", "high": "error", "major": "error", "medium": "warning", "low": "info", "lowest": "info", "minor": "info", "trivial": "info"}
_DONE = re.compile(r"^(done|resolved|closed|fixed|complete[d]?|cancel+ed|won't (do|fix))$", re.IGNORECASE)


def status_action(to: str | None, frm: str | None) -> str:
    """The lifecycle verb for a status change ``frm -> to``."""
    t, f = (to or "").strip(), (frm or "").strip()
    if _DONE.match(f) and not _DONE.match(t):
        return "reopened"
    low = t.lower()
    if "escalat" in low:
        return "escalated"
    if low == "closed":
        return "closed"
    if _DONE.match(t):
        return "resolved"
    if "progress" in low or low in ("investigating", "in review", "triage"):
        return "in_progress"
    if low in ("open", "to do", "new", "backlog"):
        return "opened"
    return "status_changed"


class JiraReader:
    """Reads Jira CSV exports and REST/webhook issue JSON."""

    name = "jira"
    directory = False

    def detect(self, path: Path) -> float:
        """Sure for issue JSON (``key`` + ``fields``) and for the CSV export's header."""
        head = head_text(path, 8192)
        if '"fields"' in head and ('"key"' in head or '"webhookEvent"' in head):
            doc = json_head(path)
            issues = _issues(doc)
            if issues and isinstance(issues[0], Mapping) and "fields" in issues[0]:
                return 0.95
            return 0.0
        header = set(csv_header(path))
        if {"Issue key", "Summary", "Created"} <= header:
            return 0.95
        return 0.0

    def read(self, path: Path, options: DocumentOptions) -> tuple[pl.DataFrame, FileAccount]:
        """Read issues into lifecycle events."""
        account = new_account(path, self.name, "ticket", options)
        rows = Rows(account, "ticket")
        if head_text(path, 64).lstrip()[:1] in ("{", "["):
            doc = load_document(path)
            _read_json(doc, rows, options)
        else:
            _read_csv(path, rows, options)
        return rows.finish()


def _issues(doc: Any) -> list[Any]:
    if isinstance(doc, Mapping):
        if isinstance(doc.get("issues"), list):
            return doc["issues"]
        if isinstance(doc.get("issue"), Mapping):
            return [doc]  # a webhook delivery: the issue plus its changelog/comment
        if "fields" in doc:
            return [doc]
        return []
    if isinstance(doc, list):
        out: list[Any] = []
        for d in doc:
            out.extend(_issues(d) if isinstance(d, Mapping) and ("issue" in d or "issues" in d) else [d])
        return out
    return []


def _person(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return first(value, "displayName", "name", "emailAddress", "accountId")
    return str(value) if value else None


def _read_json(doc: Any, rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    tz = options.tz
    for i, item in enumerate(_issues(doc), 1):
        account.lines += 1
        webhook = isinstance(item, Mapping) and isinstance(item.get("issue"), Mapping)
        issue = item["issue"] if webhook else item
        if not isinstance(issue, Mapping) or not isinstance(issue.get("fields"), Mapping):
            account.reject(i, "issue: not an object with fields", str(item)[:200])
            continue
        f = issue["fields"]
        ref = str(issue.get("key") or issue.get("id"))
        summary = f.get("summary") or ""
        level = PRIORITY_LEVELS.get(str(first(f, "priority.name") or "").lower(), "info")
        attrs = {
            "status": first(f, "status.name"),
            "priority": first(f, "priority.name"),
            "issuetype": first(f, "issuetype.name"),
            "resolution": first(f, "resolution.name"),
            "assignee": _person(f.get("assignee")),
            "labels": f.get("labels"),
            "project": first(f, "project.key"),
            "summary": summary,
        }
        emitted, before = 0, account.rejected
        if not webhook or item.get("webhookEvent") in ("jira:issue_created", None):
            created = time_or_reject(f.get("created"), account, i, "created", tz)
            if created is not None:
                rows.add(created, "created", join_text(summary, adf_to_text(f.get("description"))), line=i, actor=_person(f.get("reporter") or f.get("creator")), ref=ref, level=level, attrs=attrs)
                emitted += 1
        histories = issue.get("changelog", {}).get("histories", []) if isinstance(issue.get("changelog"), Mapping) else []
        if webhook and isinstance(item.get("changelog"), Mapping):
            hist = dict(item["changelog"])
            hist.setdefault("created", item.get("timestamp"))
            hist.setdefault("author", item.get("user"))
            histories = [*histories, hist]
        for h in histories:
            when = time_or_reject(h.get("created"), account, i, "changelog created", tz)
            if when is None:
                continue
            actions, texts = [], []
            for it in h.get("items", []) or []:
                field = str(it.get("field") or "").lower()
                if field == "status":
                    actions.append(status_action(it.get("toString"), it.get("fromString")))
                    texts.append(f"status {it.get('fromString')} -> {it.get('toString')}")
                elif field == "assignee":
                    actions.append("assigned" if it.get("toString") else "unassigned")
                    texts.append(f"assigned to {it.get('toString')}" if it.get("toString") else "unassigned")
                elif field == "priority":
                    actions.append("priority_changed")
                    texts.append(f"priority {it.get('fromString')} -> {it.get('toString')}")
                elif field == "labels" and "escalat" in str(it.get("toString") or "").lower():
                    actions.append("escalated")
                    texts.append(f"labels {it.get('toString')}")
                elif field == "resolution" and it.get("toString"):
                    actions.append("resolved")
                    texts.append(f"resolution {it.get('toString')}")
                else:
                    texts.append(f"{it.get('field')} {it.get('fromString')} -> {it.get('toString')}")
            order = ("reopened", "resolved", "closed", "escalated", "assigned", "unassigned", "in_progress", "opened", "priority_changed", "status_changed")
            action = next((a for a in order if a in actions), "updated")
            rows.add(when, action, join_text(*texts, sep="; ") or action, line=i, actor=_person(h.get("author")), ref=ref, level="warning" if action == "escalated" else "info", attrs={"history_id": h.get("id"), "summary": summary})
            emitted += 1
        comments = first(f, "comment.comments") or []
        if webhook and isinstance(item.get("comment"), Mapping):
            comments = [*comments, item["comment"]]
        for c in comments:
            when = time_or_reject(c.get("created"), account, i, "comment created", tz)
            if when is not None:
                rows.add(when, "commented", adf_to_text(c.get("body")), line=i, actor=_person(c.get("author")), ref=ref, attrs={"comment_id": c.get("id"), "summary": summary})
                emitted += 1
        resolved = f.get("resolutiondate")
        if resolved and not any(r["ref"] == ref and r["action"] == "resolved" for r in rows.rows):
            when = time_or_reject(resolved, account, i, "resolutiondate", tz)
            if when is not None:
                rows.add(when, "resolved", f"resolved: {summary}", line=i, actor=_person(f.get("assignee")), ref=ref, attrs={"resolution": first(f, "resolution.name")})
                emitted += 1
        if emitted == 0 and account.rejected == before:
            account.reject(i, "issue has no created time, changelog or comment", ref)


def _read_csv(path: Path, rows: Rows, options: DocumentOptions) -> None:
    account = rows.account
    header, records = csv_records(path)
    spec = options.spec_options or {}
    times = HumanTimes(options, time_format=spec.get("time_format", DEFAULT_TIME_FORMAT))
    dicts = [(line, by_name(header, row), row) for line, row in records]
    for col in ("Created", "Resolved"):
        times.column(col, (d.get(col) for _, d, _ in dicts))
    comment_dates = [c.split(";", 1)[0] for _, _, row in dicts for c in repeated(header, row, "Comment")]
    times.column("Comment", comment_dates)
    for line, d, row in dicts:
        account.lines += 1
        ref = d.get("Issue key") or d.get("Issue id")
        created = human_or_reject(times, d.get("Created"), "Created", account, line)
        if created is None:
            if not d.get("Created"):
                account.reject(line, "row has no Created date", ref or "")
            continue
        summary = d.get("Summary", "")
        level = PRIORITY_LEVELS.get(d.get("Priority", "").lower(), "info")
        attrs = {
            "status": d.get("Status"),
            "priority": d.get("Priority"),
            "issue_type": d.get("Issue Type"),
            "resolution": d.get("Resolution"),
            "assignee": d.get("Assignee"),
            "labels": repeated(header, row, "Labels"),
            "summary": summary,
        }
        rows.add(created, "created", join_text(summary, d.get("Description")), line=line, actor=d.get("Reporter") or d.get("Creator"), ref=ref, level=level, attrs=attrs)
        if d.get("Resolved"):
            when = human_or_reject(times, d.get("Resolved"), "Resolved", account, line)
            if when is not None:
                rows.add(when, "resolved", f"resolved ({d.get('Resolution') or d.get('Status')}): {summary}", line=line, actor=d.get("Assignee"), ref=ref, attrs={"resolution": d.get("Resolution")})
        for cell in repeated(header, row, "Comment"):
            parts = cell.split(";", 2)
            if len(parts) < 3:
                account.reject(line, "Comment cell is not 'date;author;text'", cell)
                continue
            when = human_or_reject(times, parts[0], "Comment", account, line)
            if when is not None:
                rows.add(when, "commented", parts[2], line=line, actor=parts[1], ref=ref, attrs={"summary": summary})
    finish_tz_note(account, times, options)


register(JiraReader())
