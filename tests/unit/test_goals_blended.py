"""Goals over blended files read KPIs the way `summarize` does: coverage-matched, never mixing currencies.

Two files written here: shop.csv reports spend, clicks and conversions; ads.csv spend and clicks only.
Every expected number is worked out by hand from the rows below.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from metrics import goals
from metrics.ingest import load_many

DAYS = 10  # 1–10 Mar 2026
START = date(2026, 3, 1)
DEADLINE = date(2026, 3, 20)  # 10 days after the last day of data


def _csv(header: str, row) -> bytes:
    lines = [header] + [row(START + timedelta(days=i)) for i in range(DAYS)]
    return ("\n".join(lines) + "\n").encode()


def _blend(shop_currency: str = "EUR", ads_currency: str = "EUR") -> pl.DataFrame:
    # shop.csv: 100 spend, 50 clicks, 5 conversions a day; ads.csv: 300 spend, 100 clicks a day, no conversions.
    shop = _csv("Date,Platform,Campaign,Currency,Spend,Clicks,Conversions",
                lambda d: f"{d.isoformat()},Facebook,Shop,{shop_currency},100,50,5")
    ads = _csv("Date,Platform,Campaign,Currency,Spend,Clicks",
               lambda d: f"{d.isoformat()},Google Ads,Search,{ads_currency},300,100")
    loaded = load_many([("shop.csv", shop), ("ads.csv", ads)])
    assert not loaded.errors
    return loaded.frame


def _goal(metric: str, target: float) -> dict:
    return {"metric": metric, "target": target, "deadline": DEADLINE.isoformat(), "start": START.isoformat()}


def test_a_cpa_goal_counts_only_the_file_that_reports_conversions():
    result = goals.evaluate(_goal("cpa", 25.0), _blend())
    # Matched: 1,000 spend / 50 conversions of shop.csv. Summing ads.csv's spend too would give 4,000 / 50 = 80.
    assert result.current == pytest.approx(20.0)
    assert result.pace_recent == pytest.approx(1000 / 50)
    # Projection: (1,000 + 100 × 10 days) / (50 + 5 × 10 days) = 20 (not (4,000 + 400 × 10) / 100 = 80).
    assert result.projection == pytest.approx(2000 / 100)
    # The remaining 10 days may run at (25 × (50 + 50) − 1,000) / 50 = 30 (not (2,500 − 4,000) / 50 = −30).
    assert result.pace_needed == pytest.approx(30.0)
    assert result.status == "on_track"
    assert result.currency == "EUR"
    assert result.coverage == pytest.approx(10 / 20)
    assert result.based_on == "based on 1 of 2 files"


def test_the_cpa_goal_chart_runs_on_the_same_rows():
    frame = _blend()
    result = goals.evaluate(_goal("cpa", 25.0), frame)
    actual = goals.timeline(result, frame).filter(pl.col("series") == "Actual").sort("date")
    # Period to date on every day: 100 k / 5 k = 20, never (400 k) / (5 k) = 80.
    assert actual.height == DAYS
    assert actual.get_column("value").to_list() == pytest.approx([20.0] * DAYS)


def test_a_conversion_rate_goal_projects_matched_clicks():
    result = goals.evaluate(_goal("cvr", 0.05), _blend())
    # 50 conversions / 500 clicks of shop.csv = 10 %; with ads.csv's 1,000 clicks it would read 3.3 %.
    assert result.current == pytest.approx(0.1)
    assert result.projection == pytest.approx((50 + 50) / (500 + 500))
    assert result.status == "on_track"
    assert result.based_on == "based on 1 of 2 files"


def test_a_goal_on_every_row_has_no_coverage_note():
    result = goals.evaluate(_goal("cpc", 5.0), _blend())
    assert result.current == pytest.approx(4000 / 1500)
    assert result.coverage == 1.0 and result.based_on is None


def test_a_money_goal_over_two_currencies_is_refused_with_a_sentence():
    frame = _blend(shop_currency="EUR", ads_currency="USD")
    for metric in ("spend", "cpc", "cpa"):
        result = goals.evaluate(_goal(metric, 10.0), frame)
        assert result.status == "no_data" and result.current is None and result.projection is None
        assert "EUR (shop.csv)" in result.note and "USD (ads.csv)" in result.note
        assert "Data page" in result.note
        assert goals.timeline(result, frame).is_empty()
    monthly = _goal("spend", 1000.0) | {"recurrence": "monthly"}
    assert goals.monthly_progress(goals.Goal.from_dict(monthly), frame) == []
    assert goals.evaluate(monthly, frame).note is not None
    # A rate without money is measured as usual: 50 conversions / 500 matched clicks.
    assert goals.evaluate(_goal("cvr", 0.05), frame).current == pytest.approx(0.1)


def test_an_unknown_currency_counts_as_its_own():
    frame = _blend(shop_currency="EUR", ads_currency="")
    result = goals.evaluate(_goal("spend", 10.0), frame)
    assert result.status == "no_data" and "unknown (ads.csv)" in result.note


def test_a_goal_scoped_to_one_currency_is_measured():
    frame = _blend(shop_currency="EUR", ads_currency="USD")
    result = goals.evaluate(_goal("spend", 3000.0) | {"scope": "platform", "scope_value": "facebook"}, frame)
    assert result.current == pytest.approx(1000.0) and result.currency == "EUR" and result.note is None


def test_the_status_export_says_what_a_value_is_based_on():
    table = goals.progress_table([goals.evaluate(_goal("cpa", 25.0), _blend())])
    row = table.row(0, named=True)
    assert (row["currency"], row["coverage"], row["based_on"]) == ("EUR", 0.5, "based on 1 of 2 files")
