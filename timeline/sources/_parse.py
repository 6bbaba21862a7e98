"""Parsing a table of lines with a spec into events, vectorised in polars.

One mechanism for every line format: the spec's patterns cut lines into fields,
its multi-line rule marks continuation lines, its timestamp rule reads the time,
its level map normalises levels. The expressions here work on a whole column at
a time and would translate to any dataframe engine.
"""

from __future__ import annotations

import functools
import io
import json
import re
from dataclasses import dataclass

import polars as pl

from timeline.schema import LEVELS, Level
from timeline.sources._account import FileAccount
from timeline.sources._engine import engine
from timeline.sources._spec import Spec
from timeline.sources._time import ISO_FORMATS, TimeOptions, add_time_columns

_MATCH = "_m"


@dataclass(frozen=True)
class Context:
    """Where the lines come from, how to read their times, and which event columns are wanted."""

    file: str
    source: str
    time: TimeOptions
    # The event columns the reader will use (None: all). A column left out is null, and the work
    # that only it needs (joining continuation lines into messages, encoding attrs) is skipped;
    # every line is still parsed and accounted for.
    columns: frozenset[str] | None = None


@dataclass
class Block:
    """One block of a file read in blocks: whether it is the last, and the lines it hands on.

    A record that starts in a block may go on in the next one (a traceback cut
    by the block's end), so every block but the last holds back its final
    record's lines in ``held`` for the next block to read with its own.
    """

    last: bool = True
    held: pl.DataFrame | None = None


def _field(frame_cols: set[str], names: tuple[str, ...]) -> pl.Expr | None:
    present = [pl.col(n).cast(pl.String) for n in names if n in frame_cols]
    if not present:
        return None
    return present[0] if len(present) == 1 else pl.coalesce(present)


def level_expr(raw: pl.Expr | None, spec: Spec) -> pl.Expr:
    """Normalise a raw level column with the spec's maps; unknown values take the default level."""
    if raw is None:
        return pl.lit(spec.default_level)
    key = raw.cast(pl.String).str.strip_chars().str.to_lowercase()
    mapped: pl.Expr = pl.lit(None, dtype=pl.String)
    if spec.levels:
        names = list(spec.levels)
        mapped = key.replace_strict(names, [spec.levels[n] for n in names], default=None, return_dtype=pl.String)
    chain = pl.when(mapped.is_not_null()).then(mapped)
    for level, regex in spec.level_patterns:
        chain = chain.when(key.str.contains(regex)).then(pl.lit(level))
    number = key.cast(pl.Float64, strict=False)
    for low, high, level in spec.level_ranges:
        chain = chain.when(number.is_between(low, high)).then(pl.lit(level))
    return chain.otherwise(pl.lit(spec.default_level))


def _level_by_value(frame: pl.DataFrame, raw: pl.Expr | None, spec: Spec) -> pl.Expr | None:
    """:func:`level_expr` worked out once per distinct raw level, then looked up per row.

    A log has a handful of level spellings, so this reads the same as the
    expression over every row at a fraction of the cost; None when there is no
    level field or too many distinct values for it to pay.
    """
    if raw is None:
        return None
    distinct = frame.lazy().select(raw.unique().alias("_raw")).collect(engine=engine())
    if distinct.height > 10_000:
        return None
    table = distinct.with_columns(level_expr(pl.col("_raw"), spec).alias("_lvl"))
    known = table.filter(pl.col("_raw").is_not_null())
    for_null = table.filter(pl.col("_raw").is_null())["_lvl"].to_list()
    default = for_null[0] if for_null else level_expr(pl.lit(None, dtype=pl.String), spec)
    return raw.replace_strict(known["_raw"], known["_lvl"], default=default, return_dtype=Level)


def _attrs_expr(names: list[str], frame: pl.DataFrame) -> pl.Expr:
    """The extra fields as a JSON object; null on a row where none of them has a value.

    Lines whose every extra field is empty (most application logs) cost nothing here.
    """
    if not names or all(n in frame.columns and frame[n].null_count() == frame.height for n in names):
        return pl.lit(None, dtype=pl.String)
    encoded = pl.struct([pl.col(n) for n in names]).struct.json_encode()
    return pl.when(pl.any_horizontal([pl.col(n).is_not_null() for n in names])).then(encoded)


def _add_time(frame: pl.DataFrame, spec: Spec, ctx: Context, rows: pl.Expr) -> pl.DataFrame:
    """Add ``ts``, ``_zone`` and ``_terr`` for the record-start rows."""
    cols = set(frame.columns)
    ts_raw = _field(cols, spec.ts_fields)
    if ts_raw is None:
        msg = f"format {spec.name}: none of the time fields {spec.ts_fields} was extracted"
        raise ValueError(msg)
    zone_field = spec.timestamp.get("zone_field")
    zone = pl.col(zone_field) if zone_field and zone_field in cols else None
    formats = tuple(spec.timestamp.get("formats", ()))
    if spec.timestamp.get("iso"):
        formats = (*formats, *ISO_FORMATS)
    numeric = None
    if spec.timestamp.get("epoch"):
        # An epoch number is an instant in UTC, not a naive local time (noted before the raw field is replaced by ts).
        numeric = frame.select(ts_raw.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False).is_not_null()).to_series()
    out = add_time_columns(
        frame, ts_raw, formats=formats, epoch=spec.timestamp.get("epoch"), zone=zone,
        missing=spec.timestamp.get("missing"), options=ctx.time, rows=rows,
    )
    if numeric is not None and out["_zone"].null_count():
        out = out.with_columns(pl.when(pl.col("_zone").is_null() & numeric & pl.col("ts").is_not_null())
                               .then(pl.lit("UTC")).otherwise(pl.col("_zone")).alias("_zone"))
    return out


def _event_columns(spec: Spec, cols: set[str], ctx: Context, attrs: pl.Expr) -> list[pl.Expr]:
    """The event-table columns built from extracted fields."""
    out = [
        pl.lit(ctx.source).alias("source"),
        pl.lit(spec.event_kind).alias("kind"),
        level_expr(_field(cols, spec.column("level")), spec).alias("level"),
    ]
    for target in ("host", "service", "actor", "ref", "action"):
        expr = _field(cols, spec.column(target))
        const = spec.constants.get(target)
        if const is not None:
            expr = pl.lit(const) if expr is None else pl.coalesce(expr, pl.lit(const))
        out.append((expr if expr is not None else pl.lit(None, dtype=pl.String)).alias(target))
    source_override = _field(cols, spec.column("source"))
    if source_override is not None:
        out[0] = pl.coalesce(source_override, pl.lit(ctx.source)).alias("source")
    out.append(attrs.alias("attrs"))
    out.append(pl.lit(ctx.file).alias("file"))
    return out


def parse_regex_lines(
    lines: pl.DataFrame, spec: Spec, ctx: Context, account: FileAccount, block: Block | None = None
) -> pl.DataFrame:
    """Parse a line table with a regex spec; fill the account; return events (unsorted)."""
    text = pl.col("text")
    groups = list(spec.groups)
    n = lines.height
    values: dict[str, pl.Series] = {}
    matched = pl.repeat(False, n, dtype=pl.Boolean, eager=True).alias("_matched")
    # Patterns are tried in order, each only on the lines no earlier pattern read: most lines
    # match the first, and the others run on the few lines left (capture groups are the dearest step).
    # A trailing "rest of the line" group is cut by position after the match instead of captured:
    # the capture engine then stops where the prefix ends, which halves the cost on long lines.
    where: pl.Series | None = None  # row positions of the lines still unread (None: all lines)
    later: dict[str, list[tuple[pl.Series, pl.Series]]] = {}  # what patterns after the first read
    parts = []
    for pat in spec.patterns:
        parts.append(_pattern_parts(pat.regex))
    pool: pl.Series | None = None  # lines the first pattern left that some later pattern reads
    for i, (head, tail, optionals, test) in enumerate(parts):
        if i > 0:
            # Match tests without captures (the regex engine's fast path) pick the lines each later
            # pattern reads, and only those are captured; one test of all the later patterns at once
            # first sets aside the lines none of them reads (a traceback's lines, say).
            if pool is None:
                pool = _matching(lines, matched.not_().arg_true(), [t for *_, t in parts[1:]])
            else:
                pool = pool.filter(matched.gather(pool).not_())
            where = _matching(lines, pool, [test])
        target = lines if where is None else lines[where]
        if target.height == 0:
            continue
        if tail is None and not optionals and _group_names(head) <= _unused_groups(spec):
            # A pattern that only validates the line (logfmt's "pairs": every group it has is
            # excluded and read by nothing) is a match test, without captures: about 6x cheaper
            # than capturing its repeated group over the whole line.
            ok = target.lazy().select(text.str.contains(_ascii_digits(head)).alias("_ok")).collect(engine=engine())["_ok"]
            got = pl.DataFrame([ok, *(_nulls(g, target.height) for g in groups if g in _group_names(head))])
        else:
            got = None
        found = pl.col("_p").struct.field(_MATCH)
        plan = target.lazy().with_columns(text.str.extract_groups(f"(?P<{_MATCH}>{_ascii_digits(head)})").alias("_p"))
        if tail is not None:
            # The rest of the line after the match: when the match starts the line, cut off as that prefix
            # (a byte-wise cut, half the cost of counting characters).
            rest = text.str.strip_prefix(found) if head.startswith("^") else text.str.slice(found.str.len_chars())
            plan = plan.with_columns(pl.when(found.is_not_null()).then(rest).alias("_rest"))
        for k, opt in enumerate(optionals):
            # A trailing optional part is read on the rest of the line after the part before it.
            # It is captured only where it is present (a cheap test first): elsewhere it reads as empty.
            part = pl.col(f"_o{k}").struct.field(_MATCH)
            present = pl.col("_rest").str.contains(f"^{_ascii_digits(opt[:-1])}")
            plan = plan.with_columns(
                pl.when(present).then(pl.col("_rest")).str.extract_groups(f"^(?P<{_MATCH}>{_ascii_digits(opt)})").alias(f"_o{k}")
            ).with_columns(pl.col("_rest").str.strip_prefix(part.fill_null("")).alias("_rest"))
        exprs = [found.is_not_null().alias("_ok")]
        for g in groups:
            if g == tail:
                exprs.append(pl.col("_rest").alias(g))
            elif g in _group_names(head):
                exprs.append(pl.col("_p").struct.field(g).alias(g))
            else:
                k = next((k for k, opt in enumerate(optionals) if g in _group_names(opt)), None)
                if k is not None:
                    exprs.append(pl.col(f"_o{k}").struct.field(g).alias(g))
        if got is None:
            got = plan.select(exprs).collect(engine=engine())
        if where is None:
            matched = got["_ok"].alias("_matched")
            for g in got.columns[1:]:
                values[g] = got[g]
        else:
            # Only the lines this pattern read are placed, all at once after the last pattern
            # (each placement copies a whole column).
            ok = got["_ok"]
            if ok.any():
                read_here = where.filter(ok)
                matched = matched.scatter(read_here, True)
                for g in got.columns[1:]:
                    later.setdefault(g, []).append((read_here, got[g].filter(ok)))
    for g, placed in later.items():
        column = values.get(g)
        column = _nulls(g, n) if column is None else column
        values[g] = column.scatter(pl.concat([p for p, _ in placed]), pl.concat([v for _, v in placed]))
    frame = lines.with_columns(
        [(values[g] if g in values else _nulls(g, n)).alias(g) for g in groups]
    )
    field_exprs = _with_fields(spec, [pl.col(g) for g in groups])
    frame = frame.lazy().with_columns(*field_exprs).with_columns(matched).collect(engine=engine())
    return _assemble(frame, spec, ctx, account, list(spec.field_names), block=block)


def _unused_groups(spec: Spec) -> frozenset[str]:
    """Pattern groups excluded from attrs and named nowhere else in the spec: their values are never read."""
    named = repr((spec.ts_fields, spec.columns, spec.timestamp, spec.multiline, spec.constants, spec.raw.get("message_extra"),
                  spec.raw.get("message_template"), [n for n, _ in spec.fields]))
    return frozenset(g for g in spec.attrs_exclude if g not in named)


@functools.lru_cache(maxsize=512)
def _pattern_parts(regex: str) -> tuple[str, str | None, tuple[str, ...], str]:
    """A pattern cut for reading: its head, the tail group's name, trailing optional parts, and its match test.

    Worked out once per pattern (every block of a file reads with the same patterns).
    """
    head, tail = _split_tail(regex)
    head, optionals = _peel_optionals(head) if tail is not None else (head, [])
    return head, tail, tuple(optionals), _ascii_digits(_without_captures(head))


@functools.lru_cache(maxsize=1024)
def _group_names(regex: str) -> frozenset[str]:
    return frozenset(re.compile(regex).groupindex)


def _matching(lines: pl.DataFrame, rows: pl.Series, tests: list[str]) -> pl.Series:
    """The rows (positions) whose text any of the regexes matches."""
    if rows.len() == 0:
        return rows
    text = pl.col("text").gather(rows)
    try:
        hit = lines.lazy().select(text.str.contains("|".join(f"(?:{t})" for t in tests))).collect(engine=engine()).to_series()
    except pl.exceptions.ComputeError:  # a combined pattern too large for the engine: one by one
        hit = lines.lazy().select(pl.any_horizontal([text.str.contains(t) for t in tests])).collect(engine=engine()).to_series()
    return rows.filter(hit)


_NAMED_GROUP = re.compile(r"(?<!\\)\(\?P<\w+>")


def _without_captures(regex: str) -> str:
    """The same pattern with its named groups made non-capturing: ``(?P<level>...)`` -> ``(?:...)``."""
    return _NAMED_GROUP.sub("(?:", regex)


def _nulls(name: str, n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.String, eager=True).alias(name)


_TAIL = re.compile(r"\(\?P<(\w+)>\.\*\)\$$")


def _split_tail(regex: str) -> tuple[str, str | None]:
    """Split ``...(?P<message>.*)$`` into the head regex and the tail group's name."""
    m = _TAIL.search(regex)
    if not m or "|" in regex[m.start() :]:
        return regex, None
    head = regex[: m.start()]
    # The head must not end inside an open group or alternation for the cut to be safe.
    if head.count("(") - head.count("\\(") != head.count(")") - head.count("\\)"):
        return regex, None
    return head, m.group(1)


_FLAGS = re.compile(r"\(\?[a-zA-Z-]+[:)]")
_POSITIONAL = ("^", "$", "\\b", "\\B", "\\A", "\\z")


def _peel_optionals(head: str) -> tuple[str, list[str]]:
    """Split trailing optional groups ``(?:...)?`` off a pattern head, leftmost first.

    ``A(?:X)?`` followed by the rest of the line reads the same as ``A`` then
    ``^(?:X)?`` on what follows ``A``'s match: the optional part always
    succeeds, so it never changes how ``A`` matches, and a greedy ``?`` takes
    ``X`` whenever it matches there. Read apart, ``A`` often becomes one-pass
    for the regex engine (no backtracking), which makes capturing much cheaper.
    Patterns with inline flags or position assertions inside the part are
    left whole.
    """
    parts: list[str] = []
    if _FLAGS.search(head):
        return head, parts
    while head.endswith(")?") and not head.endswith("\\)?"):
        start = _group_start(head, len(head) - 2)
        if start is None or not head.startswith("(?:", start):
            break
        opt = head[start:]
        if any(p in opt for p in _POSITIONAL):
            break
        try:
            re.compile(head[:start])
            re.compile(opt)
        except re.error:
            break
        parts.insert(0, opt)
        head = head[:start]
    return head, parts


def _group_start(regex: str, close: int) -> int | None:
    """Where the group that closes at ``close`` opens (None if unbalanced or inside a class)."""
    stack: list[int] = []
    i, in_class = 0, False
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            if regex.startswith("[]", i) or regex.startswith("[^]", i):
                i += 2 if regex[i + 1] == "]" else 3
                continue
        elif c == "(":
            stack.append(i)
        elif c == ")":
            if not stack:
                return None
            opened = stack.pop()
            if i == close:
                return opened if not stack else None
        i += 1
    return None


def _ascii_digits(regex: str) -> str:
    """``\\d`` as ASCII digits: Unicode digit classes slow the capture engine and logs write ASCII."""
    return re.sub(r"(?<!\\)\\d", "[0-9]", regex)


def _with_fields(spec: Spec, pattern_fields: list[pl.Expr]) -> list[pl.Expr]:
    """Add the spec's [fields]: each cut by its own regex anywhere in the line.

    A field that is also a pattern group fills in where the group is empty.
    """
    if not spec.fields:
        return pattern_fields
    by_name = {e.meta.output_name(): e for e in pattern_fields}
    for name, regex in spec.fields:
        n_groups = re.compile(regex).groups
        found = pl.col("text").str.extract_groups(regex)
        parts = [found.struct.field(str(i + 1)) for i in range(n_groups)]
        value = (parts[0] if len(parts) == 1 else pl.coalesce(parts)).str.replace_all('\\"', '"', literal=True)
        if name in by_name:
            by_name[name] = pl.coalesce(by_name[name], value).alias(name)
        else:
            by_name[name] = value.alias(name)
    return list(by_name.values())


def _assemble(
    frame: pl.DataFrame,
    spec: Spec,
    ctx: Context,
    account: FileAccount,
    groups: list[str],
    *,
    attrs_from_text: bool = False,
    block: Block | None = None,
) -> pl.DataFrame:
    """Multi-line assembly, time, levels and accounting for a parsed line table.

    ``frame`` has ``line``, ``text``, ``_matched`` and one column per field.
    ``attrs_from_text``: the event's attrs are its first line as read (a JSON record).
    ``block``: when the lines are a block of a file that goes on, the last
    record's lines are held back in it, not read.
    """
    cols = set(frame.columns)
    ml = spec.multiline
    # A reader that already knows which lines are blank passes them as ``_blank``.
    blank = pl.col("_blank") if "_blank" in cols else ~pl.col("text").str.contains(r"\S")
    if ml.get("ignore"):
        blank = blank | pl.col("text").str.contains(ml["ignore"])
    starts = pl.col("_matched") & ~blank
    join_field = ml.get("join_field")
    if join_field and join_field in cols:
        values = [str(v) for v in ml.get("join_values", [])]
        joins = pl.col(join_field).cast(pl.String).is_in(values)
        if ml.get("join_regex"):
            joins = joins | pl.col(join_field).cast(pl.String).str.contains(ml["join_regex"])
        starts = starts & ~joins.fill_null(False)
    partial_field = ml.get("partial_field")
    if partial_field and partial_field in cols:
        partial = pl.col(partial_field).cast(pl.String).str.contains(ml.get("partial_regex", "^P$")).fill_null(False)
        starts = starts & ~partial.shift(1).fill_null(False)
    cont_regex = ml.get("continuation")
    if cont_regex in (".", ".*", "^.*$"):
        cont_like = pl.lit(True)
    elif cont_regex:
        cont_like = pl.col("text").str.contains(cont_regex)
    else:
        cont_like = pl.lit(False)
    joined_match = pl.col("_matched") & ~starts

    # Lazy steps, collected once: the engine runs the expressions over both cores.
    frame = (
        frame.lazy()
        .with_columns(
            blank.alias("_blank"),
            starts.alias("_start"),
            (joined_match | (~pl.col("_matched") & ~blank & cont_like)).alias("_cont"),
        )
        # A record is a start line plus the continuation lines after it (blank lines inside it are skipped).
        .with_columns(pl.col("_start").cast(pl.UInt32).cum_sum().set_sorted().alias("_rec"))
        .collect(engine=engine())
    )
    if block is not None and not block.last and frame.height:
        # The last record may go on in the next block: hand its lines on (lines before any
        # record start belong to no record and are read here).
        last_start = frame["_rec"].search_sorted(frame["_rec"][-1], side="left")
        if frame["_rec"][-1] > 0:
            block.held = frame.slice(last_start).select("line", "text")
            frame = frame.slice(0, last_start)
    if ml.get("record_fields"):
        # Fields the first line lacks come from the record's joined lines (first value wins).
        member = pl.col("_start") | (pl.col("_cont") & ~pl.col("_blank"))
        fields = [c for c in frame.columns if c not in ("line", "text") and not c.startswith("_")]

        def first_in_record(c: str) -> pl.Expr:
            # A record's lines are contiguous and its start line comes first, so the first value
            # among its lines is the next value at or after the start, if that value lies in the
            # same record: two backward fills instead of a window per field (5x faster on
            # MySQL slow-query blocks, which carry 16 fields over 5 lines).
            masked = pl.when(member).then(pl.col(c))
            source_rec = pl.when(masked.is_not_null()).then(pl.col("_rec")).backward_fill()
            return pl.when(source_rec == pl.col("_rec")).then(masked.backward_fill())

        frame = frame.lazy().with_columns(
            pl.when(pl.col("_start")).then(first_in_record(c)).otherwise(pl.col(c)).alias(c) for c in fields
        ).collect(engine=engine())
    frame = _add_time(frame, spec, ctx, pl.col("_start"))
    start_ok = pl.col("_start") & pl.col("_terr").is_null()
    rec_ok = pl.when(pl.col("_start")).then(start_ok).otherwise(None).forward_fill()
    status = (
        pl.when(pl.col("_start") & pl.col("_terr").is_null())
        .then(pl.lit(_EVENT, pl.UInt8))
        .when(pl.col("_start"))
        .then(pl.lit(_STATUS.index("bad_time"), pl.UInt8))
        .when(pl.col("_blank"))
        .then(pl.lit(_STATUS.index("blank"), pl.UInt8))
        .when(pl.col("_cont") & (pl.col("_rec") > 0) & rec_ok.fill_null(False))
        .then(pl.lit(_CONTINUATION, pl.UInt8))
        .when(pl.col("_cont") & (pl.col("_rec") > 0))
        .then(pl.lit(_STATUS.index("orphan_of_rejected"), pl.UInt8))
        .when(pl.col("_cont"))
        .then(pl.lit(_STATUS.index("orphan"), pl.UInt8))
        .otherwise(pl.lit(_STATUS.index("nomatch"), pl.UInt8))
    )
    frame = frame.lazy().with_columns(status.alias("_status")).drop("_blank", "_cont").collect(engine=engine())

    counts = {_STATUS[code]: n for code, n in frame.group_by("_status").len().iter_rows()}
    account.lines += frame.height
    account.events += counts.get("event", 0)
    account.continuation_lines += counts.get("continuation", 0)
    account.blank += counts.get("blank", 0)
    if any(counts.get(k) for k in _REASONS) or counts.get("bad_time"):
        _record_rejections(frame, spec, account)

    message_fields = spec.column("message")
    msg_expr = _field(cols, message_fields) if message_fields else None
    if msg_expr is None:
        msg_expr = pl.col("text")
    template = spec.raw.get("message_template")
    if template:
        msg_expr = _template_expr(str(template), cols)
    extras = spec.raw.get("message_extra", [])
    for label, name in extras:
        if name in cols:
            msg_expr = pl.concat_str(
                [msg_expr, pl.when(pl.col(name).is_not_null() & (pl.col(name) != "")).then(pl.lit(f"\n{label}:  ") + pl.col(name)).otherwise(pl.lit(""))]
            )
    joiner = ml.get("joiner", "\n")
    cont_text = pl.when(pl.col("_matched") & msg_expr.is_not_null()).then(msg_expr).otherwise(pl.col("text"))
    if join_field and join_field in cols and ml.get("join_label"):
        # A joined line keeps its label: "DETAIL:  Key (id)=(42) already exists."
        label = pl.col(join_field).cast(pl.String)
        is_joined = pl.col("_matched") & label.is_in([str(v) for v in ml.get("join_values", [])]).fill_null(False)
        cont_text = pl.when(is_joined).then(pl.concat_str([label, pl.lit(":  "), cont_text])).otherwise(cont_text)
    wanted = (lambda column: True) if ctx.columns is None else ctx.columns.__contains__
    conts = (
        frame.lazy()
        .filter(pl.col("_status") == _CONTINUATION)
        .with_columns(cont_text.alias("_piece"))
        .filter(pl.col("_piece") != "")
        .group_by("_rec", maintain_order=True)
        .agg(pl.col("_piece").str.join(joiner).alias("_tail"))
    )
    reserved = {*spec.ts_fields, *(f for fs in spec.columns.values() for f in fs), _MATCH, *(n for _, n in extras)}
    zone_field = spec.timestamp.get("zone_field")
    if zone_field:
        reserved.add(zone_field)
    attr_names = [g for g in groups if g not in reserved and g not in spec.attrs_exclude]
    events = frame.lazy().filter(pl.col("_status") == _EVENT)
    if counts.get("continuation") and wanted("message"):
        # Both sides are in record order and every joined record is an event: place each
        # record's joined lines by a sorted search instead of a join.
        tails = conts.collect(engine=engine())
        recs = events.select("_rec").collect(engine=engine())["_rec"]
        where = recs.search_sorted(tails["_rec"], side="left")
        if tails.height == 0 or (where.max() < recs.len() and (recs.gather(where) == tails["_rec"]).all()):  # type: ignore[operator]
            events = events.with_columns(_nulls("_tail", recs.len()).scatter(where, tails["_tail"]))
        else:
            events = events.join(tails.lazy(), on="_rec", how="left", maintain_order="left")
    else:
        events = events.with_columns(pl.lit(None, dtype=pl.String).alias("_tail"))
    head_empty = msg_expr.is_null() | (msg_expr == "")
    message = (
        pl.when(pl.col("_tail").is_null())
        .then(msg_expr)
        .when(head_empty)
        .then(pl.col("_tail"))
        .otherwise(pl.concat_str([msg_expr, pl.lit(joiner), pl.col("_tail")]))
    )
    if not wanted("message"):
        message = pl.lit(None, dtype=pl.String)
    attrs = _attrs_expr(attr_names, frame) if wanted("attrs") else pl.lit(None, dtype=pl.String)
    columns = _event_columns(spec, set(events.collect_schema().names()), ctx, attrs)
    if attrs_from_text and wanted("attrs"):
        columns = [pl.col("text").alias("attrs") if c.meta.output_name() == "attrs" else c for c in columns]
    level = _level_by_value(frame, _field(cols, spec.column("level")), spec)
    if level is not None:
        columns = [level.alias("level") if c.meta.output_name() == "level" else c for c in columns]
    out = events.select(
        pl.col("ts"),
        *columns,
        message.alias("message"),
        pl.col("line").cast(pl.UInt32),
        pl.col("_zone"),
    ).collect(engine=engine())
    if ml.get("strip", True) and wanted("message") and out.lazy().select(pl.col("message").str.contains(r"\s\z").any()).collect(engine=engine()).item():
        # Trailing whitespace is rare: strip only when some message has it.
        out = out.with_columns(pl.col("message").str.strip_chars_end())
    _note_times(out, account)
    return out.drop("_zone")


_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


def template_fields(template: str) -> list[str]:
    """The field names a message template refers to."""
    return _TEMPLATE_FIELD.findall(template)


def _template_expr(template: str, cols: set[str]) -> pl.Expr:
    """A message built from fields: ``"{method} {path} -> {status}"`` (a missing field reads "-")."""
    pieces: list[pl.Expr] = []
    pos = 0
    for m in _TEMPLATE_FIELD.finditer(template):
        if m.start() > pos:
            pieces.append(pl.lit(template[pos : m.start()]))
        name = m.group(1)
        pieces.append(pl.col(name).cast(pl.String).fill_null("-") if name in cols else pl.lit("-"))
        pos = m.end()
    if pos < len(template):
        pieces.append(pl.lit(template[pos:]))
    return pl.concat_str(pieces) if pieces else pl.lit("")


def _note_times(out: pl.DataFrame, account: FileAccount) -> None:
    """Note the zones seen; a time with none was read in an assumed zone."""
    if out.height:
        zones = out["_zone"].drop_nulls().unique().sort().head(10).to_list()
        account.zones_seen = sorted(set(account.zones_seen) | set(zones))
        if out["_zone"].null_count():
            account.tz_assumed = True


_STATUS = ("event", "continuation", "blank", "bad_time", "nomatch", "orphan", "orphan_of_rejected")
"""What each line turned out to be, as the small integer codes of the ``_status`` column."""
_EVENT = _STATUS.index("event")
_CONTINUATION = _STATUS.index("continuation")

_REASONS = {
    "nomatch": "no pattern of format {fmt} matches",
    "orphan": "continuation line with no event before it",
    "orphan_of_rejected": "continuation of a rejected line",
}


def _record_rejections(frame: pl.DataFrame, spec: Spec, account: FileAccount) -> None:
    codes = [_STATUS.index(k) for k in ("bad_time", *_REASONS)]
    bad = frame.filter(pl.col("_status").is_in(codes))
    if bad.height == 0:
        return
    reason = (
        pl.when(pl.col("_status") == _STATUS.index("bad_time"))
        .then(pl.col("_terr"))
        .otherwise(
            pl.col("_status").replace_strict(
                [_STATUS.index(k) for k in _REASONS], [r.format(fmt=spec.name) for r in _REASONS.values()], default=None,
                return_dtype=pl.String,
            )
        )
    )
    bad = bad.with_columns(reason.alias("_reason"))
    for (why,), group in bad.group_by("_reason", maintain_order=True):
        examples = [(int(r[0]), str(r[1])) for r in group.head(5).select("line", "text").iter_rows()]
        account.reject_group(str(why), group.height, examples)


def parse_jsonl_lines(
    lines: pl.DataFrame, spec: Spec, ctx: Context, account: FileAccount, block: Block | None = None
) -> pl.DataFrame:
    """Parse JSON-lines with a spec: extract only the mapped keys; keep the whole record in attrs."""
    keys: list[str] = []
    for names in (spec.ts_fields, *spec.columns.values()):
        for n in names:
            if n not in keys:
                keys.append(n)
    zone_field = spec.timestamp.get("zone_field")
    if zone_field and zone_field not in keys:
        keys.append(zone_field)
    more = [spec.multiline.get("partial_field"), spec.multiline.get("join_field")]
    more += [name for _, name in spec.raw.get("message_extra", [])]
    more += template_fields(str(spec.raw.get("message_template", "")))
    for extra in more:
        if extra and extra not in keys:
            keys.append(extra)
    text = pl.col("text")
    # Most lines are bare objects: test the cheap form first, strip only the lines it fails on.
    obj = lines.lazy().select((text.str.starts_with("{") & text.str.ends_with("}")).alias("_obj")).collect(engine=engine())["_obj"]
    if not obj.all():
        loose = lines.lazy().select(
            (text.str.strip_chars_start().str.starts_with("{") & text.str.strip_chars_end().str.ends_with("}")).alias("_obj")
        ).collect(engine=engine())["_obj"]
        obj = obj | loose
    if obj.all():
        # Every line starts with '{', so none is blank.
        frame = lines.with_columns(_decode_json(lines["text"], keys)).with_columns(
            pl.repeat(False, lines.height, dtype=pl.Boolean, eager=True).alias("_blank")
        )
    else:
        frame = lines.with_columns(obj.alias("_obj"))
        decoded = _decode_json(frame.filter(pl.col("_obj"))["text"], keys)
        obj_rows = frame.filter(pl.col("_obj")).select("line").with_columns(decoded)
        frame = frame.join(obj_rows, on="line", how="left", maintain_order="left").drop("_obj")
    frame = frame.with_columns(pl.col("_ok").fill_null(False).alias("_matched")).drop("_ok")
    frame = frame.rename({k: _safe(k) for k in keys if k in frame.columns and _safe(k) != k})
    safe_spec = _safe_spec(spec, keys)
    # attrs for JSON records: the record itself, every field kept.
    return _assemble(frame, safe_spec, ctx, account, [], attrs_from_text=True, block=block)


def _safe(key: str) -> str:
    # One-to-one, so "req_id" and "req.id" stay two columns.
    return "k_" + "".join(c if c.isalnum() else f"_{ord(c):x}_" for c in key)


def _safe_spec(spec: Spec, keys: list[str]) -> Spec:
    from dataclasses import replace

    ts = dict(spec.timestamp)
    ts["field"] = [_safe(k) for k in spec.ts_fields]
    if ts.get("zone_field"):
        ts["zone_field"] = _safe(ts["zone_field"])
    ml = dict(spec.multiline)
    if ml.get("partial_field"):
        ml["partial_field"] = _safe(ml["partial_field"])
    if ml.get("join_field"):
        ml["join_field"] = _safe(ml["join_field"])
    columns = {t: tuple(_safe(k) for k in v) for t, v in spec.columns.items()}
    raw = dict(spec.raw)
    if raw.get("message_extra"):
        raw["message_extra"] = [[label, _safe(name)] for label, name in raw["message_extra"]]
    if raw.get("message_template"):
        raw["message_template"] = _TEMPLATE_FIELD.sub(lambda m: "{" + _safe(m.group(1)) + "}", str(raw["message_template"]))
    return replace(spec, timestamp=ts, columns=columns, multiline=ml, raw=raw)


def _json_value(record: dict, key: str) -> object:
    if key in record:
        return record[key]
    node: object = record
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _json_path(parts: list[str]) -> str:
    return "$" + "".join("['" + p.replace("\\", "\\\\").replace("'", "\\'") + "']" for p in parts)


def _decode_json(text: pl.Series, keys: list[str]) -> list[pl.Series]:
    """Decode JSON objects, taking the given keys (dotted keys: literal first, then nested).

    The fast path is polars' decoder over the whole column; a line it cannot
    decode sends only that chunk through the standard library, so one bad
    record costs little and is reported, not fatal.
    """
    if text.len() == 0:
        return [pl.Series("_ok", [], pl.Boolean), *[pl.Series(_safe(k), [], pl.String) for k in keys]]
    top: dict[str, object] = {}
    for k in keys:
        top.setdefault(k, pl.String)
        if "." in k:
            top.setdefault(k.split(".")[0], pl.String)
    dtype = pl.Struct(top)
    try:
        # Decoded inside a lazy query: the engine spreads the chunks over the cores (eager decoding uses one).
        decoded = pl.col("_d")
        exprs = [decoded.is_not_null().alias("_ok")]
        for k in keys:
            value = decoded.struct.field(k)
            if "." in k:
                nested = decoded.struct.field(k.split(".")[0]).str.json_path_match("$." + ".".join(k.split(".")[1:]))
                value = value.fill_null(nested)
            exprs.append(value.cast(pl.String).alias(_safe(k)))
        out = text.to_frame("_t").lazy().select(pl.col("_t").str.json_decode(dtype).alias("_d")).select(exprs).collect(engine=engine())
        return out.get_columns()
    except pl.exceptions.ComputeError:
        pass
    by_reader = _keys_by_reader(text, keys, top)
    if by_reader is not None:
        return by_reader
    try:
        # Valid JSON objects whose keys hold objects or arrays: take each key by JSON path.
        text.str.json_decode(pl.Struct({"__valid": pl.String}))
        cols = [pl.Series("_ok", [True] * text.len(), pl.Boolean)]
        for k in keys:
            value = text.str.json_path_match(_json_path(k.split(".")))
            if "." in k:
                value = text.str.json_path_match(_json_path([k])).fill_null(value)
            cols.append(value.alias(_safe(k)))
        return cols
    except pl.exceptions.ComputeError:
        if text.len() > 2048:
            mid = text.len() // 2
            left = _decode_json(text.slice(0, mid), keys)
            right = _decode_json(text.slice(mid), keys)
            return [a.append(b) for a, b in zip(left, right, strict=True)]
    ok_list: list[bool] = []
    values: dict[str, list[str | None]] = {k: [] for k in keys}
    for line in text.to_list():
        try:
            record = json.loads(line)
            good = isinstance(record, dict)
        except (json.JSONDecodeError, TypeError):
            record, good = {}, False
        ok_list.append(good)
        for k in keys:
            v = _json_value(record, k) if good else None
            values[k].append(None if v is None else (v if isinstance(v, str) else json.dumps(v)))
    return [pl.Series("_ok", ok_list, pl.Boolean), *[pl.Series(_safe(k), values[k], pl.String) for k in keys]]


def _object_like(values: pl.Series) -> pl.Series:
    return (values.str.starts_with("{") & values.str.ends_with("}")) | (values.str.starts_with("[") & values.str.ends_with("]"))


def _keys_by_reader(text: pl.Series, keys: list[str], top: dict[str, object]) -> list[pl.Series] | None:
    """The keys of records some of whose keys hold objects or arrays (OpenTelemetry's ``Resource``,
    bunyan's ``err``), read once by polars' NDJSON reader; None if it cannot read the block.

    Taking each key by JSON path parses every line once per key and per spelling (30 times for
    OpenTelemetry's keys: a few thousand lines a second). The reader parses each line once and
    keeps an object's or array's value as JSON text; a dotted key's nested value is then taken by
    JSON path from its parent's text (as the first pass does from the parent string), and a key
    whose own value is an object or array is taken by JSON path from the line, as before, on
    those rows only, so the text is the same as the per-key path gives.
    """
    try:
        frame = pl.read_ndjson(io.BytesIO(text.str.join("\n").item().encode("utf-8")), schema=top)  # type: ignore[arg-type]
    except (pl.exceptions.PolarsError, ValueError):
        return None
    if frame.height != text.len():
        return None  # a line that held more than one object, or none
    cols = [pl.Series("_ok", [True] * text.len(), pl.Boolean)]
    for k in keys:
        value = frame[k]
        objects = _object_like(value).fill_null(False)
        if objects.any():
            where = objects.arg_true()
            value = value.scatter(where, text.gather(where).str.json_path_match(_json_path([k])))
        if "." in k:
            parts = k.split(".")
            parent = frame[parts[0]]
            nested_rows = (value.is_null() & _object_like(parent).fill_null(False))
            if nested_rows.any():
                where = nested_rows.arg_true()
                value = value.scatter(where, parent.gather(where).str.json_path_match(_json_path(parts[1:])))
        cols.append(value.alias(_safe(k)))
    return cols


def levels_valid() -> tuple[str, ...]:
    """The normalised levels (re-exported for spec tests)."""
    return LEVELS


def parse_csv_bytes(data: bytes, spec: Spec, ctx: Context, account: FileAccount) -> pl.DataFrame:
    """Parse a CSV log (such as PostgreSQL's csvlog) whose fields may hold newlines."""
    import io

    alternatives = [list(c) for c in spec.csv.get("columns", [])]
    if data.strip() == b"":
        return _assemble(_empty_line_frame(), spec, ctx, account, [])
    lead = len(data) - len(data.lstrip(b"\r\n"))
    skipped = 0
    if lead:
        # Blank lines before the first record (a file cut at a rotation): counted as blank, not read as a row.
        skipped = data[:lead].count(b"\n")
        account.lines += skipped
        account.blank += skipped
        data = data[lead:]
    try:
        table = pl.read_csv(
            io.BytesIO(data), has_header=bool(spec.csv.get("header", False)), infer_schema=False,
            quote_char='"', truncate_ragged_lines=False, encoding="utf8-lossy",
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        msg = f"{ctx.file}: not readable as CSV for format {spec.name}: {exc}"
        raise ValueError(msg) from exc
    names = next((a for a in alternatives if len(a) == table.width), None)
    if names is None and not spec.csv.get("header", False):
        expected = " or ".join(str(len(a)) for a in alternatives)
        msg = f"{ctx.file}: format {spec.name} expects {expected} columns, found {table.width}"
        raise ValueError(msg)
    if names is not None:
        table = table.rename(dict(zip(table.columns, names, strict=True)))
    newlines = pl.sum_horizontal([pl.col(c).str.count_matches("\n").fill_null(0) for c in table.columns])
    table = table.with_columns(newlines.cast(pl.UInt32).alias("_nl"))
    table = table.with_columns(
        (pl.lit(1 + skipped, pl.UInt32) + (pl.col("_nl") + 1).cum_sum().shift(1, fill_value=0)).alias("line"),
        pl.concat_str([pl.col(c).fill_null("") for c in (names or table.columns[:-1])], separator=",").alias("text"),
        pl.lit(True).alias("_matched"),
    )
    extra_lines = int(table["_nl"].sum() or 0)
    out = _assemble(table.drop("_nl"), spec, ctx, account, [c for c in (names or []) if c not in ("line", "text")])
    account.lines += extra_lines
    account.continuation_lines += extra_lines
    return out


def _empty_line_frame() -> pl.DataFrame:
    return pl.DataFrame(schema={"line": pl.UInt32, "text": pl.String, "_matched": pl.Boolean})
