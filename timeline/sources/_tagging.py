"""Change evidence in database logs, tagged from data (``timeline/rules/db_changes.toml``).

A PostgreSQL ``received SIGHUP, reloading configuration files`` or a MySQL
``ready for connections`` is a change as much as a deploy is; tagging sets
their ``action`` (``config_reload``, ``config_change``, ``shutdown``,
``startup``, ``promoted``) where the reader left it empty, in one vectorised
pass over the table.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from timeline._errors import FormatSpecError

RULES_FILE = Path(__file__).resolve().parent.parent / "rules" / "db_changes.toml"

CHANGE_ACTIONS: frozenset[str] = frozenset({"config_reload", "config_change", "shutdown", "startup", "promoted"})
"""The actions the shipped rules set: each marks an event as change evidence."""


@functools.lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(kinds, ((action, combined regex), ...)) from a rules file (the shipped one by default)."""
    where = Path(path) if path else RULES_FILE
    try:
        data: Mapping[str, Any] = tomllib.loads(where.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        msg = f"change rules {where}: cannot be read: {exc}"
        raise FormatSpecError(msg) from exc
    kinds = tuple(str(k) for k in data.get("kinds", ["db"]))
    rules: list[tuple[str, str]] = []
    for i, rule in enumerate(data.get("rules", [])):
        action, patterns = rule.get("action"), rule.get("patterns")
        if not isinstance(action, str) or not isinstance(patterns, list) or not patterns:
            msg = f"change rules {where}: rules[{i}] needs an 'action' string and a non-empty 'patterns' list"
            raise FormatSpecError(msg)
        combined = "|".join(f"(?:{p})" for p in patterns)
        try:
            pl.select(pl.lit("").str.contains(combined))
        except pl.exceptions.PolarsError as exc:
            msg = f"change rules {where}: rules[{i}] ({action}) has a pattern that is not a valid regex: {exc}"
            raise FormatSpecError(msg) from exc
        rules.append((action, combined))
    return kinds, tuple(rules)


def tag_db_changes(df: pl.DataFrame, rules_path: str | Path | None = None) -> pl.DataFrame:
    """Set ``action`` on database-log change evidence where it is null.

    Parameters
    ----------
    df
        An event table (see :mod:`timeline.schema`).
    rules_path
        Another rules file in the layout of ``timeline/rules/db_changes.toml``.

    Returns
    -------
    polars.DataFrame
        The same rows; ``action`` filled for matching ``db`` events.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"kind": ["db"], "message": ["received SIGHUP, reloading configuration files"], "action": [None]})
    >>> tag_db_changes(df)["action"].to_list()
    ['config_reload']
    """
    if df.height == 0 or "message" not in df.columns:
        return df
    kinds, rules = load_rules(str(rules_path) if rules_path else None)
    if not rules:
        return df
    action = pl.col("action") if "action" in df.columns else pl.lit(None, dtype=pl.String)
    tagged = pl.lit(None, dtype=pl.String)
    for name, regex in reversed(rules):
        tagged = pl.when(pl.col("message").str.contains(regex)).then(pl.lit(name)).otherwise(tagged)
    applies = action.is_null()
    if "kind" in df.columns:
        applies = applies & pl.col("kind").cast(pl.String).is_in(list(kinds))
    # Only the rows a rule may tag are searched, first with all rules at once (one pass of the
    # regex engine), then rule by rule on the few that hold a change.
    rows = df.lazy().select(applies.fill_null(False).alias("_applies")).collect()["_applies"].arg_true()
    if "action" in df.columns:
        current = df["action"].cast(pl.String)
    else:
        current = pl.repeat(None, df.height, dtype=pl.String, eager=True).alias("action")
    if rows.len():
        messages = df["message"].gather(rows).to_frame("message")
        anything = "|".join(f"(?:{regex})" for _, regex in rules)
        hit = messages.lazy().select(pl.col("message").str.contains(anything).fill_null(False)).collect().to_series()
        rows, messages = rows.filter(hit), messages.filter(hit)
        if rows.len():
            current = current.scatter(rows, messages.select(tagged.alias("action"))["action"])
    return df.with_columns(current)
