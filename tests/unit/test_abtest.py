"""A/B engine: known answers (computed once with scipy/statsmodels, written to 5 decimals), input builders,
degenerate inputs, invariants and the plain-language verdict."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.abtest import (
    AbResult,
    VariantStats,
    adjust_p_values,
    analyze,
    compare_means,
    compare_proportions,
    guess_control,
    infer_metric_kind,
    natural_key,
    srm_check,
    stats_from_aggregates,
    stats_from_counts,
    stats_from_rows,
    stats_from_summary,
    verdict,
)
from metrics.errors import UsageError

# The gbstats / SPEC example: control n=3407, mean 0.41, sd 3.9; variant n=3461, mean 0.70, sd 6.2.
MEAN_A = VariantStats("A", 3407, 1396.87, 52377.9767)
MEAN_B = VariantStats("B", 3461, 2422.7, 134698.29)


def as_json(result: AbResult) -> dict:
    """The JSON a consumer would see; fails on NaN or infinity."""
    return json.loads(json.dumps(result.to_dict(), allow_nan=False))


# ----------------------------------------------------------------------------------------------------------------
# Known answers
# ----------------------------------------------------------------------------------------------------------------


def test_proportions_known_answer():
    # statsmodels proportions_ztest([1150, 1000], [10000, 10000]) → z 3.42427, p 0.00061645
    c = compare_proportions(VariantStats.from_counts("A", 10000, 1000), VariantStats.from_counts("B", 10000, 1150))
    assert c.lift_abs == pytest.approx(0.015, abs=1e-12)
    assert c.p_value == pytest.approx(0.00061645, abs=5e-9)
    assert c.ci_abs == pytest.approx((0.00642, 0.02358), abs=5e-6)  # unpooled Wald
    assert c.lift_rel == pytest.approx(0.15, abs=1e-12)
    assert c.ci_rel == pytest.approx((0.05790, 0.24210), abs=5e-6)  # delta method, normal quantile
    assert c.significant


def test_proportions_variant_ci_is_wilson():
    result = analyze(stats_from_counts(10000, 1000, 10000, 1150), "A", "proportion")
    a = result.to_dict()["variants"][0]
    assert a == {"name": "A", "n": 10000, "successes": 1000, "rate": 0.1,
                 "ci": pytest.approx([0.09427, 0.10603], abs=5e-6)}


def test_welch_known_answer():
    # scipy ttest_ind_from_stats(0.7, 6.2, 3461, 0.41, 3.9, 3407, equal_var=False) → t 2.32402, p 0.02016;
    # gbstats TwoSidedTTest publishes ci [0.04538, 0.53462] (absolute) and [-0.03526, 1.44989] (relative).
    c = compare_means(MEAN_A, MEAN_B)
    assert c.lift_abs == pytest.approx(0.29, abs=1e-9)
    assert c.p_value == pytest.approx(0.02016, abs=5e-6)
    assert c.ci_abs == pytest.approx((0.04538, 0.53462), abs=5e-6)
    assert c.lift_rel == pytest.approx(0.70732, abs=5e-6)
    assert c.ci_rel == pytest.approx((-0.03526, 1.44989), abs=5e-6)
    assert c.chance_to_beat is None and "chance_to_beat" not in c.to_dict()


def test_mean_variant_summary():
    result = analyze([MEAN_A, MEAN_B], "A", "mean")
    a = result.to_dict()["variants"][0]
    assert a["mean"] == pytest.approx(0.41) and a["sd"] == pytest.approx(3.9, abs=1e-9)
    assert a["ci"] == pytest.approx([0.27900, 0.54100], abs=5e-6)  # t interval, 3406 df
    assert "rate" not in a and "successes" not in a


def test_srm_known_answer():
    srm = srm_check([1000, 1200])
    assert srm.p_value == pytest.approx(0.000020079, abs=5e-10)
    assert srm.mismatch and srm.expected_split == (50.0, 50.0)
    assert srm_check([1000, 1200], [30, 70]).expected_split == (30.0, 70.0)
    assert not srm_check([3000, 7000], [30, 70]).mismatch


@pytest.mark.parametrize("correction, expected", [
    ("holm", [0.05, 0.12, 0.12, 0.03, 1.0, 1.0]),
    ("bh", [0.03, 0.06, 0.06, 0.03, 0.6, 0.6]),
    ("none", [0.01, 0.04, 0.03, 0.005, 0.55, 0.6]),
])
def test_multiple_comparison_adjustment(correction, expected):
    assert adjust_p_values([0.01, 0.04, 0.03, 0.005, 0.55, 0.6], correction) == pytest.approx(expected, abs=1e-12)


def test_adjustment_skips_missing_p_values():
    assert adjust_p_values([0.01, None, 0.04], "holm") == pytest.approx([0.02, None, 0.04])


def test_three_variants_holm_and_significance():
    stats = [VariantStats.from_counts("control", 5000, 500), VariantStats.from_counts("B", 5000, 560),
             VariantStats.from_counts("C", 5000, 600)]
    result = analyze(stats, "control", "proportion")
    out = as_json(result)
    assert [v["name"] for v in out["variants"]] == ["control", "B", "C"]
    raw = [c["p_value"] for c in out["comparisons"]]
    assert [c["p_value_adjusted"] for c in out["comparisons"]] == pytest.approx(adjust_p_values(raw, "holm"))
    for c in out["comparisons"]:
        assert c["significant"] == (c["p_value_adjusted"] < 0.05)


def test_json_shape_matches_spec():
    out = as_json(analyze(stats_from_counts(10000, 1000, 10000, 1150), "A", "proportion"))
    assert set(out) == {"metric_kind", "control", "alpha", "sequential", "correction", "variants", "comparisons",
                        "srm", "warnings"}
    assert set(out["comparisons"][0]) == {"variant", "lift_abs", "ci_abs", "lift_rel", "ci_rel", "p_value",
                                          "p_value_adjusted", "chance_to_beat", "expected_loss", "significant"}
    assert set(out["srm"]) == {"p_value", "expected_split", "mismatch"}
    means = as_json(analyze([MEAN_A, MEAN_B], "A", "mean"))
    assert set(means["variants"][0]) == {"name", "n", "mean", "sd", "ci"}
    assert set(means["comparisons"][0]) == {"variant", "lift_abs", "ci_abs", "lift_rel", "ci_rel", "p_value",
                                            "p_value_adjusted", "significant"}


# ----------------------------------------------------------------------------------------------------------------
# Builders: every input shape gives the same sufficient statistics
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", [
    [1, 0, 0, 1, 1, 0],
    [True, False, False, True, True, False],
    ["true", "false", "FALSE", "True", "yes", "no"],
    ["1", "0", "0", "1", "1", "0"],
])
def test_rows_builder_reads_every_binary_encoding(outcome):
    frame = pl.DataFrame({"group": ["a", "a", "a", "b", "b", "b"], "converted": outcome})
    assert infer_metric_kind(frame, "converted") == "proportion"
    stats = stats_from_rows(frame, "group", "converted")
    assert [(s.name, s.n, s.sum) for s in stats] == [("a", 3, 1), ("b", 3, 2)]


def test_rows_builder_counts_unreadable_outcomes():
    frame = pl.DataFrame({"v": ["a", "a", "a", None, "b"], "y": ["1", "", "n/a", "1", "0"]})
    stats = stats_from_rows(frame, "v", "y", kind="proportion")
    assert [(s.name, s.n, s.sum, s.rows_ignored) for s in stats] == [("a", 1, 1, 2), ("b", 1, 0, 0)]
    result = analyze(stats, "a", "proportion")
    assert any(w.code == "rows_ignored" and w.variant == "a" for w in result.warnings)


def test_rows_builder_numeric_value_and_lazy_frame():
    frame = pl.LazyFrame({"arm": [1, 1, 2, 2, 2], "revenue": [10.0, 20.0, 5.0, 7.0, None]})
    stats = stats_from_rows(frame, "arm", "revenue")
    assert infer_metric_kind(frame, "revenue") == "mean"
    assert stats == [VariantStats("1", 2, 30.0, 500.0, 0), VariantStats("2", 2, 12.0, 74.0, 1)]


def test_rows_builder_rejects_non_binary_proportion():
    frame = pl.DataFrame({"v": ["a", "b"], "y": [2, 0]})
    with pytest.raises(UsageError, match="other than 0/1"):
        stats_from_rows(frame, "v", "y", kind="proportion")


def test_missing_column_names_available_ones():
    frame = pl.DataFrame({"group": ["a"], "converted": [1]})
    with pytest.raises(UsageError, match=r"'convert'.*'group', 'converted'"):
        stats_from_rows(frame, "group", "convert")


def test_aggregates_builder_sums_rows_of_a_variant():
    # Canonical campaign table: several dates per variant, clicks = trials, conversions = successes.
    frame = pl.DataFrame({"variant": ["A", "B", "A", "B", "A"], "clicks": [100.0, 120.0, 300.0, 280.0, None],
                          "conversions": [10.0, 15.0, 20.0, 30.0, 4.0]})
    stats = stats_from_aggregates(frame, "variant", "clicks", "conversions")
    assert stats == [VariantStats("A", 400.0, 30.0, 30.0, 1), VariantStats("B", 400.0, 45.0, 45.0, 0)]


def test_summary_builder_equals_raw_values():
    values_a, values_b = [1.0, 2.0, 3.0, 4.0], [2.0, 2.5, 9.0]
    raw = [VariantStats.from_values("a", values_a), VariantStats.from_values("b", values_b)]

    def sd(v):
        m = sum(v) / len(v)
        return math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))

    frame = pl.DataFrame({"v": ["a", "b"], "n": [4, 3], "mean": [2.5, sum(values_b) / 3],
                          "sd": [sd(values_a), sd(values_b)]})
    built = stats_from_summary(frame, "v", "n", "mean", "sd")
    for got, want in zip(built, raw):
        assert got.name == want.name and got.n == want.n
        assert got.sum == pytest.approx(want.sum) and got.sum_squares == pytest.approx(want.sum_squares)


def test_summary_rows_of_one_variant_pool_exactly():
    part1, part2 = [1.0, 5.0, 6.0], [2.0, 8.0]
    whole = VariantStats.from_values("a", part1 + part2)
    frame = pl.DataFrame({"v": ["a", "a"], "n": [3, 2], "mean": [4.0, 5.0],
                          "sd": [math.sqrt(7.0), math.sqrt(18.0)]})
    (pooled,) = stats_from_summary(frame, "v", "n", "mean", "sd")
    assert pooled.n == whole.n and pooled.sum == pytest.approx(whole.sum)
    assert pooled.sample_variance == pytest.approx(whole.sample_variance)


def test_float_variant_labels_read_as_whole_numbers():
    frame = pl.DataFrame({"Promotion": [1.0, 2.0, 2.0, None, 10.0], "sales": [1.0, 2.0, 3.0, 4.0, 5.0]})
    assert [s.name for s in stats_from_rows(frame, "Promotion", "sales")] == ["1", "10", "2"]


def test_an_empty_control_is_reported_once():
    stats = [VariantStats.from_counts("A", 0, 0), VariantStats.from_counts("B", 100, 5),
             VariantStats.from_counts("C", 100, 6)]
    codes = [w.code for w in analyze(stats, "A", "proportion").warnings]
    assert codes.count("empty_arm") == 1


def test_natural_order_and_control_guess():
    assert sorted(["10", "2", "1"], key=natural_key) == ["1", "2", "10"]
    assert guess_control(["treatment", "control"]) == "control"
    assert guess_control(["B", "A"]) == "A"
    assert guess_control(["gate_40", "gate_30"]) == "gate_30"
    assert guess_control([]) is None


# ----------------------------------------------------------------------------------------------------------------
# Degenerate inputs: warnings and nulls, never an exception
# ----------------------------------------------------------------------------------------------------------------

DEGENERATE = {
    "empty_arm": ([VariantStats.from_counts("A", 0, 0), VariantStats.from_counts("B", 1000, 50)], "A",
                  "proportion", {"empty_arm"}),
    "one_user_each": ([VariantStats.from_counts("A", 1, 1), VariantStats.from_counts("B", 1, 0)], "A",
                      "proportion", {"small_sample", "few_conversions"}),
    "zero_conversions": ([VariantStats.from_counts("A", 1000, 0), VariantStats.from_counts("B", 1000, 0)], "A",
                         "proportion", {"no_variance", "few_conversions"}),
    "all_converted": ([VariantStats.from_counts("A", 500, 500), VariantStats.from_counts("B", 500, 500)], "A",
                      "proportion", {"no_variance"}),
    "zero_baseline": ([VariantStats.from_counts("A", 1000, 0), VariantStats.from_counts("B", 1000, 30)], "A",
                      "proportion", {"zero_baseline"}),
    "invalid_counts": ([VariantStats.from_counts("A", 100, 150), VariantStats.from_counts("B", 100, 30)], "A",
                       "proportion", {"invalid_counts"}),
    "zero_variance_means": ([VariantStats.from_values("A", [5.0] * 200), VariantStats.from_values("B", [5.0] * 200)],
                            "A", "mean", {"no_variance"}),
    "constant_non_round_values": ([VariantStats.from_values("A", [0.1] * 200),
                                   VariantStats.from_values("B", [0.1] * 200)], "A", "mean", {"no_variance"}),
    "one_unit_mean": ([VariantStats.from_values("A", [3.0]), VariantStats.from_values("B", [1.0, 2.0, 3.0])], "A",
                      "mean", {"too_few_units", "small_sample"}),
    "control_missing": ([VariantStats.from_counts("A", 1000, 50), VariantStats.from_counts("B", 1000, 60)],
                        "control", "proportion", {"control_missing"}),
    "no_variants_at_all": ([], "A", "proportion", {"control_missing"}),
    "only_control": ([VariantStats.from_counts("A", 1000, 50)], "A", "proportion", {"no_variants"}),
    "three_variants_one_empty": ([VariantStats.from_counts("A", 1000, 50), VariantStats.from_counts("B", 1000, 60),
                                  VariantStats.from_counts("C", 0, 0)], "A", "proportion", {"empty_arm", "srm"}),
}


@pytest.mark.parametrize("name", sorted(DEGENERATE))
def test_degenerate_inputs_give_warnings_not_exceptions(name):
    stats, control, kind, codes = DEGENERATE[name]
    for sequential in (False, True):
        result = analyze(stats, control, kind, sequential=sequential)
        out = as_json(result)  # no NaN / inf anywhere
        assert codes <= {w["code"] for w in out["warnings"]}, out["warnings"]
        for w in out["warnings"]:
            assert w["message"].endswith(".") and "\n" not in w["message"]
        for c in result.comparisons:
            assert isinstance(verdict(result, c), str)
            if c.p_value is None:
                assert not c.significant


def test_degenerate_nulls_where_undefined():
    zero = analyze(DEGENERATE["zero_conversions"][0], "A", "proportion").to_dict()["comparisons"][0]
    assert zero["p_value"] is None and zero["lift_rel"] is None and zero["ci_abs"] is None
    assert zero["chance_to_beat"] == pytest.approx(0.5, abs=1e-9)  # symmetric posteriors
    empty = analyze(DEGENERATE["empty_arm"][0], "A", "proportion").to_dict()
    assert empty["variants"][0]["rate"] is None and empty["variants"][0]["ci"] is None
    assert empty["comparisons"][0]["lift_abs"] is None and empty["comparisons"][0]["chance_to_beat"] is None
    missing = analyze(DEGENERATE["control_missing"][0], "control", "proportion").to_dict()
    assert missing["comparisons"] == [] and [v["name"] for v in missing["variants"]] == ["A", "B"]
    assert analyze([], "A", "mean").to_dict()["srm"]["p_value"] is None


def test_guardrail_warnings():
    small = analyze(stats_from_counts(80, 10, 90, 20), "A", "proportion")
    codes = {(w.code, w.variant) for w in small.warnings}
    assert {("small_sample", "A"), ("small_sample", "B"), ("few_conversions", "A"), ("few_conversions", "B"),
            ("large_lift", "B")} <= codes
    fine = analyze(stats_from_counts(10000, 1000, 10000, 1150), "A", "proportion")
    assert fine.warnings == ()


def test_expected_split_of_wrong_length_is_a_warning():
    result = analyze(stats_from_counts(1000, 100, 1000, 110), "A", "proportion", expected_split=[30, 30, 40])
    assert result.srm.p_value is None and any(w.code == "expected_split_invalid" for w in result.warnings)


def test_impossible_settings_are_programmer_errors():
    with pytest.raises(ValueError):
        analyze([], "A", "proportion", alpha=1.5)
    with pytest.raises(ValueError):
        analyze([], "A", "ratio")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------------
# Invariants
# ----------------------------------------------------------------------------------------------------------------

counts = st.integers(min_value=1, max_value=50_000).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(min_value=0, max_value=n)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=counts, b=counts)
def test_swapping_arms_negates_lift_and_keeps_p(a, b):
    sa, sb = VariantStats.from_counts("A", *a), VariantStats.from_counts("B", *b)
    ab, ba = compare_proportions(sa, sb), compare_proportions(sb, sa)
    assert ab.lift_abs == pytest.approx(-ba.lift_abs, abs=1e-15)
    if ab.p_value is None:
        assert ba.p_value is None
    else:
        assert ab.p_value == pytest.approx(ba.p_value, rel=1e-9, abs=1e-300)
    if ab.ci_abs is not None:
        assert ab.ci_abs == pytest.approx((-ba.ci_abs[1], -ba.ci_abs[0]), abs=1e-12)
    assert ab.chance_to_beat + ba.chance_to_beat == pytest.approx(1.0, abs=1e-9)
    seq_ab, seq_ba = compare_proportions(sa, sb, sequential=True), compare_proportions(sb, sa, sequential=True)
    assert (seq_ab.p_value is None) == (seq_ba.p_value is None)
    if seq_ab.p_value is not None:
        assert seq_ab.p_value == pytest.approx(seq_ba.p_value, rel=1e-6, abs=1e-300)


means = st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=2, max_size=40)


@settings(max_examples=100, deadline=None)
@given(x=means, y=means)
def test_swapping_arms_negates_mean_difference(x, y):
    sa, sb = VariantStats.from_values("A", x), VariantStats.from_values("B", y)
    ab, ba = compare_means(sa, sb), compare_means(sb, sa)
    assert ab.lift_abs == pytest.approx(-ba.lift_abs, abs=1e-9)
    assert (ab.p_value is None) == (ba.p_value is None)
    if ab.p_value is not None:
        assert ab.p_value == pytest.approx(ba.p_value, rel=1e-6, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(a=counts, b=counts, splits=st.integers(min_value=1, max_value=5))
def test_aggregated_rows_split_into_parts_give_same_result(a, b, splits):
    rows = {"variant": [], "trials": [], "successes": []}
    for name, (n, x) in (("A", a), ("B", b)):
        for i in range(splits):  # n and x spread over several rows, like daily rows of a campaign table
            rows["variant"].append(name)
            rows["trials"].append(float(n // splits + (n % splits if i == 0 else 0)))
            rows["successes"].append(float(x // splits + (x % splits if i == 0 else 0)))
    built = stats_from_aggregates(pl.DataFrame(rows), "variant", "trials", "successes")
    assert as_json(analyze(built, "A", "proportion")) == as_json(analyze(stats_from_counts(*a, *b), "A",
                                                                          "proportion"))


# ----------------------------------------------------------------------------------------------------------------
# Verdict
# ----------------------------------------------------------------------------------------------------------------


def test_verdict_significant():
    result = analyze(stats_from_counts(10000, 1000, 10000, 1150), "A", "proportion")
    text = verdict(result, result.comparisons[0])
    assert text == ("B converts 15.0 % better than A (95 % CI +5.8 % to +24.2 %); the chance that B is better is "
                    "more than 99.9 %.")


def test_verdict_significant_negative():
    result = analyze(stats_from_counts(10000, 1150, 10000, 1000), "A", "proportion")
    text = verdict(result, result.comparisons[0])
    assert text.startswith("B converts 13.0 % worse than A (95 % CI -20.")
    assert "less than 0.1 %" in text


def test_verdict_not_significant_says_how_much_more_data():
    result = analyze(stats_from_counts(1000, 100, 1000, 110), "A", "proportion")
    text = verdict(result, result.comparisons[0])
    assert text.startswith("No clear winner yet: B is +10.0 % against A")
    assert "better than" not in text and "worse than" not in text
    # Planner at baseline 10 %, lift +1 point: 14,751 per arm, so 13,751 more than the 1,000 there are.
    assert "about 13,751 more units per variant (14,751 per variant in total)" in text


def test_verdict_negative_not_significant_and_negligible_lift():
    drop = analyze(stats_from_counts(1000, 100, 1000, 90), "A", "proportion")
    assert "B is -10.0 % against A" in verdict(drop, drop.comparisons[0])
    flat = analyze(stats_from_counts(10000, 1000, 10000, 1001), "A", "proportion")
    assert "too small to detect" in verdict(flat, flat.comparisons[0])


def test_verdict_without_a_plan_asks_for_more_data():
    # control has no conversions: no relative lift and no baseline for the planner
    result = analyze(stats_from_counts(200, 0, 200, 2), "A", "proportion")
    text = verdict(result, result.comparisons[0])
    assert text.startswith("No clear winner yet: B is +1.00 pp against A")
    assert text.endswith("The test needs more data; keep it running.")


def test_verdict_degenerate_and_srm():
    empty = analyze(DEGENERATE["empty_arm"][0], "A", "proportion")
    text = verdict(empty, empty.comparisons[0])
    assert "not enough data" in text and "sample-ratio mismatch" in text


def test_verdict_means():
    result = analyze([MEAN_A, MEAN_B], "A", "mean")
    # Welch is significant but the delta-method relative interval crosses 0: speak in absolute units.
    assert verdict(result, result.comparisons[0]) == "B averages 0.29 higher than A (95 % CI +0.04538 to +0.5346)."
    drop = analyze([MEAN_B, VariantStats.from_summary("C", 3400, 0.2, 1.0)], "B", "mean")
    assert verdict(drop, drop.comparisons[0]).startswith("C averages 71.4 % lower than B (95 % CI -8")


@settings(max_examples=200, deadline=None)
@given(a=counts, b=counts)
def test_verdict_never_claims_unsupported_significance(a, b):
    result = analyze(stats_from_counts(*a, *b), "A", "proportion")
    comparison = result.comparisons[0]
    text = verdict(result, comparison)
    claims = any(word in text for word in ("better than", "worse than"))
    assert claims == bool(comparison.significant)


@settings(max_examples=100, deadline=None)
@given(x=means, y=means, sequential=st.booleans())
def test_verdict_for_means_never_claims_unsupported_significance(x, y, sequential):
    result = analyze([VariantStats.from_values("A", x), VariantStats.from_values("B", y)], "A", "mean",
                     sequential=sequential)
    comparison = result.comparisons[0]
    text = verdict(result, comparison)
    claims = any(word in text for word in ("higher than", "lower than"))
    assert claims == bool(comparison.significant)
