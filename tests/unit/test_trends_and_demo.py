"""Comparison periods, time buckets and the demo account the app starts with."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics import demo, kpis
from metrics.schema import CANONICAL_SCHEMA, PLATFORMS
from metrics.trends import PRESET_LABELS, comparison_range, matching_preset, preset_range


@pytest.mark.parametrize(
    ("start", "end", "compare", "expected"),
    [
        (date(2026, 10, 1), date(2026, 10, 30), "previous", (date(2026, 9, 1), date(2026, 9, 30))),
        (date(2026, 3, 1), date(2026, 3, 1), "previous", (date(2026, 2, 28), date(2026, 2, 28))),
        (date(2024, 2, 29), date(2024, 3, 31), "previous_year", (date(2023, 2, 28), date(2023, 3, 31))),
    ],
)
def test_comparison_range(start, end, compare, expected):
    assert comparison_range(start, end, compare) == expected


def test_a_custom_comparison_period_is_itself():
    period = (date(2025, 8, 1), date(2025, 8, 31))
    assert comparison_range(date(2026, 10, 1), date(2026, 10, 7), period) == period
    with pytest.raises(ValueError):
        comparison_range(date(2026, 10, 1), date(2026, 10, 7), (date(2025, 8, 31), date(2025, 8, 1)))


# Data from 1 Sep 2025 to 12 Aug 2026: presets count back from the last day in the data.
FIRST, LAST = date(2025, 9, 1), date(2026, 8, 12)


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("last_7", (date(2026, 8, 6), LAST)),
        ("last_30", (date(2026, 7, 14), LAST)),
        ("last_90", (date(2026, 5, 15), LAST)),
        ("this_month", (date(2026, 8, 1), LAST)),
        ("last_month", (date(2026, 7, 1), date(2026, 7, 31))),
        ("quarter_to_date", (date(2026, 7, 1), LAST)),
        ("year_to_date", (date(2026, 1, 1), LAST)),
        ("all", (FIRST, LAST)),
    ],
)
def test_date_presets(preset, expected):
    assert preset_range(preset, FIRST, LAST) == expected
    assert matching_preset(*expected, FIRST, LAST) == preset


def test_presets_never_start_before_the_data_and_custom_has_no_dates():
    assert preset_range("last_90", date(2026, 8, 1), LAST) == (date(2026, 8, 1), LAST)
    assert preset_range("year_to_date", date(2026, 3, 5), LAST) == (date(2026, 3, 5), LAST)
    assert matching_preset(date(2026, 8, 2), date(2026, 8, 9), FIRST, LAST) == "custom"
    assert PRESET_LABELS["quarter_to_date"] == "Quarter to date"
    with pytest.raises(ValueError):
        preset_range("custom", FIRST, LAST)


def test_comparison_range_refuses_reversed_dates():
    with pytest.raises(ValueError):
        comparison_range(date(2026, 2, 1), date(2026, 1, 1), "previous")


def test_demo_is_deterministic_and_canonical():
    first, second = demo.generate(), demo.generate()
    assert first.equals(second)
    assert dict(first.schema) == CANONICAL_SCHEMA
    assert not demo.generate(seed=8).equals(first)


def test_demo_has_what_every_page_needs():
    data = demo.generate()
    platforms = set(data["platform"].unique())
    assert len(platforms) >= 6 and platforms <= set(PLATFORMS)
    # Fourteen months, every day: the default view (last 30 days) compares with the previous 30 days and
    # with the same days a year earlier on first load.
    assert data["date"].n_unique() == 426
    assert (data["date"].min(), data["date"].max()) == (date(2025, 9, 1), date(2026, 10, 31))
    assert set(data["variant"].drop_nulls().unique()) == {"A", "B"}
    assert data["content_format"].n_unique() >= 4
    assert data["funnel_stage"].n_unique() == 5
    organic = data.filter(pl.col("campaign") == "Organic")
    assert organic.height > 0 and organic["spend"].null_count() == organic.height
    total = kpis.total(data)
    for name in ("ctr", "cpa", "roas", "engagement_rate", "follower_growth_rate", "avg_first_response_min"):
        assert total[name] is not None and total[name] > 0, name


def test_demo_scales_to_a_requested_row_count():
    data = demo.generate(rows=50_000)
    assert 49_000 <= data.height <= 50_000
