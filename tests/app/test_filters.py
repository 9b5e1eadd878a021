"""The sidebar's period presets and comparisons (AppTest): the tiles follow them, and they survive a snapshot."""

from __future__ import annotations

from datetime import date

import pytest

from metrics import kpis
from metrics.display import describe, format_change, format_compact
from metrics.kpis import DEFAULT_ENGAGEMENT_WEIGHTS
from tests.app.dashboard_helpers import LAST_30, app_with_demo, demo_frame, tiles, treat_as_local_visitor

# The demo's last day is Saturday 31 Oct 2026.
SEPTEMBER = (date(2026, 9, 1), date(2026, 9, 30))


@pytest.fixture(autouse=True)
def _local_visitor(monkeypatch):
    treat_as_local_visitor(monkeypatch)


def _engine(date_from, date_to, compare):
    return kpis.total(demo_frame(), date_from=date_from, date_to=date_to, compare=compare,
                      weights=DEFAULT_ENGAGEMENT_WEIGHTS)


def _assert_tiles(at, total, names=("spend", "conversions", "cpa", "ctr", "roas")):
    shown = tiles(at)
    for name in names:
        metric = shown[describe(name).label]
        assert metric.value == format_compact(total[name], describe(name).format, "USD"), name
        assert metric.proto.delta == (format_change(total[f"{name}_delta_rel"]) or ""), name


def test_the_sidebar_offers_presets_and_starts_on_the_last_30_days():
    at = app_with_demo()
    period = at.selectbox(key="flt_period")
    assert period.value == "last_30"
    assert {"Last 7 days", "Last 30 days", "Last 90 days", "This month", "Last month", "Quarter to date",
            "Year to date", "Custom"} <= set(period.options)
    assert at.date_input(key="flt_dates").value == LAST_30
    assert at.selectbox(key="flt_compare").value == "previous"


def test_a_preset_sets_the_dates_and_every_tile():
    at = app_with_demo()
    at.selectbox(key="flt_period").set_value("last_month").run()
    assert not at.exception, at.exception
    assert at.date_input(key="flt_dates").value == SEPTEMBER
    _assert_tiles(at, _engine(*SEPTEMBER, "previous"))


def test_dates_picked_by_hand_are_a_custom_period():
    at = app_with_demo()
    at.date_input(key="flt_dates").set_value((date(2026, 10, 5), date(2026, 10, 11))).run()
    assert at.selectbox(key="flt_period").value == "custom"
    _assert_tiles(at, _engine(date(2026, 10, 5), date(2026, 10, 11), "previous"))


def test_previous_year_compares_with_the_same_days_a_year_earlier():
    at = app_with_demo()
    at.selectbox(key="flt_compare").set_value("previous_year").run()
    assert not at.exception, at.exception
    total = _engine(*LAST_30, "previous_year")
    assert total["spend_prev"] is not None  # the demo covers October 2025
    _assert_tiles(at, total)
    assert any("vs 2 – 31 Oct 2025" in c.value for c in at.sidebar.caption)


def test_a_custom_comparison_period():
    at = app_with_demo()
    at.selectbox(key="flt_compare").set_value("custom").run()
    at.date_input(key="flt_compare_dates").set_value(SEPTEMBER).run()
    assert not at.exception, at.exception
    _assert_tiles(at, _engine(*LAST_30, SEPTEMBER))
    assert any("compared with 1 – 30 Sep 2026" in c.value for c in at.caption)


def test_no_comparison_shows_no_change():
    at = app_with_demo()
    at.selectbox(key="flt_compare").set_value("none").run()
    assert all(not m.proto.delta for m in at.metric)


def test_platform_chips_read_as_platform_names():
    at = app_with_demo()
    chips = at.multiselect(key="flt_platforms")
    assert "Google Ads" in chips.options and "X" in chips.options
    assert "google_ads" not in chips.options


def test_a_snapshot_brings_back_the_preset_and_the_custom_comparison():
    at = app_with_demo()
    at.selectbox(key="flt_period").set_value("last_7").run()
    at.selectbox(key="flt_compare").set_value("custom").run()
    at.date_input(key="flt_compare_dates").set_value(SEPTEMBER).run()
    at.switch_page("pages/snapshots.py").run()
    [name] = [t for t in at.text_input if t.label == "Snapshot name"]
    name.input("Week review")
    at.button(key="FormSubmitter:save_snapshot-Save snapshot").click().run()
    assert not at.exception, at.exception

    at.selectbox(key="flt_period").set_value("year_to_date").run()
    at.selectbox(key="flt_compare").set_value("previous_year").run()
    at.button(key="snapshot_open").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="flt_period").value == "last_7"
    assert at.date_input(key="flt_dates").value == (date(2026, 10, 25), date(2026, 10, 31))
    assert at.selectbox(key="flt_compare").value == "custom"
    assert at.date_input(key="flt_compare_dates").value == SEPTEMBER
