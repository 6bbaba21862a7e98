"""Trend report, charts and the `timeline trends` command on the sample history."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import plotly.graph_objects as go
import pytest

from timeline.trends import JSON_KEYS, Trends, load_incidents, trends
from timeline.trends._cli import add_parser, run

REPO = Path(__file__).resolve().parent.parent
HISTORY = REPO / "data" / "incident-history"


@pytest.fixture(name="history", scope="module")
def fixture_history() -> Trends:
    """Quarterly trends of the committed sample history, all incidents together."""
    return trends(load_incidents(HISTORY), every="1q")


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="timeline")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["trends", *argv])
    return args.func(args)


def test_markdown_answers_the_three_questions(history: Trends) -> None:
    """The report opens with the three questions a reliability lead asks."""
    md = history.to_markdown()
    for q in (
        "Are we detecting faster than the previous quarter?",
        "Which services take longest to mitigate?",
        "How many incidents did customers find before we did?",
    ):
        assert q in md


def test_markdown_states_uncertainty(history: Trends) -> None:
    """Verdicts are worded from interval overlap, and small cells are marked too few."""
    md = history.to_markdown()
    assert "no detectable change" in md
    assert "too few to conclude" in md
    assert "95% CI" in md


def test_sample_history_shows_improving_and_worsening_services(history: Trends) -> None:
    """Year over year, search mitigates detectably faster and payments detectably slower."""
    halves = history.halves(["service"]).filter(metric="time_to_mitigate")
    second = {r["group"]: r["change"] for r in halves.to_dicts() if r["change"] != "first bucket"}
    assert second["search"] == "shorter"
    assert second["payments"] == "longer"


def test_mean_is_labelled_beside_median(history: Trends) -> None:
    """Wherever a mean appears it is labelled, in a column after the median."""
    md = history.to_markdown()
    header = next(line for line in md.splitlines() if line.startswith("| quarter | incidents | n | median"))
    assert header.index("median") < header.index("mean (labelled)")
    assert re.search(r"\| mean \d", md)


def test_html_is_standalone(history: Trends, tmp_path: Path) -> None:
    """The HTML report inlines plotly.js once and loads nothing from the network."""
    out = tmp_path / "trends.html"
    history.to_html(out)
    text = out.read_text(encoding="utf-8")
    assert "<script src=\"http" not in text
    assert text.count("plotly.js v") >= 1
    assert text.count("Plotly.newPlot") >= 4
    assert "Which services take longest to mitigate?" in text


def test_charts_are_log_scale_figures(history: Trends) -> None:
    """Distribution charts are plotly figures with a log duration axis and counts beneath."""
    fig = history.plot_distribution("time_to_mitigate")
    assert isinstance(fig, go.Figure)
    assert fig.layout.yaxis.type == "log"
    assert {type(tr).__name__ for tr in fig.data} >= {"Box", "Bar"}
    assert isinstance(history.plot_breakdown("severity", "time_to_detect"), go.Figure)
    assert isinstance(history.plot_customer_share(), go.Figure)
    assert isinstance(history.plot_counts(), go.Figure)


def test_repr_html_summarises(history: Trends) -> None:
    """The notebook view shows the answers without charts."""
    html = history._repr_html_()
    assert "How many incidents did customers find" in html
    assert "Plotly" not in html


def test_cli_writes_html_json_markdown(tmp_path: Path) -> None:
    """`timeline trends STORE --by service --html --json --markdown` writes all three."""
    html, js, md = tmp_path / "t.html", tmp_path / "t.json", tmp_path / "t.md"
    code = _cli(str(HISTORY), "--every", "1q", "--by", "service", "--html", str(html), "--json", str(js), "--markdown", str(md))
    assert code == 0
    rows = json.loads(js.read_text(encoding="utf-8"))
    assert set(JSON_KEYS) <= set(rows[0])
    assert {r["group"] for r in rows} == {"auth", "checkout", "notifications", "payments", "search"}
    assert "## By service, per quarter" in md.read_text(encoding="utf-8")
    assert html.stat().st_size > 1_000_000


def test_cli_markdown_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    """Without an output option the markdown goes to stdout."""
    assert _cli(str(HISTORY), "--every", "1y") == 0
    out = capsys.readouterr().out
    assert out.startswith("# Incident trends")
    assert "| 2024 |" in out


def test_cli_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing store is reported on stderr with exit status 2."""
    assert _cli(str(tmp_path / "nope")) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_cli_csv_mapping(tmp_path: Path) -> None:
    """--map FIELD=COLUMN reads a CSV with its own column names."""
    csv = tmp_path / "x.csv"
    csv.write_text("Started,Seen\n2024-01-01T10:00:00Z,2024-01-01T10:04:00Z\n", encoding="utf-8")
    out = tmp_path / "x.json"
    assert _cli(str(csv), "--map", "impact_start=Started", "--map", "detected=Seen", "--json", str(out)) == 0
    row = next(r for r in json.loads(out.read_text()) if r["metric"] == "time_to_detect")
    assert row["median_s"] == 240.0


def test_run_is_the_subcommand_func() -> None:
    """add_parser sets func=run so the main CLI can dispatch."""
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    assert parser.parse_args(["trends", "x"]).func is run
