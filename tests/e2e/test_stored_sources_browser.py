"""Data that stays put, in a real browser: a real Meta Ads Manager export uploaded once shows the same
Overview figures after a reload, in a new browser context and after a server restart on the same
database; uploading the same file again changes nothing."""

from __future__ import annotations

import csv
import re

import pytest

from tests.e2e.conftest import exports_input, screenshot, wait_for_app

pytestmark = [pytest.mark.e2e, pytest.mark.datasets]

META_EXPORT = "meta-ads-manager-export/meta_ads_manager_export.csv"


def _column_total(path, header: str) -> float:
    """Sum of one column of the export, read with the csv module (empty cells are not reported)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return sum(float(row[header]) for row in csv.DictReader(handle) if row[header].strip())


def _tiles(page) -> dict[str, float]:
    """The Overview's KPI tiles as numbers, by label (waits until they are drawn)."""
    page.locator("[data-testid='stMetric']").first.wait_for()
    wait_for_app(page)
    values = {}
    for card in page.locator("[data-testid='stMetric']").all():
        label = card.locator("[data-testid='stMetricLabel']").inner_text().strip()
        text = card.locator("[data-testid='stMetricValue']").inner_text().strip()
        number = re.sub(r"[^0-9.\-]", "", text.replace(",", ""))
        if number and number not in ("-", "."):
            values[label] = float(number)
    return values


def _open_overview(page, url: str) -> dict[str, float]:
    page.goto(url)
    wait_for_app(page)
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text="Overview").first.click()
    page.get_by_role("heading", name="Overview").first.wait_for()
    return _tiles(page)


def _upload(page, path) -> None:
    exports_input(page).set_input_files(str(path))


def test_an_uploaded_export_stays_through_reload_new_context_and_restart(app_server, browser, page, shared_datasets,
                                                                         tmp_path):
    export = shared_datasets / META_EXPORT
    spend, clicks = _column_total(export, "Amount spent (USD)"), _column_total(export, "Clicks (all)")
    database_url = f"sqlite:///{tmp_path / 'stays.db'}"
    server = app_server(env={"DATABASE_URL": database_url})

    page.goto(f"{server.url}/upload")
    wait_for_app(page)
    page.get_by_text("No data yet").first.wait_for()
    _upload(page, export)
    page.get_by_text("was stored as a new source").first.wait_for()
    wait_for_app(page)
    workspace_url = page.url.split("/upload")[0] + "/?" + page.url.split("?", 1)[1]
    assert "ws=" in workspace_url

    first = _open_overview(page, workspace_url)
    assert first["Spend"] == pytest.approx(spend, abs=0.01)  # 268.15 USD, as the export says
    assert first["Clicks"] == pytest.approx(clicks)

    page.reload()
    wait_for_app(page)
    assert _tiles(page) == first

    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        other = context.new_page()
        other.set_default_timeout(30_000)
        assert _open_overview(other, server.url) == first  # no ?ws=: the first workspace, the same data
    finally:
        context.close()

    server.stop()
    restarted = app_server(env={"DATABASE_URL": database_url})
    assert _open_overview(page, restarted.url.rstrip("/") + "/?" + workspace_url.split("?", 1)[1]) == first

    # the same file again: nothing changes, and the page says so
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text="Data").first.click()
    page.get_by_role("heading", name="Data").first.wait_for()
    wait_for_app(page)
    _upload(page, export)
    page.get_by_text("nothing changed").first.wait_for()
    screenshot(page, "stored_sources_same_file_again")
    again = _open_overview(page, page.url)
    assert (again["Spend"], again["Clicks"]) == (first["Spend"], first["Clicks"])
    assert page.locator("[data-testid='stException']").count() == 0
