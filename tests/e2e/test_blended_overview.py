"""The blended Overview in a real browser: the public Meta export (USD) and the multichannel sheet (no currency)
dropped together. What a person reads: an engagement rate below 100 % that says it rests on one of the two
files, no '$' anywhere, and the note naming the mixed currencies with the way to fix it. Screenshot in artifacts/."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import exports_input, screenshot, wait_for_app

pytestmark = [pytest.mark.e2e, pytest.mark.datasets]

META = "meta-ads-manager-export/meta_ads_manager_export.csv"
SHEET = "multichannel-campaign-daily/marketing_campaign_dataset.csv"


def test_blended_overview(app_server, page, shared_datasets):
    server = app_server()
    page.goto(f"{server.url}/upload")
    wait_for_app(page)
    page.get_by_text("No data yet").wait_for()
    exports_input(page).set_input_files(
        [str(shared_datasets / META), str(shared_datasets / SHEET)]
    )
    page.get_by_text("Spend and revenue are in:").wait_for()
    wait_for_app(page)
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text="Overview").first.click()
    wait_for_app(page)
    # The sidebar opens on the last 30 days (the sheet's alone): show all the data, both files.
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text="Period").click()
    page.get_by_role("option", name="All data").click()
    page.get_by_text("Money is in more than one currency").wait_for()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()
    wait_for_app(page)

    tiles = {}
    for card in page.locator("[data-testid='stMetric']").all():
        label = card.locator("[data-testid='stMetricLabel']").inner_text().strip()
        tiles[label] = card.locator("[data-testid='stMetricValue']").inner_text().strip()
    engagement = float(tiles["Engagement rate"].replace("%", "").replace(",", "").strip())
    assert 0 < engagement < 100
    assert tiles["Spend"] == "—" and tiles["CPC"] == "—"
    main = page.locator("[data-testid='stMain']").inner_text()
    assert "$" not in main
    assert "based on 1 of 2 files" in main
    assert "USD (meta_ads_manager_export.csv)" in main and "unknown (marketing_campaign_dataset.csv)" in main
    assert page.get_by_text("Set currencies on the Data page").count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "blended_overview")
