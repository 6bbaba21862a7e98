"""Slack workspace exports, unpacked (a folder) or zipped, read as one document.

An export holds ``users.json``, ``channels.json`` (and ``groups.json``,
``dms.json``, ``mpims.json``), and one folder per channel with one file per
day (``2024-08-12.json``), each a JSON array of messages. Every message is one
event:

- ``ts`` (``"1723498260.000200"``: epoch seconds and a sequence) is its time;
- ``user`` ids are resolved to names from ``users.json`` (bots by their name);
- mentions ``<@U024BE7LH>``, channel links ``<#C123|incident>`` and links
  ``<https://…|label>`` are turned into readable text, ``&amp;`` and friends
  decoded;
- a thread reply keeps its parent's ``ref`` (``channel:thread_ts``) so a
  thread reads together; its own ``ts`` is in ``attrs``;
- an edited message is the final text at its original time (``attrs.edited``);
  a deleted one (``tombstone``, ``message_deleted``) is a ``deleted`` event;
  joins, leaves and topic changes are ``joined``/``left``/``topic`` events.

A zip is read in place: members are never written to disk, a member whose
name would leave the archive (absolute, ``..``) is refused, and a member
that would unpack to an absurd size (:data:`MAX_MEMBER_BYTES`, or a
compression ratio above :data:`MAX_RATIO`) stops the read with an error.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl

from timeline._errors import InputError
from timeline.sources._account import FileAccount
from timeline.sources.documents import DocumentOptions, register
from timeline.sources.documents._common import Rows, new_account

MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 4 * 1024 * 1024
META_FILES = {"users.json", "channels.json", "groups.json", "dms.json", "mpims.json", "integration_logs.json", "canvases.json", "org_users.json", "huddle_transcripts.json"}
CHANNEL_LISTS = ("channels.json", "groups.json", "mpims.json", "dms.json")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
SUBTYPE_ACTIONS = {
    "channel_join": "joined", "group_join": "joined", "channel_leave": "left", "group_leave": "left",
    "channel_topic": "topic", "group_topic": "topic", "channel_purpose": "purpose", "group_purpose": "purpose",
    "channel_name": "renamed", "pinned_item": "pinned", "tombstone": "deleted", "message_deleted": "deleted",
    "message_changed": "edited", "channel_archive": "archived",
}
QUIET = {"joined", "left", "purpose", "renamed", "archived"}


class _Archive:
    """Uniform access to the members of an export folder or zip (posix relative names)."""

    def __init__(self, path: Path, account: FileAccount | None = None) -> None:
        self.path = path
        self.account = account
        self.zip: zipfile.ZipFile | None = None
        self.prefix = ""
        if path.is_dir():
            self.names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*.json") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            self.zip = zipfile.ZipFile(path)
            self.names = []
            total = 0
            for info in self.zip.infolist():
                if info.is_dir():
                    continue
                if not _safe_name(info.filename):
                    if account is not None:
                        account.lines += 1
                        account.reject(0, "zip member name leaves the archive (absolute or '..'): refused, not read", info.filename)
                    continue
                _check_size(path, info)
                total += info.file_size
                if total > MAX_TOTAL_BYTES:
                    msg = f"{path}: the zip would unpack to more than {MAX_TOTAL_BYTES:,} bytes; refused (unpack it yourself if it is genuine)"
                    raise InputError(msg)
                if info.filename.endswith(".json"):
                    self.names.append(info.filename)
            self.names.sort()
        # an export zipped with its top folder: strip the common prefix
        meta = [n for n in self.names if PurePosixPath(n).name in ("channels.json", "users.json")]
        if meta and all("/" in n for n in meta):
            first = PurePosixPath(meta[0]).parent.as_posix()
            if all(n.startswith(first + "/") for n in self.names):
                self.prefix = first + "/"
                self.names = [n[len(self.prefix):] for n in self.names]

    def display(self, name: str) -> str:
        sep = "!" if self.zip is not None else "/"
        return f"{self.path}{sep}{self.prefix}{name}"

    def read(self, name: str) -> bytes:
        full = self.prefix + name
        if self.zip is None:
            return (self.path / full).read_bytes()
        info = self.zip.getinfo(full)
        _check_size(self.path, info)
        with self.zip.open(info) as fh:
            data = fh.read(MAX_MEMBER_BYTES + 1)
        if len(data) > MAX_MEMBER_BYTES:
            msg = f"{self.path}: member {full} unpacks to more than {MAX_MEMBER_BYTES:,} bytes (its header says {info.file_size:,}); refused"
            raise InputError(msg)
        return data

    def json(self, name: str) -> Any:
        text = self.read(name).decode("utf-8-sig", errors="replace")
        return json.loads(text)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _safe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\\" in name:
        return False
    return ".." not in PurePosixPath(name).parts


def _check_size(path: Path, info: zipfile.ZipInfo) -> None:
    size, packed = info.file_size, max(info.compress_size, 1)
    if size > MAX_MEMBER_BYTES or (size > RATIO_FLOOR_BYTES and size / packed > MAX_RATIO):
        msg = (
            f"{path}: member {info.filename} would unpack to {size:,} bytes from {info.compress_size:,} "
            f"(limit {MAX_MEMBER_BYTES:,} bytes, ratio {MAX_RATIO}:1); refused as a likely zip bomb"
        )
        raise InputError(msg)


def _looks_like_export(names: list[str]) -> float:
    base = {n for n in names if "/" not in n}
    has_lists = any(c in base for c in CHANNEL_LISTS)
    has_days = any(_DAY.match(PurePosixPath(n).name) and n.count("/") == 1 for n in names)
    if has_lists and ("users.json" in base or has_days):
        return 0.95 if has_days else 0.8
    return 0.0


class SlackReader:
    """Reads a Slack export folder or zip."""

    name = "slack"
    directory = True

    def detect(self, path: Path) -> float:
        """Sure for a folder or zip holding channels.json/users.json and per-day channel files."""
        try:
            if path.is_dir():
                top = {p.name for p in path.iterdir()}
                if not any(c in top for c in CHANNEL_LISTS):
                    return 0.0
                names = [n for n in top if n.endswith(".json")]
                for sub in path.iterdir():
                    if sub.is_dir():
                        names.extend(f"{sub.name}/{p.name}" for p in list(sub.glob("*.json"))[:3])
                return _looks_like_export(names)
            if path.is_file() and zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as zf:
                    names = [i.filename for i in zf.infolist() if not i.is_dir()]
                meta = [n for n in names if PurePosixPath(n).name in CHANNEL_LISTS]
                if meta and "/" in meta[0]:
                    prefix = PurePosixPath(meta[0]).parent.as_posix() + "/"
                    names = [n[len(prefix):] for n in names if n.startswith(prefix)]
                return _looks_like_export(names)
        except (OSError, zipfile.BadZipFile, ValueError):
            return 0.0
        return 0.0

    def read(self, path: Path, options: DocumentOptions) -> tuple[pl.DataFrame, FileAccount]:
        """Read every message of every channel into chat events."""
        account = new_account(path, self.name, "chat", options)
        account.tz = "UTC"
        rows = Rows(account, "chat")
        try:
            archive = _Archive(path, account)
        except zipfile.BadZipFile as exc:
            msg = f"{path}: not a readable zip: {exc}"
            raise InputError(msg) from exc
        try:
            users = _users(archive, account)
            channel_ids = _channels(archive, account)
            for name in archive.names:
                parts = name.split("/")
                if len(parts) == 1:
                    continue
                if len(parts) != 2 or not _DAY.match(parts[1]):
                    account.warnings.append(f"{archive.display(name)}: not a channel day file; skipped")
                    continue
                _day_file(archive, name, parts[0], users, channel_ids, rows)
        finally:
            archive.close()
        return rows.finish()


def _users(archive: _Archive, account: FileAccount) -> dict[str, str]:
    out: dict[str, str] = {}
    for list_name in ("users.json", "org_users.json"):
        if list_name not in archive.names:
            continue
        try:
            data = archive.json(list_name)
        except json.JSONDecodeError as exc:
            account.warnings.append(f"{archive.display(list_name)}: not valid JSON ({exc.msg} at line {exc.lineno}); user ids stay ids")
            continue
        for u in data if isinstance(data, list) else []:
            if not isinstance(u, Mapping) or not u.get("id"):
                continue
            profile = u.get("profile") or {}
            out[str(u["id"])] = str(u.get("real_name") or profile.get("real_name") or profile.get("display_name") or u.get("name") or u["id"])
    if not out:
        account.warnings.append("no users.json: user ids are not resolved to names")
    return out


def _channels(archive: _Archive, account: FileAccount) -> dict[str, str]:
    """Channel id -> name (for ``<#C123>`` links without a label)."""
    out: dict[str, str] = {}
    for list_name in CHANNEL_LISTS:
        if list_name not in archive.names:
            continue
        try:
            data = archive.json(list_name)
        except json.JSONDecodeError as exc:
            account.warnings.append(f"{archive.display(list_name)}: not valid JSON ({exc.msg}); channel ids stay ids")
            continue
        for c in data if isinstance(data, list) else []:
            if isinstance(c, Mapping) and c.get("id"):
                out[str(c["id"])] = str(c.get("name") or c["id"])
    return out


def slack_time(ts: Any) -> dt.datetime:
    """A Slack ``ts`` string (``"1723498260.000200"``) as a UTC time, to the microsecond."""
    text = str(ts).strip()
    seconds, _, frac = text.partition(".")
    if not seconds.isdigit() or (frac and not frac.isdigit()):
        raise ValueError(f"not a Slack ts: {text!r}")
    micros = int(seconds) * 1_000_000 + int((frac or "0").ljust(6, "0")[:6])
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=micros)


_MENTION = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto|ftp):[^>|]+)(?:\|([^>]*))?>")


def slack_text(text: str, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    """Slack markup to readable text: mentions, channel links and links resolved, entities decoded."""

    def mention(m: re.Match[str]) -> str:
        sigil, target, label = m.groups()
        if sigil == "@":
            return "@" + (label or users.get(target, target))
        if sigil == "#":
            return "#" + (label or channels.get(target, target))
        if label:
            return label if label.startswith("@") else "@" + label
        return "@" + target.split("^")[0]

    out = _LINK.sub(lambda m: m.group(2) or m.group(1), text or "")
    out = _MENTION.sub(mention, out)
    return html.unescape(out)


def _day_file(archive: _Archive, name: str, channel: str, users: Mapping[str, str], channels: Mapping[str, str], rows: Rows) -> None:
    account = rows.account
    where = archive.display(name)
    try:
        messages = archive.json(name)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        account.lines += 1
        account.reject(0, f"{where}: not valid JSON ({getattr(exc, 'msg', exc)}); the day's messages are not read", name)
        return
    if not isinstance(messages, list):
        account.lines += 1
        account.reject(0, f"{where}: not a JSON array of messages", name)
        return
    for i, m in enumerate(messages, 1):
        account.lines += 1
        if not isinstance(m, Mapping) or not m.get("ts"):
            account.reject(i, f"{where}: message without ts", str(m)[:200])
            continue
        try:
            when = slack_time(m["ts"])
        except ValueError as exc:
            account.reject(i, f"{where}: {exc}", str(m["ts"]))
            continue
        subtype = m.get("subtype")
        msg = m
        if subtype == "message_changed" and isinstance(m.get("message"), Mapping):
            msg = {**m["message"], "ts": m["message"].get("ts", m["ts"])}
        action = SUBTYPE_ACTIONS.get(str(subtype), "said")
        user_id = msg.get("user") or msg.get("bot_id")
        actor = users.get(str(user_id)) if user_id else None
        if actor is None:
            actor = msg.get("username") or (msg.get("bot_profile") or {}).get("name") or (msg.get("user_profile") or {}).get("real_name") or user_id
        text = slack_text(str(msg.get("text") or ""), users, channels)
        files = [f.get("name") or f.get("title") for f in msg.get("files", []) or [] if isinstance(f, Mapping)]
        attachments = [a.get("fallback") or a.get("text") or a.get("title") for a in msg.get("attachments", []) or [] if isinstance(a, Mapping)]
        if not text and attachments:
            text = "\n".join(filter(None, attachments))
        if action == "deleted" and not text.strip():
            text = "(message deleted)"
        if files:
            text = (text + "\n" if text else "") + "[files: " + ", ".join(filter(None, files)) + "]"
        thread_ts = msg.get("thread_ts")
        root = thread_ts or msg.get("ts")
        edited = msg.get("edited") if isinstance(msg.get("edited"), Mapping) else None
        rows.add(
            when, action, text, line=i,
            actor=actor,
            ref=f"{channel}:{root}",
            level="debug" if action in QUIET else "info",
            source=f"slack#{channel}",
            file=where,
            attrs={
                "channel": channel,
                "ts": msg.get("ts"),
                "thread_ts": thread_ts if thread_ts and thread_ts != msg.get("ts") else None,
                "reply_count": msg.get("reply_count"),
                "user_id": user_id,
                "subtype": subtype,
                "edited": {"by": users.get(str(edited.get("user")), edited.get("user")), "at": slack_time(edited["ts"]).isoformat()} if edited and edited.get("ts") else None,
                "reactions": {r.get("name"): r.get("count") for r in msg.get("reactions", []) or [] if isinstance(r, Mapping)},
                "bot": bool(msg.get("bot_id")) or None,
            },
        )


register(SlackReader())
