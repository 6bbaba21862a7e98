"""The per-file account: every line read is an event, a continuation, blank, or rejected."""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_REJECTED_SHOWN = 20
MAX_SHOWN_PER_REASON = 5


@dataclass
class Rejection:
    """One rejected line (or record), with why."""

    line: int
    reason: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FileAccount:
    """What happened to one file.

    The invariant ``events + continuation_lines + blank + rejected == lines``
    holds for every line-oriented file; for documents (ticket exports, Slack)
    ``lines`` counts records and ``events`` may exceed it, since one ticket
    yields several lifecycle events.
    """

    file: str
    format: str | None
    confidence: float = 0.0
    source: str | None = None
    kind: str | None = None
    lines: int = 0
    events: int = 0
    continuation_lines: int = 0
    blank: int = 0
    rejected: int = 0
    records: int | None = None
    bytes: int = 0
    compression: str | None = None
    tz: str | None = None
    tz_assumed: bool = False
    zones_seen: list[str] = field(default_factory=list)
    first_ts: str | None = None
    last_ts: str | None = None
    rejected_reasons: dict[str, int] = field(default_factory=dict)
    examples: list[Rejection] = field(default_factory=list, repr=False)
    warnings: list[str] = field(default_factory=list)
    sniff: list[tuple[str, float]] = field(default_factory=list)
    generic: bool = False
    tz_given: bool = False

    def reject(self, line: int, reason: str, text: str, count: int = 1) -> None:
        """Record rejected lines (the first few of each reason are kept verbatim)."""
        key = reason.split(":")[0] if len(reason) > 80 else reason
        self._count(key, count)
        self._keep(key, [(line, Rejection(line, reason, text[:300]))])

    def reject_group(self, reason: str, count: int, examples: list[tuple[int, str]]) -> None:
        """Record ``count`` lines rejected for one reason, keeping a few examples verbatim."""
        self._count(reason, count)
        self._keep(reason, [(line, Rejection(line, reason, text[:300])) for line, text in examples])

    def _count(self, key: str, count: int) -> None:
        self.rejected += count
        self.rejected_reasons[key] = self.rejected_reasons.get(key, 0) + count

    def _keep(self, key: str, examples: list[tuple[int, Rejection]]) -> None:
        # The first few lines of each reason, in file order: the same whether the file
        # was read whole or block by block.
        shown = sum(1 for r in self.examples if (r.reason.split(":")[0] if len(r.reason) > 80 else r.reason) == key)
        for _, rejection in sorted(examples, key=lambda e: e[0])[: max(0, MAX_SHOWN_PER_REASON - shown)]:
            bisect.insort(self.examples, rejection, key=lambda r: r.line)

    @property
    def rejected_lines(self) -> list[Rejection]:
        """The rejected lines shown verbatim: the first of each reason, in file order (at most 20)."""
        return self.examples[:MAX_REJECTED_SHOWN]

    @property
    def balanced(self) -> bool:
        """True when every line is accounted for."""
        if self.records is not None:
            return True
        return self.events + self.continuation_lines + self.blank + self.rejected == self.lines

    def to_dict(self) -> dict[str, Any]:
        """The JSON report object (keys file, format, lines, events, continuation_lines, rejected, ...)."""
        out = asdict(self)
        del out["examples"]
        out["rejected_lines"] = [r.to_dict() for r in self.rejected_lines]
        out["sniff"] = [{"format": n, "score": round(s, 3)} for n, s in self.sniff]
        out["confidence"] = round(self.confidence, 3)
        return out
