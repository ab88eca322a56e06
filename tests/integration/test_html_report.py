"""report.html in a real browser (headless Chromium): one row per requirement, filters work, no errors, no network."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from conformance.reporting import history, html
from conformance.spec.catalog import load_catalog

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VERDICTS = ("passed", "failed", "warning", "not verified", "not covered")


def summary(run_id: str, failed_every: int) -> dict[str, Any]:
    catalog = load_catalog()
    requirements = []
    for index, req in enumerate(catalog.requirements.values()):
        verdict = "failed" if index % failed_every == 0 else VERDICTS[index % len(VERDICTS)]
        requirements.append({"id": req.id, "level": req.level, "title": req.title, "verdict": verdict,
                             "reason": "", "tests": [f"test_x.py::test_{index}"], "observable": req.observable,
                             "quote": req.quote, "ambiguity": req.ambiguity})
    return {
        "schema_version": 1, "generated_at": f"2026-11-2{run_id[-1]}T01:00:00+00:00", "suite_version": "0.1.0",
        "run_id": run_id, "target": {"description": "embedded reference implementation", "platform_key": "alpha"},
        "profile": "ci", "seed": 1, "contract": {"version": "x"}, "verdict": "non-conformant",
        "counts": {"tests": {"passed": 3, "failed": 1, "not verified": 0}},
        "coverage": {"observable": 337, "covered": 330, "share": 0.98},
        "requirements": requirements,
        "tests": [{"nodeid": "test_x.py::test_0", "requirements": [requirements[0]["id"]], "outcome": "failed",
                   "message": "expected 400, received 200\n  reproduce: curl -i -X POST 'http://t/api/x/'",
                   "duration": 0.1}],
    }


def test_report_in_a_browser(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is needed for the browser test: apt-get install -y chromium (CI installs it)")
    from playwright.sync_api import sync_playwright

    for run_id, every in (("run1", 5), ("run2", 7)):
        history.append(tmp_path, summary(run_id, every))
    current = summary("run3", 9)
    page_path = html.write(tmp_path, current)
    failed = sum(1 for r in current["requirements"] if r["verdict"] == "failed")
    seat = sum(1 for r in current["requirements"]  # the filter matches anywhere in the row's text
               if "cat-seat" in " ".join(str(r[k] or "") for k in ("id", "title", "ambiguity", "tests")).lower())
    errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: outside.append(request.url) if not request.url.startswith("file:") else None)
        page.goto(page_path.resolve().as_uri())
        rows = page.locator("#matrix tbody tr")
        assert rows.count() == len(current["requirements"]) == len(load_catalog().requirements)
        assert page.locator("#trend circle").count() == 2 * 3, "the trend shows three runs"
        page.fill("#filter", "CAT-SEAT")
        assert page.locator("#matrix tbody tr:visible").count() == seat
        page.fill("#filter", "")
        page.select_option("#verdict-filter", "failed")
        assert page.locator("#matrix tbody tr:visible").count() == failed
        assert page.inner_text("#shown") == f"{failed} shown"
        page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        browser.close()
    assert not errors, f"console errors: {errors}"
    assert not outside, f"the report reached the network: {outside}"
    assert (tmp_path / "report.png").stat().st_size > 10_000
