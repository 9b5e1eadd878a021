"""Two app servers (replicas) on one PostgreSQL database with the same cookie secret: what one
saves the other lists, and a client link created on one opens on the other."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import settled, wait_for_app
from tests.e2e.share_fixtures import shared_snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def snapshot_names(page) -> str:
    """The names in the Snapshots page's "Work with snapshot" picker (the table is drawn on a canvas)."""
    page.get_by_label("Work with snapshot").click()
    options = page.get_by_role("option")
    options.first.wait_for()
    names = " | ".join(options.all_inner_texts())
    page.keyboard.press("Escape")
    return names


def test_two_replicas_share_snapshots_and_links(postgres_server, app_server, page, browser):
    url = postgres_server.create_database("scale_out_e2e")
    shared_snapshot(url, name="Saved through the repository")
    env = {"DATABASE_URL": url, "STREAMLIT_SERVER_COOKIE_SECRET": "one-secret-for-every-replica"}
    first, second = app_server(env=env), app_server(env=env)

    # Replica 1: the demo account, saved as a snapshot, with a client link.
    page.goto(f"{first.url}/upload")
    wait_for_app(page)
    page.get_by_role("button", name="Use demo data").click()
    page.get_by_text("Current data:").wait_for()
    page.locator("[data-testid='stSidebarNav']").get_by_text("Snapshots & sharing").click()
    settled(page, page.get_by_label("Work with snapshot"))
    assert "Saved through the repository" in snapshot_names(page)  # saved outside this server, listed here
    page.get_by_label("Snapshot name").fill("Saved on replica one")
    page.get_by_role("button", name="Save snapshot").click()
    settled(page, page.get_by_text("Snapshot saved"))
    page.get_by_role("tab", name="Client links").click()
    settled(page, page.get_by_label("Label (who gets it)"))  # the tab is open and its rerun has finished
    page.get_by_role("button", name="Create link").click()
    code = settled(page, "[data-testid='stCode'] code", timeout=60_000)
    link = code.first.inner_text().strip()
    assert link.startswith(f"{first.url}/?share=")

    # Replica 2 lists both snapshots and opens the link made on replica 1.
    other = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        editor_two = other.new_page()
        editor_two.set_default_timeout(30_000)
        editor_two.goto(f"{second.url}/snapshots")
        settled(editor_two, editor_two.get_by_label("Work with snapshot"))
        names = snapshot_names(editor_two)
        assert "Saved on replica one" in names and "Saved through the repository" in names, names
        editor_two.goto(link.replace(first.url, second.url))
        settled(editor_two, editor_two.get_by_test_id("stMainBlockContainer").get_by_text("Saved on replica one",
                                                                                           exact=True))
        assert editor_two.get_by_text("This link is not valid").count() == 0
    finally:
        other.close()
