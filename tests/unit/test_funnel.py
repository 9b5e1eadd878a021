"""Funnel steps and marketing stages: known answers, unreported steps, stage order."""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest

from metrics import demo, funnel, kpis
from metrics.schema import conform


def _step(table: pl.DataFrame, name: str) -> dict:
    return table.filter(pl.col("step") == name).row(0, named=True)


def test_step_rates_and_drop_off_known_answer():
    table = funnel.funnel_steps({"impressions": 1000.0, "clicks": 50.0, "leads": 10.0, "conversions": 5.0})
    assert table.get_column("step").to_list() == ["impressions", "clicks", "leads", "conversions"]
    assert table.get_column("step_rate").to_list()[1:] == pytest.approx([0.05, 0.2, 0.5])
    assert _step(table, "impressions")["step_rate"] is None
    assert table.get_column("drop_off").to_list() == [None, 950.0, 40.0, 5.0]
    assert table.get_column("drop_off_rate").to_list()[1:] == pytest.approx([0.95, 0.8, 0.5])
    assert table.get_column("rate_from_first").to_list() == pytest.approx([1.0, 0.05, 0.01, 0.005])


@pytest.mark.parametrize("missing", [None, float("nan")])
def test_unreported_step_stays_null_and_next_step_compares_with_last_reported(missing):
    table = funnel.funnel_steps({"impressions": 1000.0, "clicks": 50.0, "leads": missing, "conversions": 5.0})
    leads = _step(table, "leads")
    assert leads["reported"] is False
    assert leads["value"] is None and leads["step_rate"] is None and leads["drop_off"] is None
    conversions = _step(table, "conversions")
    assert conversions["previous_step"] == "clicks"
    assert conversions["step_rate"] == pytest.approx(0.1)
    assert conversions["drop_off"] == 45.0


def test_missing_measure_key_is_not_reported_never_zero():
    table = funnel.funnel_steps({"impressions": 200.0, "clicks": 10.0})
    assert table.filter(~pl.col("reported")).get_column("step").to_list() == ["leads", "conversions"]
    assert table.filter(~pl.col("reported")).get_column("value").null_count() == 2


def test_zero_previous_step_gives_null_rate_not_inf():
    table = funnel.funnel_steps({"impressions": 0.0, "clicks": 0.0, "leads": 0.0, "conversions": 0.0})
    assert table.get_column("step_rate").null_count() == 4
    assert all(v is None or math.isfinite(v) for v in table.get_column("rate_from_first").to_list())


def test_first_reported_step_may_be_a_later_one():
    table = funnel.funnel_steps({"impressions": None, "clicks": 80.0, "leads": None, "conversions": 8.0})
    clicks = _step(table, "clicks")
    assert clicks["previous_step"] is None and clicks["step_rate"] is None and clicks["rate_from_first"] == 1.0
    assert _step(table, "conversions")["step_rate"] == pytest.approx(0.1)


def test_funnel_agrees_with_kpis_on_demo_data():
    frame = demo.generate(rows=1200)
    totals = kpis.total(frame)
    table = funnel.funnel_steps(totals, pairs=funnel.step_sums(frame).row(0, named=True))
    assert _step(table, "clicks")["step_rate"] == pytest.approx(totals["ctr"])
    assert _step(table, "clicks")["step_coverage"] == totals["ctr_coverage"]
    assert _step(table, "impressions")["value"] == totals["impressions"]
    by_platform = funnel.funnel_by_group(kpis.summarize(frame, ["platform"]), "platform",
                                         pairs=funnel.step_sums(frame, ["platform"]))
    summary = kpis.summarize(frame, ["platform"])
    assert by_platform.get_column("clicks_rate").to_list() == pytest.approx(summary.get_column("ctr").to_list())


def test_stage_order_five_stages_then_free_text_then_none():
    stages = ["loyalty", "retention", None, "Awareness", "action", "interest", "advocacy", "consideration"]
    assert funnel.order_stages(stages) == [
        "Awareness", "interest", "consideration", "action", "loyalty", "advocacy", "retention", None,
    ]


def test_stage_table_orders_a_summary_and_keeps_free_text():
    rows = pl.DataFrame({
        "date": [date(2026, 1, 1)] * 4,
        "platform": ["facebook"] * 4,
        "funnel_stage": ["action", "retargeting pool", "awareness", None],
        "impressions": [100.0, 50.0, 1000.0, 10.0],
        "spend": [10.0, 5.0, 20.0, 1.0],
    })
    table = funnel.stage_table(kpis.summarize(conform(rows), ["funnel_stage"]))
    assert table.get_column("funnel_stage").to_list() == ["awareness", "action", "retargeting pool", None]
    assert table.get_column("stage_order").to_list() == [0, 1, 2, 3]
    assert table.get_column("is_standard").to_list() == [True, True, False, False]
    assert table.get_column("spend").to_list() == [20.0, 10.0, 5.0, 1.0]


# --- coverage-matched step rates (SPEC §4) ------------------------------------------------------------


def _blend() -> pl.DataFrame:
    """crm.csv reports every step; organic.csv impressions and clicks only; leads.csv clicks and leads only."""
    rows = [
        {"source_file": "crm.csv", "platform": "facebook", "impressions": 1000.0, "clicks": 100.0, "leads": 20.0,
         "conversions": 10.0},
        {"source_file": "organic.csv", "platform": "instagram", "impressions": 50000.0, "clicks": 500.0},
        {"source_file": "leads.csv", "platform": "linkedin", "clicks": 400.0, "leads": 200.0},
    ]
    return conform(pl.DataFrame(rows).with_columns(pl.lit(date(2026, 5, 1)).alias("date")))


def test_step_rates_use_only_the_rows_reporting_both_steps():
    frame = _blend()
    totals = kpis.total(frame)
    table = funnel.funnel_steps(totals, pairs=funnel.step_sums(frame).row(0, named=True))
    # Values stay plain totals.
    assert table.get_column("value").to_list() == [51000.0, 1000.0, 220.0, 10.0]
    clicks, leads, conversions = (_step(table, s) for s in ("clicks", "leads", "conversions"))
    # Clicks of impressions: crm + organic rows, (100 + 500) / (1,000 + 50,000); both report both.
    assert clicks["step_rate"] == pytest.approx(600 / 51000) and clicks["step_coverage"] == pytest.approx(2 / 3)
    # Leads of clicks: crm + leads.csv, (20 + 200) / (100 + 400) = 44 % — not 220 / 1,000 = 22 %.
    assert leads["step_rate"] == pytest.approx(220 / 500) and leads["drop_off"] == pytest.approx(500 - 220)
    # Conversions of leads: crm only, 10 / 20 = 50 % — not 10 / 220 = 4.5 %.
    assert conversions["step_rate"] == pytest.approx(0.5) and conversions["drop_off"] == pytest.approx(10.0)
    assert conversions["step_coverage"] == pytest.approx(1 / 3)
    # Of the first step: conversions over the impressions of the rows reporting both (crm): 10 / 1,000.
    assert conversions["rate_from_first"] == pytest.approx(0.01)
    assert leads["rate_from_first"] == pytest.approx(20 / 1000)
    by_file = funnel.step_sums(frame, ["source_file"])
    assert funnel.step_notes(table, [("source_file", "files", by_file)]) == [
        "Clicks of impressions: based on 2 of 3 files", "Leads of clicks: based on 2 of 3 files",
        "Conversions of leads: based on 1 of 3 files"]


def test_step_rates_per_platform_are_matched_too():
    frame = _blend()
    by_platform = funnel.funnel_by_group(kpis.summarize(frame, ["platform"]), "platform",
                                         pairs=funnel.step_sums(frame, ["platform"]))
    rates = {r["platform"]: r for r in by_platform.iter_rows(named=True)}
    assert rates["facebook"]["conversions_rate"] == pytest.approx(0.5)
    assert rates["linkedin"]["leads_rate"] == pytest.approx(0.5) and rates["linkedin"]["clicks_rate"] is None
    assert rates["instagram"]["clicks_rate"] == pytest.approx(0.01)


def test_two_steps_no_row_reports_together_have_no_rate():
    rows = [{"source_file": "a.csv", "impressions": 1000.0}, {"source_file": "b.csv", "clicks": 50.0}]
    frame = conform(pl.DataFrame(rows).with_columns(pl.lit(date(2026, 5, 1)).alias("date")))
    table = funnel.funnel_steps(kpis.total(frame), pairs=funnel.step_sums(frame).row(0, named=True))
    clicks = _step(table, "clicks")
    assert clicks["value"] == 50.0 and clicks["step_rate"] is None and clicks["drop_off"] is None
    assert clicks["rate_from_first"] is None


def test_step_sums_read_the_daily_rollup_like_the_rows():
    from metrics.rollup import daily_rollup

    frame = demo.generate(rows=800)
    rows = funnel.step_sums(frame, ["platform"])
    rolled = funnel.step_sums(daily_rollup(frame), ["platform"])
    assert rows.columns == rolled.columns
    for name in rows.columns[1:]:
        assert rolled.get_column(name).to_list() == pytest.approx(rows.get_column(name).to_list()), name
