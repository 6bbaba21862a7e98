"""Log templates: mask the variable parts of messages, then mine templates.

A *template* is a message with its variable parts (numbers, ids, hex, IP
addresses, quoted strings, paths, durations...) replaced by ``<*>``, so that
every line written by the same logging statement gets the same template.

The work is done in two steps, both on **distinct** strings only:

1. *Masking* (vectorised polars ``str.replace_all`` chains) on the distinct
   first lines of the messages. Many lines collapse into one masked string.
2. *Mining* on the distinct masked strings: messages of the same length whose
   constant tokens mostly agree are merged, and the positions where they
   differ become ``<*>``; a final pass folds a template into a more general
   one of another length when it matches it. The miner never sees every line,
   so a million lines cost what their few thousand masked forms cost.

One configuration is used for every log: there are no per-format rules. Its
grouping accuracy on the public Loghub-2k datasets is measured beside Drain3 by
``bench/templates_loghub.py`` (see ``bench/README-templates.md``).

Examples
--------
>>> import polars as pl
>>> import timeline.templates as tt
>>> ev = pl.DataFrame({"message": ["took 3.2s to connect to 10.0.0.1:5432",
...                                "took 12ms to connect to 10.0.0.7:5432"]})
>>> tt.templates(ev)["template"].to_list()
['took <*> to connect to <*>', 'took <*> to connect to <*>']
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import polars as pl

from timeline.bursting import is_bursting

from timeline._errors import InputError

__all__ = [
    "MASKS",
    "WILDCARD",
    "mask",
    "mine",
    "template_id",
    "template_summary",
    "templates",
]

WILDCARD = "<*>"

# Masking rules, applied in this order to the distinct first lines of the
# messages. Each is (name, pattern, replacement). Patterns use the Rust regex
# syntax of polars (no look-around): where a rule must not start inside a word,
# it captures the character before the match and puts it back (``${1}``).
_W = r"<\*>"  # a wildcard already written by an earlier rule
MASKS: tuple[tuple[str, str, str], ...] = (
    # scheme://anything up to white space
    ("url", r"\b[A-Za-z][A-Za-z0-9+.-]*://\S+", WILDCARD),
    ("uuid", r"\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b", WILDCARD),
    ("email", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", WILDCARD),
    # numbers with units: durations (3.2s, 150ms, <1 sec) and sizes (12KB, 18.4 MB)
    (
        "number_unit",
        r"[-+]?\b\d+(?:\.\d+)?(?:\s?(?:ns|us|µs|ms|s|sec|secs|min|mins|h|[KMGT]i?B|kB|B)\b|%)",
        WILDCARD,
    ),
    # host names: dotted words where a part holds a digit (10.0.0.1,
    # 24-54-76-216.bflony.net), or 3+ parts ending in a lower-case top-level
    # domain (proxy.cse.cuhk.edu.hk); optional port. Java class names and
    # Android intents (org.apache.Foo, android.intent.action.SCREEN_ON) stay.
    (
        "host",
        r"(?-u:/?\b(?:[\w-]+\.)*[\w-]*[0-9][\w-]*(?:\.[\w-]+)+(?::[0-9]+)?\b)",
        WILDCARD,
    ),
    (
        "domain",
        r"(?-u:\b(?:[\w-]+\.){2,}[a-z]{2,6}(?::[0-9]+)?)([^\w.-]|$)",
        WILDCARD + "${1}",
    ),
    # IPv6 and MAC addresses: hex groups joined by ':' or '-' (three or more)
    ("ipv6_mac", r"\b[0-9A-Fa-f]{1,4}(?:(?:::?|-)[0-9A-Fa-f]{1,4}){2,7}\b", WILDCARD),
    # file system paths: two or more segments, Unix or Windows
    ("path", r"(?:[A-Za-z]:)?(?:[\\/][\w.@%+~<>*-]+){2,}[\\/]?|\b[\w.-]+(?:/[\w.-]+)+/?", WILDCARD),
    # quoted values without white space that hold more than letters ('/tmp/x',
    # "a-1"); a quoted word ('Inactive') is usually a constant of the statement,
    # and a quoted phrase ("GET /a HTTP/1.1") keeps its words
    (
        "quoted",
        r"\"[^\"\s]*[^A-Za-z_\"\s][^\"\s]*\"|'[^'\s]*[^A-Za-z_'\s][^'\s]*'",
        WILDCARD,
    ),
    # dates, times of day, day and month names
    (
        "date",
        r"\b\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b",
        WILDCARD,
    ),
    ("time", r"\b\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\b", WILDCARD),
    ("day_month", r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b", WILDCARD),
    # hex: 0x..., or a word of hex digits holding both a digit and a letter
    (
        "hex",
        r"\b0[xX][0-9A-Fa-f]+\b|\b[0-9A-Fa-f]*\d[0-9A-Fa-f]*[A-Fa-f][0-9A-Fa-f]*\b"
        r"|\b[0-9A-Fa-f]*[A-Fa-f][0-9A-Fa-f]*\d[0-9A-Fa-f]*\b",
        WILDCARD,
    ),
    # identifiers with a number after an underscore (attempt_1445_0020_m_0, blk_-42)
    ("ident", r"\b\w*_-?\d\w*\b", WILDCARD),
    # any other number not glued to the end of a word (id=42 -> id=<*>; ipv4 stays)
    ("number", r"[-+]?\b\d+(?:[.,]\d+)*", WILDCARD),
)
# Runs of wildcards separated only by punctuation or spaces become one wildcard:
# a variable that spans several tokens then has one length.
_COLLAPSE = (r"<\*>(?:[\s.,:;/_=+#|-]*<\*>)+", WILDCARD)
_BRACKETED = (r"\(<\*>\)|\[<\*>\]|\{<\*>\}|<<\*>>", WILDCARD)
# an empty value: (), [], {}, "" or '' after a space
_EMPTY = (r"\s(?:\(\)|\[\]|\{\}|\"\"|'')", " " + WILDCARD)
_SPACES = (r"\s\s+|[\t\n\r\f\v]", " ")

_ALNUM = re.compile(r"[A-Za-z0-9]")


# An HTTP status code after the protocol ("GET /a HTTP/1.1 503") says what failed: it is
# kept, with the protocol, through the masks. Before them it is written as one word of
# letters and digits that no mask touches (no word boundary before a digit, no dot, slash
# or underscore), and written back after them.
_HTTP_STATUS_IN = (r"\bHTTP/(\d)(?:\.(\d))?(\"?)\s+([1-5]\d\d)\b", "HTTPv${1}p${2}q${3}s${4}")
_HTTP_STATUS_OUT = (
    (r"\bHTTPv(\d)p(\d)q(\"?)s(\d{3})\b", "HTTP/${1}.${2}${3} ${4}"),
    (r"\bHTTPv(\d)pq(\"?)s(\d{3})\b", "HTTP/${1}${2} ${3}"),
)


def _mask_expr(e: Any, first_line: bool = True) -> Any:
    if first_line:
        e = e.str.replace(r"[\r\n][\s\S]*$", "")
    e = e.str.replace_all(*_HTTP_STATUS_IN)
    for _name, pattern, repl in MASKS:
        e = e.str.replace_all(pattern, repl)
    for pattern, repl in _HTTP_STATUS_OUT:
        e = e.str.replace_all(pattern, repl)
    e = e.str.replace_all(*_EMPTY).str.replace_all(*_COLLAPSE).str.replace_all(*_BRACKETED)
    e = e.str.replace_all(*_COLLAPSE).str.replace_all(*_SPACES).str.strip_chars()
    return e


def mask(messages: pl.Expr | pl.Series | str = "message") -> pl.Expr | pl.Series:
    """Mask the variable parts of messages, vectorised.

    Only the first line of each message is kept (a stack trace's first line
    names the error); numbers, ids, hex, IP and MAC addresses, URLs, paths,
    quoted values, dates, times, durations and sizes become ``<*>``, and runs
    of wildcards become one. The rules are :data:`MASKS`, applied in order.

    Parameters
    ----------
    messages
        A polars expression, a Series, or a column name (default ``"message"``).

    Returns
    -------
    polars.Expr or polars.Series
        The same kind as given (a column name gives an expression). A Series is
        masked in parallel slices.

    Examples
    --------
    >>> import polars as pl
    >>> mask(pl.Series(["GET /api/v1/users/42 from 10.1.2.3 in 3.2s"])).to_list()
    ['GET <*> from <*> in <*>']
    """
    if isinstance(messages, str):
        return _mask_expr(pl.col(messages))
    if isinstance(messages, pl.Expr):
        return _mask_expr(messages)
    return _mask_series(messages)


def _mask_series(s: pl.Series) -> pl.Series:
    """Mask a Series: split into slices masked on separate threads (polars frees the GIL)."""
    s = s.cast(pl.String).fill_null("")
    if s.str.contains(r"[\r\n]").any():
        s = s.str.replace(r"[\r\n][\s\S]*$", "")
    n_parts = max(1, min(pl.thread_pool_size(), s.len() // 50_000))
    if n_parts == 1:
        return _mask_expr(s, first_line=False)
    from concurrent.futures import ThreadPoolExecutor

    step = -(-s.len() // n_parts)
    slices = [s.slice(i, step) for i in range(0, s.len(), step)]
    with ThreadPoolExecutor(n_parts) as pool:
        parts = list(pool.map(lambda part: _mask_expr(part, first_line=False), slices))
    return pl.concat(parts).alias(s.name)


# ---------------------------------------------------------------------------
# mining


def _threshold(n: int) -> int:
    """Return how many constant tokens must agree for messages of ``n`` tokens.

    At most one token may differ in messages of up to four tokens, two up to
    six, three up to nine, and half of the tokens beyond that.
    """
    if n <= 4:
        return max(n - 1, 1)
    if n <= 6:
        return n - 2
    if n <= 9:
        return n - 3
    return (n + 1) // 2


@dataclass
class _Cluster:
    tokens: list[str]
    weight: int
    members: list[int] = field(default_factory=list)


def _is_wild(tok: str) -> bool:
    return WILDCARD in tok and not _ALNUM.search(tok.replace(WILDCARD, ""))


def _cluster_same_length(items: list[tuple[list[str], int, int]]) -> list[_Cluster]:
    """Group messages of one length by how many constant tokens they share."""
    clusters: list[_Cluster] = []
    index: dict[tuple[int, str], set[int]] = defaultdict(set)
    for toks, weight, ident in items:
        n = len(toks)
        need = _threshold(n)
        scores: Counter[int] = Counter()
        for pos, tok in enumerate(toks):
            if _is_wild(tok):
                continue
            hits = index.get((pos, tok))
            if hits:
                scores.update(hits)
        best, best_key = -1, (-1, -1, -1)
        for cid, score in scores.items():
            if score < need:
                continue
            key = (score, sum(_is_wild(t) for t in clusters[cid].tokens), -cid)
            if key > best_key:
                best, best_key = cid, key
        if best < 0 and need > 0 and n - sum(_is_wild(t) for t in toks) < need:
            # a message made mostly of wildcards: only an identical shape matches
            for cid, cl in enumerate(clusters):
                if cl.tokens == toks:
                    best = cid
                    break
        if best < 0:
            cid = len(clusters)
            clusters.append(_Cluster(list(toks), weight, [ident]))
            for pos, tok in enumerate(toks):
                if not _is_wild(tok):
                    index[(pos, tok)].add(cid)
            continue
        cl = clusters[best]
        cl.weight += weight
        cl.members.append(ident)
        for pos, (old, new) in enumerate(zip(cl.tokens, toks)):
            if old != new and old != WILDCARD:
                if not _is_wild(old):
                    index[(pos, old)].discard(best)
                cl.tokens[pos] = WILDCARD
    return clusters


SPLIT_MAX_VALUES = 4
SPLIT_MIN_LINES = 2


def _common(part: list[tuple[list[str], int, int]]) -> list[str]:
    """Return the template of messages of one length: differing tokens become <*>."""
    first = part[0][0]
    out = list(first)
    for toks, _w, _m in part[1:]:
        for pos, tok in enumerate(toks):
            if out[pos] != tok:
                out[pos] = WILDCARD
    return out


def _split(part: list[tuple[list[str], int, int]]) -> list[list[tuple[list[str], int, int]]]:
    """Split a cluster on a position that takes only a few distinct words.

    A logging statement's constant words repeat; its variables vary. Where a
    position of a cluster holds at most ``SPLIT_MAX_VALUES`` distinct words
    (none of them masked), each on at least ``SPLIT_MIN_LINES`` lines, the
    words are read as constants of different statements (``VM Paused`` /
    ``VM Resumed``) and the cluster is split on the position with the fewest
    of them, then each part again. Words seen once each (three user names on
    one line apiece) stay a variable.
    """
    if len(part) < 2:
        return [part]
    n = len(part[0][0])
    best_pos, best_vals = -1, 0
    for pos in range(n):
        vals = {toks[pos] for toks, _w, _m in part}
        if len(vals) < 2 or len(vals) > SPLIT_MAX_VALUES:
            continue
        if any(WILDCARD in v for v in vals):
            continue
        lines: Counter[str] = Counter()
        for toks, w, _m in part:
            lines[toks[pos]] += w
        if max(lines.values()) < SPLIT_MIN_LINES:
            continue
        if best_pos < 0 or len(vals) < best_vals:
            best_pos, best_vals = pos, len(vals)
    if best_pos < 0:
        return [part]
    groups: dict[str, list[tuple[list[str], int, int]]] = defaultdict(list)
    for item in part:
        groups[item[0][best_pos]].append(item)
    out: list[list[tuple[list[str], int, int]]] = []
    for key in sorted(groups):
        out.extend(_split(groups[key]))
    return out


def _template_regex(template: str) -> re.Pattern[str]:
    """Compile a template into a pattern whose wildcards absorb no letters or digits.

    A wildcard then stands for masked values, punctuation and nothing at all,
    so ``bytes <*> sent`` matches ``bytes sent`` but ``for <*> from`` does not
    match ``for invalid user <*> from``: other words make another statement.
    """
    parts = [re.escape(p) for p in re.split(r"\s*<\*>\s*", template)]
    return re.compile("^" + "[^A-Za-z0-9]*?".join(parts) + "$", re.DOTALL)


_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def _merge_templates(texts: list[str], weights: list[int]) -> list[int]:
    """Map each template to a more general template that matches it, if any.

    A template is folded into another when the other, read as a pattern whose
    wildcards absorb only masked values and punctuation, matches it whole
    (``bytes <*> sent`` takes ``bytes sent``). Such a pair has the same letters
    and digits in the same order, so only templates with the same alphanumeric
    skeleton are compared: the pass is linear in the number of templates.
    """
    n = len(texts)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    groups: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(texts):
        groups[_NON_ALNUM.sub("", t.replace(WILDCARD, ""))].append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda i: (-weights[i], texts[i]))
        regexes = {i: _template_regex(texts[i]) for i in members}
        for i in members:
            if WILDCARD not in texts[i]:
                continue
            for j in members:
                if j == i or find(j) == find(i):
                    continue
                if regexes[i].match(texts[j]) and not regexes[j].match(texts[i]):
                    parent[find(j)] = find(i)
    return [find(i) for i in range(n)]


def mine(masked: Sequence[str], weights: Sequence[int] | None = None) -> list[str]:
    """Mine templates from distinct masked messages.

    Parameters
    ----------
    masked
        Distinct masked messages (see :func:`mask`).
    weights
        How many lines each masked message stands for (default 1 each). Heavier
        messages seed clusters first; the result does not depend on the order of
        ``masked``.

    Returns
    -------
    list of str
        The template of each masked message, in the order given.

    Examples
    --------
    >>> mine(["user alice logged in", "user bob logged in", "disk full"])
    ['user <*> logged in', 'user <*> logged in', 'disk full']
    """
    if weights is None:
        weights = [1] * len(masked)
    if len(weights) != len(masked):
        msg = f"mine(): {len(masked)} messages but {len(weights)} weights; expected one weight per message"
        raise InputError(msg)
    order = sorted(range(len(masked)), key=lambda i: (-weights[i], masked[i]))
    by_len: dict[int, list[tuple[list[str], int, int]]] = defaultdict(list)
    for i in order:
        toks = masked[i].split()
        by_len[len(toks)].append((toks, weights[i], i))
    texts: list[str] = []
    tweights: list[int] = []
    owner = [0] * len(masked)
    tokens = {i: toks for items in by_len.values() for toks, _w, i in items}
    for n in sorted(by_len):
        for cl in _cluster_same_length(by_len[n]):
            for part in _split([(tokens[m], weights[m], m) for m in cl.members]):
                tid = len(texts)
                texts.append(" ".join(_common(part)))
                tweights.append(sum(w for _t, w, _m in part))
                for _t, _w, m in part:
                    owner[m] = tid
    root = _merge_templates(texts, tweights)
    return [texts[root[owner[i]]] for i in range(len(masked))]


def template_id(template: str) -> str:
    """Return the stable id of a template: 12 hex digits of its BLAKE2b hash.

    Examples
    --------
    >>> template_id("disk full")
    '...'  # doctest: +SKIP
    """
    return hashlib.blake2b(template.encode("utf-8"), digest_size=6).hexdigest()


# ---------------------------------------------------------------------------
# public verbs


def _to_polars(events: Any, caller: str) -> tuple[pl.DataFrame, bool]:
    if isinstance(events, pl.DataFrame):
        df, is_pandas = events, False
    elif isinstance(events, pl.LazyFrame):
        df, is_pandas = events.collect(), False
    else:
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is a dependency
            pd = None
        if pd is None or not isinstance(events, pd.DataFrame):
            msg = f"{caller}(): expected a polars or pandas DataFrame, got {type(events).__name__}"
            raise InputError(msg)
        df, is_pandas = pl.from_pandas(events.reset_index(drop=True)), True
    if "message" not in df.columns:
        msg = f"{caller}(): the table has no 'message' column; columns are {df.columns}"
        raise InputError(msg)
    return df, is_pandas


def _assign(messages: pl.Series) -> pl.DataFrame:
    """Return template_id and template for every message, in row order."""
    msgs = messages.cast(pl.String).fill_null("").alias("message")
    uniq = msgs.value_counts(name="_n")
    uniq = uniq.with_columns(_masked=_mask_series(uniq["message"]))
    shapes = uniq.group_by("_masked").agg(pl.col("_n").sum()).sort("_masked")
    mined = mine(shapes["_masked"].to_list(), shapes["_n"].to_list())
    ids = {t: template_id(t) for t in set(mined)}
    shapes = shapes.with_columns(
        template=pl.Series(mined, dtype=pl.String),
        template_id=pl.Series([ids[t] for t in mined], dtype=pl.String),
    )
    per_message = uniq.join(shapes.select("_masked", "template_id", "template"), on="_masked", how="left")
    return (
        msgs.to_frame()
        .join(per_message.select("message", "template_id", "template"), on="message", how="left", maintain_order="left")
        .select("template_id", "template")
    )


def _as_utc(value: Any, what: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            msg = f"{what}: {value!r} is not an ISO 8601 time; expected e.g. '2024-08-12T14:05:00Z'"
            raise InputError(msg) from None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        msg = f"{what}: expected a datetime or ISO 8601 string, got {type(value).__name__} {value!r}"
        raise InputError(msg)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _span(span: Any, what: str) -> tuple[datetime, datetime] | None:
    if span is None:
        return None
    try:
        start, end = span
    except (TypeError, ValueError):
        msg = f"{what}: expected a (start, end) pair, got {span!r}"
        raise InputError(msg) from None
    s, e = _as_utc(start, f"{what} start"), _as_utc(end, f"{what} end")
    if e <= s:
        msg = f"{what}: end {e.isoformat()} is not after start {s.isoformat()}"
        raise InputError(msg)
    return s, e


# A template bursts in the window as timeline.bursting defines it, for templates and
# reconstruction alike: enough lines there, and many times what its baseline rate predicts.


def _flags(df: pl.DataFrame, window: Any, baseline: Any) -> pl.DataFrame:
    """Per-template window statistics; ``df`` has ts, template_id."""
    win = _span(window, "window")
    if win is None:
        return df.group_by("template_id").agg(
            count_in_window=pl.lit(None, dtype=pl.UInt32),
            count_before=pl.lit(None, dtype=pl.UInt32),
            new=pl.lit(None, dtype=pl.Boolean),
            bursting=pl.lit(None, dtype=pl.Boolean),
        )
    if "ts" not in df.columns:
        msg = "window given but the table has no 'ts' column; expected the event schema's ts (Datetime UTC)"
        raise InputError(msg)
    ws, we = win
    ts = pl.col("ts")
    if df.schema["ts"] == pl.String:
        ts = ts.str.to_datetime(time_zone="UTC")
    elif getattr(df.schema["ts"], "time_zone", None) is None:
        ts = ts.dt.replace_time_zone("UTC")
    else:
        ts = ts.dt.convert_time_zone("UTC")
    base = _span(baseline, "baseline")
    if base is None:
        tmin = df.select(ts.min()).item()
        base = (tmin, ws) if tmin is not None and tmin < ws else None
    in_win = (ts >= ws) & (ts < we)
    if base is not None:
        bs, be = base
        in_base = (ts >= bs) & (ts < be)
        base_s = (be - bs).total_seconds()
    else:
        in_base = pl.lit(False)
        base_s = 0.0
    win_s = (we - ws).total_seconds()
    stats = df.group_by("template_id").agg(
        count_in_window=in_win.sum().cast(pl.UInt32),
        count_before=(ts < ws).sum().cast(pl.UInt32),
        _base=in_base.sum(),
        _first=ts.min(),
    )
    expected = pl.col("_base") * (win_s / base_s) if base_s > 0 else pl.lit(0.0)
    return stats.with_columns(
        new=(pl.col("_first") >= ws) & (pl.col("_first") < we) & (pl.col("_base") == 0),
        bursting=is_bursting(pl.col("count_in_window"), expected),
    ).drop("_base", "_first")


def templates(events: Any, *, window: Any = None, baseline: Any = None) -> Any:
    """Add ``template_id`` and ``template`` columns to an event table.

    Parameters
    ----------
    events
        A polars or pandas DataFrame with a ``message`` column (any other
        columns are kept). Multi-line messages are templated on their first line.
    window
        Optional ``(start, end)`` of the incident (datetimes or ISO strings;
        naive times are UTC). When given, two boolean columns are added too:
        ``template_new`` and ``template_bursting`` (see :func:`template_summary`).
    baseline
        Optional ``(start, end)`` of the baseline period; default: from the
        first event to the window start.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The same type as given, rows in the same order (pandas keeps its index),
        with the new columns at the end.

    Examples
    --------
    >>> import polars as pl
    >>> ev = pl.DataFrame({"message": ["disk /dev/sda1 full", "disk /dev/sdb2 full"]})
    >>> templates(ev)["template"].to_list()
    ['disk <*> full', 'disk <*> full']
    """
    df, is_pandas = _to_polars(events, "templates")
    assigned = _assign(df["message"])
    out = df.with_columns(assigned)
    if window is not None:
        flags = _flags(out, window, baseline).select(
            "template_id", template_new="new", template_bursting="bursting"
        )
        out = out.join(flags, on="template_id", how="left", maintain_order="left")
    if not is_pandas:
        return out
    result = events.copy()
    for col in out.columns[len(df.columns):]:
        result[col] = out[col].to_numpy()
    return result


def template_summary(events: Any, *, window: Any = None, baseline: Any = None) -> pl.DataFrame:
    """One row per template: counts, first and last seen, new and bursting.

    Parameters
    ----------
    events
        A polars or pandas event table with ``message`` and ``ts``; if it has
        ``template_id`` and ``template`` already (from :func:`templates`), they
        are used as they are.
    window
        Optional ``(start, end)`` of the incident window. Without it,
        ``count_in_window``, ``count_before``, ``new`` and ``bursting`` are null.
    baseline
        Optional ``(start, end)`` to compare against; default: everything before
        the window start.

    Returns
    -------
    polars.DataFrame
        Columns ``template_id, template, count, first_seen, last_seen,
        count_in_window, count_before, new, bursting, sample``, most frequent
        first. ``new``: first seen inside the window and never in the baseline.
        ``bursting``: at least 3 lines in the window (``timeline.bursting``) and
        ``count_in_window + 1 >= 5 * (expected + 1)``, where ``expected`` is the
        baseline count scaled to the window's length (the baseline rate times
        the window duration). The +1 on both sides keeps a template that was
        rare or absent in the baseline from bursting on one or two lines.
    """
    df, _ = _to_polars(events, "template_summary")
    if "template_id" not in df.columns or "template" not in df.columns:
        df = df.with_columns(_assign(df["message"]))
    has_ts = "ts" in df.columns
    aggs = [
        pl.col("template").first(),
        pl.len().cast(pl.UInt32).alias("count"),
        (pl.col("ts").min() if has_ts else pl.lit(None, dtype=pl.Datetime("us", "UTC"))).alias("first_seen"),
        (pl.col("ts").max() if has_ts else pl.lit(None, dtype=pl.Datetime("us", "UTC"))).alias("last_seen"),
        pl.col("message").first().alias("sample"),
    ]
    summary = df.group_by("template_id").agg(aggs)
    flags = _flags(df, window, baseline)
    summary = summary.join(flags, on="template_id", how="left")
    return summary.select(
        "template_id", "template", "count", "first_seen", "last_seen",
        "count_in_window", "count_before", "new", "bursting", "sample",
    ).sort(["count", "template_id"], descending=[True, False])
