"""The one converter from the app's saved report settings to report options, the saved A/B test in a report,
and the periods of live (latest data) reports, checked by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import polars as pl
import pytest

from metrics.report_settings import KpiSettings, ReportFilters, ReportSettings
from metrics.schema import conform
from reports import build_report
from reports.schedule import ScheduleError, period_dates
from reports.stored import options_from_settings, saved_ab_test


def week() -> pl.DataFrame:
    return conform(pl.DataFrame({
        "date": [date(2026, 6, 1) + timedelta(days=i) for i in range(7)], "platform": ["facebook"] * 7,
        "campaign": ["Summer"] * 7, "spend": [10.0] * 7, "impressions": [100.0] * 7, "clicks": [5.0] * 7,
        "currency": ["EUR"] * 7,
    }))


def test_the_saved_filters_kpi_settings_and_goals_become_the_reports():
    goal = {"metric": "spend", "target": 100, "deadline": "2026-06-30", "name": "June spend"}
    settings = ReportSettings(
        filters=ReportFilters(date_from=date(2026, 6, 3), date_to=date(2026, 6, 5), platforms=("facebook",),
                              campaigns=("Summer",), grain="week", compare="previous_year"),
        goals=(goal,), kpi=KpiSettings(extra_costs=25.0, weights={"likes": 2.0}))
    options = options_from_settings(settings, title="June", client="Acme")
    assert (options.date_from, options.date_to, options.platforms, options.campaigns, options.grain,
            options.compare) == (date(2026, 6, 3), date(2026, 6, 5), ("facebook",), ("Summer",), "week",
                                 "previous_year")
    assert (options.extra_costs, dict(options.weights), options.goals) == (25.0, {"likes": 2.0}, (goal,))
    report = build_report(week(), options)
    spend = next(t for t in report.tiles if t.name == "spend")
    assert spend.exact == "€30.00"  # 3 days × 10, the saved range only


def test_a_custom_comparison_period_is_the_reports_comparison():
    settings = ReportSettings(filters=ReportFilters(date_from=date(2026, 6, 6), date_to=date(2026, 6, 7),
                                                    compare="custom", compare_from=date(2026, 6, 1),
                                                    compare_to=date(2026, 6, 4)))
    report = build_report(week(), options_from_settings(settings, title="T"))
    assert report.cover.comparison == "1 – 4 Jun 2026"
    spend = next(t for t in report.tiles if t.name == "spend")
    assert (spend.exact, spend.previous, spend.change) == ("€20.00", "€40.00", "-50.0 %")  # 2 days vs 4 days


def test_saved_dates_outside_the_data_open_on_its_last_30_days_as_the_app_does():
    days = (date(2026, 3, 1), date(2026, 5, 31))
    assert ReportFilters().within(*days) == ReportFilters(date_from=date(2026, 5, 2), date_to=date(2026, 5, 31),
                                                          preset="last_30")
    outside = ReportFilters(date_from=date(2025, 1, 1), date_to=date(2025, 1, 31), preset="custom")
    assert (outside.within(*days).date_from, outside.within(*days).date_to) == (date(2026, 5, 2), date(2026, 5, 31))
    inside = ReportFilters(date_from=date(2026, 5, 1), date_to=date(2026, 5, 31), preset="custom")
    assert inside.within(*days) == replace(inside, preset="this_month")  # May is the last day's month


def test_no_comparison_saved_means_none_in_the_report():
    options = options_from_settings(ReportSettings(filters=ReportFilters(compare=None)), title="T")
    assert options.compare is None


def test_a_snapshot_s_currency_settings_convert_its_report_as_the_app_did():
    from metrics.currency import CurrencySettings, Rate, Rates

    saved = CurrencySettings(rates=Rates("USD", (Rate("EUR", 2.0, None),), source="typed in"))
    settings = ReportSettings(currency=saved.to_dict())
    options = options_from_settings(settings, title="T")
    assert options.currency_settings == saved
    report = build_report(week(), options)
    plain = build_report(week(), options_from_settings(ReportSettings(), title="T"))
    assert report.currency == "USD" and plain.currency == "EUR"
    euros = float(next(t for t in plain.tiles if t.name == "spend").exact.strip("€").replace(",", ""))
    dollars = float(next(t for t in report.tiles if t.name == "spend").exact.strip("$").replace(",", ""))
    assert dollars == pytest.approx(2.0 * euros)


def test_a_saved_ab_test_that_this_data_cannot_answer_is_named_in_the_notes():
    config = {"version": 2, "source": "campaign", "metric": "cvr", "control": "A"}
    entries, notes = saved_ab_test(ReportSettings(ab=config), week())
    assert entries == []
    # (the data has a variant column, as every canonical frame does, but no row carries a label)
    assert notes == ["The saved A/B test is not shown. There are no rows with a variant label for the saved A/B "
                     "test in the current filters."]
    report = build_report(week(), options_from_settings(ReportSettings(ab=config), title="T", notes=notes))
    assert notes[0] in report.notes and not any(s.title == "A/B tests" for s in report.sections)
    assert saved_ab_test(ReportSettings(), week()) == ([], [])


@pytest.mark.parametrize(("period", "today", "expected"), [
    ("last_7_days", date(2026, 3, 1), (date(2026, 2, 22), date(2026, 2, 28))),
    ("last_30_days", date(2026, 3, 1), (date(2026, 1, 30), date(2026, 2, 28))),
    # Sunday 1 March: last week is Monday 16 – Sunday 22 February; this week (23 Feb – 1 Mar) is not over.
    ("last_week", date(2026, 3, 1), (date(2026, 2, 16), date(2026, 2, 22))),
    ("last_week", date(2026, 3, 2), (date(2026, 2, 23), date(2026, 3, 1))),
    ("week_to_date", date(2026, 3, 4), (date(2026, 3, 2), date(2026, 3, 3))),
    # On a Monday the week so far is last week's complete days.
    ("week_to_date", date(2026, 3, 2), (date(2026, 2, 23), date(2026, 3, 1))),
    ("last_month", date(2026, 3, 31), (date(2026, 2, 1), date(2026, 2, 28))),
    ("last_month", date(2028, 3, 1), (date(2028, 2, 1), date(2028, 2, 29))),
    ("last_month", date(2027, 1, 1), (date(2026, 12, 1), date(2026, 12, 31))),
    ("month_to_date", date(2026, 3, 15), (date(2026, 3, 1), date(2026, 3, 14))),
    # On the 1st the month so far has no complete day: the whole last month.
    ("month_to_date", date(2026, 3, 1), (date(2026, 2, 1), date(2026, 2, 28))),
])
def test_live_periods_are_complete_days_before_the_delivery_day(period, today, expected):
    assert period_dates(period, today) == expected


def test_an_unknown_period_is_refused_with_one_sentence():
    with pytest.raises(ScheduleError, match="'fortnight' is not a report period; use one of last_7_days"):
        period_dates("fortnight", date(2026, 3, 1))
