"""The incident store: load incidents from folders and exports into one table.

A store is a folder of incident JSON files in the DESIGN.md contract (as
``timeline reconstruct --json`` writes them), one file per incident, which
may also carry under ``incident`` the optional keys ``id``, ``severity``,
``service`` and ``tags``. :func:`load_incidents` also reads a Statuspage
``incidents.json``, a PagerDuty export and a CSV directly, recognising each by
its content.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from timeline._errors import InputError
from timeline.trends import _imports
from timeline.trends._model import GAPS, INCIDENT_SCHEMA, Note, notes_to_table, rows_to_table

SourceKind = Literal["store", "statuspage", "pagerduty", "csv"]
SOURCES: tuple[str, ...] = ("store", "statuspage", "pagerduty", "csv")


@dataclass
class Incidents:
    """Many incidents in one table, with what loading them could not fill.

    Attributes
    ----------
    table
        One row per incident (polars), columns of
        :data:`timeline.trends._model.INCIDENT_SCHEMA`: ids, severity, service,
        tags, every milestone time in UTC, ``detected_by``, where a stand-in
        filled impact start or detection, and the gaps in seconds.
    notes
        One row per thing noticed: ``incident_id, file, field, kind, message``
        where kind is ``missing``, ``fallback``, ``not_measured``,
        ``disagreement``, ``invalid``, ``duplicate`` or ``excluded``.
    sources
        The inputs read and how each was recognised.
    """

    table: pl.DataFrame
    notes: pl.DataFrame
    sources: list[tuple[str, str]]

    def __len__(self) -> int:
        return self.table.height

    def to_pandas(self) -> Any:
        """The incident table as a pandas DataFrame."""
        return self.table.to_pandas()

    def summary(self) -> pl.DataFrame:
        """Per source kind and field: how many incidents were missing it or filled it from a stand-in."""
        if self.notes.is_empty():
            return pl.DataFrame(schema={"source_kind": pl.String, "field": pl.String, "kind": pl.String, "incidents": pl.UInt32})
        kinds = self.table.select("id", "source_kind").unique("id")
        return (
            self.notes.join(kinds, left_on="incident_id", right_on="id", how="left")
            .with_columns(pl.col("source_kind").fill_null("?"))
            .group_by("source_kind", "field", "kind")
            .agg(pl.col("incident_id").n_unique().alias("incidents"))
            .sort("source_kind", "kind", "field")
        )

    def _repr_html_(self) -> str:
        head = f"<p><b>{len(self)} incidents</b> from {len(self.sources)} input(s)</p>"
        return head + self.table.head(10)._repr_html_() + "<p>What loading could not fill:</p>" + self.summary()._repr_html_()

    def __repr__(self) -> str:
        kinds = sorted({k for _, k in self.sources})
        return f"Incidents({len(self)} incidents from {len(self.sources)} file(s) ({', '.join(kinds)}), {self.notes.height} notes)"


def load_incidents(
    paths: str | Path | Sequence[str | Path],
    *,
    source: SourceKind | None = None,
    mapping: Mapping[str, str] | None = None,
    tz: str | None = None,
) -> Incidents:
    """Load incidents from a store folder, a Statuspage, PagerDuty or CSV export.

    Parameters
    ----------
    paths
        One or more inputs: a folder of incident JSON files (recursively; each
        file recognised by its content), a Statuspage ``incidents.json``, a
        PagerDuty export (incidents with log entries) or a CSV, one row per
        incident.
    source
        Force how to read every input: ``"store"``, ``"statuspage"``,
        ``"pagerduty"`` or ``"csv"``. Recognised from the content when None.
    mapping
        For CSV: our field -> the CSV's column (see
        :func:`timeline.trends._imports.from_csv`).
    tz
        IANA zone for CSV times written without an offset; UTC when not given.

    Returns
    -------
    Incidents
        ``.table`` (polars, one row per incident) and ``.notes`` (what could
        not be filled, stand-ins used, disagreements with stored gaps).

    Raises
    ------
    InputError
        When an input does not exist or its content is none of the kinds.

    Examples
    --------
    >>> incidents = load_incidents("data/incident-history")  # doctest: +SKIP
    >>> incidents.table.select("service", "time_to_detect_s").head()  # doctest: +SKIP
    """
    if source is not None and source not in SOURCES:
        close = difflib.get_close_matches(str(source), SOURCES, n=1)
        hint = f"; closest match is {close[0]!r}" if close else ""
        msg = f"source={source!r} is not one we read; expected one of {', '.join(SOURCES)}{hint}"
        raise InputError(msg)
    zone = _zone(tz)
    inputs = [paths] if isinstance(paths, str | Path) else list(paths)
    if not inputs:
        msg = "no input given; expected a folder of incident JSON files or an export file"
        raise InputError(msg)
    rows: list[dict[str, Any]] = []
    notes: list[Note] = []
    seen: list[tuple[str, str]] = []
    for p in inputs:
        path = Path(p)
        if not path.exists():
            msg = f"{path}: no such file or folder; expected an incident store folder or an export file"
            raise InputError(msg)
        files = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in {".json", ".csv"}) if path.is_dir() else [path]
        if path.is_dir() and not files:
            msg = f"{path}: folder holds no .json or .csv files; expected incident JSON files"
            raise InputError(msg)
        for f in files:
            kind, r, n = _read_one(f, source, mapping, zone)
            seen.append((str(f), kind))
            rows.extend(r)
            notes.extend(n)
    ids: dict[str, str | None] = {}
    unique_rows = []
    for row in rows:
        if row["id"] in ids:
            notes.append(
                Note(row["id"], row["file"], "id", "duplicate", f"id also in {ids[row['id']]}; this copy is skipped")
            )
            continue
        ids[row["id"]] = row["file"]
        unique_rows.append(row)
    table = rows_to_table(unique_rows).sort("impact_start", "id", nulls_last=True)
    return Incidents(table=table, notes=notes_to_table(notes), sources=seen)


def _zone(tz: str | None) -> dt.tzinfo | None:
    if tz is None:
        return None
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"tz={tz!r} is not an IANA time zone; expected e.g. 'UTC' or 'America/Los_Angeles'"
        raise InputError(msg) from exc


def recognise(path: Path, doc: Any | None = None) -> SourceKind:
    """Say which kind of input a file is, from its content.

    Parameters
    ----------
    path
        The file.
    doc
        Its parsed JSON, when already read.

    Raises
    ------
    InputError
        When it is none of the kinds we read.
    """
    if doc is None:
        doc = _read_json(path)
        if doc is None:
            return "csv"
    if isinstance(doc, Mapping) and isinstance(doc.get("milestones"), Mapping):
        return "store"
    if _imports.is_statuspage(doc):
        return "statuspage"
    if _imports.is_pagerduty(doc):
        return "pagerduty"
    keys = sorted(doc)[:8] if isinstance(doc, Mapping) else type(doc).__name__
    msg = (
        f"{path}: JSON is neither an incident in our contract (no 'milestones'), "
        f"a Statuspage incidents.json (no 'incident_updates'), nor a PagerDuty export "
        f"(no 'incident_number'/'urgency'); top-level keys: {keys}. Force one with source=..."
    )
    raise InputError(msg)


def _read_json(path: Path) -> Any | None:
    """Parse a file as JSON; None when it is not JSON (then it may be CSV)."""
    text = path.read_text(encoding="utf-8-sig")
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if path.suffix.lower() == ".csv":
            return None
        msg = f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); expected an incident JSON file"
        raise InputError(msg) from exc


def _read_one(
    path: Path,
    source: SourceKind | None,
    mapping: Mapping[str, str] | None,
    zone: dt.tzinfo | None,
) -> tuple[str, list[dict[str, Any]], list[Note]]:
    if source == "csv" or (source is None and path.suffix.lower() == ".csv"):
        rows, notes = _imports.from_csv(path, mapping=mapping, tz=zone)
        return "csv", rows, notes
    doc = _read_json(path)
    if doc is None:
        if source is not None:
            msg = f"{path}: not JSON, so it cannot be read as source={source!r}"
            raise InputError(msg)
        rows, notes = _imports.from_csv(path, mapping=mapping, tz=zone)
        return "csv", rows, notes
    kind = source or recognise(path, doc)
    if kind == "store":
        if not isinstance(doc, Mapping) or not isinstance(doc.get("milestones"), Mapping):
            msg = f"{path}: has no 'milestones' object; expected an incident in the DESIGN.md JSON contract"
            raise InputError(msg)
        rows, notes = _imports.from_contract(doc, file=str(path), default_id=path.stem)
    elif kind == "statuspage":
        rows, notes = _imports.from_statuspage(doc, file=str(path))
    else:
        rows, notes = _imports.from_pagerduty(doc, file=str(path))
    return kind, rows, notes


def as_incident_table(incidents: Any) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Accept an :class:`Incidents`, a polars or pandas table, or a path; return (table, notes).

    A table needs at least ``impact_start`` or the gap columns; missing
    columns of the incident schema are added as nulls, and gaps are
    recomputed from milestone times where those are present.
    """
    if isinstance(incidents, Incidents):
        return incidents.table, incidents.notes
    if isinstance(incidents, str | Path):
        loaded = load_incidents(incidents)
        return loaded.table, loaded.notes
    if not isinstance(incidents, pl.DataFrame):
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover
            pd = None
        if pd is not None and isinstance(incidents, pd.DataFrame):
            incidents = pl.from_pandas(incidents)
        else:
            msg = (
                f"incidents is a {type(incidents).__name__}; expected Incidents from load_incidents, "
                "a polars or pandas DataFrame, or a path"
            )
            raise InputError(msg)
    df = incidents
    if "impact_start" not in df.columns:
        msg = f"incident table has no 'impact_start' column; columns are {df.columns}"
        raise InputError(msg)
    given_gaps = {g for g in GAPS if f"{g}_s" in df.columns}
    df = df.with_columns(
        pl.lit(None, dtype=dtype).alias(col) for col, dtype in INCIDENT_SCHEMA.items() if col not in df.columns
    )
    casts = []
    for col, dtype in INCIDENT_SCHEMA.items():
        have = df.schema[col]
        if have == dtype:
            continue
        c = pl.col(col)
        if isinstance(dtype, pl.Datetime):
            if have == pl.String:
                c = c.str.to_datetime(time_zone="UTC", time_unit="us")
            elif isinstance(have, pl.Datetime) and have.time_zone is None:
                c = c.dt.replace_time_zone("UTC")
            c = c.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        elif isinstance(dtype, pl.List):
            c = c.cast(pl.String).str.split(",") if have == pl.String else c.cast(dtype)
        else:
            c = c.cast(dtype)
        casts.append(c.alias(col))
    df = df.with_columns(casts)
    # A table without a gap column gets it from the milestone times; a gap
    # whose two ends are the same stand-in is not measured.
    same_stand_in = pl.col("impact_start_from").is_not_null() & (
        pl.col("impact_start_from") == pl.col("detected_from")
    )
    gap_exprs = []
    for gap, (start, end) in GAPS.items():
        if gap in given_gaps:
            continue
        secs = (pl.col(end) - pl.col(start)).dt.total_microseconds() / 1e6
        ok = (secs >= 0) & ~same_stand_in.fill_null(False) if gap == "time_to_detect" else secs >= 0
        gap_exprs.append(pl.when(ok).then(secs).alias(f"{gap}_s"))
    df = df.with_columns(gap_exprs)
    return df.select(list(INCIDENT_SCHEMA)), None
