"""`trends()`: many incidents -> MTTD/MTTR distributions per bucket and group."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from timeline._errors import InputError
from timeline.trends import _stats
from timeline.trends._model import GAPS
from timeline.trends._store import as_incident_table

#: Keys of one object in ``Trends.to_json()``: a contract other tools read.
JSON_KEYS: tuple[str, ...] = (
    "bucket",
    "group",
    "metric",
    "n",
    "median_s",
    "p90_s",
    "max_s",
    "median_ci_low_s",
    "median_ci_high_s",
    "customer_detected_share",
)


@dataclass
class Trends:
    """Gap distributions per time bucket and group, with their uncertainty.

    Attributes
    ----------
    table
        One row per bucket, group and metric (polars): ``bucket`` (Date of
        the bucket's start), ``group``, ``metric``, ``n_incidents``, ``n``
        (incidents with this gap), ``n_missing`` (incidents without it),
        ``median_s``, ``median_ci_low_s``, ``median_ci_high_s``, ``p90_s``,
        ``max_s``, ``min_s``, ``mean_s`` (shown only beside the median),
        ``customer_detected_share`` with its Wilson interval, ``target_s``,
        ``within_target_share`` with its Wilson interval, ``change`` (against
        the previous bucket) and ``warning``.
    incidents
        The bucketed incidents, with ``bucket`` and ``group`` columns.
    notes
        What loading could not fill (from :func:`load_incidents`), if known.
    """

    table: pl.DataFrame
    incidents: pl.DataFrame
    notes: pl.DataFrame | None
    every: str
    by: list[str]
    tz: str | None
    targets: dict[str, float]
    metrics: list[str]
    confidence: float
    unbucketed: int
    n_boot: int = 2000
    seed: int = 0
    _source: pl.DataFrame = field(default_factory=pl.DataFrame, repr=False)
    _cache: dict[tuple[str, tuple[str, ...]], Trends] = field(default_factory=dict, repr=False)
    _periods: dict[tuple[str, tuple[str, ...]], pl.DataFrame] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ views
    def regroup(self, by: str | Sequence[str] | None) -> Trends:
        """The same incidents and settings, grouped by other columns (``None`` for all together)."""
        return self._again(every=self.every, by=by)

    def rebucket(self, every: str) -> Trends:
        """The same incidents and settings, in other buckets (``"1mo"``, ``"1q"``, ``"1y"``)."""
        return self._again(every=every, by=self.by)

    def _again(self, *, every: str, by: str | Sequence[str] | None) -> Trends:
        key = (every, tuple([by] if isinstance(by, str) else by or []))
        if key == (self.every, tuple(self.by)):
            return self
        if key not in self._cache:
            self._cache[key] = self._compute(every=every, by=list(key[1]))
        return self._cache[key]

    def _compute(self, *, every: str, by: list[str]) -> Trends:
        return trends(
            self._source,
            every=every,
            by=by,
            tz=self.tz,
            target={m: s / 60.0 for m, s in self.targets.items()},
            metrics=self.metrics,
            confidence=self.confidence,
            n_boot=self.n_boot,
            seed=self.seed,
            _notes=self.notes,
        )

    def periods(self, starts: Sequence[dt.date], by: str | Sequence[str] | None = None) -> pl.DataFrame:
        """The trend table over uneven periods that begin at ``starts``, grouped by ``by``.

        ``by=None`` keeps this object's grouping; ``by=[]`` puts all incidents together.

        Used for whole-period rankings (one start) and for first-half against
        second-half comparisons, where quarterly buckets are too small to
        show anything.
        """
        wanted = None if by is None else ([by] if isinstance(by, str) else list(by))
        sub = self if wanted is None or wanted == self.by else self.regroup(wanted)
        if sub.incidents.is_empty():
            return sub.table
        key = ("periods:" + ",".join(str(d) for d in sorted(starts)), tuple(sub.by))
        if key in sub._periods:
            return sub._periods[key]
        inc = _stats.collapse(sub.incidents, starts)
        sub._periods[key] = _stats.summarise(
            inc,
            every=self.every,
            metrics=self.metrics,
            targets=self.targets,
            confidence=self.confidence,
            n_boot=self.n_boot,
            seed=self.seed,
            buckets=sorted(starts),
        )
        return sub._periods[key]

    def overall(self, by: str | Sequence[str] | None = None) -> pl.DataFrame:
        """One row per group and metric over the whole period (``bucket`` is the first bucket).

        ``by=None`` keeps this object's grouping; ``by=[]`` puts all incidents together.
        """
        buckets = self.table["bucket"].unique().sort()
        if buckets.is_empty():
            return self.table
        return self.periods([buckets[0]], by=by)

    def halves(self, by: str | Sequence[str] | None = None) -> pl.DataFrame:
        """First half of the buckets against the second half; ``change`` says if the median moved."""
        buckets = self.table["bucket"].unique().sort()
        if buckets.len() < 2:
            return self.overall(by)
        return self.periods([buckets[0], buckets[buckets.len() // 2]], by=by)

    def to_pandas(self) -> Any:
        """The trend table as a pandas DataFrame."""
        return self.table.to_pandas()

    def to_json(self, path: str | Path | None = None) -> list[dict[str, Any]]:
        """The table as a JSON list, one object per bucket, group and metric.

        Every object has the contract keys :data:`JSON_KEYS` (``bucket`` is
        the ISO date of the bucket's start, durations in seconds) and, after
        them, the other columns of :attr:`table`.

        Parameters
        ----------
        path
            Where to write it; not written when None.

        Returns
        -------
        list of dict
        """
        extra = [c for c in self.table.columns if c not in JSON_KEYS]
        rows = self.table.select(*JSON_KEYS, *extra).with_columns(pl.col("bucket").dt.to_string("%Y-%m-%d")).to_dicts()
        if path is not None:
            Path(path).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        return rows

    # ----------------------------------------------------------------- charts
    def plot(self, metrics: Sequence[str] = ("time_to_detect", "time_to_mitigate")) -> Any:
        """Distributions of the given gaps per bucket on a log axis, with incident counts below."""
        from timeline.trends import _charts

        return _charts.overview(self, metrics)

    def plot_distribution(self, metric: str = "time_to_detect") -> Any:
        """One gap's distribution per bucket (box + points, log axis), incident counts below."""
        from timeline.trends import _charts

        return _charts.distribution(self, _stats.check_metric(metric))

    def plot_counts(self) -> Any:
        """Incident counts per bucket, stacked by group."""
        from timeline.trends import _charts

        return _charts.counts(self)

    def plot_breakdown(self, by: str = "service", metric: str = "time_to_mitigate") -> Any:
        """One gap per bucket, one box per value of ``by`` (e.g. service or severity)."""
        from timeline.trends import _charts

        return _charts.breakdown(self, by, _stats.check_metric(metric))

    def plot_customer_share(self) -> Any:
        """Share of incidents detected by customers per bucket, with Wilson intervals."""
        from timeline.trends import _charts

        return _charts.customer_share(self)

    # ---------------------------------------------------------------- reports
    def to_markdown(self) -> str:
        """The trend report as markdown: answers first, then the tables, then data quality."""
        from timeline.trends import _report

        return _report.markdown(self)

    def to_html(self, path: str | Path | None = None) -> str:
        """The trend report as one standalone HTML page (plotly inlined, works offline).

        Parameters
        ----------
        path
            Where to write it; only returned when None.
        """
        from timeline.trends import _report

        html = _report.html(self)
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def _repr_html_(self) -> str:
        from timeline.trends import _report

        return _report.notebook_html(self)

    def __repr__(self) -> str:
        return (
            f"Trends({self.incidents.height} incidents, every={self.every!r}, by={self.by!r}, "
            f"{self.table.height} rows)"
        )


def trends(
    incidents: Any,
    every: str = "1q",
    by: str | Sequence[str] | None = None,
    *,
    tz: str | None = None,
    target: float | Mapping[str, float] | None = 30.0,
    metrics: Sequence[str] | None = None,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    _notes: pl.DataFrame | None = None,
) -> Trends:
    """Summarise many incidents' gaps per time bucket and group.

    Parameters
    ----------
    incidents
        :class:`Incidents` from :func:`load_incidents`, a polars or pandas
        incident table, or a path (store folder or export) to load.
    every
        Bucket size, keyed on each incident's impact start: ``"1w"``,
        ``"1mo"``, ``"1q"`` (default: quarters), ``"1y"``.
    by
        Column(s) to group by, e.g. ``"service"`` or ``["service", "severity"]``;
        all incidents together (group ``"all"``) when None.
    tz
        IANA zone in which buckets start; UTC when None.
    target
        Target in minutes: a number is the time_to_mitigate target (GitLab's
        30 min); a mapping gives one per metric; None for none.
    metrics
        Gaps to summarise; all of :data:`GAPS` when None.
    confidence
        Coverage of the median and share intervals.
    n_boot, seed
        Bootstrap resamples and the fixed seed.

    Returns
    -------
    Trends
        ``.table`` and the charts and reports built on it.

    Examples
    --------
    >>> t = trends(load_incidents("data/incident-history"), every="1q", by="service")  # doctest: +SKIP
    >>> t.table.filter(metric="time_to_detect").select("bucket", "group", "n", "median_s")  # doctest: +SKIP
    """
    if not 0 < confidence < 1:
        msg = f"confidence={confidence!r}; expected a number between 0 and 1, e.g. 0.95"
        raise InputError(msg)
    if tz is not None:
        from timeline.trends._store import _zone

        _zone(tz)
    table, notes = as_incident_table(incidents)
    if _notes is not None:
        notes = _notes
    by_list = [by] if isinstance(by, str) else list(by or [])
    metric_list = [_stats.check_metric(m) for m in (metrics or list(GAPS))]
    targets = _stats.normalise_targets(target)
    bucketed, unbucketed = _stats.add_buckets(table, every=every, tz=tz, by=by_list)
    summary = _stats.summarise(
        bucketed,
        every=every,
        metrics=metric_list,
        targets=targets,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
    )
    return Trends(
        table=summary,
        incidents=bucketed,
        notes=notes,
        every=every,
        by=by_list,
        tz=tz,
        targets=targets,
        metrics=metric_list,
        confidence=confidence,
        unbucketed=unbucketed,
        n_boot=n_boot,
        seed=seed,
        _source=table,
    )


def bucket_label(day: dt.date, every: str) -> str:
    """A bucket's start as people say it: ``2024-Q1``, ``2024-03``, ``2024``, or the date."""
    unit = every.lstrip("0123456789")
    if unit == "q" or every == "3mo":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if unit == "mo" and every == "1mo":
        return f"{day.year}-{day.month:02d}"
    if unit == "y" and every == "1y":
        return str(day.year)
    return day.isoformat()


__all__ = ["JSON_KEYS", "Trends", "bucket_label", "trends"]
