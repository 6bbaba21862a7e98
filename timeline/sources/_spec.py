"""Declarative format specs: one TOML file per format, with samples.

A spec says how to cut a record into fields (regex lines, JSON lines or CSV),
how to read its time, how to map its levels, how continuation lines join, and
carries real sample lines that the test suite parses (as lnav's formats do).

Spec file layout (all keys but ``name``, ``kind`` and ``samples`` optional)::

    name = "python_logging"
    kind = "regex"              # regex | jsonl | csv | document
    description = "..."
    event_kind = "log"          # the event table's `kind` for this format
    default_level = "info"
    message_template = "{method} {path} {status}"  # message built from fields instead of
                                # [columns] message (a missing field is written as "-")
    message_extra = [["stack", "stacktrace"]]      # appended as "\\nstack:  <value>" when present

    [[patterns]]                # regex kind: tried in order, first match wins
    name = "std"
    regex = '^(?P<ts>...) (?P<level>\\w+) (?P<message>.*)$'

    [fields]                    # regex kind: extra fields cut by their own regex, anywhere in
    level = '\\blevel=(\\w+)'  # the line (first capture group that matched); for key=value
                                # logs whose keys come in any order (logfmt); `\\"` is unescaped

    [timestamp]
    field = "ts"                # group or key holding the time (list = first present)
    formats = ["%Y-%m-%d %H:%M:%S,%3f"]   # strptime formats, and/or:
    epoch = "ms"                # s | ms | us | ns | auto (with formats: numbers are epochs)
    zone_field = "tz"           # group holding a zone abbreviation or offset
    missing = "year"            # year | date: filled from an option or the file's mtime
                                # (for the formats that lack it; the others are read as they are)

    [columns]                   # event column <- group or key (list = first present)
    level = "level"
    message = "message"
    service = "logger"

    [levels]                    # normalised level <- raw values (case-insensitive)
    error = ["ERROR"]
    [level_patterns]            # normalised level <- regex on the raw value
    error = '^5\\d\\d$'

    [constants]                 # event column <- a fixed value, where no field gives one
    service = "postgresql"

    [multiline]
    continuation = '^\\s'        # non-matching lines like this join the previous event
    join_field = "level"        # matching lines whose field is one of join_values
    join_values = ["DETAIL"]    # join the previous event too
    join_label = true           # joined text keeps its label: "DETAIL:  <message>"
    join_regex = '^\\s'         # ... or whose field matches this regex
    partial_field = "tag"       # a line whose field matches partial_regex is
    partial_regex = '^P$'       # continued by the next line (joined with `joiner`)
    joiner = "\\n"
    record_fields = false       # true: fields of a record's joined lines fill the fields
                                # its first line lacks (a time on the third line of a block)
    ignore = '^Time +Id'        # lines like this (banners) are skipped, counted with blank lines

    [envelope]                  # a container runtime's line around an application's: the
    inner = "message"           # messages are read by the line format that fits them (_envelope.py)

    [sniff]
    required = ["event"]        # jsonl: keys that must be present
    weight = 1.0                # tie-break between specs that match equally

    [[samples]]
    text = "..."                # one event (may span several lines)
    level = "error"             # optional expectations checked by the tests
    ts = "2024-05-02T09:14:07.118+00:00"
"""

from __future__ import annotations

import difflib
import importlib
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from timeline._errors import FormatSpecError
from timeline.schema import KINDS, LEVELS

SPEC_KINDS = ("regex", "jsonl", "csv", "document")
_BUILTIN_DIR = Path(__file__).resolve().parent.parent / "formats"
_COLUMN_TARGETS = ("level", "message", "host", "service", "actor", "ref", "action", "source")


@dataclass(frozen=True)
class Pattern:
    """One named regex variant of a regex-kind spec."""

    name: str
    regex: str
    compiled: re.Pattern[str] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Sample:
    """A real record of the format, with optional expected values."""

    text: str
    expect: Mapping[str, Any]


@dataclass(frozen=True)
class Spec:
    """A parsed, validated format spec."""

    name: str
    kind: str
    path: Path | None
    description: str = ""
    event_kind: str = "log"
    default_level: str = "info"
    patterns: tuple[Pattern, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    timestamp: Mapping[str, Any] = field(default_factory=dict)
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    levels: Mapping[str, str] = field(default_factory=dict)
    level_patterns: tuple[tuple[str, str], ...] = ()
    level_ranges: tuple[tuple[float, float, str], ...] = ()
    multiline: Mapping[str, Any] = field(default_factory=dict)
    sniff: Mapping[str, Any] = field(default_factory=dict)
    csv: Mapping[str, Any] = field(default_factory=dict)
    document: Mapping[str, Any] = field(default_factory=dict)
    attrs_exclude: tuple[str, ...] = ()
    constants: Mapping[str, str] = field(default_factory=dict)
    samples: tuple[Sample, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def groups(self) -> tuple[str, ...]:
        """Every named group across the patterns, in first-seen order."""
        seen: dict[str, None] = {}
        for pat in self.patterns:
            for name in pat.compiled.groupindex:
                seen.setdefault(name, None)
        return tuple(seen)

    @property
    def field_names(self) -> tuple[str, ...]:
        """Every field a regex spec extracts: pattern groups, then [fields] names."""
        seen = dict.fromkeys(self.groups)
        for name, _ in self.fields:
            seen.setdefault(name, None)
        return tuple(seen)

    @property
    def ts_fields(self) -> tuple[str, ...]:
        """The group or key names that may hold the timestamp."""
        return _as_tuple(self.timestamp.get("field", "ts"))

    def column(self, target: str) -> tuple[str, ...]:
        """The fields mapped to an event column (empty if none)."""
        return self.columns.get(target, ())


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _fail(where: str, problem: str) -> FormatSpecError:
    return FormatSpecError(f"format spec {where}: {problem}")


def parse_spec(data: Mapping[str, Any], path: Path | None = None) -> Spec:
    """Validate a spec mapping (as read from TOML) and build a :class:`Spec`.

    Raises
    ------
    FormatSpecError
        Naming the spec and what is wrong with it.
    """
    where = f"{path}" if path else repr(data.get("name", "<unnamed>"))
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise _fail(where, f"'name' must be a word of letters, digits, '_', '.', '-', got {name!r}")
    where = f"'{name}'" + (f" ({path})" if path else "")
    kind = data.get("kind")
    if kind not in SPEC_KINDS:
        raise _fail(where, f"'kind' must be one of {', '.join(SPEC_KINDS)}, got {kind!r}")
    event_kind = data.get("event_kind", "log")
    if event_kind not in KINDS:
        raise _fail(where, f"'event_kind' must be one of {', '.join(KINDS)}, got {event_kind!r}")
    default_level = data.get("default_level", "info")
    if default_level not in LEVELS:
        raise _fail(where, f"'default_level' must be one of {', '.join(LEVELS)}, got {default_level!r}")

    patterns: list[Pattern] = []
    for i, pat in enumerate(data.get("patterns", [])):
        regex = pat.get("regex") if isinstance(pat, Mapping) else None
        if not isinstance(regex, str):
            raise _fail(where, f"patterns[{i}] needs a 'regex' string")
        try:
            compiled = re.compile(regex)
        except re.error as exc:
            raise _fail(where, f"patterns[{i}] ({pat.get('name', i)}) is not a valid regex: {exc}") from exc
        if not compiled.groupindex:
            raise _fail(where, f"patterns[{i}] has no named groups (?P<name>...)")
        patterns.append(Pattern(name=str(pat.get("name", i)), regex=regex, compiled=compiled))
    if kind == "regex" and not patterns:
        raise _fail(where, "a regex spec needs at least one [[patterns]] entry")

    fields: list[tuple[str, str]] = []
    for fname, regex in data.get("fields", {}).items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", fname):
            raise _fail(where, f"[fields] name {fname!r} must be an identifier")
        try:
            compiled_field = re.compile(regex)
        except (re.error, TypeError) as exc:
            raise _fail(where, f"[fields] {fname} is not a valid regex: {exc}") from exc
        if compiled_field.groups < 1:
            raise _fail(where, f"[fields] {fname} needs a capture group (...) holding the value")
        fields.append((fname, regex))
    if fields and kind != "regex":
        raise _fail(where, "[fields] is for regex specs; JSON specs name their keys in [columns]")

    columns_raw = data.get("columns", {})
    columns: dict[str, tuple[str, ...]] = {}
    for target, source in columns_raw.items():
        if target not in _COLUMN_TARGETS:
            close = difflib.get_close_matches(target, _COLUMN_TARGETS, n=1)
            hint = f"; closest is '{close[0]}'" if close else ""
            raise _fail(where, f"[columns] key '{target}' is not an event column{hint}")
        columns[target] = _as_tuple(source)

    levels: dict[str, str] = {}
    for level, raws in data.get("levels", {}).items():
        if level not in LEVELS:
            raise _fail(where, f"[levels] key '{level}' is not a level; expected one of {', '.join(LEVELS)}")
        for raw in _as_tuple(raws):
            levels[raw.lower()] = level
    constants: dict[str, str] = {}
    for target, value in data.get("constants", {}).items():
        if target not in ("host", "service", "actor", "ref", "action"):
            raise _fail(where, f"[constants] key '{target}' must be one of host, service, actor, ref, action")
        constants[target] = str(value)

    level_patterns: list[tuple[str, str]] = []
    for level, regex in data.get("level_patterns", {}).items():
        if level not in LEVELS:
            raise _fail(where, f"[level_patterns] key '{level}' is not a level")
        try:
            re.compile(regex)
        except re.error as exc:
            raise _fail(where, f"[level_patterns] {level} is not a valid regex: {exc}") from exc
        level_patterns.append((level, regex))
    level_ranges: list[tuple[float, float, str]] = []
    for level, bounds in data.get("level_ranges", {}).items():
        if level not in LEVELS or not isinstance(bounds, list) or len(bounds) != 2:
            raise _fail(where, f"[level_ranges] {level} must be a level mapped to [low, high]")
        level_ranges.append((float(bounds[0]), float(bounds[1]), level))

    timestamp = dict(data.get("timestamp", {}))
    if kind != "document":
        if not timestamp.get("formats") and not timestamp.get("epoch") and not timestamp.get("iso"):
            raise _fail(where, "[timestamp] needs 'formats' (strptime), 'epoch' (unit) or 'iso = true'")
        if timestamp.get("epoch") not in (None, "s", "ms", "us", "ns", "auto"):
            raise _fail(where, f"[timestamp] epoch must be s, ms, us, ns or auto, got {timestamp['epoch']!r}")
        if timestamp.get("missing") not in (None, "year", "date"):
            raise _fail(where, f"[timestamp] missing must be 'year' or 'date', got {timestamp['missing']!r}")
    multiline = dict(data.get("multiline", {}))
    for key in ("continuation", "partial_regex", "join_regex", "ignore"):
        if key in multiline:
            try:
                re.compile(multiline[key])
            except re.error as exc:
                raise _fail(where, f"[multiline] {key} is not a valid regex: {exc}") from exc

    samples: list[Sample] = []
    for i, sample in enumerate(data.get("samples", [])):
        if isinstance(sample, str):
            samples.append(Sample(text=sample, expect={}))
        elif isinstance(sample, Mapping) and isinstance(sample.get("text"), str):
            expect = {k: v for k, v in sample.items() if k != "text"}
            samples.append(Sample(text=sample["text"], expect=expect))
        else:
            raise _fail(where, f"samples[{i}] must be a string or a table with 'text'")
    if not samples:
        raise _fail(where, "a spec needs at least one [[samples]] entry with a real record")

    return Spec(
        name=name,
        kind=kind,
        path=path,
        description=str(data.get("description", "")),
        event_kind=event_kind,
        default_level=default_level,
        patterns=tuple(patterns),
        fields=tuple(fields),
        timestamp=timestamp,
        columns=columns,
        levels=levels,
        level_patterns=tuple(level_patterns),
        level_ranges=tuple(level_ranges),
        multiline=multiline,
        sniff=dict(data.get("sniff", {})),
        csv=dict(data.get("csv", {})),
        document=dict(data.get("document", {})),
        attrs_exclude=_as_tuple(data.get("attrs_exclude")),
        constants=constants,
        samples=tuple(samples),
        raw=data,
    )


def load_spec_file(path: str | Path) -> Spec:
    """Read one spec file (TOML)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        msg = f"format spec {path}: not valid TOML: {exc}"
        raise FormatSpecError(msg) from exc
    return parse_spec(data, path)


def builtin_spec_dir() -> Path:
    """The folder of the specs shipped with timeline."""
    return _BUILTIN_DIR


_CACHE: dict[tuple[str, ...], dict[str, Spec]] = {}


def load_specs(extra_dirs: Iterable[str | Path] = ()) -> dict[str, Spec]:
    """Load the shipped specs plus the user's spec folders (later ones override by name)."""
    folders = [_BUILTIN_DIR, *(Path(d) for d in extra_dirs)]
    for folder in folders:
        if not folder.is_dir():
            msg = f"format spec folder {folder} does not exist"
            raise FormatSpecError(msg)
    files = [p for folder in folders for p in sorted(folder.glob("*.toml"))]
    # Keyed on every spec file's path and mtime, so a spec added or edited during a session is seen.
    key = tuple(f"{p}@{p.stat().st_mtime_ns}" for p in files)
    if key in _CACHE:
        return _CACHE[key]
    specs: dict[str, Spec] = {}
    for path in files:
        spec = load_spec_file(path)
        specs[spec.name] = spec
    _CACHE[key] = specs
    return specs


_ONE: dict[str, tuple[str, Spec]] = {}


class SpecCatalog(Mapping[str, Spec]):
    """The specs of :func:`load_specs`, read only when they are needed.

    Looking up a shipped format by name (``format="python_logging"`` with no
    spec folders of the user's) reads just that spec's file; listing,
    iterating or sniffing reads them all once.
    """

    def __init__(self, extra_dirs: Iterable[str | Path] = ()) -> None:
        self._dirs = [Path(d) for d in extra_dirs]
        self._all: dict[str, Spec] | None = None
        for folder in self._dirs:
            if not folder.is_dir():
                msg = f"format spec folder {folder} does not exist"
                raise FormatSpecError(msg)

    def _everything(self) -> dict[str, Spec]:
        if self._all is None:
            self._all = load_specs(self._dirs)
        return self._all

    def _one(self, name: str) -> Spec | None:
        """A shipped spec from its own file, when the file is named after it."""
        if self._all is not None or self._dirs or not re.fullmatch(r"[A-Za-z0-9_]+", name):
            return None
        path = _BUILTIN_DIR / f"{name}.toml"
        try:
            stamp = f"{path.stat().st_mtime_ns}"
        except OSError:
            return None
        cached = _ONE.get(name)
        if cached is None or cached[0] != stamp:
            cached = (stamp, load_spec_file(path))
            _ONE[name] = cached
        return cached[1] if cached[1].name == name else None

    def __getitem__(self, name: str) -> Spec:
        spec = self._one(name)
        return spec if spec is not None else self._everything()[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str) and self._one(name) is not None:
            return True
        return name in self._everything()

    def __iter__(self) -> Iterator[str]:
        return iter(self._everything())

    def __len__(self) -> int:
        return len(self._everything())


Translator = Callable[[str], Spec]
"""Builds a spec from the text after ``prefix:`` in a format name, e.g. a log_line_prefix."""

_TRANSLATORS: dict[str, Translator] = {}
_TRANSLATOR_DOCS: dict[str, str] = {}
# Modules that register translators when imported (imported on first use, so that
# the spec layer does not depend on them and they may depend on it).
_TRANSLATOR_MODULES = ("timeline.sources._pg_prefix", "timeline.sources._user_formats")
_TRANSLATED: dict[tuple[str, str], Spec] = {}


def register_translator(prefix: str, translate: Translator, *, example: str = "") -> None:
    """Make ``format="PREFIX:TEXT"`` build its spec with ``translate(TEXT)``.

    Parameters
    ----------
    prefix
        A word (letters, digits, ``_``, ``-``), e.g. ``"postgres"``.
    translate
        Turns the text after the colon (a log line prefix, a logging pattern)
        into a :class:`Spec`; raises :class:`FormatSpecError` on text it cannot use.
    example
        A format name that shows the form, for error messages.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]+", prefix):
        msg = f"translator prefix must be a word of letters, digits, '_' or '-', got {prefix!r}"
        raise FormatSpecError(msg)
    _TRANSLATORS[prefix] = translate
    _TRANSLATOR_DOCS[prefix] = example or f"{prefix}:..."


def translators() -> Mapping[str, Translator]:
    """The registered ``prefix:`` translators (importing the shipped ones first)."""
    for module in _TRANSLATOR_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return dict(_TRANSLATORS)


def _translate(name: str) -> Spec | None:
    prefix, sep, text = name.partition(":")
    if not sep or not re.fullmatch(r"[A-Za-z0-9_-]+", prefix):
        return None
    found = translators().get(prefix)
    if found is None:
        return None
    key = (prefix, text)
    if key not in _TRANSLATED:
        _TRANSLATED[key] = found(text)
    return _TRANSLATED[key]


def resolve_spec(name_or_spec: str | Spec | Mapping[str, Any], specs: Mapping[str, Spec]) -> Spec:
    """Turn a name, a ``prefix:text`` form, a Spec or a spec mapping into a Spec.

    ``prefix:text`` goes to a registered translator (see :func:`register_translator`),
    e.g. ``"postgres:%m [%p] %q%u@%d "`` builds a spec from a log_line_prefix.
    A misspelt name gets the closest known names.
    """
    if isinstance(name_or_spec, Spec):
        return name_or_spec
    if isinstance(name_or_spec, Mapping):
        return parse_spec(name_or_spec)
    if name_or_spec in specs:
        return specs[name_or_spec]
    translated = _translate(name_or_spec)
    if translated is not None:
        return translated
    path = Path(name_or_spec)
    if path.suffix == ".toml" and path.is_file():
        return load_spec_file(path)
    close = difflib.get_close_matches(name_or_spec, list(specs), n=3)
    hint = f" Closest: {', '.join(close)}." if close else ""
    forms = ", ".join(repr(e) for _, e in sorted(_TRANSLATOR_DOCS.items())) if translators() else ""
    built = f" Or build one from a pattern: {forms}." if forms else ""
    msg = f"unknown format {name_or_spec!r}.{hint} Known formats: {', '.join(sorted(specs))}.{built}"
    raise FormatSpecError(msg)
