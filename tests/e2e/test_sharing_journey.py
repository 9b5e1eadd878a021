"""The sharing journey in a real browser: upload → save a snapshot → create a client link → the client
sees the same numbers in a fresh browser context → the editor revokes → the client's link is dead."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import REPO
from tests.e2e.conftest import exports_input, screenshot, wait_for_app

pytestmark = pytest.mark.e2e

CSV = "\n".join(
    ["date,platform,campaign,impressions,clicks,spend,conversions,revenue"]
    + [f"2026-03-{day:02d},{platform},{campaign},{1000 + day * 10},{40 + day},{100 + day}.5,{day % 7},{300 + day * 3}"
       for day in range(1, 29) for platform, campaign in (("facebook", "Spring Sale"), ("google_ads", "Brand"))]
)


DOCS = REPO / "docs" / "screenshots"


def docs_screenshot(page, name: str) -> None:
    """Save a screenshot as tall as the content (Streamlit scrolls inside its main block) for the docs."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stMain] *')]"
        ".slice(0, 50).map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": 1440, "height": min(max(1000, int(height) + 40), 4000)})
    page.wait_for_timeout(1200)
    wait_for_app(page)
    path = screenshot(page, name)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # refresh the README's copies only when asked
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / f"{name}.png")
    page.set_viewport_size({"width": 1440, "height": 1000})


def spend_tile(page) -> str:
    tile = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']").get_by_text("Spend", exact=True))
    tile.first.wait_for()
    return tile.first.locator("[data-testid='stMetricValue']").inner_text().strip()


def nav_to(page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()
    wait_for_app(page)


def test_share_a_snapshot_then_revoke(app_server, page, browser, tmp_path):
    server = app_server()
    csv_path = tmp_path / "march.csv"
    csv_path.write_text(CSV)

    # Editor: upload on the Data page.
    page.goto(f"{server.url}/upload")
    wait_for_app(page)
    exports_input(page).set_input_files(str(csv_path))
    page.get_by_text("Current data:").wait_for()
    wait_for_app(page)
    nav_to(page, "Overview")
    editor_spend = spend_tile(page)
    assert editor_spend.startswith("$") or editor_spend[0].isdigit(), editor_spend

    # Snapshots: save, then create a link and read its URL.
    nav_to(page, "Snapshots & sharing")
    page.get_by_label("Snapshot name").fill("March review")
    page.get_by_label("Client (optional)").fill("Acme")
    page.get_by_role("button", name="Save snapshot").click()
    page.get_by_text("Snapshot saved").wait_for()
    wait_for_app(page)
    page.get_by_role("tab", name="Client links").click()
    page.get_by_label("Label (who gets it)").fill("Acme team")
    page.get_by_role("button", name="Create link").click()
    code = page.locator("[data-testid='stCode'] code")
    code.wait_for()
    wait_for_app(page)
    share_url = code.inner_text().strip()
    assert share_url.startswith(f"{server.url}/?share="), share_url
    docs_screenshot(page, "snapshots")

    # Client: a fresh browser context (no cookies, no session) opens the link.
    client_context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        client = client_context.new_page()
        client.set_default_timeout(30_000)
        client.goto(share_url)
        wait_for_app(client)
        assert client.get_by_test_id("stMainBlockContainer").get_by_text("March review", exact=True).is_visible()
        assert spend_tile(client) == editor_spend
        nav = client.locator("[data-testid='stSidebarNav']")
        assert nav.get_by_text("Data", exact=True).count() == 0
        assert nav.get_by_text("Snapshots & sharing").count() == 0
        assert client.locator("[data-testid='stFileUploaderDropzoneInput']").count() == 0
        assert client.locator("[data-testid='stException']").count() == 0
        docs_screenshot(client, "client_view")

        # Editor revokes; the client's next load is refused.
        page.get_by_role("tab", name="Client links").click()
        page.get_by_role("button", name="Revoke").click()
        page.get_by_text("Link revoked").wait_for()
        client.reload()
        wait_for_app(client)
        assert client.get_by_text("This link is not valid").is_visible()
        assert client.get_by_text("March review").count() == 0
    finally:
        client_context.close()
