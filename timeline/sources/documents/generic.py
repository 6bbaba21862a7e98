"""Any other ticket, alert or change export: CSV or JSON read through a column mapping.

The mapping (``DocumentOptions.column_map``, or ``columns`` in a spec file's
``[document]`` table) names, for each event column, the export's column::

    {"ref": "Case Number", "message": "Subject", "actor": "Opened By",
     "created": "Opened", "escalated": "Escalated On", "solved": "Closed",
     "kind": "ticket"}

- ``ts`` (one event per record, its ``action`` from the ``action`` column or
  ``"created"``), or lifecycle keys (``created``, ``escalated``, ``assigned``,
  ``acknowledged``, ``fired``, ``resolved``, ``solved``, ``closed``,
  ``deployed``, ``rolled_back``...: any other key whose column holds times):
  one event per filled time;
- ``message`` (list for several columns joined), ``actor``, ``ref``,
  ``level``, ``host``, ``service``, ``action``;
- ``kind``: a literal event kind (default ``ticket``).

Times are read as ISO / epoch when they are, else by dateparser once per
distinct value, with day-first order decided per column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from timeline._errors import InputError
from timeline.schema import KINDS, LEVELS
from timeline.sources._account import FileAccount
from timeline.sources.documents import DocumentOptions, register
from timeline.sources.documents._common import (
    HumanTimes,
    Rows,
    by_name,
    csv_records,
    finish_tz_note,
    head_text,
    human_or_reject,
    join_text,
    load_json,
    new_account,
    records_of,
    text_of,
)

TEXT_KEYS = ("message", "actor", "ref", "level", "host", "service", "action", "kind", "source")


def column_map(options: DocumentOptions) -> dict[str, Any]:
    """The mapping from the options (``column_map``, or ``spec_options["columns"]``)."""
    mapping = dict(options.column_map or {})
    spec = options.spec_options or {}
    if not mapping and isinstance(spec.get("columns"), Mapping):
        mapping = dict(spec["columns"])
    return mapping


class GenericReader:
    """Reads a CSV or JSON list of records through a user's column mapping."""

    name = "generic"
    directory = False

    def detect(self, path: Path) -> float:
        """Never claims a file by itself: it needs a mapping, so it is chosen with ``format="generic"``."""
        return 0.0

    def read(self, path: Path, options: DocumentOptions) -> tuple[pl.DataFrame, FileAccount]:
        """Read records through the mapping."""
        mapping = column_map(options)
        times_keys = [k for k in mapping if k not in TEXT_KEYS]
        if not times_keys:
            msg = (
                f"{path}: the generic reader needs a column mapping with a time column "
                "('ts', or lifecycle keys such as 'created', 'solved'), e.g. "
                "column_map={'ts': 'When', 'message': 'Text', 'actor': 'Who', 'ref': 'Id'}"
            )
            raise InputError(msg)
        kind = str(mapping.get("kind", (options.spec_options or {}).get("kind", "ticket")))
        if kind not in KINDS:
            msg = f"{path}: column mapping kind {kind!r} is not an event kind; expected one of {', '.join(KINDS)}"
            raise InputError(msg)
        account = new_account(path, self.name, kind, options)
        rows = Rows(account, kind)
        if head_text(path, 64).lstrip()[:1] in ("{", "["):
            doc = load_json(path)
            records: list[tuple[int, Any]] = list(enumerate(records_of(doc, "records", "data", "items", "results") or [doc], 1))
        else:
            header, raw = csv_records(path)
            missing = [c for k, c in mapping.items() if k != "kind" for c in ([c] if isinstance(c, str) else c) if c not in header]
            if missing:
                msg = f"{path}: column mapping names {', '.join(map(repr, missing))}, not in the header; the header has {', '.join(header)}"
                raise InputError(msg)
            records = [(line, by_name(header, row)) for line, row in raw]
        times = HumanTimes(options, time_format=(options.spec_options or {}).get("time_format"))
        for key in times_keys:
            times.column(mapping[key], (_get(r, mapping[key]) for _, r in records if isinstance(r, Mapping)))

        for line, r in records:
            account.lines += 1
            if not isinstance(r, Mapping):
                account.reject(line, "record is not an object", str(r)[:200])
                continue
            message = join_text(*(_get(r, c) for c in _cols(mapping.get("message"))))
            level = str(_get(r, mapping["level"]) or "info").lower() if "level" in mapping else "info"
            base_action = text_of(_get(r, mapping["action"])) if "action" in mapping else None
            emitted, before = 0, account.rejected
            for key in times_keys:
                value = _get(r, mapping[key])
                if value in (None, ""):
                    continue
                when = human_or_reject(times, value, mapping[key], account, line)
                if when is None:
                    continue
                action = (base_action or "created") if key == "ts" else key
                used = {c for k in ("message", *TEXT_KEYS) for c in _cols(mapping.get(k))} | {mapping[k] for k in times_keys}
                attrs = {k: v for k, v in r.items() if k not in used}
                rows.add(
                    when, action, message if emitted == 0 or key == "ts" else f"{action}: {message.splitlines()[0] if message else ''}".strip(": "),
                    line=line,
                    actor=_get(r, mapping["actor"]) if "actor" in mapping else None,
                    ref=_get(r, mapping["ref"]) if "ref" in mapping else None,
                    level=level if level in LEVELS else "info",
                    host=_get(r, mapping["host"]) if "host" in mapping else None,
                    service=_get(r, mapping["service"]) if "service" in mapping else None,
                    attrs=attrs,
                )
                emitted += 1
            if emitted == 0 and account.rejected == before:
                account.reject(line, f"record has no time in {', '.join(mapping[k] for k in times_keys)}", message[:200])
        finish_tz_note(account, times, options)
        return rows.finish()


def _cols(value: Any) -> Sequence[str]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _get(record: Mapping[str, Any], key: str) -> Any:
    if key in record:
        return record[key]
    value: Any = record
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


register(GenericReader())
