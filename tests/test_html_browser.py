"""The HTML report in a real headless Chromium (Debian's, installed by .ci/run): it opens offline from a
file URL, its filters and expanders work, a hostile receiver's markup never runs, and it prints.
A screenshot is left in test-artifacts/ for a person to look at."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checker.model import RunResult
from checker.report import write_reports
from tests.conftest import ROOT
from tests.test_reports import hostile_project, run_of

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does)", allow_module_level=True)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    run: RunResult = run_of(hostile_project(folder / "project"), "IDEM-001", "HOOK-201", "HOOK-203", "KEY-004", "LIVE")
    write_reports(run, ["html"], folder / "out")
    return folder / "out" / "report.html"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert CHROMIUM, "chromium is missing: CI installs it (apt-get install chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(report_file: Path, browser: Any) -> Iterator[Any]:  # the report first: the sync API then owns the loop
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    page.problems = []  # type: ignore[attr-defined]
    page.requests = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("console", lambda message: page.problems.append(message.text) if message.type == "error" else None)
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("dialog", lambda dialog: (page.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.goto(report_file.as_uri())
    yield page
    context.close()


def visible_rules(page: Any) -> list[str]:
    return page.eval_on_selector_all(".rule:not(.hidden)", "nodes => nodes.map(n => n.id)")  # type: ignore[no-any-return]


def test_opens_offline_with_the_verdict_on_top_and_no_errors(page: Any, report_file: Path) -> None:
    assert page.problems == []
    assert page.requests == [report_file.as_uri()]  # self-contained: nothing else is fetched
    verdict = page.locator("#verdict")
    assert verdict.inner_text().startswith("NOT READY")
    assert verdict.bounding_box()["y"] < 50
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_hostile_markup_is_shown_as_text_and_never_runs(page: Any) -> None:
    assert page.title().startswith("golive: NOT READY")  # the receiver's <script> would set it to 'pwned'
    assert page.locator("img").count() == 0 and page.locator("[onmouseover]").count() == 0
    page.locator("#HOOK-201 details.evidence summary").click()
    answers = page.locator("#HOOK-201 table.delivery").inner_text()
    assert "<script>document.title='pwned'</script>" in answers
    assert page.locator("#HOOK-201 .waiver").inner_text().startswith("Waiver: receiver <b>rewrite</b> lands next sprint")
    assert page.problems == []


def test_status_and_section_filters(page: Any) -> None:
    everything = visible_rules(page)
    assert {"IDEM-001", "HOOK-201", "KEY-004", "LIVE-001", "LIVE-004"} <= set(everything)
    page.locator('button[data-status="manual"]').click()
    assert not [r for r in visible_rules(page) if r.startswith("LIVE-") and r != "LIVE-004"]
    assert "LIVE-004" in visible_rules(page)  # attested, still shown
    page.locator('button[data-status="manual"]').click()
    assert visible_rules(page) == everything
    page.select_option("#section-filter", "Webhooks")
    assert visible_rules(page) == ["HOOK-201", "HOOK-203"]
    assert page.locator('section.group[data-section="Idempotency"]').is_hidden()


def test_evidence_expands_and_collapses(page: Any) -> None:
    table = page.locator("#IDEM-001 details table").first
    assert table.is_hidden()
    page.locator("#IDEM-001 details.evidence summary").click()
    assert table.is_visible() and "POST" in table.inner_text()
    page.locator("#IDEM-001 details.evidence summary").click()
    assert table.is_hidden()
    page.locator("#expand-all").click()
    assert page.eval_on_selector_all("details.evidence", "ds => ds.every(d => d.open)")


def test_print_opens_the_evidence_and_hides_the_filters(page: Any) -> None:
    page.emulate_media(media="print")
    assert page.locator("nav.filters").is_hidden()
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.eval_on_selector_all("details.evidence", "ds => ds.every(d => d.open)")
    pdf = page.pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
