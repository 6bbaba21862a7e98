"""The sample outage's postmortem, reviewed against the sample's truth: every number traced to the raw records."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from conftest import SAMPLE_INCIDENT

import timeline as tl
from timeline.reconstruct import reconstruct

TZ = "America/Los_Angeles"
ACCESS = re.compile(r'\[(?P<t>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) ')


@pytest.fixture(name="incident", scope="module")
def fixture_incident():
    """The sample reconstructed as the README's quick start does."""
    return reconstruct(tl.read(str(SAMPLE_INCIDENT), tz=TZ, quiet=True), tz=TZ)


@pytest.fixture(name="md", scope="module")
def fixture_md(incident):
    """The postmortem draft."""
    return incident.postmortem()


@pytest.fixture(name="access", scope="module")
def fixture_access():
    """Every request of nginx's access log, parsed here with a regex of its own (not the toolkit's reader)."""
    out = []
    for line in (SAMPLE_INCIDENT / "nginx" / "access.log").read_text().splitlines():
        m = ACCESS.search(line)
        assert m, line
        ts = dt.datetime.strptime(m["t"], "%d/%b/%Y:%H:%M:%S %z").astimezone(dt.UTC)
        out.append((ts, m["method"], m["path"], int(m["status"])))
    return out


def _truth() -> dict:
    return json.loads((SAMPLE_INCIDENT / ".truth.json").read_text())


def test_failed_requests_are_the_edge_5xx_during_impact_counted_once(incident, md, access):
    """'Failed requests' is the number of 5xx lines in access.log between impact start and mitigation, not that plus the app's lines."""
    start, end = incident.at("impact_start"), incident.at("mitigated")
    # access.log keeps whole seconds: a line stamped in impact's first second may be in it
    failed = [r for r in access if start < r[0] + dt.timedelta(seconds=1) and r[0] <= end and r[3] >= 500]
    by_status = {s: sum(1 for r in failed if r[3] == s) for s in sorted({r[3] for r in failed})}
    codes = ", ".join(f"{n:,} × {s}" for s, n in by_status.items())
    assert f"**Failed requests:** {len(failed):,}, counted once each at the edge (nginx/access: {codes})" in md
    assert len(failed) == 656  # the sample's 5xx during the outage; the old draft said 1,108 (656 + 452 app lines)
    # Every application error line for a request is one of these requests, matched and not counted again.
    assert "452 error lines for requests are not counted again: 452 of them match an edge request" in md


def test_endpoints_count_each_failed_request_once(md, incident, access):
    """Per endpoint, the count is the edge's 5xx for that path (ids folded), e.g. /account is not 132 + 70."""
    start, end = incident.at("impact_start"), incident.at("mitigated")
    account = sum(1 for r in access if start < r[0] + dt.timedelta(seconds=1) and r[0] <= end and r[3] >= 500 and r[2] == "/account")
    assert f"`/account`: {account} failed" in md
    orders_ids = sum(1 for r in access if start <= r[0] <= end and r[3] >= 500 and re.fullmatch(r"/orders/\d+", r[2]))
    assert f"`/orders/{{id}}`: {orders_ids} failed" in md


def test_affected_services_come_from_the_signature(md):
    """Affected services are the failing components, not every source with an error that day (no SMTP noise)."""
    line = next(ln for ln in md.splitlines() if ln.startswith("- **Affected services:**"))
    assert "db-primary" in line and "nginx/access" in line
    assert "app.mail" not in line
    assert "app/orders-api (orders_api.db)" in line


def test_title_is_short_and_in_words(incident, md):
    """The default title says what failed, where and after which change, within 80 characters."""
    assert incident.title == "Database connection failures on db-primary after CHG-2231"
    assert md.startswith("# Postmortem: Database connection failures on db-primary after CHG-2231\n")


def test_text_is_never_cut_mid_word(md, incident):
    """Every ellipsis follows a whole word of the evidence (the old draft had 'max_con…')."""
    words = set()
    texts = incident.events["message"].drop_nulls().to_list()
    texts += [m.rule for m in incident.milestones.values() if m] + [a.rule for a in incident.attempts]
    for msg in texts:
        words.update(re.findall(r"[\w.>/-]+", msg))
    cut = re.findall(r"([\w.>/-]+)…", md)
    assert cut, "expected some long texts to be cut"
    bad = [w for w in cut if w not in words and w.rstrip(".") not in words]
    assert bad == []
    assert "max_con…" not in md


def _rows(md: str) -> list[list[str]]:
    section = md.split("## Timeline of Events", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("| ")][2:]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in lines]


def test_no_identical_rows_repeat(md):
    """The status update posted to four tickets is one row with a count, and no two rows say the same."""
    events = [r[2] for r in _rows(md) if r[2]]
    assert len(events) == len(set(events))
    row = next(r for r in _rows(md) if "We're aware of the issue and engineering is working on it" in r[2])
    assert "Tickets #48209, #48210, #48211, #48212" in row[2] and "(posted 4 times, until 15:24)" in row[2]


def test_group_change_reads_as_words(md):
    """A raw 'group 360004412211 -> 360004412255' row says which ticket moved and that the number is a group."""
    assert "group 360004412211 -> 360004412255" not in md
    assert "Ticket #48213 (by user 381204857112): moved from group 360004412211 to group 360004412255" in md


def test_gap_callout_sits_after_its_minute(md):
    """The silent-period row comes after every row of the minute it starts in, not between them."""
    rows = _rows(md)
    i = next(k for k, r in enumerate(rows) if "without recorded action" in r[2])
    assert rows[i - 1][0] == "14:14"
    assert rows[i + 1][0] > "14:14"


def test_machine_signal_names_a_real_failure(md):
    """The signal and the action item name a status (503), and the alert is a threshold an engineer can set."""
    assert "GET <*> HTTP<*>" not in md
    item = next(ln for ln in md.splitlines() if ln.startswith("- [ ] Alert when"))
    assert re.search(r"logs `[^`]*\b5\d\d\b[^`]*` (?:at least once|\d+ or more times) a minute for 2 minutes running", item) or "too many clients" in item
    assert "it would have fired at" in item


def test_first_failing_component_is_the_database(md):
    """PostgreSQL's 14:14:37.412 FATAL comes first; nginx's whole-second 14:14:37 line cannot be placed before it."""
    line = next(ln for ln in md.splitlines() if "**The first failing component:**" in ln)
    assert "db-primary" in line


def test_precision_aware_signal_on_the_sample(incident):
    """On the sample's own signature rows, the precision-aware signal is PostgreSQL's first FATAL at 14:14:37.412."""
    from timeline.reconstruct._model import earliest_signal, signature_rows

    sig = earliest_signal(signature_rows(incident), incident.at("detected"))
    truth = dt.datetime.fromisoformat(_truth()["milestones"]["impact_start"]["at"])
    assert sig.source == "db-primary/postgresql" and sig.template == "sorry, too many clients already"
    assert sig.at == truth


def test_html_report_carries_the_same_numbers(incident, tmp_path):
    """The HTML report shows the same impact numbers and title as the Markdown draft."""
    page = incident.to_html(tmp_path / "r.html")
    assert "656, counted once each at the edge" in page
    assert "Database connection failures on db-primary after CHG-2231" in page


def test_noisy_variant_counts_and_title(tmp_path):
    """The noisier scenario (other trigger, nightly bursts, staff detection): failed requests are its access log's
    5xx during impact, and the title names the database's own failure (timeouts), not a phrase fitted to the sample."""
    import subprocess
    import sys

    from conftest import DATA

    out = tmp_path / "noisy"
    subprocess.run([sys.executable, str(DATA / "make_sample_incident.py"), "--variant", "noisy", "--out", str(out)], check=True)
    inc = reconstruct(tl.read(str(out), tz=TZ, quiet=True), tz=TZ)
    start, end = inc.at("impact_start"), inc.at("mitigated")
    n = 0
    for line in (out / "nginx" / "access.log").read_text().splitlines():
        m = ACCESS.search(line)
        ts = dt.datetime.strptime(m["t"], "%d/%b/%Y:%H:%M:%S %z")
        n += start < ts + dt.timedelta(seconds=1) and ts <= end and int(m["status"]) >= 500  # whole seconds
    assert f"**Failed requests:** {n:,}, counted once each at the edge" in inc.postmortem()
    assert inc.title.startswith("Database timeouts on db-primary after ")
    assert len(inc.title) <= 80


def test_one_first_seen_row_per_source_during_impact(md):
    """The failing templates' first lines are one row per source during impact, naming the ones that followed;
    the restart blip before impact keeps its own row."""
    rows = [r for r in _rows(md) if r[2].startswith("First '")]
    during = [r for r in rows if r[1] != "−2m"]
    sources = [re.search(r"' in (\S+)", r[2]).group(1) for r in during]
    assert len(sources) == len(set(sources))
    assert any("terminating connection due to administrator command" in r[2] for r in rows if r[0] == "14:12")
    # PostgreSQL's first refusal is the impact-start row itself; its other failing template follows in its own row.
    assert any(r[2].startswith("**IMPACT STARTS** sorry, too many clients already") for r in _rows(md))
    pg = next(r for r in during if "db-primary/postgresql" in r[2])
    assert pg[2].startswith("First 'remaining connection slots")
