"""What a marketer (and a client on a phone) notices, checked in a real browser on the demo account:

- no request leaves the machine, on any page (every request goes to the app's own origin);
- the first screen says what the product is and offers upload and demo side by side;
- the default Overview compares (at least five changes), with date presets in the sidebar;
- no raw platform slug ("google_ads", a bare "x") in visible text; no exception on any page;
- no tile value wider than its tile, also with two real exports blended;
- on a 390 × 844 phone, a client link shows two tiles to a row and no table toolbar covers a heading.

Every wait is for content (the script state and an element), never for time.
"""

from __future__ import annotations

import json
import os
import re

import pytest
from sqlmodel import Session

from metrics import demo
from models import repository
from models.db import make_engine, upgrade_database
from tests.e2e.conftest import docs_screenshot, exports_input, settled, wait_for_app

pytestmark = pytest.mark.e2e

EDITOR_PAGES = ("Overview", "Platforms", "Campaigns & content", "Funnel", "Goals", "A/B tests", "Data",
                "Snapshots & sharing")
CLIENT_PATHS = {"": "Overview", "platforms": "Platforms", "campaigns": "Campaigns & content", "funnel": "Funnel",
                "goals": "Goals", "ab_tests": "A/B tests"}
# A slug where a platform's name belongs: "google_ads", "facebook", or "x" standing alone as a word.
RAW_SLUG = re.compile(r"(?<![\w.@/-])(google_ads|bing_ads|facebook|instagram|linkedin|tiktok|youtube|x)(?![\w.@/-])")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}

OVERFLOWING_TILES = """() => [...document.querySelectorAll('[data-testid=stMetricValue]')]
    .filter(v => [v, ...v.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1))
    .map(v => v.innerText)"""
TOOLBARS_ON_HEADINGS = """() => {
    const shown = e => e.checkVisibility() && e.getBoundingClientRect().width > 0;
    const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const bars = [...document.querySelectorAll('[data-testid=stElementToolbar]')].filter(shown);
    const heads = [...document.querySelectorAll('[data-testid=stHeading]')].filter(shown);
    return bars.flatMap(t => heads.filter(h => hit(t.getBoundingClientRect(), h.getBoundingClientRect()))
                                   .map(h => h.innerText));
}"""
# Goals imported on the Goals page (relative, monthly and a cost ceiling), for the page's checks and screenshot.
GOALS_JSON = json.dumps([
    {"id": "followers", "name": "+30 % Instagram followers", "metric": "followers", "target": 0.3,
     "target_mode": "relative", "start": "2026-08-01", "deadline": "2026-11-01", "scope": "platform",
     "scope_value": "instagram"},
    {"id": "leads", "metric": "leads", "target": 4000, "recurrence": "monthly", "start": "2026-06-01",
     "deadline": "2026-12-31"},
    {"id": "cpa", "metric": "cpa", "target": 25, "deadline": "2026-12-31", "start": "2026-10-01"},
]).encode("utf-8")
TILE_BOXES = """() => [...document.querySelectorAll('[data-testid=stMetric]')].map(e => {
    const r = e.getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right}; })"""


def _record_requests(context) -> list[str]:
    urls: list[str] = []
    context.on("request", lambda request: urls.append(request.url))
    return urls


def _offsite(urls: list[str], origin: str) -> list[str]:
    return sorted({u for u in urls if not u.startswith((origin + "/", "data:", "blob:", "about:"))
                   and u != origin})


def _title(page, title: str) -> None:
    """Wait until the page titled `title` has finished running."""
    page.get_by_role("heading", name=title, level=1).first.wait_for()
    wait_for_app(page)


def _go(page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).first.click()
    _title(page, title)


def _visible_text(page) -> str:
    return page.evaluate("() => document.querySelector('[data-testid=stApp]').innerText")


def _docs_shot(page, name: str) -> None:
    """Refresh docs/screenshots/<name>.png, only when asked (UPDATE_SCREENSHOTS=1): a viewport as tall as the
    page, since Streamlit scrolls inside its main block. Only then is there a pause, for charts to redraw."""
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return
    size = page.viewport_size
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=stMain] *')]"
                           ".slice(0, 60).map(e => e.scrollHeight))")
    page.set_viewport_size({"width": size["width"], "height": min(max(size["height"], int(height) + 40), 6000)})
    page.wait_for_timeout(1500)
    wait_for_app(page)
    docs_screenshot(page, name)
    page.set_viewport_size(size)


def _check_page(page, name: str) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, name
    slugs = RAW_SLUG.findall(_visible_text(page))
    assert not slugs, (name, slugs)
    assert page.evaluate(OVERFLOWING_TILES) == [], name


def test_first_screen_presets_comparison_names_and_nothing_leaves_the_machine(app_server, page):
    requests = _record_requests(page.context)
    server = app_server()
    page.goto(server.url)
    wait_for_app(page)

    # The first screen: the product, one sentence, and upload and demo side by side.
    page.get_by_role("heading", name="Campaign Lens").wait_for()
    settled(page, page.get_by_text("Drop in the exports you already have"))
    _docs_shot(page, "first_screen")
    upload = page.get_by_role("button", name="Upload your exports").bounding_box()
    demo_button = page.get_by_role("button", name="Use demo data").bounding_box()
    assert abs(upload["y"] - demo_button["y"]) < 2 and upload["x"] + upload["width"] <= demo_button["x"]

    page.get_by_role("button", name="Use demo data").click()
    # The default view compares the last 30 days with the 30 before: changes on first load.
    settled(page, "[data-testid='stMetricDelta']", at_least=5)
    settled(page, page.get_by_text("2 – 31 Oct 2026 · compared with 2 Sep – 1 Oct 2026"))

    # Date presets in the sidebar; picking one changes the period and its comparison.
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.locator("[data-testid='stSelectbox']").filter(has_text="Period").first.click()
    options = page.get_by_role("option")
    options.first.wait_for()
    names = options.all_inner_texts()
    assert {"Last 7 days", "Last 30 days", "Last 90 days", "Quarter to date", "Year to date", "Custom"} <= set(names)
    page.get_by_role("option", name="Last 7 days").click()
    settled(page, page.get_by_text("25 – 31 Oct 2026 · compared with 18 – 24 Oct 2026"))
    settled(page, "[data-testid='stMetricDelta']", at_least=5)
    _check_page(page, "Overview")

    for name in EDITOR_PAGES[1:]:
        _go(page, name)
        if name == "Goals":
            page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
                files=[{"name": "goals.json", "mimeType": "application/json", "buffer": GOALS_JSON}])
            # The button appears in the rerun the upload starts; click it once that rerun is over.
            page.get_by_role("button", name="Import goals", exact=True).wait_for()
            wait_for_app(page)
            page.get_by_role("button", name="Import goals", exact=True).click()
            page.get_by_text("Imported 3 goal(s).").wait_for()
            settled(page, page.get_by_text("Leads ≥ 4,000 every month until Dec 2026"))
        _check_page(page, name)
        if name in ("Campaigns & content", "Funnel", "Goals", "Data"):
            _docs_shot(page, {"Campaigns & content": "campaigns"}.get(name, name.lower()))

    assert _offsite(requests, server.url) == []


def _demo_snapshot_link(database_url: str) -> str:
    """A snapshot of the demo account saved with default settings, and a client link to it."""
    engine = make_engine(database_url)
    try:
        upgrade_database(engine)
        with Session(engine) as session:
            workspace_id = repository.ensure_workspace(session=session).id
            snapshot = repository.save_snapshot(session=session, workspace_id=workspace_id, name="Demo review",
                                                frame=demo.generate(), settings={}, client_label="Acme")
            _, token = repository.create_share_link(session=session, snapshot_id=snapshot.id, label="phone")
            return token
    finally:
        engine.dispose()


def test_a_client_on_a_phone_gets_two_tiles_a_row_and_uncovered_headings(app_server, browser, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'phone.db'}"
    token = _demo_snapshot_link(database_url)
    server = app_server(env={"DATABASE_URL": database_url})
    context = browser.new_context(**PHONE)
    requests = _record_requests(context)
    try:
        phone = context.new_page()
        phone.set_default_timeout(30_000)
        for path, title in CLIENT_PATHS.items():
            phone.goto(f"{server.url}/{path}?share={token}")
            _title(phone, title)
            _check_page(phone, title)
            assert phone.evaluate(TOOLBARS_ON_HEADINGS) == [], title
            if path == "":
                # Tiles and their changes draw after the heading: wait for all of them, not a count at once.
                settled(phone, "[data-testid='stMetric']", count=14)
                settled(phone, "[data-testid='stMetricDelta']", at_least=5)
                tiles = phone.evaluate(TILE_BOXES)
                assert len(tiles) == 14
                first, second, third = tiles[:3]
                # Two tiles share the first row, side by side inside the screen; the third starts the next row.
                assert abs(first["top"] - second["top"]) < 1 and first["right"] <= second["left"]
                assert second["right"] <= 390 and third["top"] > first["top"] + 1
                _docs_shot(phone, "client_phone")
    finally:
        context.close()
    assert _offsite(requests, server.url) == []


@pytest.mark.datasets
def test_tiles_fit_with_two_real_exports_blended(app_server, page, shared_datasets):
    requests = _record_requests(page.context)
    server = app_server()
    page.goto(f"{server.url}/upload")
    _title(page, "Data")
    exports_input(page).set_input_files([
        str(shared_datasets / "meta-ads-manager-export" / "meta_ads_manager_export.csv"),
        str(shared_datasets / "multichannel-campaign-daily" / "marketing_campaign_dataset.csv"),
    ])
    page.get_by_text("Current data:").wait_for(timeout=120_000)
    wait_for_app(page)
    _check_page(page, "Data")
    for name in ("Overview", "Campaigns & content", "Funnel"):
        _go(page, name)
        page.wait_for_selector("[data-testid='stMetric']")
        _check_page(page, name)
        page.set_viewport_size(PHONE["viewport"])
        wait_for_app(page)
        assert page.evaluate(OVERFLOWING_TILES) == [], f"{name} on a phone"
        page.set_viewport_size({"width": 1440, "height": 1000})
        wait_for_app(page)
    assert _offsite(requests, server.url) == []
