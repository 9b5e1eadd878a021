"""Trend periods: a period without rows is a gap (null), never a line drawn through it or a zero, and a
period the range covers only in part is marked."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from metrics import kpis, trends
from metrics.schema import conform

ROWS = conform(pl.DataFrame([
    {"date": date(2026, 1, 5), "platform": "facebook", "clicks": 1.0, "impressions": 10.0},
    {"date": date(2026, 1, 21), "platform": "facebook", "clicks": 2.0, "impressions": 10.0},
    {"date": date(2026, 1, 13), "platform": "x", "clicks": 3.0, "impressions": 10.0},
    {"date": date(2026, 3, 3), "platform": "x", "clicks": 4.0, "impressions": 10.0},
    {"date": None, "platform": "x", "clicks": 100.0},
]))


def test_a_month_without_rows_is_a_gap_in_each_series():
    trend = kpis.summarize(ROWS, ["platform"], grain="month")
    complete = trends.complete_periods(trend, "month", series=["platform"], first_day=date(2026, 1, 5),
                                       last_day=date(2026, 3, 3))
    assert complete.select("platform", "date", "clicks", "ctr").rows() == [
        ("facebook", date(2026, 1, 1), 3.0, pytest.approx(0.15)),
        ("facebook", date(2026, 2, 1), None, None),
        ("facebook", date(2026, 3, 1), None, None),
        ("x", date(2026, 1, 1), 3.0, pytest.approx(0.3)),
        ("x", date(2026, 2, 1), None, None),  # February: no line through it, no zero
        ("x", date(2026, 3, 1), 4.0, pytest.approx(0.4)),
    ]


def test_periods_cut_by_the_range_are_partial():
    trend = kpis.summarize(ROWS, [], grain="week")
    # Monday 5 Jan to Thursday 22 Jan: the week of 19 Jan has only four of its days in range.
    complete = trends.complete_periods(trend, "week", first_day=date(2026, 1, 5), last_day=date(2026, 1, 22))
    assert complete.select("date", "partial").rows() == [
        (date(2026, 1, 5), False), (date(2026, 1, 12), False), (date(2026, 1, 19), True),
    ]
    # A range starting mid-month makes the first month partial too.
    months = trends.complete_periods(kpis.summarize(ROWS, [], grain="month"), "month", first_day=date(2026, 1, 5),
                                     last_day=date(2026, 3, 31))
    assert months.select("date", "partial").rows() == [
        (date(2026, 1, 1), True), (date(2026, 2, 1), False), (date(2026, 3, 1), False),
    ]


def test_days_are_never_partial_and_period_ends_are_calendar_ends():
    trend = kpis.summarize(ROWS, [], grain="day")
    complete = trends.complete_periods(trend, "day", first_day=date(2026, 1, 5), last_day=date(2026, 1, 8))
    assert complete.height == 4 and not complete["partial"].any()
    ends = pl.DataFrame({"start": [date(2026, 2, 1), date(2024, 2, 1), date(2026, 1, 26)]}).select(
        trends.period_end(pl.col("start"), "month").alias("month"), trends.period_end(pl.col("start"), "week").alias("week")
    )
    assert ends["month"].to_list()[:2] == [date(2026, 2, 28), date(2024, 2, 29)]
    assert ends["week"].to_list()[2] == date(2026, 2, 1)
