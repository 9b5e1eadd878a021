"""KPI engine: known answers, null on zero denominators, and invariance under splitting rows."""

from __future__ import annotations

import math
import re
from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics import display, kpis
from metrics.schema import MEASURES, conform
from tests.conftest import REPO


def frame(rows: list[dict]) -> pl.DataFrame:
    return conform(pl.DataFrame(rows, infer_schema_length=None))


# Two rows whose row-level CTRs (10 % and 1 %) average to 5.5 %, while the ratio of sums is 1.818 %.
TWO_ROWS = frame([
    {"date": date(2026, 1, 1), "platform": "facebook", "impressions": 100.0, "reach": 80.0, "clicks": 10.0,
     "link_clicks": 6.0, "spend": 20.0, "leads": 4.0, "conversions": 2.0, "revenue": 90.0, "likes": 5.0,
     "comments": 2.0, "shares": 1.0, "saves": 3.0, "engagements": 21.0, "video_views": 40.0,
     "followers": 1000.0, "new_followers": 30.0, "unfollows": 10.0, "messages": 10.0, "messages_answered": 8.0,
     "response_minutes": 120.0},
    {"date": date(2026, 1, 2), "platform": "facebook", "impressions": 1000.0, "reach": 700.0, "clicks": 10.0,
     "link_clicks": 4.0, "spend": 30.0, "leads": 1.0, "conversions": 3.0, "revenue": 60.0, "likes": 1.0,
     "comments": 0.0, "shares": 1.0, "saves": 0.0, "engagements": 12.0, "video_views": 60.0,
     "followers": 1020.0, "new_followers": 25.0, "unfollows": 5.0, "messages": 2.0, "messages_answered": 2.0,
     "response_minutes": 30.0},
])

# Sums: impressions 1100, reach 780, clicks 20, link_clicks 10, spend 50, leads 5, conversions 5,
# revenue 150, engagements 33, video_views 100, followers (latest) 1020, new 55, unfollows 15,
# messages 12, answered 10, response minutes 150, likes 6, comments 2, shares 2, saves 3.
EXPECTED = {
    "ctr": 20 / 1100,
    "link_ctr": 10 / 1100,
    "cpc": 50 / 20,
    "cpm": 1000 * 50 / 1100,
    "cpa": 50 / 5,
    "cpl": 50 / 5,
    "cvr": 5 / 20,
    "roas": 150 / 50,
    "roi": (150 - 50) / 50,
    "aov": 150 / 5,
    "frequency": 1100 / 780,
    "engagement_rate": 33 / 780,
    "er_impressions": 33 / 1100,
    "er_followers": 33 / 1020,
    "cost_per_engagement": 50 / 33,
    "weighted_engagement": 1 * 6 + 2 * 2 + 3 * 3 + 4 * 2,
    "video_view_rate": 100 / 1100,
    "net_follower_growth": 55 - 15,
    "follower_growth_rate": (55 - 15) / 1020,
    "unfollow_rate": 15 / 1020,
    "avg_first_response_min": 150 / 10,
    "unanswered_rate": (12 - 10) / 12,
    "share_of_spend": 1.0,
    "share_of_conversions": 1.0,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_kpi_is_a_ratio_of_sums(name):
    result = kpis.total(TWO_ROWS)
    assert result[name] == pytest.approx(EXPECTED[name], rel=1e-12)


def test_every_spec_kpi_is_declared_and_documented():
    """The SPEC §4 KPIs exist (more may be added), and every declared KPI is in the README's KPI table."""
    spec_names = {
        "ctr", "link_ctr", "cpc", "cpm", "cpa", "cpl", "cvr", "roas", "roi", "aov", "frequency",
        "engagement_rate", "er_impressions", "er_followers", "cost_per_engagement", "weighted_engagement",
        "video_view_rate", "net_follower_growth", "follower_growth_rate", "unfollow_rate",
        "avg_first_response_min", "unanswered_rate", "share_of_spend", "share_of_conversions",
    }
    assert spec_names <= set(kpis.KPI_NAMES)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    kpi_table = readme[readme.index("### KPIs"):]
    documented = set(re.findall(r"`([a-z_]+)`", kpi_table.split("\n\n", 3)[2]))
    assert set(kpis.KPI_NAMES) <= documented


def test_ctr_is_not_the_mean_of_row_ctrs():
    assert kpis.total(TWO_ROWS)["ctr"] == pytest.approx(0.0181818, abs=1e-7)


ZERO = frame([{"date": date(2026, 1, 1), "platform": "x", **{m: 0.0 for m in MEASURES}}])


@pytest.mark.parametrize("name", [k.name for k in kpis.KPIS if k.name not in ("weighted_engagement",
                                                                              "net_follower_growth")])
def test_zero_denominator_gives_null_not_zero_nan_or_inf(name):
    assert kpis.total(ZERO)[name] is None


def test_not_reported_measure_stays_null_not_zero():
    only_spend = frame([{"date": date(2026, 1, 1), "platform": "x", "spend": 10.0}])
    result = kpis.total(only_spend)
    assert result["spend"] == 10.0
    assert result["clicks"] is None
    assert result["cpc"] is None
    assert result["weighted_engagement"] is None


def test_roi_with_extra_costs_and_its_allocation_to_groups():
    rows = frame([
        {"platform": "facebook", "spend": 100.0, "revenue": 300.0},
        {"platform": "x", "spend": 300.0, "revenue": 300.0},
    ])
    assert kpis.total(rows, extra_costs=100)["roi"] == pytest.approx((600 - 400 - 100) / 500)
    by_platform = kpis.summarize(rows, ["platform"], extra_costs=100)
    # 100 of extra costs split 25 / 75 by spend.
    assert by_platform["roi"].to_list() == pytest.approx([(300 - 125) / 125, (300 - 375) / 375])


def test_engagement_weights_are_configurable():
    result = kpis.total(TWO_ROWS, weights={"likes": 1, "shares": 10})
    assert result["weighted_engagement"] == 6 + 10 * 2


def test_followers_are_a_stock_latest_value_per_series_summed_across_series():
    rows = frame([
        {"date": date(2026, 1, 1), "platform": "facebook", "campaign": None, "followers": 100.0},
        {"date": date(2026, 1, 5), "platform": "facebook", "campaign": None, "followers": 140.0},
        {"date": date(2026, 1, 3), "platform": "instagram", "campaign": None, "followers": 50.0},
        {"date": date(2026, 1, 2), "platform": "instagram", "campaign": None, "followers": 40.0},
    ])
    assert kpis.total(rows)["followers"] == 190.0
    by_week = kpis.summarize(rows, [], grain="month")
    assert by_week["followers"].to_list() == [190.0]


def test_reach_is_summed_and_labelled_as_such():
    assert kpis.total(TWO_ROWS)["reach"] == 780.0
    assert display.label("reach") == "Reach (sum of rows)"


def test_group_by_and_filters():
    rows = frame([
        {"date": date(2026, 1, 1), "platform": "facebook", "clicks": 1.0, "impressions": 10.0},
        {"date": date(2026, 1, 2), "platform": "x", "clicks": 3.0, "impressions": 10.0},
        {"date": date(2026, 1, 3), "platform": "x", "clicks": 5.0, "impressions": 10.0},
    ])
    out = kpis.summarize(rows, ["platform"], filters={"platform": ["x"]}, date_from=date(2026, 1, 3))
    assert out.select("platform", "clicks", "ctr").rows() == [("x", 5.0, 0.5)]


def test_grain_week_buckets_to_monday():
    rows = frame([
        {"date": date(2026, 11, 16), "clicks": 1.0},  # Monday
        {"date": date(2026, 11, 22), "clicks": 2.0},  # Sunday, same ISO week
        {"date": date(2026, 11, 23), "clicks": 4.0},  # next Monday
    ])
    out = kpis.summarize(rows, [], grain="week")
    assert out.select("date", "clicks").rows() == [(date(2026, 11, 16), 3.0), (date(2026, 11, 23), 4.0)]


def test_previous_period_comparison():
    rows = frame([
        {"date": date(2026, 1, 1), "platform": "x", "spend": 10.0, "conversions": 2.0},
        {"date": date(2026, 1, 2), "platform": "x", "spend": 10.0, "conversions": 2.0},
        {"date": date(2026, 1, 3), "platform": "x", "spend": 30.0, "conversions": 2.0},
        {"date": date(2026, 1, 4), "platform": "x", "spend": 20.0, "conversions": 0.0},
    ])
    out = kpis.summarize(rows, ["platform"], date_from=date(2026, 1, 3), date_to=date(2026, 1, 4),
                         compare="previous").row(0, named=True)
    assert (out["spend"], out["spend_prev"], out["spend_delta"]) == (50.0, 20.0, 30.0)
    assert out["spend_delta_rel"] == pytest.approx(1.5)
    assert (out["cpa"], out["cpa_prev"]) == (25.0, 5.0)
    assert out["cpa_delta_rel"] == pytest.approx(4.0)


def test_relative_delta_is_null_when_previous_is_zero():
    rows = frame([
        {"date": date(2026, 1, 1), "spend": 0.0},
        {"date": date(2026, 1, 2), "spend": 5.0},
    ])
    out = kpis.total(rows, date_from=date(2026, 1, 2), date_to=date(2026, 1, 2), compare="previous")
    assert out["spend_prev"] == 0.0
    assert out["spend_delta"] == 5.0
    assert out["spend_delta_rel"] is None


def test_unknown_dimension_is_refused():
    with pytest.raises(ValueError):
        kpis.summarize(TWO_ROWS, ["spend"])


ADDITIVE = ["impressions", "reach", "clicks", "spend", "conversions", "revenue", "engagements", "leads",
            "likes", "comments", "shares", "saves", "messages", "messages_answered", "response_minutes"]

row_strategy = st.fixed_dictionaries({
    "platform": st.sampled_from(["facebook", "x", "tiktok"]),
    **{m: st.one_of(st.none(), st.integers(0, 10_000).map(float)) for m in ADDITIVE},
})


def _split(row: dict, fraction: float) -> tuple[dict, dict]:
    first, second = dict(row), dict(row)
    for m in ADDITIVE:
        if row[m] is not None:
            first[m] = row[m] * fraction
            second[m] = row[m] - first[m]
    return first, second


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(row_strategy, min_size=1, max_size=12), fraction=st.floats(0.05, 0.95),
       which=st.integers(0, 11), seed=st.randoms())
def test_kpis_do_not_change_when_rows_are_split_or_reordered(rows, fraction, which, seed):
    original = kpis.summarize(frame(rows), ["platform"])
    which %= len(rows)
    split_rows = rows[:which] + list(_split(rows[which], fraction)) + rows[which + 1:]
    seed.shuffle(split_rows)
    changed = kpis.summarize(frame(split_rows), ["platform"])
    assert original["platform"].to_list() == changed["platform"].to_list()
    for name in [k.name for k in kpis.KPIS if k.name not in ("er_followers", "follower_growth_rate",
                                                              "unfollow_rate")] + ["share_of_spend"]:
        for a, b in zip(original[name].to_list(), changed[name].to_list()):
            if a is None or b is None:
                # A zero denominator may become a tiny float after splitting; both must agree on null.
                assert a is None and b is None, name
            else:
                assert math.isfinite(a) and b == pytest.approx(a, rel=1e-9, abs=1e-9), name


# --- coverage-matched KPIs (SPEC §4) ------------------------------------------------------------

def test_a_file_without_reach_adds_nothing_to_engagement_rate():
    # The blended-upload bug: engagements of both files over the reach of one (8,372 %).
    meta = {"platform": "facebook", "source_file": "meta.csv", "engagements": 50.0, "reach": 1000.0,
            "clicks": 40.0, "impressions": 2000.0}
    sheet = {"platform": "facebook", "source_file": "sheet.csv", "engagements": 9000.0, "clicks": 9000.0,
             "impressions": 100000.0}
    result = kpis.total(frame([meta, sheet]))
    assert result["engagement_rate"] == pytest.approx(50 / 1000)
    assert result["engagement_rate_coverage"] == pytest.approx(1 / 2)
    assert result["ctr"] == pytest.approx((40 + 9000) / (2000 + 100000))
    assert result["ctr_coverage"] == 1.0
    # Plain totals stay plain sums.
    assert (result["engagements"], result["reach"]) == (9050.0, 1000.0)


def test_a_row_without_conversions_adds_nothing_to_cpa():
    rows = frame([{"spend": 100.0, "conversions": 4.0}, {"spend": 60.0}])
    result = kpis.total(rows)
    assert result["cpa"] == pytest.approx(25.0)
    assert result["cpa_coverage"] == pytest.approx(0.5)
    assert result["spend"] == 160.0


def test_coverage_of_a_sum_kpi_counts_rows_reporting_any_part():
    rows = frame([{"likes": 10.0}, {"shares": 2.0}, {"clicks": 5.0}, {"clicks": 1.0}])
    result = kpis.total(rows)
    assert result["weighted_engagement"] == 10 * 1 + 2 * 4
    assert result["weighted_engagement_coverage"] == pytest.approx(2 / 4)


def test_stock_kpis_read_the_followers_of_their_own_rows():
    # Followers counted by a page file without engagements do not dilute er_followers.
    rows = frame([
        {"date": date(2026, 1, 1), "platform": "instagram", "campaign": "Organic", "followers": 1000.0,
         "engagements": 30.0},
        {"date": date(2026, 1, 2), "platform": "instagram", "campaign": "Organic", "followers": 1010.0,
         "engagements": 20.0},
        {"date": date(2026, 1, 3), "platform": "facebook", "campaign": "Organic", "followers": 5000.0},
    ])
    result = kpis.total(rows)
    assert result["followers"] == 1010.0 + 5000.0
    assert result["er_followers"] == pytest.approx((30 + 20) / 1010)
    assert result["er_followers_coverage"] == pytest.approx(2 / 3)


def test_net_follower_growth_counts_rows_reporting_new_followers():
    rows = frame([{"new_followers": 10.0, "unfollows": 3.0}, {"new_followers": 5.0}, {"unfollows": 100.0}])
    result = kpis.total(rows)
    assert result["net_follower_growth"] == 10 + 5 - 3
    assert result["net_follower_growth_coverage"] == pytest.approx(2 / 3)


def test_coverage_is_null_for_a_group_without_rows():
    empty = frame([{"date": date(2026, 1, 1), "clicks": 1.0, "impressions": 2.0}])
    result = kpis.total(empty, date_from=date(2027, 1, 1))
    assert result["ctr"] is None and result["ctr_coverage"] is None


def test_every_kpi_declares_the_measures_of_its_formula():
    assert kpis.kpi("engagement_rate").needs == ("engagements", "reach")
    assert kpis.kpi("cpm").needs == ("spend", "impressions")
    assert kpis.kpi("follower_growth_rate").needs == ("new_followers", "followers")  # unfollows optional
    assert kpis.kpi("weighted_engagement").needs == ()
    assert {k.name for k in kpis.KPIS if k.is_money} == {"cpc", "cpm", "cpa", "cpl", "roas", "roi", "aov",
                                                         "cost_per_engagement"}
    assert kpis.kpi("share_of_spend").is_money and not kpis.kpi("share_of_conversions").is_money


# --- currencies (SPEC §4) -----------------------------------------------------------------------

MIXED_ROWS = frame([
    {"platform": "facebook", "source_file": "ads.csv", "currency": "USD", "spend": 100.0, "revenue": 300.0,
     "clicks": 50.0, "impressions": 1000.0, "conversions": 5.0},
    {"platform": "google_ads", "source_file": "sheet.csv", "currency": None, "spend": 40.0, "clicks": 10.0,
     "impressions": 500.0, "conversions": 2.0},
    {"platform": "instagram", "source_file": "organic.csv", "currency": None, "impressions": 2000.0,
     "reach": 800.0, "engagements": 90.0},
])


def test_mixed_currencies_give_no_money_figures():
    result = kpis.total(MIXED_ROWS)
    assert result["currency"] == "mixed"
    for name in ("spend", "revenue", "cpc", "cpm", "cpa", "roas", "roi", "share_of_spend"):
        assert result[name] is None, name
    # Everything that is not money is still there.
    assert result["ctr"] == pytest.approx(60 / 1500)
    assert result["conversions"] == 7.0
    assert result["share_of_conversions"] == 1.0


def test_each_group_carries_its_own_currency_and_shares_of_spend_need_one_currency():
    by_file = kpis.summarize(MIXED_ROWS, ["source_file"]).select("source_file", "currency", "spend", "cpc",
                                                                  "share_of_spend", "share_of_conversions")
    assert by_file.rows() == [
        ("ads.csv", "USD", 100.0, 2.0, None, pytest.approx(5 / 7)),
        ("organic.csv", None, None, None, None, None),
        ("sheet.csv", None, 40.0, 4.0, None, pytest.approx(2 / 7)),
    ]


def test_rows_without_money_do_not_make_a_group_mixed():
    # An organic file (no spend, no currency) blended with a USD ads file: the money is USD.
    rows = MIXED_ROWS.filter(pl.col("source_file") != "sheet.csv")
    result = kpis.total(rows)
    assert (result["currency"], result["spend"], result["cpm"]) == ("USD", 100.0, pytest.approx(100.0))
    assert result["cpm_coverage"] == pytest.approx(1 / 2)


def test_one_file_of_unknown_currency_has_money_without_a_code():
    result = kpis.total(MIXED_ROWS.filter(pl.col("source_file") == "sheet.csv"))
    assert (result["currency"], result["spend"], result["cpc"]) == (None, 40.0, 4.0)


def test_previous_money_in_another_currency_is_not_compared():
    rows = frame([
        {"date": date(2026, 1, 1), "currency": "EUR", "spend": 10.0, "clicks": 5.0},
        {"date": date(2026, 1, 2), "currency": "USD", "spend": 30.0, "clicks": 5.0},
    ])
    out = kpis.total(rows, date_from=date(2026, 1, 2), date_to=date(2026, 1, 2), compare="previous")
    assert (out["spend"], out["spend_prev"], out["spend_delta_rel"]) == (30.0, None, None)
    assert (out["clicks_prev"], out["clicks_delta"]) == (5.0, 0.0)


# --- properties -------------------------------------------------------------------------------

MEASURE_VALUE = st.one_of(st.none(), st.integers(0, 1_000).map(float))
file_row = st.fixed_dictionaries({
    "date": st.sampled_from([date(2026, 3, d) for d in range(1, 6)]),
    "platform": st.sampled_from(["facebook", "x"]),
    "campaign": st.sampled_from(["A", "B"]),
    **{m: MEASURE_VALUE for m in MEASURES},
})


def _kpi_values(result: pl.DataFrame, name: str, platforms: list[str]) -> list:
    return [result.filter(pl.col("platform") == p)[name][0] for p in platforms]


def _close(a: list, b: list) -> bool:
    def equal(x, y) -> bool:
        if isinstance(x, float) and isinstance(y, float):
            return x == pytest.approx(y, rel=1e-9, abs=1e-12)
        return x == y

    return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))


@settings(max_examples=60, deadline=None)
@given(first=st.lists(file_row, min_size=1, max_size=10), second=st.lists(file_row, min_size=1, max_size=10),
       name=st.sampled_from(kpis.KPI_NAMES), data=st.data())
def test_adding_a_file_that_lacks_a_kpis_measures_never_changes_it(first, second, name, data):
    needed, used = kpis.kpi(name).measures()
    lacking = []
    for row in second:
        row = dict(row)
        if needed:  # every row misses at least one measure the KPI needs
            row[data.draw(st.sampled_from(needed))] = None
        else:  # a sum of optional parts: the file reports none of them
            row.update(dict.fromkeys(used))
        lacking.append(row)
    alone = frame([{**r, "source_file": "one.csv", "currency": "USD"} for r in first])
    both = pl.concat([alone, frame([{**r, "source_file": "two.csv", "currency": "USD"} for r in lacking])])
    platforms = sorted(set(alone["platform"]))
    assert _close([kpis.total(both)[name]], [kpis.total(alone)[name]]), name
    assert _close(_kpi_values(kpis.summarize(both, ["platform"]), name, platforms),
                  _kpi_values(kpis.summarize(alone, ["platform"]), name, platforms)), name


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(file_row, min_size=1, max_size=12), files=st.lists(st.booleans(), min_size=12, max_size=12))
def test_splitting_a_groups_rows_between_two_files_never_changes_a_kpi(rows, files):
    one = frame([{**r, "source_file": "all.csv", "currency": "USD"} for r in rows])
    two = frame([{**r, "source_file": "a.csv" if f else "b.csv", "currency": "USD"} for r, f in zip(rows, files)])
    for by in ((), ("platform",), ("platform", "campaign")):
        left, right = kpis.summarize(one, by), kpis.summarize(two, by)
        for name in (*kpis.KPI_NAMES, *kpis.COVERAGE_NAMES, "currency"):
            assert _close(left[name].to_list(), right[name].to_list()), (by, name)


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({
    "platform": st.sampled_from(["facebook", "x"]), **{m: st.integers(0, 1_000).map(float) for m in MEASURES}}),
    min_size=1, max_size=8))
def test_coverage_is_one_when_every_row_reports_everything(rows):
    for by in ((), ("platform",)):
        result = kpis.summarize(frame(rows), by)
        for name in kpis.COVERAGE_NAMES:
            assert result[name].to_list() == [1.0] * result.height, name


def test_coverage_basis_names_the_files_or_platforms_a_value_rests_on():
    rows = frame([
        {"platform": "facebook", "source_file": "meta.csv", "engagements": 50.0, "reach": 1000.0, "clicks": 5.0},
        {"platform": "facebook", "source_file": "sheet.csv", "engagements": 90.0, "clicks": 9.0},
        {"platform": "email", "source_file": "sheet.csv", "engagements": 10.0, "clicks": 10.0, "reach": 100.0},
        {"platform": "email", "source_file": "sheet.csv", "clicks": 3.0},
    ])
    total = kpis.total(rows)
    by_file = kpis.summarize(rows, ["source_file"])
    by_platform = kpis.summarize(rows, ["platform"])
    breakdowns = [("source_file", "files", by_file), ("platform", "platforms", by_platform)]
    # Both files have rows with reach, both platforms too: only the share of rows is left to say.
    assert kpis.coverage_basis("engagement_rate", total["engagement_rate_coverage"], breakdowns) == (
        "based on 50.0 % of the rows")
    meta_only = rows.filter(pl.col("platform") == "facebook")
    facebook_files = [("source_file", "files", kpis.summarize(meta_only, ["source_file"]))]
    assert kpis.coverage_basis("engagement_rate", 0.5, facebook_files) == "based on 1 of 2 files"
    assert kpis.coverage_basis("ctr", 1.0, breakdowns) is None
    assert kpis.covering("engagement_rate", facebook_files[0][2], "source_file") == (["meta.csv"], 2)
