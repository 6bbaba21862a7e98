"""Statistics per time bucket and group: robust summaries of skewed durations.

Incident durations are skewed (roughly lognormal) and samples are small, so a
bare mean misleads (reference/metrics.md §3). Per bucket, group and gap we
report n, median, p90 and max, a bootstrap confidence interval of the median,
the mean only beside the median, the share detected by customers and the
share within a target, each share with a Wilson interval, and words saying
when n is too small to conclude anything.

Methods
-------
Percentiles
    Linear interpolation between order statistics (Hyndman & Fan type 7,
    numpy's and polars' ``"linear"``): the p-quantile of sorted values
    ``x[0..n-1]`` is ``x[h] + (h - floor(h)) * (x[floor(h)+1] - x[floor(h)])``
    with ``h = (n - 1) p``.
Median confidence interval
    Percentile bootstrap: ``n_boot`` resamples with replacement drawn at once
    as an ``(n_boot, n)`` index array, the median of each row, and the
    ``(1 - confidence)/2`` and ``(1 + confidence)/2`` quantiles of those
    medians. The generator is seeded from ``seed`` and the bucket's key, so a
    bucket's interval does not change when other buckets are added. With
    n < 2 there is no interval (null). The interval is widened, if floating
    point ever leaves it short, to contain the median.
Shares
    Wilson score interval at the same confidence.
Change between buckets
    A bucket's median is called ``shorter`` or ``longer`` than the previous
    bucket's only when both have n >= ``min_n`` and their median intervals do
    not overlap; otherwise ``no detectable change`` (or ``too few to
    compare``). Non-overlap is a conservative test: a real change can hide in
    overlapping intervals, and at these sample sizes usually does.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import polars as pl

from timeline._errors import InputError
from timeline.trends._model import GAPS

#: Below this many values a bucket is "too few to conclude anything".
MIN_N = 5
#: Below this many values a bucket is flagged as a small sample (metrics.md §5.3).
SMALL_N = 30

TABLE_SCHEMA: dict[str, pl.DataType] = {
    "bucket": pl.Date(),
    "group": pl.String(),
    "metric": pl.String(),
    "n_incidents": pl.UInt32(),
    "n": pl.UInt32(),
    "n_missing": pl.UInt32(),
    "median_s": pl.Float64(),
    "median_ci_low_s": pl.Float64(),
    "median_ci_high_s": pl.Float64(),
    "p90_s": pl.Float64(),
    "max_s": pl.Float64(),
    "min_s": pl.Float64(),
    "mean_s": pl.Float64(),
    "customer_detected_n": pl.UInt32(),
    "detected_by_known_n": pl.UInt32(),
    "customer_detected_share": pl.Float64(),
    "customer_share_ci_low": pl.Float64(),
    "customer_share_ci_high": pl.Float64(),
    "target_s": pl.Float64(),
    "within_target_share": pl.Float64(),
    "within_target_ci_low": pl.Float64(),
    "within_target_ci_high": pl.Float64(),
    "change": pl.String(),
    "warning": pl.String(),
}


def bootstrap_median_ci(
    values: np.ndarray,
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    rng: np.random.Generator | None = None,
) -> tuple[float, float] | tuple[None, None]:
    """Percentile-bootstrap confidence interval of the median.

    Parameters
    ----------
    values
        The sample (1-d, no missing values).
    confidence
        Coverage of the interval, e.g. 0.95.
    n_boot
        Number of resamples.
    rng
        Generator; a fixed-seed one when not given.

    Returns
    -------
    (low, high)
        Always containing the sample median; ``(None, None)`` when n < 2.

    Examples
    --------
    >>> lo, hi = bootstrap_median_ci(np.array([60.0, 120, 300, 900, 3600]))
    >>> lo <= 300 <= hi
    True
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    if n < 2:
        return None, None
    rng = rng or np.random.default_rng(0)
    idx = rng.integers(0, n, size=(n_boot, n))
    medians = np.median(x[idx], axis=1)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(medians, [alpha, 1.0 - alpha], method="linear")
    med = float(np.median(x))
    return float(min(lo, med)), float(max(hi, med))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float] | tuple[None, None]:
    """Wilson score interval for a proportion; ``(None, None)`` when n == 0.

    Examples
    --------
    >>> lo, hi = wilson_interval(8, 10)
    >>> round(lo, 3), round(hi, 3)
    (0.49, 0.943)
    """
    if n <= 0:
        return None, None
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # clamp: at p = 0 or 1 floating point can leave the bound a hair short of p
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def normalise_targets(target: float | Mapping[str, float] | None) -> dict[str, float]:
    """Targets in minutes -> seconds per metric; a bare number is for time_to_mitigate."""
    if target is None:
        return {}
    if isinstance(target, int | float):
        return {"time_to_mitigate": float(target) * 60.0}
    out = {}
    for metric, minutes in target.items():
        check_metric(metric)
        out[metric] = float(minutes) * 60.0
    return out


def check_metric(metric: str) -> str:
    """Return ``metric`` if it is one of our gaps; raise with the closest name otherwise."""
    if metric not in GAPS:
        import difflib

        close = difflib.get_close_matches(metric, list(GAPS), n=1)
        hint = f"; closest match is {close[0]!r}" if close else ""
        msg = f"metric {metric!r} is not a gap we measure; expected one of {', '.join(GAPS)}{hint}"
        raise InputError(msg)
    return metric


def add_buckets(
    table: pl.DataFrame, *, every: str, tz: str | None, by: Sequence[str]
) -> tuple[pl.DataFrame, int]:
    """Add ``bucket`` (Date of the bucket's start) and ``group`` columns.

    The bucket is keyed on ``impact_start`` (in ``tz`` when given, else UTC).
    Returns the table of bucketed incidents and how many had no impact start.
    """
    for col in by:
        if col not in table.columns:
            import difflib

            close = difflib.get_close_matches(col, table.columns, n=1)
            hint = f"; closest match is {close[0]!r}" if close else ""
            msg = f"by={col!r} is not a column of the incident table; expected e.g. service or severity{hint}"
            raise InputError(msg)
    anchor = pl.col("impact_start")
    if tz:
        anchor = anchor.dt.convert_time_zone(tz)
    try:
        out = table.with_columns(bucket=anchor.dt.truncate(every).dt.date())
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
        msg = f"every={every!r} is not a bucket size; expected e.g. '1w', '1mo', '1q' or '1y' ({exc})"
        raise InputError(msg) from exc
    if by:
        parts = [pl.col(c).cast(pl.String).fill_null("(unknown)") for c in by]
        group = parts[0] if len(parts) == 1 else pl.concat_str(parts, separator=" / ")
    else:
        group = pl.lit("all")
    out = out.with_columns(group=group)
    missing = out.filter(pl.col("bucket").is_null()).height
    return out.filter(pl.col("bucket").is_not_null()), missing


def summarise(
    bucketed: pl.DataFrame,
    *,
    every: str,
    metrics: Sequence[str],
    targets: Mapping[str, float],
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    buckets: Sequence[dt.date] | None = None,
) -> pl.DataFrame:
    """The trend table: one row per bucket, group and metric.

    Every bucket from the first to the last is present for every group, with
    n_incidents = 0 where a group had none, so counts over time are honest.
    ``buckets`` gives the bucket starts explicitly (for uneven periods).
    """
    if bucketed.is_empty():
        return pl.DataFrame(schema=TABLE_SCHEMA)
    if buckets is None:
        first, last = bucketed["bucket"].min(), bucketed["bucket"].max()
        all_buckets = pl.date_range(first, last, interval=every, eager=True).alias("bucket")
    else:
        all_buckets = pl.Series("bucket", list(buckets), dtype=pl.Date)
    groups = bucketed.select("group").unique().sort("group")
    frame = (
        pl.DataFrame(all_buckets)
        .join(groups, how="cross")
        .join(pl.DataFrame({"metric": list(metrics)}), how="cross")
    )
    # Per bucket and group: incident counts and who detected.
    per_group = bucketed.group_by("bucket", "group").agg(
        n_incidents=pl.len().cast(pl.UInt32),
        customer_detected_n=(pl.col("detected_by") == "customer").sum().cast(pl.UInt32),
        detected_by_known_n=pl.col("detected_by").is_not_null().sum().cast(pl.UInt32),
    )
    long = bucketed.select(
        "bucket", "group", *[pl.col(f"{m}_s").alias(m) for m in metrics]
    ).unpivot(index=["bucket", "group"], variable_name="metric", value_name="value")
    target_map = pl.DataFrame(
        {"metric": list(metrics), "target_s": [targets.get(m) for m in metrics]},
        schema={"metric": pl.String, "target_s": pl.Float64},
    )
    v = pl.col("value")
    stats = (
        long.join(target_map, on="metric")
        .group_by("bucket", "group", "metric")
        .agg(
            n=v.count().cast(pl.UInt32),
            n_missing=v.null_count().cast(pl.UInt32),
            median_s=v.median(),
            p90_s=v.quantile(0.9, interpolation="linear"),
            max_s=v.max(),
            min_s=v.min(),
            mean_s=v.mean(),
            within_n=(v <= pl.col("target_s")).sum(),
            target_s=pl.col("target_s").first(),
            values=v.drop_nulls().sort(),
        )
    )
    table = (
        frame.join(per_group, on=["bucket", "group"], how="left")
        .join(stats, on=["bucket", "group", "metric"], how="left")
        .with_columns(
            pl.col("n_incidents", "n", "n_missing", "customer_detected_n", "detected_by_known_n").fill_null(0),
            pl.col("target_s").fill_null(pl.col("metric").replace_strict(
                target_map["metric"], target_map["target_s"], default=None, return_dtype=pl.Float64
            )),
        )
        .sort("group", "metric", "bucket")
    )
    records = table.to_dicts()
    for r in records:
        values = np.asarray(r.pop("values") or [], dtype=float)
        key = f"{r['bucket']}|{r['group']}|{r['metric']}".encode()
        rng = np.random.default_rng([seed, zlib.crc32(key)])
        r["median_ci_low_s"], r["median_ci_high_s"] = bootstrap_median_ci(
            values, confidence=confidence, n_boot=n_boot, rng=rng
        )
        known = r["detected_by_known_n"]
        r["customer_detected_share"] = r["customer_detected_n"] / known if known else None
        r["customer_share_ci_low"], r["customer_share_ci_high"] = wilson_interval(
            r["customer_detected_n"], known, confidence
        )
        within = r.pop("within_n")
        if r["target_s"] is not None and r["n"]:
            r["within_target_share"] = within / r["n"]
            r["within_target_ci_low"], r["within_target_ci_high"] = wilson_interval(int(within), r["n"], confidence)
        else:
            r["within_target_share"] = r["within_target_ci_low"] = r["within_target_ci_high"] = None
        r["warning"] = _warning(r)
    _changes(records)
    return pl.DataFrame(records, schema=TABLE_SCHEMA).select(list(TABLE_SCHEMA))


def _warning(r: dict[str, Any]) -> str | None:
    words = []
    n = r["n"]
    if r["n_incidents"] == 0:
        return "no incidents"
    if n == 0:
        words.append(f"no values: all {r['n_missing']} incidents lack an end for this gap")
    elif n < MIN_N:
        words.append(f"n={n}: too few to conclude anything")
    elif n < SMALL_N:
        words.append(f"n={n}: small sample, only large changes are detectable")
    if r["n_missing"] and n:
        words.append(f"{r['n_missing']} of {r['n_incidents']} incidents lack this gap and are not in n")
    return "; ".join(words) or None


def _changes(records: list[dict[str, Any]]) -> None:
    """Fill ``change``: this bucket's median against the previous non-empty bucket's."""
    prev: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records:  # sorted by group, metric, bucket
        key = (r["group"], r["metric"])
        before = prev.get(key)
        if r["n"] == 0:
            r["change"] = None
            continue
        r["change"] = compare(before, r) if before else "first bucket"
        prev[key] = r


def compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """Say whether b's median differs detectably from a's (non-overlapping CIs).

    Returns ``"shorter"``, ``"longer"``, ``"no detectable change"`` or
    ``"too few to compare"``.
    """
    if a["n"] < MIN_N or b["n"] < MIN_N or a["median_ci_low_s"] is None or b["median_ci_low_s"] is None:
        return "too few to compare"
    if b["median_ci_high_s"] < a["median_ci_low_s"]:
        return "shorter"
    if b["median_ci_low_s"] > a["median_ci_high_s"]:
        return "longer"
    return "no detectable change"


def collapse(bucketed: pl.DataFrame, starts: Sequence[dt.date]) -> pl.DataFrame:
    """Re-bucket incidents into periods beginning at ``starts`` (sorted dates)."""
    edges = pl.Series("start", sorted(starts), dtype=pl.Date)
    return bucketed.sort("bucket").join_asof(
        pl.DataFrame(edges), left_on="bucket", right_on="start", strategy="backward"
    ).with_columns(bucket=pl.col("start")).drop("start")
