"""Loading the text rules for human events (data, not code) and matching them vectorised."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from timeline._errors import ReconstructError

RULES_FILE = Path(__file__).resolve().parent.parent / "rules" / "human.toml"


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = [*out[key], *[v for v in value if v not in out[key]]]
        else:
            out[key] = value
    return out


def _patterns(table: Mapping[str, Any], where: str) -> Iterator[tuple[str, str]]:
    """Every (place, regex) in a rules table, nested tables included."""
    for key, value in table.items():
        place = f"{where}.{key}" if where else key
        if isinstance(value, Mapping):
            yield from _patterns(value, place)
        elif key in ("patterns", "observations", "actors") or (where.endswith(("actions", "record_actions")) and key not in ("samples", "not_samples")):
            if isinstance(value, list):
                for p in value:
                    if isinstance(p, str):
                        yield place, p


def check_rules(rules: Mapping[str, Any], origin: str) -> None:
    """Every regex compiles (as polars will run it); a bad one is named with its place."""
    for place, pattern in _patterns(rules, ""):
        try:
            pl.select(pl.lit("").str.contains(f"(?i){pattern}"))
        except pl.exceptions.PolarsError as exc:
            msg = f"rules {origin}: {place} has a pattern that is not a valid regex ({pattern!r}): {exc}"
            raise ReconstructError(msg) from exc


@functools.lru_cache(maxsize=1)
def _shipped() -> str:
    text = RULES_FILE.read_text(encoding="utf-8")
    check_rules(tomllib.loads(text), str(RULES_FILE))
    return text


def load_rules(extra: str | Path | Mapping[str, Any] | Sequence[str | Path] | None = None) -> dict[str, Any]:
    """The shipped rules (read and checked once), with the user's rule files merged over them (lists are extended)."""
    rules = tomllib.loads(_shipped())
    extras: list[Any]
    if extra is None:
        extras = []
    elif isinstance(extra, (str, Path, Mapping)):
        extras = [extra]
    else:
        extras = list(extra)
    for item in extras:
        if isinstance(item, Mapping):
            data = dict(item)
        else:
            path = Path(item)
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                msg = f"rules file {path}: cannot be read as TOML: {exc}"
                raise ReconstructError(msg) from exc
        check_rules(data, "mapping" if isinstance(item, Mapping) else str(item))
        rules = _merge(rules, data)
    return rules


def any_match(text: pl.Expr, patterns: Sequence[str]) -> pl.Expr:
    """True where the text matches any of the (case-insensitive) patterns."""
    if not patterns:
        return pl.lit(False)
    joined = "|".join(f"(?:{p})" for p in patterns)
    return text.str.contains(f"(?i){joined}").fill_null(False)


def first_line(text: pl.Expr) -> pl.Expr:
    """The first line of a (possibly multi-line) message."""
    return text.str.split("\n").list.first()
