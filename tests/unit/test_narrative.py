"""The Overview sentence: rises, falls, no comparison, nulls, one platform, and straight from `summarize`."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from metrics import kpis
from metrics.display import platform_label
from metrics.narrative import headline, period_phrase
from metrics.schema import conform


def _row(**values):
    """A summarize-like row: every `<name>_delta_rel` given, `<name>_prev` filled in so it is comparable."""
    row = dict(values)
    for key, value in values.items():
        if key.endswith("_delta_rel") and value is not None:
            row.setdefault(key.replace("_delta_rel", "_prev"), 1.0)
    return row


def test_rises():
    total = _row(spend=1120.0, spend_delta_rel=0.12, cpa=9.2, cpa_delta_rel=-0.08, conversions=120.0,
                 conversions_delta=50.0)
    platforms = [{"platform": "tiktok", "conversions_delta": 40.0}, {"platform": "facebook", "conversions_delta": 10.0}]
    assert headline(total, platforms, compare="previous", days=30, currency="USD") == (
        "Spend +12 % vs the previous 30 days while CPA fell 8 %; TikTok drove most new conversions."
    )


def test_falls():
    total = _row(spend=800.0, spend_delta_rel=-0.2, cpa=10.5, cpa_delta_rel=0.05, conversions=70.0,
                 conversions_delta=-30.0)
    platforms = [{"platform": "facebook", "conversions_delta": -25.0}, {"platform": "google_ads",
                                                                        "conversions_delta": -5.0}]
    assert headline(total, platforms, compare="previous", days=7) == (
        "Spend −20 % vs the previous 7 days while CPA rose 5 %; Facebook lost the most conversions."
    )


def test_small_changes_read_as_flat_and_steady():
    total = _row(spend=100.0, spend_delta_rel=0.001, cpa=5.0, cpa_delta_rel=-0.002, conversions=20.0,
                 conversions_delta=0.0)
    platforms = [{"platform": "x", "conversions_delta": 0.0}, {"platform": "vk", "conversions_delta": 0.0}]
    assert headline(total, platforms, compare="previous_year", days=30) == (
        "Spend flat vs the same period last year while CPA held steady."
    )


def test_no_comparison():
    total = {"spend": 1234.5, "conversions": 100.0, "cpa": 12.345}
    platforms = pl.DataFrame({"platform": ["tiktok", "email"], "conversions": [60.0, 40.0]})
    assert headline(total, platforms, compare=None, currency="EUR") == (
        "Spend €1,234.50 brought 100 conversions at a CPA of €12.35; TikTok brought the most conversions "
        "(60 % of the total)."
    )


def test_previous_period_without_data_is_said_plainly():
    total = {"spend": 25000.0, "spend_prev": None, "spend_delta_rel": None, "conversions": 10.0, "cpa": 2500.0,
             "cpa_delta_rel": None}
    assert headline(total, [], compare="previous", days=90, currency="USD") == (
        "Spend $25,000 brought 10 conversions at a CPA of $2,500.00. "
        "There is no data for the previous 90 days to compare with."
    )


def test_previous_spend_of_zero():
    total = {"spend": 50.0, "spend_prev": 0.0, "spend_delta_rel": None, "impressions": 1000.0}
    assert headline(total, compare="previous", days=1, currency="USD") == (
        "Spend $50.00, up from none in the previous day."
    )


@pytest.mark.parametrize("missing", [None, float("nan")])
def test_nulls_are_skipped_not_read_as_zero(missing):
    # Organic data only: no spend, no conversions, CPA and ROAS null; the sentence leads with impressions
    # and names the first KPI that has a comparable value.
    total = _row(spend=missing, conversions=missing, cpa=missing, cpa_delta_rel=missing, roas=missing,
                 impressions=50_000.0, impressions_delta_rel=0.3, ctr=missing, engagement_rate=0.04,
                 engagement_rate_delta_rel=-0.1, engagements=2_000.0, engagements_delta=-100.0)
    platforms = [{"platform": "instagram", "engagements_delta": -80.0},
                 {"platform": "facebook", "engagements_delta": -20.0}]
    assert headline(total, platforms, compare="previous", days=14) == (
        "Impressions +30 % vs the previous 14 days while engagement rate fell 10 %; "
        "Instagram lost the most engagements."
    )


def test_nothing_reported():
    assert headline({"spend": None, "impressions": None}, [], compare="previous", days=30) == (
        "No activity was reported for this selection."
    )
    assert headline(None) == "No activity was reported for this selection."


def test_single_platform_names_no_driver():
    total = _row(spend=500.0, spend_delta_rel=0.5, cpa=5.0, cpa_delta_rel=0.1, conversions=100.0,
                 conversions_delta=20.0)
    platforms = [{"platform": "tiktok", "conversions_delta": 20.0, "conversions": 100.0}]
    sentence = headline(total, platforms, compare="previous", days=30)
    assert sentence == "Spend +50 % vs the previous 30 days while CPA rose 10 %."
    assert headline({"spend": 500.0, "conversions": 100.0, "cpa": 5.0}, platforms, currency="USD") == (
        "Spend $500.00 brought 100 conversions at a CPA of $5.00."
    )


def test_labels_and_periods():
    assert platform_label("google_ads") == "Google Ads"
    assert platform_label("tiktok") == "TikTok"
    assert platform_label("my_channel") == "My channel"
    assert platform_label(None) == "Unknown"
    assert period_phrase("previous", 30) == "the previous 30 days"
    assert period_phrase("previous", 1) == "the previous day"
    assert period_phrase("previous_year", 30) == "the same period last year"
    assert period_phrase(None, 30) is None


def test_straight_from_summarize():
    """Two platforms over two weeks: spend doubles, CPA falls and LinkedIn brings the new conversions."""
    start = date(2026, 3, 1)
    rows = []
    for day in range(14):
        second_week = day >= 7
        rows.append({"date": start + timedelta(days=day), "platform": "linkedin", "campaign": "B2B",
                     "spend": 20.0 if second_week else 10.0, "conversions": 8.0 if second_week else 1.0})
        rows.append({"date": start + timedelta(days=day), "platform": "x", "campaign": "Chatter",
                     "spend": 10.0 if second_week else 5.0, "conversions": 2.0 if second_week else 1.0})
    frame = conform(pl.DataFrame(rows))
    options = dict(date_from=date(2026, 3, 8), date_to=date(2026, 3, 14), compare="previous")
    total = kpis.total(frame, **options)
    platforms = kpis.summarize(frame, ["platform"], **options)
    # Spend 105 → 210 (+100 %); conversions 14 → 70, so CPA 7.50 → 3.00 (−60 %).
    assert headline(total, platforms, compare="previous", days=7, currency="USD") == (
        "Spend +100 % vs the previous 7 days while CPA fell 60 %; LinkedIn drove most new conversions."
    )
