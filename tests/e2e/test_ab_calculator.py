"""Real browser: type four numbers into the A/B quick calculator and read the verdict."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import docs_screenshot, settled, wait_for_app

pytestmark = pytest.mark.e2e

COLUMN_WIDTH = 160  # the calculator's columns are 160 px wide (pages/ab_tests.py)
ROW_HEIGHT = 35  # Streamlit's default row (and header) height in a data editor


def _metric(page, label: str) -> str | None:
    # Only the open tab's tiles: "From your data" may show a result with the same labels in a hidden tab.
    tile = page.locator("[data-testid='stMetric']:visible").filter(has_text=label).first
    return tile.locator("[data-testid='stMetricValue']").inner_text().strip() if tile.count() else None


def _type_into_cell(page, grid_box: dict, column: int, row: int, text: str) -> None:
    """Open the editor of one cell of the data editor (a canvas) with a double click, replace its value, commit
    with Enter, and wait until the editor has closed (the grid has taken the value)."""
    marker = grid_box["width"] - 3 * COLUMN_WIDTH  # the row-marker column of a dynamic editor
    x = grid_box["x"] + marker + COLUMN_WIDTH * column + COLUMN_WIDTH / 2
    y = grid_box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2
    overlay = page.locator("textarea.gdg-input, input.gdg-input")
    for _ in range(6):
        page.mouse.dblclick(x, y)
        try:
            overlay.first.wait_for(state="visible", timeout=5_000)
            where = overlay.first.bounding_box(timeout=1_000)
        except Exception:  # playwright's TimeoutError: the grid had not taken focus yet
            continue
        # The editor must have opened on this cell.
        if where and where["x"] - 5 <= x <= where["x"] + where["width"] + 5 and \
                where["y"] - 5 <= y <= where["y"] + where["height"] + 5:
            break
        page.keyboard.press("Escape")
        overlay.first.wait_for(state="hidden", timeout=5_000)
    else:
        raise AssertionError(f"could not open the cell editor at column {column}, row {row}")
    # fill() focuses the editor's input before it types (keys sent before the input has focus are lost).
    overlay.first.fill(text)
    overlay.first.press("Enter")
    overlay.first.wait_for(state="hidden", timeout=10_000)


def test_calculator_in_a_browser(app_server, page):
    server = app_server()
    # A first visit through the router, so the deep link below is served by st.navigation and not by the
    # legacy first-run path (where the first interaction would re-register every widget).
    page.goto(server.url)
    wait_for_app(page, 60_000)
    page.goto(f"{server.url}/ab_tests")
    wait_for_app(page, 60_000)
    page.get_by_role("tab", name="Quick calculator").click()
    # The example's result is drawn in full first, so the grid is not redrawn under the first edit.
    settled(page, "[data-testid='stVegaLiteChart']:visible canvas, [data-testid='stVegaLiteChart']:visible svg",
            timeout=60_000)
    settled(page, "[data-testid='stDataFrame']:visible canvas")

    grid = page.locator("[data-testid='stDataFrame']:visible").first
    box = grid.bounding_box()
    # The example is A 400/5,000 and B 460/5,000; each edit reruns the page and shows in a rate tile.
    for column, row, text, tile, expected in ((1, 0, "10000", "A rate (control)", "4.00 %"),
                                              (1, 1, "10000", "B rate", "4.60 %"),
                                              (2, 0, "1000", "A rate (control)", "10.00 %"),
                                              (2, 1, "1150", "B rate", "11.50 %")):
        _type_into_cell(page, box, column, row, text)
        settled(page, page.locator("[data-testid='stMetric']:visible").filter(has_text=tile)
                .filter(has_text=expected))

    verdict = page.locator("[data-testid='stAlertContentSuccess']:visible").first
    verdict.wait_for(timeout=30_000)
    assert "B converts 15.0 % better than A" in verdict.inner_text()
    metrics = {m.locator("[data-testid='stMetricLabel']").inner_text().strip():
               m.locator("[data-testid='stMetricValue']").inner_text().strip()
               for m in page.locator("[data-testid='stMetric']:visible").all()}
    assert metrics["p-value"] == "0.00141"  # gbstats: the relative t test decides
    assert page.locator("[data-testid='stException']").count() == 0

    page.wait_for_selector("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg",
                           timeout=30_000)
    page.keyboard.press("Escape")  # no selected cell in the picture
    page.mouse.move(5, 5)  # and no hover toolbar
    page.set_viewport_size({"width": 1440, "height": 1560})  # Streamlit scrolls inside: show the charts too
    time.sleep(2)
    wait_for_app(page, 60_000)
    docs_screenshot(page, "ab_tests")
