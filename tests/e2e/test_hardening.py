"""Hardening for the open internet (issue 16), against a real server: the security headers the app
sends itself, share values that must get "not valid" (padded, odd, 100,000 characters), and an editor
sign-in that survives a reload through a signed HTTP-only cookie until "Sign out"."""

from __future__ import annotations

import http.client
import re
import time
import urllib.request
from urllib.parse import urlencode, urlsplit

import pytest
from sqlmodel import Session

from models import repository
from models.auth import hash_password
from models.db import make_engine
from tests.e2e.conftest import settled, start_server
from tests.e2e.share_fixtures import SNAPSHOT_NAME, shared_snapshot

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
COOKIE = "campaign_lens_editor"
SIGN_IN_HOURS = 2
PASSWORD_FIELD = "input[type='password']"
UPLOADER = "[data-testid='stFileUploaderDropzoneInput']"
NOT_VALID = "This link is not valid"


@pytest.fixture(scope="module")
def protected(tmp_path_factory):
    """One server with an editor password and a shared snapshot (module scope: starting one is slow)."""
    tmp = tmp_path_factory.mktemp("hardening")
    database_url = f"sqlite:///{tmp / 'shared.db'}"
    shared = shared_snapshot(database_url)
    server = start_server(tmp, env={
        "DATABASE_URL": database_url,
        "CAMPAIGN_LENS_PASSWORD_HASH": hash_password(PASSWORD),
        "CAMPAIGN_LENS_SESSION_SECRET": "a-test-secret-" + "x" * 40,
        "CAMPAIGN_LENS_SIGN_IN_HOURS": str(SIGN_IN_HOURS),
    })
    yield server, shared, database_url
    server.stop()


def _headers(url: str) -> dict[str, str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return {name.lower(): value for name, value in response.headers.items()} | {"_body": response.read(200_000)}


def test_every_response_carries_the_security_headers(protected):
    server, shared, _ = protected
    index = _headers(f"{server.url}/?share={shared.token}")
    script = re.search(rb'src="\.?/?(static/js/[^"]+\.js)"', index["_body"])
    assert script, "the page links its script bundle"
    for headers in (index, _headers(f"{server.url}/upload"), _headers(f"{server.url}/{script.group(1).decode()}")):
        assert headers["referrer-policy"] == "no-referrer"  # the token in the URL never leaves in a Referer
        assert headers["content-security-policy"] == "frame-ancestors 'self'"
        assert headers["x-frame-options"] == "SAMEORIGIN"
        assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("value", ["padded", "odd", "huge"])
def test_padded_odd_and_huge_share_values_get_the_not_valid_page_fast(protected, page, value):
    server, shared, _ = protected
    share = {"padded": f"%20{shared.token}%20", "odd": f"{shared.token}%25", "huge": "A" * 100_000}[value]
    started = time.monotonic()
    page.goto(f"{server.url}/?share={share}", wait_until="commit")
    settled(page, page.get_by_text(NOT_VALID))
    assert time.monotonic() - started < 10  # generous on a busy machine; it used to never render
    assert page.get_by_text(SNAPSHOT_NAME).count() == 0 and page.locator(PASSWORD_FIELD).count() == 0


def test_the_exact_token_still_opens_the_report(protected, page):
    server, shared, _ = protected
    page.goto(f"{server.url}/?share={shared.token}")
    settled(page, page.get_by_test_id("stMainBlockContainer").get_by_text(SNAPSHOT_NAME, exact=True))


def _editor_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == COOKIE), None)


def test_sign_in_survives_a_reload_and_ends_with_sign_out(protected, browser):
    server, _, _ = protected
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{server.url}/snapshots")
        settled(page, PASSWORD_FIELD)
        page.locator(PASSWORD_FIELD).fill(PASSWORD)
        page.get_by_role("button", name="Open the editor").click()
        title = page.get_by_role("heading", name="Snapshots & sharing")
        settled(page, title)
        # The session is signed in at once; the browser then collects the cookie (a round trip through
        # /api/sign-in) and comes back: wait for the cookie, then for the page again.
        cookie = _editor_cookie(context)
        deadline = time.monotonic() + 30
        while cookie is None and time.monotonic() < deadline:
            page.wait_for_timeout(100)
            cookie = _editor_cookie(context)
        page.wait_for_url(lambda url: "ticket" not in url and "/api/" not in url)
        settled(page, title)
        assert urlsplit(page.url).path == "/snapshots"  # back where the editor was
        assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
        assert SIGN_IN_HOURS * 3600 - 300 < cookie["expires"] - time.time() <= SIGN_IN_HOURS * 3600
        assert COOKIE not in page.evaluate("document.cookie")  # page scripts cannot read it

        page.reload()
        settled(page, title)
        second = context.new_page()  # another tab of the same browser
        second.goto(f"{server.url}/upload")
        settled(second, "[data-testid='stFileUploaderDropzone']")
        second.close()

        page.get_by_role("button", name="Sign out").click()
        settled(page, PASSWORD_FIELD)
        assert _editor_cookie(context) is None
        page.reload()
        settled(page, PASSWORD_FIELD)
        assert page.locator(UPLOADER).count() == 0
    finally:
        context.close()


def test_a_forged_or_expired_cookie_does_not_sign_in(protected, browser):
    server, _, _ = protected
    context = browser.new_context()
    try:
        forged = [f"v1.{int(time.time()) + 3600}.bm9uY2U.{'A' * 43}", "v1.1000.bm9uY2U.AAAA", "editor", "x" * 3000]
        page = context.new_page()
        for value in forged:
            context.add_cookies([{"name": COOKIE, "value": value, "url": server.url}])
            page.goto(f"{server.url}/upload")
            settled(page, PASSWORD_FIELD)
            assert page.locator(UPLOADER).count() == 0, value
    finally:
        context.close()


def _get(server_url: str, path: str) -> http.client.HTTPResponse:
    parts = urlsplit(server_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_a_sign_in_ticket_works_once_and_only_sends_the_browser_home(protected):
    server, _, database_url = protected
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            ticket = repository.issue_sign_in_ticket(session=session)
    finally:
        engine.dispose()
    first = _get(server.url, "/api/sign-in?" + urlencode({"ticket": ticket, "next": "/upload"}))
    assert first.status == 303 and first.getheader("Location") == "/upload"
    set_cookie = first.getheader("Set-Cookie") or ""
    assert set_cookie.startswith(f"{COOKIE}=v1.") and "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie

    again = _get(server.url, "/api/sign-in?" + urlencode({"ticket": ticket, "next": "/upload"}))
    assert again.status == 303 and again.getheader("Set-Cookie") is None  # used up

    for elsewhere in ("//evil.example/", "https://evil.example/", "/\t/evil.example", "\\\\evil.example"):
        response = _get(server.url, "/api/sign-in?" + urlencode({"ticket": "x" * 43, "next": elsewhere}))
        assert response.getheader("Location") == "/" and response.getheader("Set-Cookie") is None, elsewhere
