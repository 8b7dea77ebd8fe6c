"""A person's view: headless Chromium opens report.html from disk with the network off.

Chromium comes from Debian's package (``.ci/run`` installs it where missing); Playwright
drives it. Every request that is not for the file itself is blocked and counted as a
failure; the page must make none, log no console error, and render its figures.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from imnm_cohort.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_report_opens_offline_without_errors(tmp_path):
    from playwright import sync_api

    root = tmp_path / "o"
    assert (
        main(["-q", "run", "--output-dir", str(root)], stdout=io.StringIO(), stderr=io.StringIO())
        == 0
    )
    report = (root / "latest" / "report.html").resolve()
    url = report.as_uri()
    console_errors: list[str] = []
    failed: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
        page = context.new_page()
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.on("requestfailed", lambda r: failed.append(r.url))

        def only_the_report(route):
            if route.request.url == url:
                route.continue_()
            else:
                failed.append(route.request.url)
                route.abort()

        page.route("**/*", only_the_report)
        page.goto(url, wait_until="load")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        figures = page.locator("figure svg").count()
        title = page.title()
        browser.close()
    assert failed == []
    assert console_errors == []
    assert figures == 5
    assert title == "IMNM cohort report: synthetic demonstration registry"
    assert shot.stat().st_size > 50_000
    Path(shot).unlink()
