"""What the A/B page builds on, without streamlit: campaign ratio metrics, the calculator's checks, the saved
configuration (old and new versions), and the chart data that must end at the result's own numbers."""

from __future__ import annotations

import json

import polars as pl
import pytest

from metrics import demo
from metrics.abtest import analyze, from_counts
from metrics.abtest.curves import cumulative_lift, lift_density
from metrics.abtest.inputs import from_aggregates, from_ratio_rows, from_rows
from metrics.abtest.saved import (
    CAMPAIGN_METRICS,
    AnalysisSettings,
    analyze_config,
    available_campaign_metrics,
    calculator_data,
    campaign_data,
    currency_problem,
    data_from_json,
    data_to_json,
)


@pytest.fixture(scope="module")
def campaign() -> pl.DataFrame:
    return demo.generate()


def test_campaign_metrics_know_their_parts_and_direction():
    cpa, roas, cvr = CAMPAIGN_METRICS["cpa"], CAMPAIGN_METRICS["roas"], CAMPAIGN_METRICS["cvr"]
    assert (cpa.numerator, cpa.denominator, cpa.direction, cpa.format) == ("spend", "conversions", "lower",
                                                                            "currency")
    assert (roas.numerator, roas.denominator, roas.direction) == ("revenue", "spend", "higher")
    assert (cvr.numerator, cvr.denominator, cvr.format, cvr.in_sentence) == ("conversions", "clicks", "percent",
                                                                             "conversion rate")
    assert CAMPAIGN_METRICS["cpc"].direction == "lower" and CAMPAIGN_METRICS["revenue_per_click"].format == "currency"


def test_campaign_metric_is_each_rows_ratio(campaign):
    assert {"cvr", "ctr", "cpa", "cpc", "roas", "revenue_per_click"} <= set(available_campaign_metrics(campaign))
    rows = campaign.filter(pl.col("variant").is_not_null())
    data = campaign_data(rows, CAMPAIGN_METRICS["cpa"])
    for arm in data.arms:
        part = rows.filter((pl.col("variant") == arm.name) & pl.col("spend").is_not_null()
                           & pl.col("conversions").is_not_null())
        assert arm.stat.n == part.height
        assert arm.stat.mean == pytest.approx(part["spend"].sum() / part["conversions"].sum(), rel=1e-12)
    assert data.metric == "CPA"


def test_money_ratios_refuse_several_currencies(campaign):
    rows = campaign.filter(pl.col("variant").is_not_null()).with_columns(
        pl.when(pl.col("date").dt.day() == 1).then(None).otherwise(pl.col("currency")).alias("currency"))
    assert "several currencies (USD, unknown)" in currency_problem(rows, CAMPAIGN_METRICS["cpa"])
    assert currency_problem(rows, CAMPAIGN_METRICS["cvr"]) is None  # conversions / clicks holds no money


@pytest.mark.parametrize("ratio", [True, False])
def test_lift_over_time_ends_at_the_overall_result(campaign, ratio):
    rows = campaign.filter(pl.col("variant").is_not_null())
    if ratio:
        data = from_ratio_rows(rows, variant="variant", numerator="conversions", denominator="clicks")
    else:
        data = from_aggregates(rows, variant="variant", trials="clicks", successes="conversions")
    for sequential in (False, True):
        result = analyze(data, control="A", sequential=sequential)
        daily = cumulative_lift(rows, numerator="conversions", denominator="clicks", control="A", alpha=0.05,
                                ratio=ratio, sequential=sequential)
        last = daily.sort("date").row(-1, named=True)
        c = result.comparisons[0]
        assert last["lift"] == pytest.approx(c.lift_rel, rel=1e-12)
        assert (last["low"], last["high"]) == pytest.approx(c.ci_rel, rel=1e-9)
    assert daily.get_column("date").n_unique() <= rows.get_column("date").n_unique()


def test_lift_density_shades_the_quoted_interval():
    result = analyze(from_counts([("A", 5000, 500), ("B", 5000, 560), ("C", 5000, 600)]))
    curve = lift_density(result)
    for c in result.comparisons:
        inside = curve.filter(pl.col("variant") == c.variant).filter(pl.col("inside"))
        assert inside["x"].min() >= c.ci_rel_adjusted[0] and inside["x"].max() <= c.ci_rel_adjusted[1]
        peak = curve.filter(pl.col("variant") == c.variant).sort("density").row(-1, named=True)
        assert peak["x"] == pytest.approx(c.lift_rel, abs=(c.ci_rel_adjusted[1] - c.ci_rel_adjusted[0]) / 40)


def test_calculator_reports_each_invalid_input_once():
    rows = [{"name": "A", "visitors": 0, "conversions": 0}, {"name": "B", "visitors": 100, "conversions": 150},
            {"name": "C", "visitors": 100, "conversions": 10}, {"name": None, "visitors": None, "conversions": None},
            {"name": "C", "visitors": 100, "conversions": 12}]
    data, problems = calculator_data(rows, "counts")
    assert problems == ["A has no visitors; enter how many visitors it had (more than 0).",
                        "B has more conversions (150) than visitors (100); check the numbers.",
                        "Two rows are named C; give each variant its own name."]
    assert data.names == ["C"]
    data, problems = calculator_data([{"name": "A", "n": 1, "mean": 5.0, "sd": 1.0},
                                      {"name": "", "n": 50, "mean": 5.0, "sd": None}], "means")
    assert problems == ["A needs at least 2 users; enter its number of users.",
                        "Variant 2 has no standard deviation; enter the spread of the value per user (0 or more)."]


def test_an_uploads_statistics_round_trip_through_json():
    frame = pl.DataFrame({"user": ["a", "a", "b", "c", "d", "e", "f"], "arm": ["A", "A", "A", "B", "B", "B", "A"],
                          "revenue": [10.0, 90.0, 5.0, 7.0, 300.0, 1.0, None]})
    data = from_rows(frame, variant="arm", outcome="revenue", unit="user", cap_percentile=80)
    restored = data_from_json(json.loads(json.dumps(data_to_json(data))))
    assert restored == data
    assert analyze(restored).to_dict() == analyze(data).to_dict()


def test_saved_configurations_old_and_new(campaign):
    settings = AnalysisSettings(control="A").to_config()
    v2 = {"version": 2, "source": "campaign", "metric": "cvr", "campaign": None, **settings}
    result, daily, problem = analyze_config(v2, campaign)
    assert problem is None and result.metric_kind == "ratio" and not daily.is_empty()
    # Version 1 tested the conversion rate with every click a unit; an old snapshot keeps its numbers.
    v1 = {"version": 1, "source": "campaign", "metric": "cvr", "campaign": None, "control": "A", "alpha": 0.05,
          "correction": "holm", "sequential": False, "tuning": 5000, "expected_split": None}
    result, _, problem = analyze_config(v1, campaign)
    rows = campaign.filter(pl.col("variant").is_not_null())
    expected = analyze(from_aggregates(rows, variant="variant", trials="clicks", successes="conversions"))
    assert problem is None and result.to_dict() == expected.to_dict()
    assert analyze_config({"source": "upload", "upload": {"data": {"kind": "nonsense"}}}, None)[2] == (
        "The saved A/B test could not be read; set it up again and save it.")
    assert analyze_config({"source": "calculator", "metric": "counts", "calculator_rows": [
        {"name": "A", "visitors": 0, "conversions": 0}]}, None)[2].startswith("A has no visitors")


def test_a_saved_campaign_test_on_rows_without_variant_labels_says_so(campaign):
    """Every canonical frame has a variant column; data whose rows carry no label (or filters that leave
    none) gets the sentence, not an exception (a client's A/B page and report files open it)."""
    unlabelled = campaign.with_columns(pl.lit(None, dtype=pl.String).alias("variant"))
    config = {"version": 2, "source": "campaign", "metric": "cvr", "campaign": None,
              **AnalysisSettings(control="A").to_config()}
    assert analyze_config(config, unlabelled) == (
        None, None, "There are no rows with a variant label for the saved A/B test in the current filters.")
