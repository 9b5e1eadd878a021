"""On a freshly started server, the first click on a deep-linked page must work.

Streamlit runs such a page file on its own (legacy mode) and the guard routes it; the page's
widgets must already have the ids they keep once the session runs through navigation.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import settled, wait_for_app

pytestmark = pytest.mark.e2e


def test_first_click_after_a_deep_link_on_a_fresh_server(app_server, page):
    server = app_server()
    page.goto(f"{server.url}/upload")  # the very first request this server sees
    settled(page, page.get_by_text("No data yet"))
    page.get_by_role("button", name="Use demo data").click()
    page.get_by_text("Demo account · ", exact=False).first.wait_for(timeout=20_000)
    wait_for_app(page)
    assert page.get_by_text("No data yet").count() == 0


def test_first_choice_in_a_deep_linked_page_is_kept_on_a_fresh_server(app_server, page):
    from metrics.samplesize import samplesize_proportions

    server = app_server()
    page.goto(f"{server.url}/ab_tests")  # the very first request this server sees
    settled(page, page.get_by_role("tab", name="Planner"))
    page.get_by_role("tab", name="Planner").click()
    power = page.locator("[data-testid='stSelectbox']").filter(has_text="Power")
    power.click()
    page.get_by_role("option", name="90%").click()
    expected = samplesize_proportions(0.10, 0.02, relative=False, alpha=0.05, power=0.9, variants=2).per_variant
    # The page's answer for 90 % power appears once the rerun the choice started has finished.
    settled(page, page.locator("[data-testid='stMetricValue']").filter(has_text=f"{expected:,}"))
