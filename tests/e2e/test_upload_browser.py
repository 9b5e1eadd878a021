"""A marketer drops an export on the Data page of a real server and sees what was recognised."""

from __future__ import annotations

import pytest

from tests.conftest import DATA
from tests.e2e.conftest import exports_input, screenshot, wait_for_app

pytestmark = pytest.mark.e2e


def test_upload_shows_recognised_family_and_row_counts(app_server, page):
    server = app_server()
    page.goto(f"{server.url}/upload")
    wait_for_app(page)
    page.get_by_text("No data yet").wait_for()
    exports_input(page).set_input_files(
        [str(DATA / "google_ads_utf16_preamble_totals.csv"), str(DATA / "x_ads_total_row.csv")]
    )
    page.get_by_text("google_ads_utf16_preamble_totals.csv", exact=True).first.wait_for()
    page.get_by_text("X Ads", exact=True).first.wait_for()
    wait_for_app(page)
    metrics = {}
    for card in page.locator("[data-testid='stMetric']").all():
        label = card.locator("[data-testid='stMetricLabel']").inner_text().strip()
        metrics.setdefault(label, []).append(card.locator("[data-testid='stMetricValue']").inner_text().strip())
    recognised = page.locator("[data-testid='stMarkdown']").filter(has_text="Recognised as").all_inner_texts()
    assert [text.split()[-2:] for text in recognised] == [["Google", "Ads"], ["X", "Ads"]]
    assert metrics["Rows loaded"][1] == "3"
    assert metrics["Total rows excluded"][1] == "1"
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "upload")
