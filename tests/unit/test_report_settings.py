"""Report settings round-trip, and what older snapshots stored still opens with the same filters."""

from __future__ import annotations

import json
from datetime import date

import pytest

from metrics.insights.annotations import Annotation, read_annotations
from metrics.insights.pacing import Budget, read_budgets
from metrics.report_settings import KpiSettings, ReportFilters, ReportSettings

FULL = ReportSettings(
    filters=ReportFilters(date_from=date(2026, 9, 1), date_to=date(2026, 9, 30), platforms=("facebook", "x"),
                          campaigns=("Spring sale",), grain="week", compare="previous_year"),
    goals=({"id": "g1", "metric": "spend", "target": 1234.0, "deadline": "2026-12-31"},),
    ab={"version": 1, "source": "calculator", "metric": "counts"},
    kpi=KpiSettings(extra_costs=250.0, weights={"likes": 1.0, "comments": 0.5}),
    currency={"reporting": "EUR", "rates": {"USD": 0.92}},
    annotations=({"date": "2026-09-05", "end": "2026-09-07", "text": "Outage", "kind": "outage"},),
    budgets=({"month": "2026-09", "scope": "platform", "scope_value": "facebook", "amount": 900.0,
              "currency": "EUR"},),
)


def test_round_trip_through_json():
    stored = json.loads(json.dumps(FULL.to_dict()))
    assert stored["version"] == 2
    assert ReportSettings.from_dict(stored) == FULL


def test_defaults_round_trip():
    assert ReportSettings.from_dict(ReportSettings().to_dict()) == ReportSettings()


def test_snapshot_saved_with_the_old_untyped_dict_opens_with_the_same_filters():
    # Exactly what pages/snapshots.py wrote before the typed settings (ui.filters.Filters.to_settings).
    old = {
        "filters": {"date_from": "2026-08-03", "date_to": "2026-08-31", "platforms": ["instagram"],
                    "campaigns": ["A", "B"], "grain": "month", "compare": None, "extra": {}},
        "grain": "month",
        "comparison": None,
        "goals": [{"kpi": "spend", "target": 1234.0}],
        "ab": {"metric": "conversions"},
        "kpi": {"extra_costs": 100.0, "weights": {"likes": 1.0, "comments": 2.0, "saves": 3.0, "shares": 4.0}},
    }
    settings = ReportSettings.from_dict(old)
    assert settings.filters == ReportFilters(date_from=date(2026, 8, 3), date_to=date(2026, 8, 31),
                                             platforms=("instagram",), campaigns=("A", "B"), grain="month",
                                             compare=None)
    assert settings.goals == ({"kpi": "spend", "target": 1234.0},)
    assert settings.ab == {"metric": "conversions"}
    assert settings.kpi.extra_costs == 100.0
    assert settings.currency == {}
    assert (settings.annotations, settings.budgets) == ((), ())


def test_a_snapshot_keeps_its_annotations_and_budgets():
    notes = (Annotation(date(2026, 9, 5), "Outage <b>", end=date(2026, 9, 7), kind="outage"),
             Annotation(date(2026, 9, 1), "Launch", kind="launch"))
    budgets = (Budget(date(2026, 9, 1), "platform", "Facebook", 900.0, "eur"), Budget(date(2026, 9, 1), "all", None, 5e3))
    settings = ReportSettings(annotations=tuple(a.to_dict(iso_dates=True) for a in notes),
                              budgets=tuple(b.to_dict() for b in budgets))
    stored = ReportSettings.from_dict(json.loads(json.dumps(settings.to_dict())))
    assert read_annotations(stored.annotations) == ((notes[1], notes[0]), 0)  # in date order
    assert read_budgets(stored.budgets) == (budgets, 0)


def test_unreadable_stored_annotations_and_budgets_are_counted_and_left_out():
    annotations = [{"date": "2026-09-05", "text": "Launch"}, {"date": "yesterday", "text": "x"}, {"text": "no date"},
                   {"date": "2026-09-05", "text": "  "}, {"date": "2026-09-06", "end": "2026-09-01", "text": "x"}]
    budgets = [{"month": "2026-09", "amount": 10}, {"month": "Sept", "amount": 10}, {"month": "2026-09", "amount": "10"},
               {"month": "2026-09", "amount": -5}, {"month": "2026-09", "scope": "platform", "amount": 1}]
    assert read_annotations(annotations) == ((Annotation(date(2026, 9, 5), "Launch"),), 4)
    assert read_budgets(budgets) == ((Budget(date(2026, 9, 1), "all", None, 10.0),), 4)
    assert read_annotations("not a list") == ((), 0) and read_budgets(None) == ((), 0)


def test_old_dict_without_filters_uses_the_top_level_grain():
    settings = ReportSettings.from_dict({"grain": "week", "comparison": "previous_year"})
    assert (settings.filters.grain, settings.filters.compare) == ("week", "previous_year")


@pytest.mark.parametrize(
    "raw",
    [
        None, [], "settings", 42,
        {"filters": "all"},
        {"filters": {"date_from": "yesterday", "date_to": "2026-01-01", "platforms": "facebook", "grain": "hour",
                     "compare": "previous_period"}},
        {"filters": {"date_from": "2026-02-01", "date_to": "2026-01-01"}},
        {"goals": {"spend": 10}, "ab": ["x"], "kpi": {"extra_costs": "lots", "weights": {"likes": float("nan")}},
         "currency": "EUR"},
    ],
)
def test_bad_values_fall_back_to_defaults(raw):
    settings = ReportSettings.from_dict(raw)
    defaults = ReportSettings()
    assert settings.filters.date_from is None and settings.filters.date_to is None
    assert settings.filters.platforms == ()
    assert settings.filters.grain == "day"
    assert settings.filters.compare == "previous"
    assert settings.goals == () and settings.ab == {} and settings.currency == {}
    assert settings.kpi == defaults.kpi


def test_unknown_keys_and_newer_versions_are_read_for_what_is_understood():
    stored = FULL.to_dict() | {"version": 7, "layout": {"dark": True}}
    stored["filters"] = stored["filters"] | {"audience": ["18-24"]}
    assert ReportSettings.from_dict(stored) == FULL


def test_no_comparison_stays_none_and_negative_costs_are_refused():
    settings = ReportSettings.from_dict({"filters": {"compare": "none"}, "kpi": {"extra_costs": -5}})
    assert settings.filters.compare is None
    assert settings.kpi.extra_costs == 0.0


def test_dimension_filters_feed_summarize():
    assert FULL.filters.dimension_filters() == {"platform": ["facebook", "x"], "campaign": ["Spring sale"]}
    assert ReportFilters().dimension_filters() == {}
    assert json.loads(FULL.filters.filters_json()) == FULL.filters.dimension_filters()


def test_a_preset_and_a_custom_comparison_round_trip():
    filters = ReportFilters(date_from=date(2026, 10, 25), date_to=date(2026, 10, 31), preset="last_7",
                            compare="custom", compare_from=date(2026, 9, 1), compare_to=date(2026, 9, 30))
    stored = json.loads(json.dumps(ReportSettings(filters=filters).to_dict()))
    back = ReportSettings.from_dict(stored).filters
    assert back == filters
    assert back.comparison == (date(2026, 9, 1), date(2026, 9, 30))
    assert back.comparison_dates() == (date(2026, 9, 1), date(2026, 9, 30))
    assert ReportFilters(date_from=date(2026, 10, 2), date_to=date(2026, 10, 31)).comparison_dates() == (
        date(2026, 9, 2), date(2026, 10, 1))


@pytest.mark.parametrize("raw, compare, preset", [
    ({"compare": "custom"}, "previous", "custom"),  # a custom comparison without its dates: the default one
    ({"compare": "custom", "compare_from": "2026-09-30", "compare_to": "2026-09-01"}, "previous", "custom"),
    ({"preset": "last_7"}, "previous", "custom"),  # a preset without dates names nothing
    ({"preset": "yesterday", "date_from": "2026-10-01", "date_to": "2026-10-31"}, "previous", "custom"),
    ({}, "previous", "custom"),  # no filters saved: the default view's comparison
])
def test_unusable_presets_and_comparisons_fall_back(raw, compare, preset):
    filters = ReportFilters.from_dict(raw)
    assert (filters.compare, filters.preset, filters.compare_from) == (compare, preset, None)


def test_the_scope_line_says_period_comparison_platforms_and_campaigns():
    october = ReportFilters(date_from=date(2026, 10, 2), date_to=date(2026, 10, 31), compare="previous")
    assert october.scope_text() == "2 – 31 Oct 2026 · compared with 2 Sep – 1 Oct 2026 · all platforms"
    narrowed = ReportFilters(date_from=date(2026, 10, 2), date_to=date(2026, 10, 31), compare=None,
                             platforms=("google_ads", "facebook"), campaigns=("Spring", "Brand"))
    assert narrowed.scope_text() == "2 – 31 Oct 2026 · Google Ads, Facebook · 2 campaign(s)"
    assert ReportFilters(compare=None).scope_text() == "All dates · all platforms"
