"""Envelopes: a container runtime's line around an application's own log line.

Docker's json-file driver and Kubernetes' CRI format wrap each line an
application wrote; read as they are, every event is at level info with the
application's whole line as its message. A spec marked ``[envelope]`` has the
messages of its first events recognised like a file of their own, and when a
line format reads most of them, each event's message is read by that format:
its level, service, host, message and fields replace the envelope's, while the
envelope's time (written by the runtime, in UTC) is kept. Events whose message
the inner format does not read stay as they are.

An envelope may also be a bare prefix (``[envelope] prefix``, docker compose's
``service-1  | ``) with no time of the runtime: the prefix is cut and the lines
of each name are read as a file of their own (:func:`prefix_spec`, :func:`cut_prefix`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace

import polars as pl

from timeline.schema import conform
from timeline.sources._account import FileAccount
from timeline.sources._parse import Context, parse_regex_lines
from timeline.sources._sniff import SAMPLE_LINES, sniff_lines
from timeline.sources._spec import Spec

# The inner format must read this share of the first messages to be trusted with all of them.
MIN_INNER_SCORE = 0.8
_TAKEN = ("level", "service", "host", "actor", "ref", "action", "attrs")


class Envelope:
    """The inner format of one file's envelope events, decided on its first events."""

    def __init__(self, outer: Spec, specs: Mapping[str, Spec], ctx: Context, parse: Callable, account: FileAccount) -> None:  # type: ignore[type-arg]
        self.account = account
        self.inner_rule: dict | None = None
        self.outer = outer
        self.specs = specs
        self.ctx = replace(ctx, time=replace(ctx.time, in_blocks=False))
        self.parse = parse
        self.inner: Spec | None = None
        self.decided = False
        self.read = 0
        self.seen = 0

    def _decide(self, events: pl.DataFrame) -> None:
        self.decided = True
        first_lines = events.select(
            pl.col("line"), pl.col("message").str.split("\n").list.first().fill_null("").alias("text")
        ).head(SAMPLE_LINES)
        if first_lines.height == 0:
            return
        candidates = {n: s for n, s in self.specs.items() if s.kind == "regex" and not s.raw.get("envelope")}
        ranked = sniff_lines(first_lines, candidates, self.parse)
        if ranked and ranked[0][1] >= MIN_INNER_SCORE:
            spec = self.specs[ranked[0][0]]
            self.inner_rule = dict(spec.multiline)
            # Each message is one record here: lines it does not read stay envelope events.
            self.inner = replace(spec, multiline={k: v for k, v in spec.multiline.items() if k == "ignore"})

    def apply(self, events: pl.DataFrame) -> pl.DataFrame:
        """The events with the messages the inner format reads replaced by what it reads."""
        if not self.decided:
            self._decide(events)
        self.seen += events.height
        if self.inner is None or events.height == 0:
            return events
        parts = events.select(
            pl.col("line"),
            pl.col("message").str.split("\n").list.first().fill_null("").alias("text"),
            pl.col("message").str.splitn("\n", 2).struct.field("field_1").alias("_rest"),
        )
        scratch = FileAccount(file=self.ctx.file, format=self.inner.name)
        inner = conform(parse_regex_lines(parts.select("line", "text"), self.inner, self.ctx, scratch))
        if inner.height == 0:
            return events
        self.read += inner.height
        rest = parts.select("line", "_rest")
        inner = inner.join(rest, on="line", how="left").select(
            pl.col("line"),
            *[pl.col(c).alias(f"_in_{c}") for c in _TAKEN],
            pl.when(pl.col("_rest").is_null()).then(pl.col("message"))
            .otherwise(pl.concat_str([pl.col("message"), pl.lit("\n"), pl.col("_rest")])).alias("_in_message"),
        )
        merged = events.join(inner, on="line", how="left", maintain_order="left")
        hit = pl.col("_in_message").is_not_null()
        merged = merged.with_columns(
            pl.when(hit).then(pl.col("_in_message")).otherwise(pl.col("message")).alias("message"),
            *[pl.when(hit).then(pl.coalesce(pl.col(f"_in_{c}"), pl.col(c))).otherwise(pl.col(c)).alias(c) for c in _TAKEN],
            hit.alias("_hit"),
        )
        return conform(self._join_continuations(merged).select(events.columns))

    def _join_continuations(self, merged: pl.DataFrame) -> pl.DataFrame:
        """Envelope events the inner format would call continuation lines (a traceback's) join the event before."""
        rule = (self.inner_rule or {}).get("continuation") if self.inner_rule else None
        if not rule:
            return merged
        first_line = pl.col("message").str.split("\n").list.first().fill_null("")
        like = pl.lit(True) if rule in (".", ".*", "^.*$") else first_line.str.contains(rule)
        start = pl.col("_hit") | ~like
        merged = merged.with_columns(start.cum_sum().alias("_rec"))
        joined = merged.filter(pl.col("_rec") > 0)
        if joined.height == merged.filter(pl.col("_rec") > 0).select(pl.col("_rec").n_unique()).item():
            return merged
        records = joined.group_by("_rec", maintain_order=True).agg(
            pl.all().exclude("message").first(), pl.col("message").str.join("\n")
        )
        folded = joined.height - records.height
        self.account.events -= folded
        self.account.continuation_lines += folded
        return pl.concat([merged.filter(pl.col("_rec") == 0), records.select(merged.columns)])

    def note(self, account: FileAccount) -> None:
        """Say in the account which format read the lines inside the envelope."""
        if self.inner is not None:
            account.warnings.append(
                f"lines inside the {self.outer.name} envelope read as {self.inner.name}: {self.read:,} of {self.seen:,} events"
            )


def prefix_spec(lines: pl.DataFrame, specs: Mapping[str, Spec]) -> Spec | None:
    """The spec whose ``[envelope] prefix`` opens most of a file's first lines (each name's lines then read on their own)."""
    texts = [t for t in lines["text"].head(SAMPLE_LINES).to_list() if t.strip()]
    if not texts:
        return None
    for spec in specs.values():
        prefix = (spec.raw.get("envelope") or {}).get("prefix")
        if not prefix:
            continue
        rx = re.compile(prefix)
        if sum(1 for t in texts if rx.match(t)) < MIN_INNER_SCORE * len(texts):
            continue
        return spec
    return None


def cut_prefix(lines: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """The lines with the spec's envelope prefix cut: columns line, text (what follows it), name (null: no prefix), whole."""
    prefix = str(spec.raw["envelope"]["prefix"])
    whole = pl.col("text").str.extract(prefix, 0)
    return lines.select(
        pl.col("line"),
        pl.when(whole.is_null()).then(pl.col("text")).otherwise(pl.col("text").str.slice(whole.str.len_chars())).alias("text"),
        pl.col("text").str.extract(prefix, 1).alias("name"),
        pl.col("text").alias("whole"),
    )
