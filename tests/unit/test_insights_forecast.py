"""Forecast to period end: a straight line is forecast as that line; the band covers about 80 % of outcomes."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from metrics.insights.forecast import forecast_period, period_in_progress, project_total
from metrics.schema import conform

START = date(2024, 3, 1)


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(count)]


def test_a_straight_line_is_forecast_as_the_line():
    # 100 + 5 t for 1–20 March; forecast 21–31 March.
    line = [100.0 + 5 * t for t in range(20)]
    result = project_total(days(START, 20), line, metric="spend", period_start=START, period_end=date(2024, 3, 31))
    assert result.method == "trend"  # 20 days: no weekday effect yet
    assert result.daily["date"].to_list() == days(date(2024, 3, 21), 11)
    assert result.daily["forecast"].to_list() == pytest.approx([100.0 + 5 * t for t in range(20, 31)], abs=1e-8)
    assert result.actual_to_date == pytest.approx(sum(line))
    assert result.projected == pytest.approx(sum(100.0 + 5 * t for t in range(31)), abs=1e-6)
    assert result.upper - result.lower == pytest.approx(0.0, abs=1e-6)


def test_a_line_with_a_weekly_pattern_and_gaps_is_continued_exactly():
    weekday_effect = [0, 10, 20, 15, 5, -30, -40]
    every = days(date(2024, 1, 1), 60)
    series = {d: 200 + 2 * i + weekday_effect[d.weekday()] for i, d in enumerate(every)}
    for gap in (date(2024, 2, 10), date(2024, 2, 11)):  # days the data does not cover: not zeros
        del series[gap]
    result = project_total(list(series), list(series.values()), metric="conversions",
                           period_start=date(2024, 2, 1), period_end=date(2024, 3, 10))
    assert result.method == "trend + weekday" and result.days_used == 54  # the last 56 days less the 2 gaps
    expected = [200 + 2 * (60 + i) + weekday_effect[d.weekday()] for i, d in enumerate(days(date(2024, 3, 1), 10))]
    assert result.daily["forecast"].to_list() == pytest.approx(expected, abs=1e-8)
    actual = sum(v for d, v in series.items() if d >= date(2024, 2, 1))
    assert result.projected == pytest.approx(actual + sum(expected), abs=1e-6)


def test_the_band_covers_about_80_percent_of_period_totals():
    rng = np.random.default_rng(3)
    covered, trials = 0, 300
    for _ in range(trials):
        t = np.arange(45)
        truth = 500 + 3 * t + rng.normal(0, 40, size=45)
        result = project_total(days(START, 30), truth[:30].tolist(), metric="spend", period_start=START,
                               period_end=START + timedelta(days=44))
        covered += result.lower <= truth.sum() <= result.upper
    assert 0.74 <= covered / trials <= 0.86


def test_short_series_and_finished_periods():
    short = project_total(days(START, 13), [10.0] * 13, metric="spend", period_start=START,
                          period_end=date(2024, 3, 31))
    assert short.projected is None
    assert short.reason == "Spend has 13 days with a value in the last 56; a forecast needs at least 14."
    done = project_total(days(START, 31), [10.0] * 31, metric="revenue", period_start=START,
                         period_end=date(2024, 3, 31))
    assert (done.days_left, done.projected, done.lower, done.upper) == (0, 310.0, 310.0, 310.0)
    assert done.reason is None


def test_forecasts_do_not_go_below_zero():
    falling = [300.0 - 20 * t for t in range(15)]
    result = project_total(days(START, 15), falling, metric="spend", period_start=START,
                           period_end=date(2024, 3, 31))
    assert min(result.daily["forecast"].to_list()) == 0.0
    assert result.lower >= result.actual_to_date


def test_forecast_period_reads_daily_totals_of_the_activity_table():
    rows = [{"date": d, "platform": p, "spend": 50.0 + i, "conversions": 2.0}
            for i, d in enumerate(days(START, 20)) for p in ("facebook", "tiktok")]
    frame = conform(pl.DataFrame(rows))
    spend, conversions = forecast_period(frame, ["spend", "conversions", "revenue"], period_start=START,
                                         period_end=date(2024, 3, 31))
    assert spend.metric == "spend" and conversions.metric == "conversions"  # revenue is not reported
    assert spend.projected == pytest.approx(2 * sum(50.0 + i for i in range(31)), abs=1e-6)
    assert conversions.projected == pytest.approx(4.0 * 31, abs=1e-6)
    assert spend.to_dict()["period"] == {"from": START, "to": date(2024, 3, 31)}


@pytest.mark.parametrize("last_day, span, period", [
    (date(2026, 10, 15), "month", (date(2026, 10, 1), date(2026, 10, 31))),
    (date(2026, 10, 31), "month", (date(2026, 11, 1), date(2026, 11, 30))),  # October is complete: November ahead
    (date(2026, 12, 31), "month", (date(2027, 1, 1), date(2027, 1, 31))),
    (date(2024, 2, 28), "month", (date(2024, 2, 1), date(2024, 2, 29))),  # leap year: one day left
    (date(2026, 11, 3), "quarter", (date(2026, 10, 1), date(2026, 12, 31))),
    (date(2026, 12, 31), "quarter", (date(2027, 1, 1), date(2027, 3, 31))),
    (date(2026, 6, 30), "quarter", (date(2026, 7, 1), date(2026, 9, 30))),
])
def test_the_period_in_progress_holds_the_first_day_without_data(last_day, span, period):
    assert period_in_progress(last_day, span) == period
