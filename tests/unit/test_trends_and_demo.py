"""Comparison periods, time buckets and the demo account the app starts with."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics import demo, kpis
from metrics.schema import CANONICAL_SCHEMA, PLATFORMS
from metrics.trends import comparison_range


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
    assert data["date"].n_unique() == 90
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
