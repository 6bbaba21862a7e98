"""PostgreSQL ``log_line_prefix`` strings turned into format specs.

A server's stderr log starts every line with its ``log_line_prefix``; the
shipped ``postgres_stderr`` spec knows the common ones. For any other, pass the
setting itself::

    tl.read("pg/", format="postgres:%m [%p] %q%u@%d ")
    tl.read("pg/", format={"*.log": "postgres:%t [%p]: [%l-1] db=%d,user=%u "})

Every escape of the setting is understood (``%a %u %d %r %h %b %p %P %t %m %n
%Q %i %e %c %l %s %v %x %q %%``), with padding such as ``%-10u``. The levels and
the multi-line rule (DETAIL, HINT, STATEMENT... joined to their event) are those
of ``postgres_stderr``, and the spec carries samples rendered from the prefix,
so it is checked like a shipped one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from timeline._errors import FormatSpecError
from timeline.sources._spec import Spec, builtin_spec_dir, load_spec_file, parse_spec, register_translator

__all__ = ["spec_from_pg_prefix", "ESCAPES"]

_ZONE = r"(?:[A-Za-z]{1,6}|[+-]\d{2}(?::?\d{2})?)"
_DATE_TIME = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
_LEVELS = "DEBUG[1-5]?|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC|DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION|BACKTRACE"
# With log_error_verbosity = verbose the message starts with its SQLSTATE (which always holds a digit).
_SQLSTATE = r"[0-9A-Z]{4}[0-9]|[0-9A-Z]{3}[0-9][0-9A-Z]|[0-9A-Z]{2}[0-9][0-9A-Z]{2}|[0-9A-Z][0-9][0-9A-Z]{3}|[0-9][0-9A-Z]{4}"


def _tail(sqlstate_group: bool) -> str:
    code = f"(?P<sqlstate>{_SQLSTATE})" if sqlstate_group else f"(?:{_SQLSTATE})"
    return rf"(?P<level>{_LEVELS}):  (?:{code}: )?(?P<message>.*)$"

_REGEX_SPECIAL = set(".^$*+?{}[]\\|()")


@dataclass(frozen=True)
class Escape:
    """One ``log_line_prefix`` escape: the field it fills, its regex and a sample value."""

    field: str
    regex: str
    sample: str
    meaning: str


ESCAPES: dict[str, Escape] = {
    "a": Escape("app", r".*?", "psql", "application name"),
    "u": Escape("user", r"\S*?", "app", "user name"),
    "d": Escape("db", r"\S*?", "shop", "database name"),
    "r": Escape("client", r"[^\s(]*?(?:\(\d+\))?", "10.0.3.7(51514)", "remote host and port"),
    "h": Escape("client", r"[^\s(]*?", "10.0.3.7", "remote host"),
    "b": Escape("backend_type", r".*?", "client backend", "backend type"),
    "p": Escape("pid", r"\d+", "4242", "process id"),
    "P": Escape("leader_pid", r"\d*", "", "parallel group leader's process id"),
    "t": Escape("ts", rf"{_DATE_TIME} {_ZONE}", "2024-05-02 09:14:07 UTC", "time stamp without milliseconds"),
    "m": Escape("ts", rf"{_DATE_TIME}\.\d{{3}} {_ZONE}", "2024-05-02 09:14:07.118 UTC", "time stamp with milliseconds"),
    "n": Escape("ts", r"\d+\.\d{3}", "1714641247.118", "time stamp as Unix epoch with milliseconds"),
    "Q": Escape("query_id", r"-?\d+", "0", "query identifier"),
    "i": Escape("command_tag", r".*?", "SELECT", "command tag"),
    "e": Escape("sqlstate", r"[0-9A-Z]{5}", "53300", "SQLSTATE error code"),
    "c": Escape("session_id", r"[0-9a-f]+\.[0-9a-f]+", "6641f2a1.1092", "session id"),
    "l": Escape("session_line", r"\d+", "3", "number of the log line in the session"),
    "s": Escape("session_start", rf"{_DATE_TIME} {_ZONE}", "2024-05-02 09:10:01 UTC", "session start time stamp"),
    "v": Escape("vxid", r"(?:\d+/\d+)?", "5/77", "virtual transaction id"),
    "x": Escape("xid", r"\d+", "0", "transaction id"),
}
_TIME_ESCAPES = ("m", "t", "n")
_TOKEN = re.compile(r"%(-?\d+)?(.)|%$|[^%]+", re.DOTALL)


def _literal(text: str) -> str:
    """Escape regex metacharacters only (so the pattern means the same to Python and polars)."""
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in text)


def _pad(value: str, width: int | None) -> str:
    if not width:
        return value
    return value.rjust(width) if width > 0 else value.ljust(-width)


@dataclass
class _Built:
    session: list[str]  # regex pieces before %q
    rest: list[str]  # regex pieces after %q (absent on lines of non-session processes)
    render_session: list[str]
    render_rest: list[str]
    time_escape: str | None
    has_q: bool


def _tokens(prefix: str) -> list[tuple[str, str | None, int | None]]:
    """Split a prefix into ("lit", text, None) and ("esc", letter, width) tokens."""
    out: list[tuple[str, str | None, int | None]] = []
    for m in _TOKEN.finditer(prefix):
        text = m.group(0)
        if text == "%":
            out.append(("lit", "%", None))  # a lone % at the end is printed as it is
        elif text.startswith("%"):
            width = int(m.group(1)) if m.group(1) else None
            out.append(("esc", m.group(2), width))
        else:
            out.append(("lit", text, None))
    return out


def _build(prefix: str) -> _Built:
    built = _Built([], [], [], [], None, False)
    seen: dict[str, int] = {}
    regex, render = built.session, built.render_session
    for kind, value, width in _tokens(prefix):
        if kind == "lit":
            regex.append(_literal(str(value)))
            render.append(str(value))
            continue
        letter = str(value)
        if letter == "%":
            regex.append("%")
            render.append("%")
            continue
        if letter == "q":
            if not built.has_q:
                built.has_q = True
                regex, render = built.rest, built.render_rest
            continue
        esc = ESCAPES.get(letter)
        if esc is None:
            known = " ".join(f"%{k} ({e.meaning})" for k, e in ESCAPES.items())
            msg = (
                f"log_line_prefix {prefix!r}: unknown escape %{letter}; "
                f"expected one of {known}, %q (stop here in non-session processes) or %%"
            )
            raise FormatSpecError(msg)
        name = esc.field
        if letter in _TIME_ESCAPES:
            if built.time_escape is None:
                built.time_escape = letter
            else:
                name = "ts_again"
        seen[name] = seen.get(name, 0) + 1
        group = name if seen[name] == 1 else f"{name}_{seen[name]}"
        body = esc.regex
        if letter == "r":
            body = r"(?P<client>[^\s(]*?)(?:\((?P<client_port>\d+)\))?"
            if seen[name] > 1:
                body = r"[^\s(]*?(?:\(\d+\))?"
        elif letter in ("m", "t", "s") and group == "ts":
            stamp = r"\.\d{3}" if letter == "m" else ""
            body = rf"(?P<ts>{_DATE_TIME}{stamp}) (?P<tz>{_ZONE})"
        else:
            body = f"(?P<{group}>{body})"
        if width and width > 0:
            body = " *" + body
        elif width and width < 0:
            body = body + " *"
        regex.append(body)
        render.append(_pad(esc.sample, width))
    return built


@cache
def _stderr_base() -> dict[str, Any]:
    """Levels, multi-line rule and constants shared with the shipped postgres_stderr spec."""
    spec = load_spec_file(builtin_spec_dir() / "postgres_stderr.toml")
    return {key: spec.raw[key] for key in ("event_kind", "levels", "multiline", "constants") if key in spec.raw}


def spec_data_from_pg_prefix(prefix: str, *, name: str = "postgres_custom") -> dict[str, Any]:
    """The spec mapping (as a TOML file would hold it) for a ``log_line_prefix``.

    Write it out with any TOML writer to keep it as a spec file beside your others.
    """
    raw_prefix = prefix
    if len(prefix) >= 2 and prefix[0] == prefix[-1] and prefix[0] in "'\"":
        prefix = prefix[1:-1]  # pasted from postgresql.conf with its quotes
    built = _build(prefix)
    if built.time_escape is None:
        msg = (
            f"log_line_prefix {raw_prefix!r} has no time escape (%m, %t or %n), so its lines cannot be "
            "placed in time; read the syslog or journal that carries them, or add %m to the setting"
        )
        raise FormatSpecError(msg)
    session = "".join(built.session)
    rest = "".join(built.rest)
    prefix_regex = session + (f"(?:{rest})?" if built.has_q and rest else "")
    regex = "^" + prefix_regex + _tail(sqlstate_group="(?P<sqlstate>" not in prefix_regex)
    if built.time_escape == "n":
        timestamp: dict[str, Any] = {"field": "ts", "epoch": "s"}
        ts_expect = "2024-05-02T09:14:07.118+00:00"
    else:
        timestamp = {"field": "ts", "zone_field": "tz", "formats": ["%Y-%m-%d %H:%M:%S%.f"]}
        ts_expect = "2024-05-02T09:14:07.118+00:00" if built.time_escape == "m" else "2024-05-02T09:14:07+00:00"
    line = "".join(built.render_session) + "".join(built.render_rest)
    samples: list[dict[str, Any]] = [
        {"text": line + "FATAL:  sorry, too many clients already", "level": "error", "ts": ts_expect},
        {
            "text": line + 'ERROR:  relation "ordrs" does not exist at character 15\n'
            + line + "STATEMENT:  SELECT *\n\tFROM ordrs;",
            "level": "error",
            "continuation_lines": 2,
            "message": "STATEMENT:  SELECT *",
        },
    ]
    if built.has_q:
        samples.append({"text": "".join(built.render_session) + "LOG:  checkpoint starting: time", "level": "info"})
    base = _stderr_base()
    return {
        "name": name,
        "kind": "regex",
        "description": f"PostgreSQL stderr log with log_line_prefix = {prefix!r}",
        **base,
        "patterns": [{"name": "log_line_prefix", "regex": regex}],
        "timestamp": timestamp,
        "columns": {"level": "level", "message": "message"},
        "attrs_exclude": ["ts_again"],
        "samples": samples,
    }


def spec_from_pg_prefix(prefix: str, *, name: str = "postgres_custom") -> Spec:
    """Build a format spec from a PostgreSQL ``log_line_prefix`` setting.

    Parameters
    ----------
    prefix
        The setting's value, e.g. ``"%m [%p] %q%u@%d "`` (surrounding quotes,
        as pasted from postgresql.conf, are dropped). It must hold a time
        escape (``%m``, ``%t`` or ``%n``).
    name
        The spec's name, shown as the format in the read account.

    Returns
    -------
    Spec
        A regex spec with fields ``pid``, ``user``, ``db``, ``app``, ``client``,
        ``sqlstate``... as the prefix provides them, checked against samples
        rendered from the prefix.

    Raises
    ------
    FormatSpecError
        For an unknown escape or a prefix without a time.

    Examples
    --------
    >>> spec = spec_from_pg_prefix("%m [%p] %q%u@%d ")
    >>> spec.patterns[0].compiled.match("2024-05-02 09:14:07.118 UTC [42] app@shop LOG:  hi").group("db")
    'shop'
    """
    from timeline.sources._samples import check_spec

    spec = parse_spec(spec_data_from_pg_prefix(prefix, name=name))
    check_spec(spec)
    return spec


register_translator("postgres", spec_from_pg_prefix, example="postgres:%m [%p] %q%u@%d ")
