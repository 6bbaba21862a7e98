"""The generic reader: the last resort for a log no format spec fits.

It is driven by a table (``timeline/formats/generic/reader.toml``): the time
shapes a text line may begin with, and the keys a JSON record may keep its
time, message and level under. From the first lines of a file it picks the
shape (or the keys) that reads them best and builds an ordinary spec, which
then reads the whole file through the same vectorised parser as every other
format: a timestamp-led line starts an event, a level word near it is the
level, other lines continue the event before.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from timeline.sources._account import FileAccount
from timeline.sources._parse import _json_value as _value
from timeline.sources._spec import Spec, builtin_spec_dir, parse_spec

TEXT_NAME = "generic_text"
JSON_NAME = "generic_json"


@functools.lru_cache(maxsize=1)
def table() -> Mapping[str, Any]:
    """The generic reader's table of time shapes, JSON keys and level words."""
    path = builtin_spec_dir() / "generic" / "reader.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _levels(extra_ranges: Mapping[str, list[float]] | None = None) -> dict[str, Any]:
    t = table()
    out: dict[str, Any] = {"levels": dict(t["levels"]), "level_patterns": dict(t.get("level_patterns", {}))}
    if extra_ranges:
        out["level_ranges"] = dict(extra_ranges)
    return out


@functools.lru_cache(maxsize=1)
def text_specs() -> tuple[Spec, ...]:
    """One regex spec per time shape, in the table's order."""
    t = table()
    out = []
    for shape in t["text"]["shapes"]:
        lead = int(shape.get("lead", 0))
        # What comes before the time (a host, a level, "I, ["), without the brackets and spaces that open the time.
        pre = f"(?P<pre>(?:.{{0,{lead}}}?[^0-9A-Za-z\\[(<\"' ]|.{{0,{lead}}}?[0-9A-Za-z] )?)[\\[(<\"' ]*" if lead else ""
        regex = f"^{pre}(?P<ts>{shape['regex']})[\\]\\)]?(?:[ \\t:|,]+|$)(?P<message>.*)$"
        timestamp: dict[str, Any] = {"field": "ts"}
        if shape.get("formats"):
            timestamp["formats"] = list(shape["formats"])
        if shape.get("epoch"):
            timestamp["epoch"] = shape["epoch"]
        if shape.get("missing"):
            timestamp["missing"] = shape["missing"]
        data: dict[str, Any] = {
            "name": TEXT_NAME,
            "kind": "regex",
            "description": f"generic reader: lines led by a time like {shape['name']} start events; a level word near it is the level",
            "patterns": [{"name": shape["name"], "regex": regex}],
            "fields": {"level": t["text"]["level"]},
            "timestamp": timestamp,
            "columns": {"level": "level", "message": "message"},
            "multiline": {"continuation": "."},
            "attrs_exclude": ["pre"],
            "samples": [{"text": shape["sample"]}],
            **_levels(),
        }
        if lead:
            data["message_template"] = "{pre}{message}"
        out.append(parse_spec(data))
    return tuple(out)


# Only the shapes whose pattern starts the most of the first lines are tried with the parser.
_SHAPES_TRIED = 2


def choose_text(lines: pl.DataFrame, trial: Callable[[Spec], tuple[float, FileAccount]]) -> tuple[Spec, float] | None:
    """The time shape that starts the most events on these lines (the first on a tie), with its score."""
    texts = [t for t in lines["text"].head(200).to_list() if t.strip()][:100]
    hits = [(sum(1 for t in texts if spec.patterns[0].compiled.match(t)), i) for i, spec in enumerate(text_specs())]
    tried = [i for n, i in sorted(hits, key=lambda h: (-h[0], h[1]))[:_SHAPES_TRIED] if n]
    best: tuple[int, float, Spec] | None = None
    for spec in (text_specs()[i] for i in sorted(tried)):
        s, account = trial(spec)
        if account.events and (best is None or account.events > best[0]):
            best = (account.events, s, spec)
    return (best[2], best[1]) if best is not None else None


# -- JSON lines -------------------------------------------------------------------------------

_TIMEISH = re.compile(r"\d{1,4}[-/.:]\d{1,2}|^[A-Z][a-z]{2}[ ,]")


def _is_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return True
    return isinstance(v, str) and bool(re.fullmatch(r"\d{9,19}(?:\.\d+)?", v.strip()))


def _looks_like_time(v: Any) -> bool:
    if _is_number(v):
        return float(v) > 1e8
    return isinstance(v, str) and bool(_TIMEISH.search(v)) and len(v) <= 64


def _present(objects: list[dict], key: str, ok: Callable[[Any], bool]) -> int:
    return sum(1 for o in objects if ok(_value(o, key)))


def _pick(objects: list[dict], keys: list[str], ok: Callable[[Any], bool], varying: bool = False) -> str | None:
    """The first key that most records hold a fitting value under; with ``varying``, one not constant."""
    need = max(1, (len(objects) + 1) // 2)
    first = None
    for key in keys:
        if _present(objects, key, ok) >= need:
            if not varying or len(objects) < 5:
                return key
            first = first or key
            values = {json.dumps(_value(o, key), sort_keys=True, default=str) for o in objects}
            if len(values) > 1:
                return key
    return first


def _message_keys(objects: list[dict], keys: list[str]) -> list[str]:
    """The message keys the records use, in the table's order (some records keep it under one, some another).

    A key whose value is one label on most records (``"msg": "record"`` around a
    nested record) comes after the keys that vary.
    """
    present = [k for k in keys if _present(objects, k, _message)]
    if len(objects) < 5:
        return present

    def label(key: str) -> bool:
        values = [json.dumps(_value(o, key), default=str) for o in objects if _message(_value(o, key))]
        return max(values.count(v) for v in set(values)) >= 0.8 * len(objects)

    return [k for k in present if not label(k)] + [k for k in present if label(k)]


def _short_text(v: Any) -> bool:
    return (isinstance(v, str) and 0 < len(v) <= 24) or (isinstance(v, int) and not isinstance(v, bool))


def _message(v: Any) -> bool:
    return isinstance(v, str) and v != ""


def _scalar(v: Any) -> bool:
    return isinstance(v, (str, int)) and not isinstance(v, bool) and v != ""


def json_spec(objects: list[dict]) -> Spec | None:
    """A JSON-lines spec for these records from the table's key lists, or None when no key holds a time."""
    if not objects:
        return None
    t = table()["json"]
    time_key = _pick(objects, list(t["time"]), _looks_like_time)
    if time_key is None:
        return None
    values = [_value(o, time_key) for o in objects]
    timestamp: dict[str, Any] = {"field": time_key}
    formats = [f for shape in table()["text"]["shapes"] if not shape.get("missing") for f in shape.get("formats", [])]
    if any(_is_number(v) for v in values):
        timestamp["epoch"] = "auto"
    if any(isinstance(v, str) and not _is_number(v) for v in values):
        timestamp["formats"] = formats
        timestamp["iso"] = True
    columns: dict[str, str] = {}
    message_keys = _message_keys(objects, list(t["message"]))
    message_key = message_keys[0] if message_keys else None
    if message_keys:
        columns["message"] = message_keys  # type: ignore[assignment]
    level_key = _pick(objects, list(t["level"]), _short_text)
    ranges = None
    if level_key:
        columns["level"] = level_key
        raw = [_value(o, level_key) for o in objects]
        numbers = [float(v) for v in raw if isinstance(v, int) or (isinstance(v, str) and v.isdigit())]
        if numbers:
            scale = "syslog" if max(numbers) <= 7 else "bunyan"
            ranges = table()["numeric_levels"][scale]
    for target in ("service", "host"):
        key = _pick(objects, list(t[target]), _scalar)
        if key and key not in (time_key, message_key, level_key):
            columns[target] = key
    described = ", ".join(
        f"{target} from " + " or ".join(f"'{k}'" for k in ([key] if isinstance(key, str) else key))
        for target, key in [("time", time_key), *columns.items()]
    )
    data: dict[str, Any] = {
        "name": JSON_NAME,
        "kind": "jsonl",
        "description": f"generic JSON reader: {described}",
        "timestamp": timestamp,
        "columns": columns,
        "samples": [{"text": json.dumps(objects[0])}],
        **_levels(ranges),
    }
    return parse_spec(data)


def record_list(value: Any) -> str | None:
    """The key under which a JSON object holds a list of records, or None when it is a record itself.

    A container has no time of its own and keeps its records (objects) under one of
    the table's ``record_lists`` keys: ``{"Records": [...]}`` (CloudTrail),
    ``{"value": [...]}`` (Azure).
    """
    if not isinstance(value, Mapping):
        return None
    for key in table()["json"].get("record_lists", ()):
        items = value.get(key)
        if isinstance(items, list) and all(isinstance(i, Mapping) for i in items):
            if any(_looks_like_time(_value(value, k)) for k in table()["json"]["time"]):
                return None
            return key
    return None


def json_objects(texts: list[str]) -> list[dict]:
    """The JSON objects among these lines (a line that is not one is left out)."""
    out = []
    for line in texts:
        s = line.strip()
        if s.startswith("{") and s.endswith("}"):
            try:
                value = json.loads(s)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                out.append(value)
    return out


def choose(lines: pl.DataFrame, trial: Callable[[Spec], tuple[float, FileAccount]]) -> tuple[Spec, float] | None:
    """The generic spec that reads these first lines of a file best, with its score; None if none reads any."""
    texts = [t for t in lines["text"].head(400).to_list() if t.strip()]
    if not texts:
        return None
    objects = json_objects(texts[:200])
    if len(objects) * 2 >= len(texts[:200]):
        spec = json_spec(objects)
        if spec is not None:
            s, account = trial(spec)
            if account.events:
                return spec, s
    return choose_text(lines, trial)


def note(spec: Spec, runner_ups: list[tuple[str, float]]) -> str:
    """What the account says about a file read by the generic reader."""
    closest = ", ".join(f"{n} ({s:.0%})" for n, s in runner_ups[:3])
    fit = f"closest formats: {closest}; " if closest else ""
    how = (
        "name one with --format NAME (CLI) or format='NAME' (Python), build one from a logging pattern "
        "(--format 'python:%(asctime)s %(levelname)s %(message)s', or 'log4j:', 'postgres:'), "
        "or write a spec file (--formats-dir DIR / formats_dir=DIR) to cut its fields"
    )
    if spec.kind == "jsonl":
        what = f"read by the generic JSON reader ({spec.description.split(': ', 1)[-1]}): no format spec fits; "
    else:
        what = f"read by the generic reader (time shape {spec.patterns[0].name}): no format spec fits; "
    return what + fit + how
