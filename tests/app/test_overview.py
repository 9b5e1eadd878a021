"""Overview page (AppTest): tiles equal the metrics engine, changes are coloured by direction, states are clear."""

from __future__ import annotations

import json

import pytest

from metrics import kpis, narrative
from metrics.display import describe, format_change, format_compact
from metrics.kpis import DEFAULT_ENGAGEMENT_WEIGHTS
from tests.app.dashboard_helpers import (
    DEMO_FIRST,
    DEMO_LAST,
    GRAY,
    GREEN,
    LAST_30,
    RED,
    app_with_demo,
    demo_frame,
    tiles,
    treat_as_local_visitor,
    vega_charts,
)
from ui import tiles as tile_format
from ui.widgets import md_escape

TILE_NAMES = ("spend", "impressions", "reach", "clicks", "ctr", "cpc", "cpm", "conversions", "cpa", "revenue",
              "roas", "roi", "engagement_rate", "net_follower_growth")
PAGE = "pages/overview.py"


@pytest.fixture(autouse=True)
def _local_visitor(monkeypatch):
    treat_as_local_visitor(monkeypatch)


def _total(date_from, date_to, compare="previous", **filters):
    return kpis.total(demo_frame(), date_from=date_from, date_to=date_to, compare=compare,
                      filters=filters or None, weights=DEFAULT_ENGAGEMENT_WEIGHTS)


def test_the_default_view_is_the_last_30_days_against_the_30_before():
    at = app_with_demo()
    shown = tiles(at)
    assert len(at.metric) == 14
    total = _total(*LAST_30)
    for name in TILE_NAMES:
        label = describe(name).label
        assert shown[label].value == format_compact(total[name], describe(name).format, "USD"), name
        assert shown[label].proto.delta == format_change(total[f"{name}_delta_rel"]), name
    assert "Reach (sum of rows)" in shown
    assert sum(bool(m.proto.delta) for m in at.metric) >= 5
    assert any("2 – 31 Oct 2026 · compared with 2 Sep – 1 Oct 2026" in c.value for c in at.caption)


def test_the_upload_button_of_the_first_screen_opens_the_data_page(app):
    app.run()
    app.button(key="empty_state_upload").click().run()
    assert not app.exception
    assert [t.value for t in app.title] == ["Data"]
    assert app.get("file_uploader")


def test_the_whole_range_has_nothing_before_it_and_says_so():
    at = app_with_demo(flt_dates=(DEMO_FIRST, DEMO_LAST))
    assert at.selectbox(key="flt_period").value == "all"
    total = _total(DEMO_FIRST, DEMO_LAST)
    assert tiles(at)["Spend"].value == format_compact(total["spend"], "currency", "USD")
    assert all(not m.proto.delta for m in at.metric)
    assert any("no data for the previous 426 days" in c.value for c in at.caption)


def test_changes_and_their_colours_follow_each_kpis_direction():
    at = app_with_demo(flt_dates=LAST_30)
    shown = tiles(at)
    total = _total(*LAST_30)
    for name in TILE_NAMES:
        metric = shown[describe(name).label]
        assert metric.value == format_compact(total[name], describe(name).format, "USD"), name
        assert metric.proto.delta == format_change(total[f"{name}_delta_rel"]), name

    # Green is good news: a rise of a higher-is-better KPI, a fall of a lower-is-better one (CPA, CPC, CPM);
    # spend is neither. Each colour is checked against the engine's sign of the change.
    expected_colours = set()
    for name in TILE_NAMES:
        change, direction = total[f"{name}_delta_rel"], describe(name).direction
        if direction == "neutral" or round(change * 100, 1) == 0:
            expected = GRAY
        else:
            expected = GREEN if (change > 0) == (direction == "higher") else RED
        assert shown[describe(name).label].proto.color == expected, name
        expected_colours.add((direction, expected))
    # The demo's last 30 days cover good and bad news in both directions.
    assert {("higher", GREEN), ("higher", RED), ("lower", GREEN), ("neutral", GRAY)} <= expected_colours


def test_delta_colour_mapping():
    assert tile_format.delta_color("conversions") == "normal"
    assert tile_format.delta_color("ctr") == "normal"
    assert tile_format.delta_color("cpa") == "inverse"
    assert tile_format.delta_color("cpm") == "inverse"
    assert tile_format.delta_color("spend") == "off"
    assert format_change(0.1234) == "+12.3 %"
    assert format_change(-0.08) == "-8.0 %"
    assert format_change(-0.0001) == "0.0 %"
    assert format_change(None) is None


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [(61137.82, "currency", "$61,138"), (268413.08, "currency", "$268.4K"), (7703969.0, "number", "7.70M"),
     (3546.0, "number", "3,546"), (17.24, "currency", "$17.24"), (None, "currency", "—"), (0.0108, "percent", "1.08 %"),
     (-250000.0, "currency", "-$250.0K")],
)
def test_tile_values_are_short(value, kind, text):
    assert format_compact(value, kind, "USD") == text


def test_no_comparison_means_no_change():
    at = app_with_demo(flt_dates=LAST_30, flt_compare="none")
    assert len(at.metric) == 14
    assert all(not m.proto.delta for m in at.metric)
    total = _total(*LAST_30, compare=None)
    assert tiles(at)["CPA"].value == format_compact(total["cpa"], "currency", "USD")


def test_the_sentence_states_the_main_movements():
    at = app_with_demo(flt_dates=LAST_30)
    total = _total(*LAST_30)
    platforms = kpis.summarize(demo_frame(), ["platform"], date_from=LAST_30[0], date_to=LAST_30[1],
                               compare="previous")
    sentence = narrative.headline(total, platforms, compare="previous", days=30, currency="USD")
    assert sentence.startswith("Spend +") and "vs the previous 30 days" in sentence
    assert any(md_escape(sentence) in m.value for m in at.markdown)


def test_platform_filter_changes_every_tile():
    at = app_with_demo(flt_dates=LAST_30)
    at.multiselect(key="flt_platforms").set_value(["tiktok"]).run()
    assert not at.exception
    total = _total(*LAST_30, platform=["tiktok"])
    shown = tiles(at)
    for name in ("spend", "conversions", "cpa", "ctr"):
        assert shown[describe(name).label].value == format_compact(total[name], describe(name).format, "USD")
    assert any("TikTok" in c.value for c in at.caption)


def test_trend_chart_follows_the_metric_picker_and_can_be_downloaded():
    at = app_with_demo(flt_dates=LAST_30)
    assert len(vega_charts(at)) == 1
    assert {"overview_trend_png", "overview_trend_svg"} <= {b.key for b in at.download_button}
    at.selectbox(key="ov_metric").set_value("cpa").run()
    spec = json.loads(vega_charts(at)[0].proto.spec)
    assert "CPA (USD)" in json.dumps(spec)
    at.segmented_control(key="ov_split").set_value("total").run()
    assert not at.exception
    assert "platform_label" not in json.dumps(json.loads(vega_charts(at)[0].proto.spec)["layer"][0]["encoding"])


def test_filters_that_match_nothing_say_so_without_an_empty_chart():
    at = app_with_demo()
    # Email has no organic rows in the demo: this pair matches no row.
    at.multiselect(key="flt_platforms").set_value(["email"])
    at.multiselect(key="flt_campaigns").set_value(["Organic"]).run()
    assert not at.exception
    assert len(at.metric) == 0
    assert vega_charts(at) == []
    assert any("No rows match these filters" in i.value for i in at.info)


def test_no_data_shows_the_empty_state_and_the_demo_button_fills_the_page(app):
    app.run()
    from ui.widgets import PRODUCT_NAME, PRODUCT_SENTENCE

    # The first screen says what this is and offers both ways in, side by side.
    assert any(PRODUCT_NAME in m.value for m in app.markdown)
    assert any(m.value == PRODUCT_SENTENCE for m in app.markdown)
    assert app.button(key="empty_state_upload").label == "Upload your exports"
    assert app.button(key="empty_state_demo").label == "Use demo data"
    app.button(key="empty_state_demo").click().run()
    assert not app.exception
    assert len(app.metric) == 14
