"""A person's view of the figure files: headless Chromium renders each SVG of a run's
``figures/`` folder from disk, offline, and a screenshot shows ink, not a blank page."""

from __future__ import annotations

import io
import shutil

import pytest

from imnm_cohort import synthesize, write_extract
from imnm_cohort.cli import main
from tests.browser.test_report_in_browser import FLAGS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")


def test_svg_figures_render_in_a_browser(tmp_path):
    from PIL import Image, ImageStat
    from playwright import sync_api

    extract = write_extract(synthesize(400, seed=5), tmp_path / "x.csv")
    (tmp_path / "p.toml").write_text(
        f'[input]\nextract = "{extract}"\n[output]\nroot = "o"\nformats = ["figures"]\n'
    )
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    assert main(["-q", "run", str(tmp_path / "p.toml")], **quiet) == 0
    svgs = sorted((tmp_path / "o" / "latest" / "figures").glob("*.svg"))
    assert len(svgs) == 5
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_context(offline=True, viewport={"width": 900, "height": 700}).new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        for svg in svgs:
            page.goto(svg.resolve().as_uri(), wait_until="load")
            box = page.locator("svg").first.bounding_box()
            assert box is not None and box["width"] > 250, svg.name
            shot = tmp_path / f"{svg.stem}.png"
            page.screenshot(path=str(shot))
            with Image.open(shot) as image:
                grey = image.convert("L")
                # Mostly white paper with dark ink: some pixels well below white.
                assert ImageStat.Stat(grey).extrema[0][0] < 100, svg.name
                assert sum(grey.histogram()[:200]) > 2000, svg.name
        browser.close()
    assert errors == []
