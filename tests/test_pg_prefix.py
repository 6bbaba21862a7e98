"""log_line_prefix strings become checked specs, and format='postgres:<prefix>' reads with them."""

from __future__ import annotations

import datetime as dt
import warnings

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import timeline.sources as sources
from timeline._errors import FormatSpecError
from timeline.sources._pg_prefix import ESCAPES, spec_from_pg_prefix
from timeline.sources._samples import check_spec
from timeline.sources._spec import load_specs, resolve_spec

COMMON = [
    "%m [%p] ",
    "%m [%p] %q%u@%d ",
    "%t:%r:%u@%d:[%p]:",
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t-%c-",
    "%n [%p] %e ",
    "%m [%p] %q[%b] %-12u %Q %x %v %i ",
]


@pytest.mark.parametrize("prefix", COMMON)
def test_common_prefixes_pass_their_own_samples(prefix):
    """Each common prefix builds a spec whose rendered samples parse with nothing rejected and no warning."""
    spec = spec_from_pg_prefix(prefix)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_spec(spec)


def test_fields_are_cut_from_the_prefix():
    """user, db, pid, client and port come out as attrs of the event."""
    spec = spec_from_pg_prefix("%t:%r:%u@%d:[%p]:")
    m = spec.patterns[0].compiled.match(
        "2024-05-02 09:14:07 UTC:10.0.3.7(51514):app@shop:[4242]:FATAL:  sorry, too many clients already"
    )
    assert m is not None
    assert (m["client"], m["client_port"], m["user"], m["db"], m["pid"]) == ("10.0.3.7", "51514", "app", "shop", "4242")


def test_q_makes_the_session_part_optional():
    """With %q, lines of background processes stop after the part before it and still parse."""
    spec = spec_from_pg_prefix("%m [%p] %q%u@%d ")
    assert spec.patterns[0].compiled.match("2024-05-02 09:14:07.118 UTC [99] LOG:  checkpoint starting: time")


def test_padding_is_allowed():
    """%-10u pads the user name with spaces to ten characters; the pattern accepts the padding."""
    spec = spec_from_pg_prefix("%m %-10u[%5p] ")
    m = spec.patterns[0].compiled.match("2024-05-02 09:14:07.118 UTC app       [   42] LOG:  hi")
    assert m is not None and (m["user"], m["pid"]) == ("app", "42")


def test_quotes_from_postgresql_conf_are_dropped():
    """A prefix pasted with its quotes ('%m [%p] ') builds the same pattern as without them."""
    assert spec_from_pg_prefix("'%m [%p] '").patterns[0].regex == spec_from_pg_prefix("%m [%p] ").patterns[0].regex


def test_unknown_escape_is_named():
    """An escape PostgreSQL does not have is reported with the list of those it does."""
    with pytest.raises(FormatSpecError, match=r"unknown escape %z; expected one of %a \(application name\)"):
        spec_from_pg_prefix("%m %z ")


def test_prefix_without_time_is_refused():
    """A prefix with no %m, %t or %n cannot place lines in time, and says so."""
    with pytest.raises(FormatSpecError, match="has no time escape"):
        spec_from_pg_prefix("[%p] %u@%d ")


def test_resolve_spec_translates_postgres_prefix_names():
    """format='postgres:<prefix>' resolves through the translator registry."""
    spec = resolve_spec("postgres:%m [%p] %q%u@%d ", load_specs())
    assert spec.name == "postgres_custom"
    assert spec.event_kind == "db"


def test_read_with_a_custom_prefix(tmp_path):
    """A log whose prefix no shipped pattern knows reads fully with format='postgres:<prefix>'."""
    log = tmp_path / "pg.log"
    log.write_text(
        "[4242] 2024-08-12 14:31:07.118 PDT app@shop FATAL:  sorry, too many clients already\n"
        "[4243] 2024-08-12 14:31:08.000 PDT app@shop ERROR:  canceling statement due to statement timeout\n"
        "[4243] 2024-08-12 14:31:08.000 PDT app@shop STATEMENT:  SELECT pg_sleep(60);\n"
        "[1010] 2024-08-12 14:31:09.000 PDT LOG:  received SIGHUP, reloading configuration files\n"
    )
    table = sources.read(log, format="postgres:[%p] %m %q%u@%d ", quiet=True)
    account = table.account[0]
    assert (account.events, account.continuation_lines, account.rejected) == (3, 1, 0)
    assert table.df["ts"][0] == dt.datetime(2024, 8, 12, 21, 31, 7, 118000, tzinfo=dt.UTC)
    assert table.df["level"].cast(pl.String).to_list() == ["error", "error", "info"]


_ESCAPE = st.sampled_from([f"%{k}" for k in ESCAPES if k not in ("m", "t", "n")] + ["%q", "%%"])
_LITERAL = st.text(alphabet=st.sampled_from(list(" []:@=,-|()/.#*+?")), min_size=1, max_size=3)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    time_escape=st.sampled_from(["%m", "%t", "%n"]),
    parts=st.lists(st.one_of(_ESCAPE, _LITERAL), max_size=6),
    sep=_LITERAL,
)
def test_any_prefix_with_a_time_builds_a_checked_spec(time_escape, parts, sep):
    """Any mix of escapes and literal text after a time escape gives a spec that reads its own samples."""
    prefix = time_escape + sep + "".join(parts) + " "
    spec = spec_from_pg_prefix(prefix)  # runs check_spec on the rendered samples
    assert spec.patterns[0].compiled.groupindex.keys() >= {"ts", "level", "message"}
