"""Templates: masking, mining, row order, pandas, new/bursting, and grouping accuracy."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timeline._errors import InputError
from timeline.templates import mask, mine, template_id, template_summary, templates

T0 = datetime(2024, 8, 12, 20, 0, tzinfo=timezone.utc)


def masked(text: str) -> str:
    """Mask one message."""
    return mask(pl.Series([text])).item()


# --- masking ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("connect to 10.20.30.40 failed", "connect to <*> failed"),
        ("connect to 10.20.30.40:5432 failed", "connect to <*> failed"),
        ("peer /172.16.0.9:50010 closed", "peer <*> closed"),
        ("link fe80::1ff:fe23:4567:890a up", "link <*> up"),
    ],
)
def test_mask_ip_addresses(message: str, expected: str) -> None:
    """IPv4 (with port, with a leading slash) and IPv6 addresses are masked."""
    assert masked(message) == expected


def test_mask_hex() -> None:
    """0x-prefixed hex and hex words holding digits and letters are masked."""
    assert masked("fault at 0x7f3a9c00 in page 3fa2bc91e") == "fault at <*> in page <*>"


def test_mask_uuid() -> None:
    """A UUID is one variable."""
    assert masked("[instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] VM Started") == "[instance: <*>] VM Started"


def test_mask_numbers() -> None:
    """Free-standing numbers are masked; a digit glued to a word's end is not."""
    assert masked("retry 3 of 5 on eth0 pid=4242") == "retry <*> of <*> on eth0 pid=<*>"


def test_mask_identifier_with_number() -> None:
    """Identifiers with a number after an underscore are masked whole."""
    assert masked("Launching attempt_1445144423722_0020_m_000000_0") == "Launching <*>"
    assert masked("Receiving block blk_-1608999687919862906 src") == "Receiving block <*> src"


def test_mask_quoted_values() -> None:
    """Quoted values holding more than letters are masked; a quoted word stays."""
    assert masked("""open "/var/lib/pg/data" as 'db-1'""") == "open <*> as <*>"
    assert masked("state is 'Inactive'") == "state is 'Inactive'"


def test_mask_paths() -> None:
    """Unix and Windows paths are masked."""
    assert masked("cannot open /var/log/app/current.log now") == "cannot open <*> now"
    assert masked(r"loaded C:\Windows\System32\kernel32.dll ok") == "loaded <*> ok"


@pytest.mark.parametrize("duration", ["3.2s", "150ms", "2 sec", "12 min", "45%", "18.4 KB"])
def test_mask_durations_and_sizes(duration: str) -> None:
    """A number with its unit is one variable."""
    assert masked(f"query took {duration} total") == "query took <*> total"


def test_mask_dates_and_times() -> None:
    """Dates, times and day/month names are masked and then collapse into one wildcard."""
    assert masked("connection at Fri Jun 17 07:07:00 2005") == "connection at <*>"
    assert masked("backup 2024-08-12T21:05:00Z done") == "backup <*> done"


def test_mask_urls_and_hosts() -> None:
    """URLs and host names (digits in a part, or a top-level domain) are masked."""
    assert masked("GET https://api.example.com/v1/x?id=3 failed") == "GET <*> failed"
    assert masked("resolve proxy.cse.cuhk.edu.hk error") == "resolve <*> error"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("GET /account HTTP/1.1 503", "GET /account HTTP/1.1 503"),
        ("GET /api/orders/9912 HTTP/1.1 500", "GET <*> HTTP/1.1 500"),
        ('"POST /cart/items HTTP/2" 502 0', '"POST <*> HTTP/2" 502 <*>'),
        ("HEAD /health HTTP/1.0 200 in 3ms", "HEAD /health HTTP/1.0 200 in <*>"),
    ],
)
def test_mask_keeps_http_status_and_protocol(message: str, expected: str) -> None:
    """An HTTP status after the protocol is what failed: it survives masking, other numbers do not."""
    assert masked(message) == expected


def test_templates_of_access_lines_differ_by_status() -> None:
    """Access-log lines with different statuses make different templates; many paths become one wildcard."""
    msgs = [f"GET /orders/{i} HTTP/1.1 {status}" for i in range(20) for status in (200, 503)]
    out = templates(pl.DataFrame({"message": msgs}))
    assert sorted(set(out["template"])) == ["GET <*> HTTP/1.1 200", "GET <*> HTTP/1.1 503"]


def test_mask_keeps_class_names() -> None:
    """Java class names and Android intents are constants of the statement."""
    assert masked("action:android.intent.action.SCREEN_ON") == "action:android.intent.action.SCREEN_ON"


def test_mask_collapses_adjacent_wildcards() -> None:
    """Wildcards separated only by spaces or punctuation become one."""
    assert masked("sent 10 bytes (18.4 KB) to 10.0.0.1, 10.0.0.2") == "sent <*> bytes <*> to <*>"


def test_mask_first_line_only() -> None:
    """A multi-line message is masked on its first line."""
    assert masked("boom: division by zero\nTraceback (most recent call last):\n  x") == "boom: division by zero"


def test_mask_expression_matches_series() -> None:
    """mask() on an expression gives what it gives on a Series."""
    msgs = ["took 3.2s on 10.0.0.1", "state is 'Inactive'\nmore"]
    via_expr = pl.DataFrame({"message": msgs}).select(mask("message"))["message"].to_list()
    assert via_expr == mask(pl.Series(msgs)).to_list()


# --- mining ----------------------------------------------------------------


def test_mine_merges_messages_of_one_statement() -> None:
    """Messages differing in a variable word share a template."""
    out = mine(["user alice logged in", "user bob logged in", "user carol logged in", "user dave logged in",
                "user erin logged in", "disk full"])
    assert out[:5] == ["user <*> logged in"] * 5
    assert out[5] == "disk full"


def test_mine_splits_few_valued_constants() -> None:
    """A position with a few repeated words is read as constants of different statements."""
    msgs = ["[instance: <*>] VM Paused (Lifecycle Event)", "[instance: <*>] VM Resumed (Lifecycle Event)"]
    assert mine(msgs, [22, 44]) == msgs


def test_mine_folds_optional_wildcard() -> None:
    """A template with an extra wildcard absorbs the same template without it."""
    out = mine(["<*> bytes sent", "<*> bytes <*> sent"], [10, 3])
    assert out == ["<*> bytes <*> sent", "<*> bytes <*> sent"]


def test_mine_does_not_depend_on_input_order() -> None:
    """The same messages in another order get the same templates."""
    msgs = ["a <*> b c", "a x b c", "a y b c", "a z b c", "q r s", "q r t", "a w b c", "a v b c"]
    weights = [5, 1, 2, 3, 1, 1, 1, 2]
    first = dict(zip(msgs, mine(msgs, weights)))
    rev = dict(zip(reversed(msgs), mine(list(reversed(msgs)), list(reversed(weights)))))
    assert first == rev


def test_mine_rejects_mismatched_weights() -> None:
    """One weight per message is required."""
    with pytest.raises(InputError, match="2 messages but 1 weights"):
        mine(["a", "b"], [1])


# --- the public verb -------------------------------------------------------


def events(messages: list[str], start: datetime = T0, step_s: float = 1.0) -> pl.DataFrame:
    """An event table with one event per message, step_s seconds apart."""
    n = len(messages)
    return pl.DataFrame(
        {
            "ts": [start + timedelta(seconds=i * step_s) for i in range(n)],
            "source": ["app"] * n,
            "level": ["info"] * n,
            "message": messages,
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    )


def test_templates_keeps_rows_and_order() -> None:
    """Rows come back in their order with template_id and template added."""
    msgs = ["disk /dev/sdb1 full", "GET /a/1 took 3ms", "disk /dev/sda2 full", "GET /b/2 took 5ms", None]
    df = events([m or "" for m in msgs]).with_columns(message=pl.Series(msgs))
    out = templates(df)
    assert out.columns == [*df.columns, "template_id", "template"]
    assert out["message"].to_list() == msgs
    assert out["template"].to_list()[:4] == ["disk <*> full", "GET <*> took <*>", "disk <*> full", "GET <*> took <*>"]
    assert out["template_id"][0] == out["template_id"][2] == template_id("disk <*> full")


def test_templates_pandas_in_pandas_out() -> None:
    """A pandas table comes back as pandas, with its index and order kept."""
    pdf = events(["job 1 done", "job 2 done", "disk full"]).to_pandas()
    pdf.index = pd.Index([30, 10, 20], name="row")
    out = templates(pdf)
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == [30, 10, 20]
    assert list(out["template"]) == ["job <*> done", "job <*> done", "disk full"]
    assert "template_id" not in pdf.columns


def test_templates_requires_message_column() -> None:
    """A table without a message column is refused with the columns it has."""
    with pytest.raises(InputError, match="no 'message' column"):
        templates(pl.DataFrame({"msg": ["x"]}))


def test_templates_rejects_other_types() -> None:
    """Only polars and pandas tables are accepted."""
    with pytest.raises(InputError, match="expected a polars or pandas DataFrame, got list"):
        templates(["a"])  # type: ignore[arg-type]


def incident_table() -> pl.DataFrame:
    """Two hours of steady traffic, then 10 minutes where a new error and an old warning burst."""
    rows: list[tuple[datetime, str]] = []
    for i in range(120):  # steady, one a minute
        rows.append((T0 + timedelta(minutes=i), f"GET /api/items/{i} 200 in {i % 50}ms"))
    for i in range(12):  # a rare warning: one every 10 minutes
        rows.append((T0 + timedelta(minutes=10 * i, seconds=30), f"pool size low: {i} idle"))
    w0 = T0 + timedelta(hours=2)
    for i in range(40):  # inside the window
        rows.append((w0 + timedelta(seconds=15 * i), f"connection to 10.0.0.{i % 9} timed out after {i}s"))
        rows.append((w0 + timedelta(seconds=15 * i + 5), f"pool size low: {i} idle"))
    rows.append((w0 + timedelta(minutes=3), "GET /api/items/999 200 in 4ms"))
    rows.sort()
    return pl.DataFrame({"ts": [r[0] for r in rows], "message": [r[1] for r in rows]},
                        schema_overrides={"ts": pl.Datetime("us", "UTC")})


def test_summary_marks_new_and_bursting() -> None:
    """A template first seen in the window is new; one far above its baseline rate is bursting."""
    df = incident_table()
    window = (T0 + timedelta(hours=2), T0 + timedelta(hours=2, minutes=10))
    s = template_summary(df, window=window).to_dicts()
    by = {r["template"]: r for r in s}
    timeout = by["connection to <*> timed out after <*>"]
    pool = by["pool size low: <*> idle"]
    get = by["GET <*> in <*>"]
    assert (timeout["new"], timeout["bursting"], timeout["count_in_window"], timeout["count_before"]) == (True, True, 40, 0)
    assert (pool["new"], pool["bursting"], pool["count_before"]) == (False, True, 12)
    assert (get["new"], get["bursting"]) == (False, False)
    assert timeout["first_seen"] == window[0]
    assert s[0]["count"] >= s[-1]["count"]


def test_summary_window_as_iso_strings() -> None:
    """The window may be given as ISO 8601 strings."""
    df = incident_table()
    s = template_summary(df, window=("2024-08-12T22:00:00Z", "2024-08-12T22:10:00+00:00"))
    assert s.filter(pl.col("new"))["template"].to_list() == ["connection to <*> timed out after <*>"]


def test_summary_without_window_has_null_flags() -> None:
    """Without a window, the window columns are null, not guessed."""
    s = template_summary(incident_table())
    assert s["new"].null_count() == s.height
    assert s["count"].sum() == incident_table().height


def test_summary_rejects_reversed_window() -> None:
    """A window whose end is not after its start is refused, naming both times."""
    with pytest.raises(InputError, match="is not after start"):
        template_summary(incident_table(), window=("2024-08-12T22:10:00Z", "2024-08-12T22:00:00Z"))


def test_templates_with_window_adds_flags() -> None:
    """templates() with a window flags each row's template as new/bursting."""
    df = incident_table()
    out = templates(df, window=(T0 + timedelta(hours=2), T0 + timedelta(hours=2, minutes=10)))
    row = out.filter(pl.col("message").str.starts_with("connection to")).row(0, named=True)
    assert (row["template_new"], row["template_bursting"]) == (True, True)


def test_cli_json_output(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """`timeline templates --json` writes one object per template, times in ISO 8601."""
    import argparse

    import timeline.cli
    from timeline import _templates_cli

    class Table:
        df = incident_table()

    monkeypatch.setattr(timeline.cli, "read_from_args", lambda args: Table())
    out = tmp_path / "t.json"
    args = argparse.Namespace(window=["2024-08-12T22:00:00Z", "2024-08-12T22:10:00Z"], baseline=None, top=5, json=str(out))
    assert _templates_cli.run(args) == 0
    records = json.loads(out.read_text())
    assert {"template_id", "template", "count", "first_seen", "last_seen", "new", "bursting", "sample"} <= set(records[0])
    assert any(r["new"] and r["first_seen"].startswith("2024-08-12T22:00:00") for r in records)


# --- properties ------------------------------------------------------------

words = st.sampled_from(["user", "alice", "bob", "login", "failed", "from", "10.0.0.1", "42", "3.2s", "/var/log/x",
                         "0xdeadbeef", "port", "ok", "(uid=0)", "'Active'", "GET", "=", "-"])
messages = st.lists(words, min_size=1, max_size=12).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(messages, min_size=1, max_size=40))
def test_template_never_longer_than_message(msgs: list[str]) -> None:
    """A template's constant tokens are never more than its message's tokens.

    A wildcard may stand for nothing (``user <*>`` takes ``user``: the same
    statement with an empty value), so only the words the template fixes count.
    """
    out = templates(pl.DataFrame({"message": msgs}))
    for msg, tmpl in zip(msgs, out["template"].to_list()):
        constants = [t for t in tmpl.split() if t != "<*>"]
        assert len(constants) <= len(msg.split())


@settings(max_examples=60, deadline=None)
@given(st.lists(messages, min_size=1, max_size=40))
def test_identical_masked_messages_share_an_id(msgs: list[str]) -> None:
    """Messages that mask to the same text get the same template id."""
    out = templates(pl.DataFrame({"message": msgs})).with_columns(m=mask(pl.col("message")))
    assert out.group_by("m").agg(pl.col("template_id").n_unique())["template_id"].max() == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(messages, min_size=1, max_size=40), st.randoms())
def test_shuffling_rows_keeps_each_rows_template(msgs: list[str], rnd) -> None:  # noqa: ANN001
    """The template of a message does not depend on the order of the rows."""
    shuffled = list(msgs)
    rnd.shuffle(shuffled)
    a = dict(zip(msgs, templates(pl.DataFrame({"message": msgs}))["template"].to_list()))
    b = dict(zip(shuffled, templates(pl.DataFrame({"message": shuffled}))["template"].to_list()))
    assert a == b


# --- grouping accuracy on a small labelled sample --------------------------

LABELLED = [
    # (message, true event)
    ("Accepted password for alice from 10.0.0.5 port 50022 ssh2", "accepted"),
    ("Accepted password for bob from 10.0.0.7 port 50101 ssh2", "accepted"),
    ("Accepted password for carol from 192.168.1.20 port 40222 ssh2", "accepted"),
    ("Failed password for invalid user admin from 203.0.113.9 port 4242 ssh2", "failed-invalid"),
    ("Failed password for invalid user test from 203.0.113.11 port 4255 ssh2", "failed-invalid"),
    ("Failed password for root from 198.51.100.3 port 3022 ssh2", "failed-root"),
    ("Failed password for root from 198.51.100.4 port 3023 ssh2", "failed-root"),
    ("connection to 10.0.0.1:5432 timed out after 30s", "timeout"),
    ("connection to 10.0.0.2:5432 timed out after 5.5s", "timeout"),
    ("checkpoint complete: wrote 1520 buffers (9.3%); 0 WAL file(s) added", "checkpoint"),
    ("checkpoint complete: wrote 88 buffers (0.5%); 1 WAL file(s) added", "checkpoint"),
    ("[instance: 4f1c2a0e-1b2c-4d5e-8f90-a1b2c3d4e5f6] VM Paused (Lifecycle Event)", "vm-paused"),
    ("[instance: 7e3d2c1b-0a9b-4c8d-9e7f-6a5b4c3d2e1f] VM Paused (Lifecycle Event)", "vm-paused"),
    ("[instance: 4f1c2a0e-1b2c-4d5e-8f90-a1b2c3d4e5f6] VM Resumed (Lifecycle Event)", "vm-resumed"),
    ("[instance: 7e3d2c1b-0a9b-4c8d-9e7f-6a5b4c3d2e1f] VM Resumed (Lifecycle Event)", "vm-resumed"),
    ("GET /api/v1/orders/1234 HTTP/1.1 200 in 12ms", "get"),
    ("GET /api/v1/orders/98 HTTP/1.1 200 in 7ms", "get"),
    ("deploy api@v2.3.1 started by jenkins", "deploy"),
    ("deploy api@v2.3.2 started by jenkins", "deploy"),
    ("database system is ready to accept connections", "ready"),
]


def grouping_accuracy(truth: list[str], predicted: list[str]) -> float:
    """Share of messages whose predicted group holds exactly their true group's messages."""
    ok = 0
    for i in range(len(truth)):
        same_truth = {j for j, t in enumerate(truth) if t == truth[i]}
        same_pred = {j for j, p in enumerate(predicted) if p == predicted[i]}
        ok += same_truth == same_pred
    return ok / len(truth)


def test_grouping_accuracy_on_labelled_sample() -> None:
    """Every message of the hand-labelled sample lands in exactly its true group."""
    out = templates(pl.DataFrame({"message": [m for m, _ in LABELLED]}))
    assert grouping_accuracy([t for _, t in LABELLED], out["template_id"].to_list()) == 1.0


def test_grouping_accuracy_definition() -> None:
    """GA counts a message only when its whole group is right (Loghub's definition)."""
    assert grouping_accuracy(["a", "a", "b"], ["x", "x", "y"]) == 1.0
    assert grouping_accuracy(["a", "a", "b"], ["x", "x", "x"]) == 0.0
    assert grouping_accuracy(["a", "a", "b"], ["x", "y", "z"]) == pytest.approx(1 / 3)
