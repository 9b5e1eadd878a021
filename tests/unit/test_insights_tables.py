"""Insights as people read them (metrics.insights.tables): the sentences and rows the page and the report files
share, checked against hand arithmetic."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from metrics.insights.annotations import Annotation
from metrics.insights.drivers import explain_changes
from metrics.insights.pacing import Budget, pace
from metrics.insights.tables import annotation_rows, mix_sentence, pacing_rows, pacing_sentence, platform_rows
from metrics.schema import conform

MARCH = date(2024, 3, 1)


def test_a_budget_heading_over_says_by_how_much_and_what_a_day_would_land_it():
    spend = {MARCH + timedelta(days=i): 150.0 for i in range(10)}
    result = pace(Budget(MARCH, "all", None, 3100.0, "USD"), spend, as_of=date(2024, 3, 10), spend_currency="USD")
    # 10 × 150 spent; 150 a day for the 21 days left: 4,650, +50 %; (3,100 − 1,500) / 21 = 76.19 a day
    assert pacing_sentence(result) == (
        "Mar 2024 · Whole account: $1,500.00 spent by 10 Mar 2024, heading for $4,650.00 against a budget of "
        "$3,100.00 (+50.0 %; far off (over)). Landing on the budget takes $76.19 a day for the 21 days left (the "
        "last 7 days averaged $150.00).")
    [row] = pacing_rows([result])
    assert row == {"Month": "Mar 2024", "Scope": "Whole account", "Budget": "$3,100.00", "Spent to date": "$1,500.00",
                   "Expected to date": "$1,000.00", "Projected month end": "$4,650.00",
                   "Projected vs budget": "+50.0 %", "Needed per day": "$76.19", "Status": "Far off (over)"}


def test_a_budget_without_data_says_why_in_its_sentence():
    result = pace(Budget(MARCH, "platform", "TikTok", 500.0), {}, as_of=date(2024, 3, 10), covered_days=())
    assert pacing_sentence(result) == "Mar 2024 · TikTok: The data has no day in Mar 2024 up to 10 Mar 2024."


def test_annotation_rows_are_in_date_order_with_spans_written_as_periods():
    rows = annotation_rows([Annotation(date(2024, 3, 9), "Promo", end=date(2024, 3, 11), kind="launch"),
                            Annotation(date(2024, 3, 2), "Note <b>")])
    assert rows == [{"Date": "2 Mar 2024", "Kind": "Note", "Note": "Note <b>"},
                    {"Date": "9 – 11 Mar 2024", "Kind": "Launch", "Note": "Promo"}]


def test_platform_rows_say_each_platforms_change_and_parts():
    rows = []
    for offset in range(14):
        second = offset >= 7
        day = MARCH + timedelta(days=offset)
        rows.append({"date": day, "platform": "facebook", "spend": 20.0 if second else 10.0, "impressions": 1000.0,
                     "clicks": 50.0, "conversions": 2.0, "currency": "USD"})
        if not second:  # Google Ads stops after the first week: all its part is budget moving away from it
            rows.append({"date": day, "platform": "google_ads", "spend": 10.0, "impressions": 1000.0,
                         "clicks": 50.0, "conversions": 1.0, "currency": "USD"})
    [change] = explain_changes(conform(pl.DataFrame(rows)), date_from=MARCH + timedelta(days=7),
                               date_to=MARCH + timedelta(days=13), kpi_names=["cpa"])
    by_platform = {row["platform"]: row for row in platform_rows(change)}
    facebook, google = by_platform["facebook"], by_platform["google_ads"]
    # Facebook: CPA 10 / 2 = 5 → 20 / 2 = 10, all from CPM (10 → 20 per 1,000 impressions)
    assert (facebook["cpa_prev"], facebook["cpa"], facebook["cpa_delta_rel"]) == (5.0, 10.0, 1.0)
    assert (facebook["cpm_delta_rel"], facebook["ctr_delta_rel"], facebook["cvr_delta_rel"]) == (1.0, 0.0, 0.0)
    assert (facebook["share_of_spend_prev"], facebook["share_of_spend"]) == (0.5, 1.0)
    assert google["cpa"] is None and google["cpm_delta_rel"] is None and google["Own part"] == "0.0 points"
    assert google["Note"].startswith("Spend in this period was not reported")
    # total CPA 140 / 21 = 6.67 → 140 / 14 = 10: +50 %
    assert mix_sentence(change).startswith("Of the CPA change (+50.0 %), shifting budget between platforms accounts "
                                           "for ")
