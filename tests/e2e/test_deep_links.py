"""Deep links on a FRESHLY STARTED server (ARCHITECTURE "A trap in Streamlit itself").

The first request of a new server process runs `pages/<page>.py` without `dashboard.py`; the
page's guard must still send a client (or a visitor who must log in) to the router's page.
Each case therefore starts its own server and makes the deep link its very first request.
"""

from __future__ import annotations

import pytest

from models.auth import hash_password
from tests.e2e.conftest import screenshot, settled
from tests.e2e.share_fixtures import SNAPSHOT_NAME, XSS, shared_snapshot

pytestmark = pytest.mark.e2e

UPLOADER = "[data-testid='stFileUploaderDropzoneInput']"


def _server_with_snapshot(app_server, tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    shared = shared_snapshot(url)
    return app_server(env={"DATABASE_URL": url}), shared


def _dismiss_page_not_found(page) -> None:
    """Streamlit itself says "Page not found" in a dialog when the URL names a page this visitor lacks."""
    dialog = page.get_by_role("dialog")
    if dialog.count():
        assert "Page not found" in dialog.inner_text()
        page.keyboard.press("Escape")
        dialog.wait_for(state="detached")


def _assert_client_report(page) -> None:
    settled(page, page.get_by_test_id("stMainBlockContainer").get_by_text(SNAPSHOT_NAME, exact=True))
    assert page.locator(UPLOADER).count() == 0
    assert page.get_by_text("Save snapshot").count() == 0
    assert page.get_by_text("Snapshots & sharing").count() == 0
    assert page.get_by_test_id("stMainBlockContainer").get_by_text(SNAPSHOT_NAME, exact=True).is_visible()  # the client title
    assert page.locator("[data-testid='stException']").count() == 0


def test_client_deep_link_to_upload_on_fresh_server(app_server, tmp_path, page):
    server, shared = _server_with_snapshot(app_server, tmp_path)
    page.goto(f"{server.url}/upload?share={shared.token}")
    _assert_client_report(page)
    _dismiss_page_not_found(page)
    nav = page.locator("[data-testid='stSidebarNav']")
    assert nav.get_by_text("Overview").is_visible()
    assert nav.get_by_text("Data", exact=True).count() == 0 and nav.get_by_text("Snapshots").count() == 0

    # Upload text is text: the snapshot name (shown in the header) and a campaign are an <img> tag.
    assert page.locator("img[src='x']").count() == 0
    nav.get_by_text("Campaigns").click()
    settled(page, page.get_by_test_id("stMain").locator("h1").filter(has_text="Campaigns"))
    assert page.locator("img[src='x']").count() == 0
    assert page.get_by_test_id("stMainBlockContainer").get_by_text(SNAPSHOT_NAME, exact=True).is_visible()  # still the client, on every page
    assert "share=" in page.url
    screenshot(page, "deep_link_client_campaigns")


def test_client_deep_link_to_snapshots_on_fresh_server(app_server, tmp_path, page):
    server, shared = _server_with_snapshot(app_server, tmp_path)
    page.goto(f"{server.url}/snapshots?share={shared.token}")
    _assert_client_report(page)


@pytest.mark.parametrize("path", ["upload", "snapshots"])
def test_dead_link_deep_link_on_fresh_server(app_server, tmp_path, page, path):
    server, shared = _server_with_snapshot(app_server, tmp_path)
    token = shared.revoked_token if path == "upload" else "not-a-real-token"
    page.goto(f"{server.url}/{path}?share={token}")
    settled(page, page.get_by_text("This link is not valid"))
    assert page.get_by_role("dialog").count() == 0  # no "Page not found" over it
    assert page.locator(UPLOADER).count() == 0
    assert page.get_by_text("Save snapshot").count() == 0
    assert page.get_by_text(XSS).count() == 0


@pytest.mark.parametrize("path", ["upload", "snapshots"])
def test_password_deep_link_on_fresh_server_shows_only_the_sign_in_form(app_server, page, path):
    server = app_server(env={"CAMPAIGN_LENS_PASSWORD_HASH": hash_password("correct horse")})
    page.goto(f"{server.url}/{path}")
    password = settled(page, "input[type='password']")
    assert page.locator(UPLOADER).count() == 0
    assert page.get_by_role("dialog").count() == 0  # no "Page not found" over the form
    assert page.locator("[data-testid='stSidebarNav']").count() == 0
    password.fill("wrong horse")
    page.get_by_role("button", name="Open the editor").click()
    page.get_by_text("That password is not correct. Try again.").wait_for()
    assert page.locator(UPLOADER).count() == 0
