"""The standalone HTML report: one offline file, escaped evidence, and it renders in a browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from _incident_factory import hostile_entry, make_incident

from timeline.report import to_html

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")) if p and Path(p).exists()), None)
ATTACK = "<script>alert(1)</script>"


@pytest.fixture(scope="module", name="incident")
def fixture_incident():
    """The outage, with a log line and a title that try to inject a script."""
    inc = make_incident(n_requests=1_500)
    inc.entries.append(hostile_entry())
    inc.title = "DB outage <script>alert(2)</script>"
    return inc


@pytest.fixture(scope="module", name="page")
def fixture_page(incident, tmp_path_factory):
    """The report written to a file, and its text."""
    path = tmp_path_factory.mktemp("report") / "report.html"
    text = to_html(incident, path)
    return path, text


def test_writes_one_file_and_returns_its_text(page):
    """to_html writes the page to path and returns the same text."""
    path, text = page
    assert path.read_text(encoding="utf-8") == text
    assert text.startswith("<!DOCTYPE html>")


def test_plotly_js_is_embedded_once(page):
    """plotly.js is inline exactly once, and no script or stylesheet is loaded from elsewhere."""
    _, text = page
    assert len(re.findall(r"plotly\.js v\d", text)) == 1
    assert not re.search(r"<script[^>]*\bsrc=", text, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref=[\"']?https?:", text, re.IGNORECASE)
    assert not re.search(r"@import\s+url\(\s*['\"]?https?:", text)


def test_three_charts(page):
    """The swimlane, rates and template charts are all in the page."""
    _, text = page
    for div in ("timeline-swimlane", "timeline-rates", "timeline-templates"):
        assert f'id="{div}"' in text


def test_log_text_is_escaped(page):
    """A log line and a title holding <script> appear escaped, never as a tag."""
    _, text = page
    assert ATTACK not in text and "<script>alert(2)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<title>DB outage &lt;script&gt;alert(2)&lt;/script&gt;</title>" in text


def test_only_our_script_tags(page):
    """The page holds the plotly bundle and one drawing script per chart, nothing else."""
    _, text = page
    assert len(re.findall(r"<script\b", text)) == 1 + 3


def test_postmortem_sections_are_in_the_page(page):
    """The timeline table and the postmortem sections are rendered as HTML."""
    _, text = page
    for head in ("Incident Summary", "Impact", "Timeline of Events", "Detection", "Root Cause", "Action Items", "Evidence read"):
        assert f"<h2>{head}</h2>" in text
    assert '<tr class="failed">' in text and '<tr class="gap">' in text


def test_without_path_writes_nothing(incident, tmp_path, monkeypatch):
    """Without a path the page is only returned."""
    monkeypatch.chdir(tmp_path)
    to_html(incident)
    assert list(tmp_path.iterdir()) == []


def _run_chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=6000", *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _console_errors(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln and re.search(r"error|uncaught|exception", ln, re.IGNORECASE)]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install -y chromium)")
def test_renders_in_headless_chromium(page, tmp_path):
    """Chromium draws every chart from the offline file, logs no JavaScript error, and runs no injected script."""
    path, _ = page
    proc = _run_chromium(["--dump-dom", path.as_uri()], tmp_path)
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert dom.count('class="plot-container plotly"') == 3
    assert dom.count("main-svg") >= 3
    assert _console_errors(proc.stderr) == []
    assert "<script>alert(1)</script>" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install -y chromium)")
def test_screenshot_is_not_blank(page, tmp_path):
    """A screenshot of the report has content (it is larger than a blank page's)."""
    path, _ = page
    shot = tmp_path / "report.png"
    proc = _run_chromium(["--hide-scrollbars", "--window-size=1300,2400", f"--screenshot={shot}", path.as_uri()], tmp_path)
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    assert shot.stat().st_size > 50_000


def test_repr_html_lists_milestones_escaped(incident):
    """The notebook display lists every milestone with its time and evidence, escaped."""
    from timeline.report import incident_repr_html

    text = incident_repr_html(incident)
    for label in ("TRIGGER", "IMPACT STARTS", "DETECTED (customer)", "RESOLVED"):
        assert f"<b>{label}</b>" in text
    assert "<script>alert(2)" not in text and "DB outage &lt;script&gt;" in text


def test_write_outputs_writes_each_file_asked(incident, tmp_path):
    """write_outputs writes the postmortem, the HTML page and the Timesketch file, one line per file."""
    from timeline.report import write_outputs

    done = write_outputs(incident, html=tmp_path / "r.html", markdown=tmp_path / "pm.md", timesketch=tmp_path / "ts.jsonl")
    assert len(done) == 3
    assert (tmp_path / "pm.md").read_text(encoding="utf-8").startswith("# Postmortem:")
    assert (tmp_path / "r.html").stat().st_size > 1_000_000 and (tmp_path / "ts.jsonl").stat().st_size > 0
