"""The display catalog: every measure and KPI has one label, format and direction, and one formatter."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics import display
from metrics.kpis import KPI_NAMES
from metrics.schema import COLUMNS, MEASURES


def test_every_measure_and_kpi_is_described_with_a_label_format_and_direction():
    for name in (*MEASURES, *KPI_NAMES):
        shown = display.describe(name)
        assert shown.label and shown.label[0].isupper(), name
        assert shown.format in ("percent", "currency", "number", "ratio", "minutes"), name
        assert shown.direction in ("higher", "lower", "neutral"), name
        assert "_" not in shown.label, f"{name} shows a raw slug: {shown.label}"


@pytest.mark.parametrize(("name", "label", "fmt", "direction"), [
    ("cpa", "CPA", "currency", "lower"),
    ("ctr", "CTR", "percent", "higher"),
    ("spend", "Spend", "currency", "neutral"),
    ("unfollows", "Unfollows", "number", "lower"),
    ("reach", "Reach (sum of rows)", "number", "higher"),
    ("roas", "ROAS", "ratio", "higher"),
    ("avg_first_response_min", "Avg. first response", "minutes", "lower"),
])
def test_known_entries(name, label, fmt, direction):
    shown = display.describe(name)
    assert (shown.label, shown.format, shown.direction) == (label, fmt, direction)


def test_derived_columns_read_from_their_base():
    assert display.describe("cpa_delta_rel").label == "CPA change"
    assert display.describe("cpa_delta_rel").format == "percent"
    assert display.describe("cpa_delta_rel").direction == "lower"
    assert display.describe("spend_prev").label == "Spend (previous)"
    assert display.describe("spend_prev").format == "currency"
    assert display.describe("ctr_coverage").format == "percent"


@pytest.mark.parametrize(("value", "fmt", "currency", "text"), [
    (0.0461, "percent", None, "4.61 %"),
    (0.49, "percent", None, "49.00 %"),
    (61138.2, "currency", "EUR", "€61,138.20"),
    (-12.5, "currency", "USD", "-$12.50"),
    (1234.5, "currency", None, "1,234.50"),       # no currency known: no symbol, never "$"
    (1234.5, "currency", "mixed", "1,234.50"),
    (99.5, "currency", "CHF", "CHF 99.50"),
    (3.2, "ratio", None, "3.20×"),
    (12.25, "minutes", None, "12.2 min"),
    (3546.0, "number", None, "3,546"),
    (None, "currency", "USD", "—"),
    (float("nan"), "percent", None, "—"),
    (float("inf"), "number", None, "—"),
])
def test_format_value(value, fmt, currency, text):
    assert display.format_value(value, fmt, currency) == text


@pytest.mark.parametrize(("value", "fmt", "text"), [
    (61137.82, "currency", "$61,138"),
    (268413.08, "currency", "$268.4K"),
    (999_960.0, "number", "1.00M"),
    (7703969.0, "number", "7.70M"),
    (2.1e9, "currency", "$2.10B"),
    (14.989, "percent", "1,499 %"),  # ROI of 1,498.9 % fits a tile
    (-250000.0, "currency", "-$250.0K"),
])
def test_compact_values_fit_a_tile(value, fmt, text):
    shown = display.format_compact(value, fmt, "USD")
    assert shown == text
    assert len(shown) <= 9


def test_one_date_style():
    assert display.format_date(date(2025, 8, 9)) == "9 Aug 2025"
    assert display.format_period(date(2025, 8, 1), date(2025, 8, 31)) == "1 – 31 Aug 2025"
    assert display.format_period(date(2025, 7, 28), date(2025, 8, 3)) == "28 Jul – 3 Aug 2025"
    assert display.format_period(date(2024, 12, 15), date(2025, 1, 14)) == "15 Dec 2024 – 14 Jan 2025"


def test_changes_keep_an_ascii_sign_for_st_metric():
    assert display.format_change(0.1234) == "+12.3 %"
    assert display.format_change(-0.08) == "-8.0 %"
    assert display.format_change(-0.0001) == "0.0 %"
    assert display.format_change(None) is None


def test_parts_of_a_change_read_in_points():
    assert display.format_points(0.123) == "+12.3 points"
    assert display.format_points(-0.004) == "-0.4 points"
    assert display.format_points(0.01) == "+1.0 point"
    assert display.format_points(0.00001) == "0.0 points"
    assert display.format_points(None) == display.format_points(float("nan")) == "—"


def test_the_lead_rate_factor_reads_as_a_percent():
    assert (display.label("lead_rate"), display.format_metric("lead_rate", 0.0512)) == ("Lead rate", "5.12 %")
    assert display.label("lead_rate_delta_rel") == "Lead rate change"


def test_platform_labels_never_show_slugs():
    assert display.platform_label("google_ads") == "Google Ads"
    assert display.platform_label("my_channel") == "My channel"
    assert display.platform_label(None) == "Unknown"


def test_exports_round_to_each_format_s_precision():
    frame = pl.DataFrame({"campaign": ["a"], "revenue": [62687.130000000005], "ctr": [0.0123456789],
                          "clicks": [3.0000000000000004]})
    rounded = display.round_for_export(frame)
    assert rounded["revenue"][0] == 62687.13
    assert rounded["ctr"][0] == 0.012346
    assert rounded["clicks"][0] == 3.0
    assert rounded["campaign"][0] == "a"


def test_dimension_labels_come_from_the_schema():
    for column in COLUMNS:
        assert "_" not in display.describe(column.name).label


def test_csv_exports_have_no_float_tails():
    from metrics.exports import to_csv_bytes

    frame = pl.DataFrame({"campaign": ["=cmd|' /C calc'!A0"], "revenue": [62687.130000000005], "cpa": [1 / 3]})
    text = to_csv_bytes(frame).decode("utf-8-sig")
    assert "62687.13," in text and "62687.130000000005" not in text
    assert ",0.33\n" in text or text.rstrip().endswith(",0.33")
    assert "'=cmd" in text  # formula-like text still escaped


def test_buckets_and_moments_in_the_date_style():
    from datetime import datetime, timedelta, timezone

    assert display.format_bucket(date(2025, 8, 4), "week") == "4 Aug 2025"
    assert display.format_bucket(date(2025, 8, 1), "month") == "Aug 2025"
    moment = datetime(2026, 3, 9, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    assert display.format_timestamp(moment) == "10 Mar 2026, 01:30 UTC"


def test_axis_formats_let_the_ticks_choose_their_decimals():
    assert display.axis_format("percent") == "~%" and display.axis_label_expr("percent")
    assert display.axis_format("number", largest=250_000) == ",~s"  # 250k
    assert display.axis_format("number", largest=3) == ",~f"  # 0.5, never 500m
    assert display.axis_title("cpa", "EUR") == "CPA (EUR)" and display.axis_title("cpa", None) == "CPA"


def test_a_platform_name_labelled_twice_stays_the_same():
    assert display.platform_label(display.platform_label("google_ads")) == "Google Ads"
    assert display.platform_label("TikTok") == "TikTok"
