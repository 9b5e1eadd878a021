"""A marketer's journey in a real browser: demo data → Overview → date range → Platforms → safe CSV export.

Also saves the Overview and Platforms screenshots the README links (docs/screenshots/).
"""

from __future__ import annotations

import csv
import io
import os
import shutil

import pytest

from tests.conftest import REPO
from tests.e2e.conftest import exports_input, screenshot, settled, wait_for_app

pytestmark = pytest.mark.e2e

FORMULA_CAMPAIGN = '=HYPERLINK("http://x")'
# The formula-like campaign has the most conversions on facebook, so it is facebook's "Top campaign".
UPLOAD_CSV = (
    "date,platform,campaign,spend,impressions,clicks,conversions\n"
    '2026-10-01,facebook,"=HYPERLINK(""http://x"")",10,1000,20,5\n'
    "2026-10-01,facebook,Plain campaign,5,500,10,1\n"
    "2026-10-02,tiktok,Another campaign,5,500,10,1\n"
).encode("utf-8")
DOCS = REPO / "docs" / "screenshots"


def _sidebar_link(page, title: str):
    return page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).first


def _go(page, title: str) -> None:
    _sidebar_link(page, title).click()
    settled(page, page.get_by_test_id("stMain").locator("h1").filter(has_text=title))


def _full_screenshot(page, name: str):
    """Streamlit scrolls inside its main block, so a full-page shot needs a viewport as tall as the content."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stMain] *')]"
        ".slice(0, 50).map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": 1440, "height": min(max(1000, int(height) + 40), 6000)})
    page.wait_for_timeout(1200)  # charts redraw at the new size
    wait_for_app(page)
    path = screenshot(page, name)
    page.set_viewport_size({"width": 1440, "height": 1000})
    return path


def test_dashboard_journey(app_server, page, tmp_path):
    server = app_server()
    page.goto(server.url)
    wait_for_app(page)

    # The empty start offers the demo account.
    page.get_by_role("button", name="Use demo data").click()
    settled(page, "[data-testid='stMetric']", count=14)
    assert page.get_by_text("Reach (sum of rows)").first.is_visible()
    settled(page, "[data-testid='stVegaLiteChart']")

    # The default view, the last 30 days, has a previous period inside the data, so the tiles show changes.
    page.get_by_text("compared with 2 Sep – 1 Oct 2026").wait_for()
    page.wait_for_selector("[data-testid='stMetricDelta']")
    wait_for_app(page)
    settled(page, page.get_by_text("vs the previous 30 days"))
    assert page.locator("[data-testid='stException']").count() == 0
    overview_png = _full_screenshot(page, "overview")

    _go(page, "Platforms")
    settled(page, "[data-testid='stDataFrame']", at_least=2)  # comparison + best/worst
    settled(page, "[data-testid='stVegaLiteChart']", count=4)  # charts draw after the script has finished
    assert page.locator("[data-testid='stException']").count() == 0
    platforms_png = _full_screenshot(page, "platforms")

    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # refresh the README's copies only when asked
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(overview_png, DOCS / "overview.png")
        shutil.copyfile(platforms_png, DOCS / "platforms.png")

    # Upload a file whose campaign name is a spreadsheet formula.
    _go(page, "Data")
    exports_input(page).set_input_files(
        files=[{"name": "formula.csv", "mimeType": "text/csv", "buffer": UPLOAD_CSV}]
    )
    page.wait_for_selector("text=formula.csv · 3 rows", timeout=30_000)
    wait_for_app(page)

    _go(page, "Platforms")
    page.wait_for_selector("[data-testid='stDataFrame']")
    wait_for_app(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download table CSV").click()
    path = tmp_path / "platforms.csv"
    info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    by_platform = {row["platform"]: row for row in rows}
    assert set(by_platform) == {"Facebook", "TikTok"}
    # Escaped: the spreadsheet shows the text instead of running the formula.
    assert by_platform["Facebook"]["top_campaign"] == "'" + FORMULA_CAMPAIGN
    assert by_platform["TikTok"]["top_campaign"] == "Another campaign"
    assert float(by_platform["Facebook"]["spend"]) == 15.0
