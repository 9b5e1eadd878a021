"""KPI change drivers: the factor and mix splits add up exactly, on hand-made totals computed here by hand."""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.insights.drivers import decompose, decompose_mix, explain_changes
from metrics.schema import conform

PREVIOUS = {"spend": 1000.0, "impressions": 100_000.0, "clicks": 2000.0, "conversions": 100.0, "leads": 40.0,
            "revenue": 5000.0}
# CPM +25 %, CTR −3 %, conversion rate +9 %, lead rate −20 %, AOV +10 %.
CURRENT = {"spend": 1250.0, "impressions": 100_000.0, "clicks": 1940.0, "conversions": 105.73, "leads": 31.04,
           "revenue": 105.73 * 55.0}


def ratio(totals, numerator, denominator):
    return totals[numerator] / totals[denominator]


# The KPI and each factor's signed log effect, written out by hand from the SPEC §4 formulas.
HAND = {
    "cpa": (("spend", "conversions"), {
        "cpm": math.log(ratio(CURRENT, "spend", "impressions") / ratio(PREVIOUS, "spend", "impressions")),
        "ctr": -math.log(ratio(CURRENT, "clicks", "impressions") / ratio(PREVIOUS, "clicks", "impressions")),
        "cvr": -math.log(ratio(CURRENT, "conversions", "clicks") / ratio(PREVIOUS, "conversions", "clicks")),
    }),
    "cpl": (("spend", "leads"), {
        "cpm": math.log(1.25),
        "ctr": -math.log(0.97),
        "lead_rate": -math.log(ratio(CURRENT, "leads", "clicks") / ratio(PREVIOUS, "leads", "clicks")),
    }),
    "cpc": (("spend", "clicks"), {"cpm": math.log(1.25), "ctr": -math.log(0.97)}),
    "roas": (("revenue", "spend"), {
        "aov": math.log(55.0 / 50.0),
        "cvr": math.log(ratio(CURRENT, "conversions", "clicks") / ratio(PREVIOUS, "conversions", "clicks")),
        "ctr": math.log(0.97),
        "cpm": -math.log(1.25),
    }),
}


@pytest.mark.parametrize("kpi", sorted(HAND))
def test_factor_effects_add_up_to_the_kpi_change_exactly(kpi):
    (numerator, denominator), effects = HAND[kpi]
    kpi_now, kpi_before = ratio(CURRENT, numerator, denominator), ratio(PREVIOUS, numerator, denominator)
    result = decompose(kpi, CURRENT, PREVIOUS)
    assert result.reason is None
    assert result.value == pytest.approx(kpi_now, rel=1e-12)
    assert result.value_prev == pytest.approx(kpi_before, rel=1e-12)
    # Each factor's log effect is the hand-written one, and together they are ln(KPI₁/KPI₀) to 1e-12.
    assert {f.name: f.effect_log for f in result.factors} == pytest.approx(effects, abs=1e-12)
    assert abs(sum(f.effect_log for f in result.factors) - math.log(kpi_now / kpi_before)) < 1e-12
    # In percentages: the parts of the relative change add up to KPI₁/KPI₀ − 1.
    assert abs(sum(f.effect_rel for f in result.factors) - (kpi_now / kpi_before - 1)) < 1e-12
    assert sum(f.share for f in result.factors) == pytest.approx(1.0, abs=1e-12)


def test_the_briefs_example_reads_right():
    result = decompose("cpa", CURRENT, PREVIOUS)
    assert round(result.change_rel, 3) == round(1.25 / 0.97 / 1.09 - 1, 3)  # CPA +18.2 %
    own = {f.name: round(f.change_rel, 6) for f in result.factors}
    assert own == {"cpm": 0.25, "ctr": -0.03, "cvr": 0.09}
    assert result.top_factor.name == "cpm"


@given(st.lists(st.floats(min_value=1e-3, max_value=1e7), min_size=12, max_size=12))
@settings(max_examples=200, deadline=None)
def test_any_positive_totals_split_exactly(values):
    names = ("spend", "impressions", "clicks", "conversions", "leads", "revenue")
    previous, current = dict(zip(names, values[:6])), dict(zip(names, values[6:]))
    for kpi in HAND:
        result = decompose(kpi, current, previous)
        (numerator, denominator), _ = HAND[kpi]
        expected = math.log(ratio(current, numerator, denominator) / ratio(previous, numerator, denominator))
        assert abs(math.fsum(f.effect_log for f in result.factors) - expected) < 1e-12 * max(1.0, abs(expected))


@pytest.mark.parametrize(
    ("previous", "current", "phrase"),
    [
        ({**PREVIOUS, "conversions": 0.0}, CURRENT, "conversions in the previous period is zero"),
        (PREVIOUS, {**CURRENT, "impressions": None}, "Impressions in this period were not reported"),
        (PREVIOUS, {k: v for k, v in CURRENT.items() if k != "clicks"}, "Clicks in this period were not reported"),
        (PREVIOUS, {**CURRENT, "spend": None, "currency": "mixed"}, "several currencies"),
    ],
)
def test_missing_or_zero_factors_give_a_reason_and_no_split(previous, current, phrase):
    result = decompose("cpa", current, previous)
    assert phrase in result.reason
    assert result.factors == () and result.change_log is None


# --- mix ---------------------------------------------------------------------------------------------------


def cpa_of(platforms):
    return sum(p["spend"] for p in platforms.values()) / sum(p["conversions"] for p in platforms.values())


MIX_PREVIOUS = {"facebook": {"spend": 600.0, "conversions": 60.0}, "google_ads": {"spend": 400.0, "conversions": 20.0},
                "x": {"spend": 100.0, "conversions": 2.0}}
# Budget moves to facebook, google gets worse, x leaves and tiktok enters.
MIX_CURRENT = {"facebook": {"spend": 900.0, "conversions": 80.0}, "google_ads": {"spend": 300.0, "conversions": 12.0},
               "tiktok": {"spend": 200.0, "conversions": 10.0}}


def test_mix_and_own_effects_add_up_exactly():
    result = decompose_mix("cpa", MIX_CURRENT, MIX_PREVIOUS)
    expected_log = math.log(cpa_of(MIX_CURRENT) / cpa_of(MIX_PREVIOUS))
    assert result.reason is None
    assert abs(result.change_log - expected_log) < 1e-12
    assert abs(result.mix_effect_log + result.own_effect_log - expected_log) < 1e-12
    parts = [p.mix_effect_log for p in result.platforms] + [p.own_effect_log for p in result.platforms]
    assert abs(math.fsum(parts) - expected_log) < 1e-12
    rel = cpa_of(MIX_CURRENT) / cpa_of(MIX_PREVIOUS) - 1
    assert abs(result.mix_effect_rel + result.own_effect_rel - rel) < 1e-12
    by_platform = {p.platform: p for p in result.platforms}
    # Entering and leaving platforms are all mix; their own change is zero.
    assert by_platform["tiktok"].own_effect_log == 0 and by_platform["x"].own_effect_log == 0
    assert by_platform["tiktok"].spend_share == pytest.approx(200 / 1400)
    assert by_platform["x"].spend_share_prev == pytest.approx(100 / 1100)


def test_a_pure_budget_shift_is_all_mix_and_a_pure_performance_change_is_all_own():
    previous = {"a": {"spend": 500.0, "conversions": 50.0}, "b": {"spend": 500.0, "conversions": 25.0}}
    shifted = {"a": {"spend": 800.0, "conversions": 80.0}, "b": {"spend": 200.0, "conversions": 10.0}}
    result = decompose_mix("cpa", shifted, previous)
    assert result.own_effect_log == pytest.approx(0.0, abs=1e-15)
    assert result.mix_effect_log == pytest.approx(math.log((1000 / 90) / (1000 / 75)), abs=1e-12)
    # Moving budget to the cheaper platform lowers CPA: a's mix part is negative (good for a cost).
    assert {p.platform: p.mix_effect_log < 0 for p in result.platforms} == {"a": True, "b": True}

    worse = {"a": {"spend": 500.0, "conversions": 40.0}, "b": {"spend": 500.0, "conversions": 25.0}}
    result = decompose_mix("cpa", worse, previous)
    assert result.mix_effect_log == pytest.approx(0.0, abs=1e-15)
    assert result.top_platform.platform == "a"
    assert result.own_effect_log == pytest.approx(math.log((1000 / 65) / (1000 / 75)), abs=1e-12)


def test_roas_mix_adds_up_and_names_the_platform():
    previous = {"a": {"spend": 100.0, "revenue": 300.0}, "b": {"spend": 100.0, "revenue": 100.0}}
    current = {"a": {"spend": 100.0, "revenue": 360.0}, "b": {"spend": 300.0, "revenue": 300.0}}
    result = decompose_mix("roas", current, previous)
    expected = math.log((660 / 400) / (400 / 200))
    assert abs(result.mix_effect_log + result.own_effect_log - expected) < 1e-12
    assert result.mix_effect_log < 0  # budget moved to the weaker platform


def test_mix_refuses_conversions_without_spend():
    previous = {**MIX_PREVIOUS, "email": {"spend": 0.0, "conversions": 5.0}}
    result = decompose_mix("cpa", MIX_CURRENT, previous)
    assert result.reason.startswith("Email reported conversions without spend in the previous period")
    assert result.platforms == () and result.mix_effect_log is None


# --- from the activity table -----------------------------------------------------------------------------------


def frame_with(rows):
    return conform(pl.DataFrame(rows, infer_schema_length=None).with_columns(pl.col("date").cast(pl.Date)))


def test_explain_changes_reads_complete_rows_and_names_the_platform_and_factor():
    start = date(2024, 3, 1)
    rows = []
    for day in range(14):
        current = day >= 7
        for platform, cpm in (("facebook", 10.0), ("google_ads", 20.0)):
            if platform == "facebook" and current:
                cpm *= 1.25
            impressions = 10_000.0
            rows.append({"date": start + timedelta(days=day), "platform": platform, "spend": cpm * impressions / 1000,
                         "impressions": impressions, "clicks": 200.0, "conversions": 10.0})
    # A CRM row without impressions must not enter the decomposition (it would break the identity).
    rows.append({"date": date(2024, 3, 10), "platform": "facebook", "spend": 500.0, "impressions": None,
                 "clicks": None, "conversions": 3.0})
    frame = frame_with(rows)
    [change] = explain_changes(frame, date_from=date(2024, 3, 8), date_to=date(2024, 3, 14), kpi_names=["cpa"])
    assert (change.rows_used, change.rows_total) == (28, 29)
    # Hand-computed over the complete rows: CPA 15 → (7×125 + 7×200) / 140.
    assert change.total.value_prev == pytest.approx((7 * 100 + 7 * 200) / 140)
    assert change.total.value == pytest.approx((7 * 125 + 7 * 200) / 140)
    assert change.total.top_factor.name == "cpm"
    assert change.mix.top_platform.platform == "facebook"
    assert dict(change.platforms)["facebook"].factors[0].change_rel == pytest.approx(0.25)
    assert dict(change.platforms)["google_ads"].change_rel == pytest.approx(0.0)
    text = change.sentence
    assert text.startswith("CPA rose 8.3 % vs the previous 7 days: CPM +8.3 %, CTR flat, conversion rate flat.")
    # By hand: yields (conversions per dollar) 0.1 → 0.08 on Facebook, 0.05 on Google; Facebook's spend share
    # 1/3 → 875/2275. Own: 0.35897 × 0.02 / L(0.061538, 0.066667) = 0.11206 log points = 11.7 points of the
    # 8.3 % rise; the extra spend went to the cheaper platform, a mix of −3.3 points.
    assert text.endswith("The largest part came from Facebook (12 points; its CPM +25 %); shifting budget between "
                         "platforms offset 3.3 points.")


def test_a_kpi_explained_from_one_of_two_files_says_so():
    start = date(2024, 3, 1)
    rows = []
    for day in range(14):
        rows.append({"date": start + timedelta(days=day), "platform": "facebook", "source_file": "ads.csv",
                     "spend": 100.0, "impressions": 10_000.0, "clicks": 200.0, "conversions": 10.0})
        # crm.csv reports spend and conversions only: nothing to split CPA's factors with.
        rows.append({"date": start + timedelta(days=day), "platform": "facebook", "source_file": "crm.csv",
                     "spend": 50.0, "conversions": 5.0})
    frame = frame_with(rows)
    [change] = explain_changes(frame, date_from=date(2024, 3, 8), date_to=date(2024, 3, 14), kpi_names=["cpa"])
    assert (change.rows_used, change.rows_total) == (14, 28)
    assert change.based_on == "based on 1 of 2 files"
    assert change.to_dict()["based_on"] == "based on 1 of 2 files"
    # Every row reporting every factor: no note.
    [whole] = explain_changes(frame.filter(pl.col("source_file") == "ads.csv"), date_from=date(2024, 3, 8),
                              date_to=date(2024, 3, 14), kpi_names=["cpa"])
    assert whole.based_on is None


def test_no_previous_data_gives_a_reason_sentence():
    rows = [{"date": date(2024, 3, 8), "platform": "x", "spend": 10.0, "impressions": 1000.0, "clicks": 10.0,
             "conversions": 1.0}]
    [change] = explain_changes(frame_with(rows), date_from=date(2024, 3, 8), date_to=date(2024, 3, 8),
                               kpi_names=["cpa"])
    assert change.sentence == ("CPA: There is no data for the previous day (7 Mar 2024) to compare with.")
    assert change.to_dict()["factors"] == []
