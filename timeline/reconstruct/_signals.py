"""The machine side of an incident: which errors burst, when they began and when they stopped.

Nothing here uses a fixed duration. A template bursts when its rate rises many
times over its *own* baseline (so other systems' steady errors neither hide an
incident nor join it); the incident's time scale is read off its own errors
(how densely they came, the longest pause they took while bursting); recovery is
a quiet stretch longer than any pause of the burst and, where the evidence goes
on, a fair share of the impact so far.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from timeline.bursting import BURST_MIN_COUNT, BURST_RATIO, is_bursting

ERROR_LEVELS = ("error", "critical")
MACHINE_KINDS = ("log", "db")


@dataclass(frozen=True)
class Settings:
    """Factors and stated minimums of the reconstruction; every duration is derived from the incident.

    The ``timedelta`` fields default to ``None`` (derived); set one to pin it, as a
    user replaying a drill at another speed might.
    """

    burst_factor: float = BURST_RATIO
    """A template bursts when its rate is at least this many times its own baseline."""
    min_template_count: int = BURST_MIN_COUNT
    """...and it has at least this many lines in the burst."""
    core_share: float = 0.02
    """Templates with at least this share of the burst's errors are its core (a handful of lines of a
    restart's own messages at the edge is not impact)."""
    quiet_factor: float = 1.5
    """Recovery is a quiet stretch this many times the longest pause the burst took."""
    quiet_gaps: float = 5.0
    """...and at least this many of its mean error spacings."""
    sustain_share: float = 0.25
    """Where the evidence goes on, the quiet must last this share of the impact so far."""
    near_share: float = 0.05
    """'Near baseline': at most this share of the burst's rate (or twice the baseline rate)."""
    min_quiet: dt.timedelta = dt.timedelta(seconds=5)
    """The shortest quiet that can count as recovery, whatever the error rate."""
    min_lookback: dt.timedelta = dt.timedelta(minutes=30)
    """The trigger is first looked for this far back (or twice the impact), then further."""
    min_merge: dt.timedelta = dt.timedelta(seconds=30)
    """Records of one action (a chat line, a change-log row, the database's own line) this close are one attempt."""
    min_said: dt.timedelta = dt.timedelta(minutes=2)
    """What people write about an action (or a record naming the same action) may lag it by this much
    (or a pause of the burst): such records are the same action, and a chat summary of a change is
    weighed with the database's own record of it."""
    min_effect: dt.timedelta = dt.timedelta(minutes=1)
    """An attempt is credited with a recovery that begins within this long (or a share of the impact) after it."""
    min_silence: dt.timedelta = dt.timedelta(minutes=1)
    """Silent periods shorter than this (or 15% of the impact) are not reported."""
    lookback: dt.timedelta | None = None
    settle: dt.timedelta | None = None
    effect_window: dt.timedelta | None = None
    sustain: dt.timedelta | None = None
    silence: dt.timedelta | None = None
    attempt_merge: dt.timedelta | None = None


@dataclass(frozen=True)
class Burst:
    """A run of buckets in which errors rose over their baseline."""

    start: dt.datetime
    end: dt.datetime
    excess: float
    peak: int


def minutes(td: dt.timedelta | float) -> str:
    """A short duration for rule texts."""
    s = td.total_seconds() if isinstance(td, dt.timedelta) else float(td)
    if s >= 5400:
        return f"{s / 3600:.1f} h"
    if s >= 90:
        return f"{s / 60:.0f} min"
    return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"


def machine(events: pl.DataFrame) -> pl.DataFrame:
    return events.filter(pl.col("kind").cast(pl.String).is_in(MACHINE_KINDS))


def machine_errors(events: pl.DataFrame) -> pl.DataFrame:
    """The machine error events (logs and database logs at error or critical)."""
    return events.filter(
        pl.col("kind").cast(pl.String).is_in(MACHINE_KINDS) & pl.col("level").cast(pl.String).is_in(ERROR_LEVELS)
    )


def with_templates(errors: pl.DataFrame) -> pl.DataFrame:
    """The errors with ``template_id`` and ``template`` (masked and mined once per distinct message)."""
    from timeline.templates import templates

    if errors.height == 0:
        return errors.with_columns(pl.lit(None, pl.String).alias("template_id"), pl.lit(None, pl.String).alias("template"))
    return templates(errors)


def with_coverage(errors: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """The errors with ``_cov_lo``/``_cov_hi``: the first and last machine line of their source.

    A source says nothing about the hours before its first line or after its last (a log
    rotated, an export cut): a template's baseline is measured only where its source speaks.
    """
    cov = machine(events).group_by("source").agg(pl.col("ts").min().alias("_cov_lo"), pl.col("ts").max().alias("_cov_hi"))
    return errors.drop("_cov_lo", "_cov_hi", strict=False).join(cov, on="source", how="left")


def excess_rate(
    errors: pl.DataFrame, every: str, span: tuple[dt.datetime, dt.datetime], factor: float = BURST_RATIO, quantile: float = 0.25
) -> pl.DataFrame:
    """Per bucket, how many errors rose over their own template's baseline.

    Each (source, template) has a baseline: its lower-quartile count per bucket over the
    span (zero for a template absent a quarter of the time, so an incident may fill three
    quarters of the evidence and still stand out). A bucket's excess is the sum,
    over the templates whose count there is ``burst_factor`` times over their baseline
    (with one added on both sides), of what they count over it. A busy neighbour's
    steady errors add nothing; the incident's templates, rising a hundredfold, add
    nearly all of theirs.
    """
    grid = pl.DataFrame(
        {"bucket": pl.datetime_range(span[0], span[1], every, eager=True, time_zone="UTC")}
    ).with_columns(pl.col("bucket").dt.truncate(every)).unique("bucket", maintain_order=True)
    n_buckets = max(grid.height, 1)
    if errors.height == 0:
        return grid.with_columns(pl.lit(0.0).alias("excess"), pl.lit(0, pl.UInt32).alias("errors"))
    key = ["source", "template_id"]
    cells = errors.group_by(pl.col("ts").dt.truncate(every).alias("bucket"), *key).agg(pl.len().alias("n"))
    # The quantile of the counts per bucket with the empty buckets counted (only the buckets
    # the template's source covers): zero unless the template fills more of them, else that
    # rank among its non-empty ones.
    if "_cov_lo" in errors.columns:
        covered = errors.group_by(key).agg(pl.col("_cov_lo").first(), pl.col("_cov_hi").first())
    else:
        covered = errors.group_by(key).agg(pl.lit(span[0]).alias("_cov_lo"), pl.lit(span[1]).alias("_cov_hi"))
    base = cells.group_by(key).agg(pl.col("n").sort().alias("ns")).join(covered, on=key, how="left")
    grid_s = grid["bucket"]
    medians = []
    for ns, lo, hi in zip(base["ns"].to_list(), base["_cov_lo"].to_list(), base["_cov_hi"].to_list(), strict=True):
        n_cov = n_buckets
        if lo is not None and hi is not None:
            n_cov = max(int(grid_s.search_sorted(hi, side="right")) - int(grid_s.search_sorted(lo, side="right")) + 1, len(ns))
        empty = n_cov - len(ns)
        rank = int(n_cov * quantile)
        medians.append(0.0 if empty > rank else float(ns[min(rank - empty, len(ns) - 1)]))
    base = base.drop("ns", "_cov_lo", "_cov_hi").with_columns(pl.Series("base", medians, dtype=pl.Float64))
    cells = cells.join(base, on=key, how="left").with_columns(
        pl.when(is_bursting(pl.col("n"), pl.col("base"), factor, 1)).then(pl.col("n") - pl.col("base")).otherwise(0.0).alias("x")
    )
    per = cells.group_by("bucket").agg(pl.col("x").sum().alias("excess"), pl.col("n").sum().cast(pl.UInt32).alias("errors"))
    return grid.join(per, on="bucket", how="left").with_columns(
        pl.col("excess").fill_null(0.0), pl.col("errors").fill_null(0)
    ).sort("bucket")


def find_bursts(rate: pl.DataFrame, bucket_s: int) -> list[Burst]:
    """Runs of buckets with errors over their templates' baselines, biggest excess first.

    A run may bridge quiet buckets as long as the run so far (a burst pausing for less
    than a third of its own length is one burst).
    """
    if rate.height == 0:
        return []
    xs = rate["excess"].to_list()
    buckets = rate["bucket"].to_list()
    floor = 3.0  # fewer than four lines over baseline in a bucket is not a burst
    over = [x > floor for x in xs]
    bursts: list[Burst] = []
    i = 0
    while i < len(xs):
        if not over[i]:
            i += 1
            continue
        last = i
        j = i + 1
        while j < len(xs):
            if over[j]:
                last = j
            elif (j - last) > max(2, (last - i + 1) // 3):
                break
            j += 1
        seg = xs[i : last + 1]
        bursts.append(Burst(buckets[i], buckets[last] + dt.timedelta(seconds=bucket_s), float(sum(seg)), int(max(seg))))
        i = last + 1
    bursts.sort(key=lambda b: -b.excess)
    return bursts


def signature(errors: pl.DataFrame, burst: Burst, settings: Settings, span: tuple[dt.datetime, dt.datetime]) -> pl.DataFrame:
    """Error templates that burst: rate inside the burst far above their rate outside it.

    ``span`` is the time the evidence covers (all events, not only errors: when the only
    errors are the incident's, the quiet hours around it make them stand out). One row
    per template with ``template_id``, ``template``, ``source``, ``n_in``, ``n_out``,
    ``first_in``, ``ratio``, ``share`` and ``core``.
    """
    inside = pl.col("ts").is_between(burst.start, burst.end, closed="left")
    span_in = max((burst.end - burst.start).total_seconds(), 1.0)
    if "_cov_lo" not in errors.columns:
        errors = errors.with_columns(pl.lit(span[0]).alias("_cov_lo"), pl.lit(span[1]).alias("_cov_hi"))
    stats = errors.group_by("template_id").agg(
        pl.col("template").first(),
        inside.sum().alias("n_in"),
        (~inside).sum().alias("n_out"),
        pl.col("ts").filter(inside).min().alias("first_in"),
        pl.col("source").filter(inside).first().alias("source"),
        pl.col("_cov_lo").min(),
        pl.col("_cov_hi").max(),
    )
    # The time outside the burst that the template's source covers: its baseline.
    lo = pl.max_horizontal(pl.col("_cov_lo"), pl.lit(span[0]))
    hi = pl.min_horizontal(pl.col("_cov_hi"), pl.lit(span[1]))
    covered = (hi - lo).dt.total_microseconds() / 1e6
    overlap = (pl.min_horizontal(hi, pl.lit(burst.end)) - pl.max_horizontal(lo, pl.lit(burst.start))).dt.total_microseconds().clip(0) / 1e6
    stats = stats.with_columns(pl.max_horizontal(covered - overlap, pl.lit(1.0)).alias("span_out")).drop("_cov_lo", "_cov_hi")
    stats = stats.with_columns(((pl.col("n_in") / span_in) / ((pl.col("n_out") + 0.5) / pl.col("span_out"))).alias("ratio"))
    bursting = stats.filter(
        is_bursting(pl.col("n_in"), pl.col("n_out") * (span_in / pl.col("span_out")), settings.burst_factor, settings.min_template_count)
    )
    total = max(int(bursting["n_in"].sum() or 0), 1)
    return bursting.with_columns(
        (pl.col("n_in") / total).alias("share"),
        ((pl.col("n_in") / total) >= settings.core_share).alias("core"),
    ).sort("first_in")


@dataclass(frozen=True)
class Scales:
    """The incident's own time scales, read off its errors (seconds)."""

    mean_gap: float
    """Mean spacing of the burst's core errors."""
    max_gap: float
    """The longest pause the core errors took inside the burst."""
    quiet: float
    """The shortest quiet stretch that can be recovery."""
    precision: float
    """The coarsest time precision among the machine records (1 s for whole-second stamps)."""

    def describe(self) -> str:
        return f"errors every {minutes(self.mean_gap)} on average, pausing at most {minutes(self.max_gap)} while bursting"


def record_precision(times: pl.Series) -> float:
    """How finely a column of times is written: 60 s for whole minutes, 1 s for whole seconds, else 1 ms."""
    if times.len() == 0:
        return 0.001
    us = times.dt.microsecond()
    if bool((us == 0).all()):
        return 60.0 if bool((times.dt.second() == 0).all()) and times.len() > 2 else 1.0
    return 0.001


def scales(core: pl.DataFrame, burst: Burst, settings: Settings) -> Scales:
    """Time scales of the burst: its core errors' mean spacing and longest pause."""
    times = core.filter(pl.col("ts").is_between(burst.start, burst.end))["ts"].sort()
    precision = max((record_precision(g["ts"]) for _, g in core.group_by("file")), default=0.001)
    if times.len() >= 2:
        secs = times.dt.epoch("us").cast(pl.Float64).to_numpy() / 1e6
        gaps = np.diff(secs)
        mean_gap = float((secs[-1] - secs[0]) / (len(secs) - 1))
        max_gap = float(gaps.max())
    else:
        mean_gap = max_gap = (burst.end - burst.start).total_seconds()
    quiet = max(settings.min_quiet.total_seconds(), settings.quiet_factor * max_gap, settings.quiet_gaps * mean_gap, 2 * precision)
    return Scales(mean_gap, max_gap, quiet, precision)


def chain_start(sig_errors: pl.DataFrame, core: pl.DataFrame, burst: Burst, gap_s: float) -> pl.DataFrame:
    """The signature errors chained back from the burst's first core error without a pause longer
    than ``gap_s``: the first is where impact started. (A burst may open with a few lines of
    another template, a restart's own messages minutes before the failures: the core decides.)"""
    after = core.filter(pl.col("ts") >= burst.start).sort("ts")
    if after.height == 0:
        after = sig_errors.filter(pl.col("ts") >= burst.start).sort("ts")
    if after.height == 0:
        return sig_errors.head(0)
    earliest = after["ts"][0]
    gap = dt.timedelta(seconds=gap_s)
    for ts in sig_errors.filter(pl.col("ts") < earliest)["ts"].sort(descending=True):
        if earliest - ts <= gap:
            earliest = ts
        else:
            break
    return sig_errors.filter(pl.col("ts") >= earliest).sort("ts", "file", "line")


@dataclass(frozen=True)
class Recovery:
    """Where the burst's errors stopped: the last failure, and how long quiet was seen after it."""

    last: dt.datetime
    observed_s: float
    wanted_s: float
    near_per_min: float

    @property
    def sustained(self) -> bool:
        return self.observed_s >= self.wanted_s


def recovery(core: pl.DataFrame, start: dt.datetime, data_end: dt.datetime, base_per_s: float, sc: Scales, settings: Settings) -> Recovery | None:
    """The last core error before a quiet stretch that means recovery, or None.

    Quiet means the core errors' rate stays near baseline (at most ``near_share`` of the
    burst's rate, or twice the baseline rate). The stretch must be longer than any pause
    the burst took (``sc.quiet``) and, where the evidence goes on, last a share of the
    impact so far (``sustain_share``); where the evidence ends sooner, the quiet seen to
    its end is enough, and the recovery says how long it was observed.
    """
    times = core.filter(pl.col("ts") >= start)["ts"].sort()
    if times.len() == 0:
        return None
    secs = times.dt.epoch("us").cast(pl.Float64).to_numpy() / 1e6
    end_s = data_end.timestamp()
    t0 = start.timestamp()
    burst_rate = 1.0 / max(sc.mean_gap, 1e-6)
    near = max(2 * base_per_s, settings.near_share * burst_rate)
    elapsed = secs - t0
    if settings.sustain is not None:
        want = np.full_like(secs, settings.sustain.total_seconds())
    else:
        want = np.maximum(sc.quiet, settings.sustain_share * elapsed)
    window = np.minimum(want, end_s - secs)
    hi = np.searchsorted(secs, secs + window, side="right")
    following = hi - (np.arange(len(secs)) + 1)
    ok = (window >= sc.quiet) & (following <= near * window)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return None
    k = int(idx[0])
    # The quiet test allows a few stragglers; the burst's own tail (errors no further apart
    # than a pause of the burst) still belongs to it.
    while k + 1 < len(secs) and secs[k + 1] - secs[k] <= sc.quiet and secs[k + 1] <= secs[k] + window[k]:
        k += 1
    # Quiet seen: to the end of the evidence when no core error follows at all, else the window judged.
    observed = float(end_s - secs[k]) if k == len(secs) - 1 else float(window[k])
    return Recovery(times[k], observed, float(want[k]), near * 60)


def rate_per_min(times: pl.Series, lo: dt.datetime, hi: dt.datetime) -> float:
    """Events per minute in [lo, hi)."""
    span = max((hi - lo).total_seconds(), 1e-3)
    n = int(((times >= lo) & (times < hi)).sum())
    return n * 60.0 / span
