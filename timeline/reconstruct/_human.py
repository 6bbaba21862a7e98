"""What people (and their tools) recorded: chat, notes, tickets, alerts and change logs.

Structure first, words second: bots are not people, a reply in a thread answers
the message it hangs from, a mention names who is asked, and a message that
names what the logs show is about this incident. The words themselves live in
``timeline/rules/human.toml``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl

from timeline.reconstruct._rules import any_match, first_line

HUMAN_KINDS = ("chat", "note", "ticket", "alert", "change")

MENTION = r"<@[A-Z0-9]+(?:\|[^>]*)?>|(?:^|[\s(,:])@[A-Za-z][\w.\-]*(?: [A-Z][a-z]+)?"


def human(events: pl.DataFrame, rules: dict[str, Any]) -> pl.DataFrame:
    """Events written by people or ops tools (not bots), with ``_text`` (first line, quotes blanked),
    ``_hyp`` (a proposal, plan, condition or negation), ``_talk`` (that or a question: never an action),
    ``_thread`` (the thread it replies to) and ``_msg_ts`` (its own id in a chat export)."""
    bots = rules.get("bots", {}).get("actors", [])
    frame = events.filter(pl.col("kind").cast(pl.String).is_in(HUMAN_KINDS))
    attrs = pl.col("attrs").fill_null("")
    is_bot = (
        any_match(pl.col("actor").fill_null(""), bots)
        | attrs.str.contains('"subtype":\\s*"bot_message"')
        | attrs.str.contains('"bot":\\s*true')
    ) & pl.col("kind").cast(pl.String).is_in(["chat", "note"])
    # Text in backticks quotes a log line or a command someone saw; it is not what they did.
    text = first_line(pl.col("message")).fill_null("").str.replace_all(r"`[^`]*`", "`…`")
    return (
        frame.filter(~is_bot)
        .with_columns(text.alias("_text"))
        .with_columns(
            any_match(pl.col("_text"), rules["hypothetical"]["patterns"]).alias("_hyp"),
            any_match(pl.col("_text"), rules.get("question", {}).get("patterns", [])).alias("_q"),
            attrs.str.extract(r'"thread_ts":\s*"([^"]+)"').alias("_thread"),
            attrs.str.extract(r'"ts":\s*"([^"]+)"').alias("_msg_ts"),
        )
        .with_columns((pl.col("_hyp") | pl.col("_q")).alias("_talk"))
        .drop("_q")
    )


def rule_hits(frame: pl.DataFrame, rule: dict[str, Any], *, allow_talk: bool = False) -> pl.DataFrame:
    """Rows of a :func:`human` frame that a rule's lifecycle actions or (outside talk) its text match."""
    kinds = rule.get("kinds", list(HUMAN_KINDS))
    text_kinds = rule.get("text_kinds", kinds)
    kind = pl.col("kind").cast(pl.String)
    text_hit = any_match(pl.col("_text"), rule.get("patterns", [])) & kind.is_in(text_kinds)
    if not allow_talk:
        text_hit = text_hit & ~pl.col("_talk")
    action_hit = pl.col("action").fill_null("").is_in(rule.get("actions", []))
    return frame.filter(kind.is_in(kinds) & (action_hit | text_hit)).sort("ts", "file", "line", nulls_last=True)


def matches(rule: dict[str, Any], text: str, rules: dict[str, Any], *, allow_talk: bool = False) -> bool:
    """Whether a rule's text patterns take one line (used to check a rule's samples)."""
    frame = pl.DataFrame({"t": [text]}).with_columns(pl.col("t").str.replace_all(r"`[^`]*`", "`…`"))
    hit = frame.select(any_match(pl.col("t"), rule.get("patterns", []))).item()
    if allow_talk or not hit:
        return bool(hit)
    talk = frame.select(
        any_match(pl.col("t"), [*rules["hypothetical"]["patterns"], *rules.get("question", {}).get("patterns", [])])
    ).item()
    return bool(hit and not talk)


def mentions(text: str) -> list[str]:
    """People or groups a message mentions (``<@U0003>``, ``@sam``, ``@Sam Lindqvist``)."""
    return [m.strip(" (,:").lstrip("@") for m in re.findall(MENTION, text or "")]


_WORD = re.compile(r"[a-z0-9][a-z0-9_.:/-]*[a-z0-9]")

GENERIC = frozenset({
    "the", "and", "for", "with", "from", "into", "change", "changes", "config", "configuration", "deploy", "deployed",
    "log", "logs", "app", "web", "api", "server", "service", "database", "prod", "production", "error", "errors", "info",
    "postgresql", "postgres", "mysql", "applied", "applying", "maintenance", "window", "release", "version", "update",
    "updated", "all", "new", "old", "now", "restart", "reload", "rollback", "this", "that", "was", "are", "has", "have",
    "connection", "connections", "failed", "fatal", "request", "requests", "user", "users", "host", "port",
    "get", "post", "put", "http", "https", "step", "not", "can", "just", "our", "its", "it's", "they", "them",
})


def tokens(text: str) -> set[str]:
    """Lower-case word tokens of three or more characters."""
    return {t for t in _WORD.findall((text or "").lower()) if len(t) >= 3}


def specific(words: set[str]) -> set[str]:
    """The words that name a particular thing: identifiers (``db-primary``, ``pg_hba.conf``,
    ``max_connections``, ``CHG-2291``) rather than ordinary words."""
    return {w for w in words if w not in GENERIC and (any(c in w for c in "-_.:/") or any(c.isdigit() for c in w))}


def target_words(row: dict[str, Any]) -> set[str]:
    """What a change record touches: its target/service/host fields, its source's host, and the
    identifiers in its text."""
    words: set[str] = set()
    attrs = row.get("attrs")
    if attrs:
        try:
            data = json.loads(attrs)
        except (json.JSONDecodeError, TypeError):
            data = {}
        if isinstance(data, dict):
            for key in ("target", "service", "host", "component", "environment", "database", "db", "instance"):
                if isinstance(data.get(key), str):
                    words |= tokens(data[key])
    for key in ("host", "service"):
        if row.get(key):
            words |= tokens(str(row[key]))
    src = row.get("source") or ""
    if str(row.get("kind")) == "db":
        # A database log's source is its server ("postgresql-primary", "db-primary/postgresql").
        words |= tokens(src.replace("/", " "))
    words |= specific(tokens(row.get("message") or ""))
    return {w for w in words if w not in GENERIC}
