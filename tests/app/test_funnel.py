"""Funnel page: numbers equal the metrics, one platform, not-reported steps, stage order, empty states."""

from __future__ import annotations

import polars as pl
import pytest

from metrics import demo, funnel, kpis
from metrics.display import format_compact
from tests.app.dashboard_helpers import LAST_30
from ui.state import DATASET, Dataset

PAGE = "pages/funnel.py"


@pytest.fixture
def funnel_page(demo_app):
    demo_app.switch_page(PAGE).run()
    assert not demo_app.exception, demo_app.exception
    return demo_app


def _steps_table(at):
    return next(df.value for df in at.dataframe if list(df.value.columns)[:2] == ["Step", "Count"])


def _last_30(frame: pl.DataFrame) -> pl.DataFrame:
    """The page's default period: the last 30 days of the data."""
    return frame.filter(pl.col("date").is_between(*LAST_30))


def _count(value: float) -> str:
    return f"{value:,.0f}"


def test_empty_state_offers_the_demo(app):
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception
    assert app.button(key="empty_state_demo")


def test_funnel_numbers_equal_metrics(funnel_page):
    at = funnel_page
    totals = kpis.total(_last_30(demo.generate()))
    table = _steps_table(at)
    assert table["Step"].tolist() == ["Impressions", "Clicks", "Leads", "Conversions"]
    assert table["Count"].tolist() == [_count(totals[m]) for m in funnel.FUNNEL_STEPS]
    assert table["Of previous step"].tolist()[1] == f"{totals['ctr'] * 100:,.2f} %"
    assert table["Of previous step"].tolist()[3] == f"{totals['conversions'] / totals['leads'] * 100:,.2f} %"
    # Tiles are compact (two fit a phone's row); the table above has every digit.
    assert [m.value for m in at.metric] == [format_compact(totals[m], "number") for m in funnel.FUNNEL_STEPS]
    keys = {button.key for button in at.get("download_button")}
    assert {"funnel_download_csv", "funnel_download_xlsx", "funnel_stage_table_csv"} <= keys


def test_one_platform(funnel_page):
    at = funnel_page
    at.selectbox(key="funnel_platform").set_value("linkedin").run()
    totals = kpis.total(_last_30(demo.generate()), filters={"platform": ["linkedin"]})
    table = _steps_table(at)
    assert table["Count"].tolist() == [_count(totals[m]) for m in funnel.FUNNEL_STEPS]
    assert table["Of previous step"].tolist()[1] == f"{totals['ctr'] * 100:,.2f} %"


def test_stages_in_funnel_order(funnel_page):
    at = funnel_page
    stages = next(df.value for df in at.dataframe if list(df.value.columns)[0] == "funnel_stage")
    assert stages["funnel_stage"].tolist() == list(funnel.STAGES)
    expected = kpis.summarize(_last_30(demo.generate()), ["funnel_stage"])
    assert dict(zip(stages["funnel_stage"], stages["spend"])) == pytest.approx(
        dict(expected.select("funnel_stage", "spend").iter_rows()))


def test_unreported_step_is_shown_as_not_reported(app):
    frame = demo.generate(rows=400).with_columns(
        pl.lit(None, dtype=pl.Float64).alias("leads"),
        pl.when(pl.col("funnel_stage") == "action").then(pl.lit("advocacy")).otherwise(pl.col("funnel_stage"))
        .alias("funnel_stage"),
    )
    app.session_state[DATASET] = Dataset(frame=frame, key="test-no-leads", label="no leads")
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception
    table = _steps_table(app)
    assert table["Count"].tolist()[2] == "not reported"
    totals = kpis.total(_last_30(frame))
    assert table["Of previous step"].tolist()[3] == f"{totals['cvr'] * 100:,.2f} %"  # conversions / clicks
    assert "0" not in table["Count"].tolist()
    stages = next(df.value for df in app.dataframe if list(df.value.columns)[0] == "funnel_stage")
    assert stages["funnel_stage"].tolist() == ["awareness", "advocacy"]


def test_no_match_state(funnel_page):
    at = funnel_page
    at.multiselect(key="flt_platforms").select("google_ads").run()
    at.multiselect(key="flt_campaigns").select("Organic").run()
    assert not at.exception
    assert any("No rows match" in info.value for info in at.info)


def test_blended_files_give_matched_step_rates_and_say_so(app):
    from datetime import date

    from metrics.schema import conform

    # crm.csv reports every step; organic.csv impressions and clicks; leads.csv clicks and leads.
    rows = [
        {"source_file": "crm.csv", "platform": "facebook", "impressions": 1000.0, "clicks": 100.0, "leads": 20.0,
         "conversions": 10.0},
        {"source_file": "organic.csv", "platform": "instagram", "impressions": 50000.0, "clicks": 500.0},
        {"source_file": "leads.csv", "platform": "linkedin", "clicks": 400.0, "leads": 200.0},
    ]
    frame = conform(pl.DataFrame(rows).with_columns(pl.lit(date(2026, 5, 1)).alias("date")))
    app.session_state[DATASET] = Dataset(frame=frame, key="test-blended-funnel", label="blended")
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    table = _steps_table(app)
    assert table["Count"].tolist() == ["51,000", "1,000", "220", "10"]
    # (100 + 500) / 51,000; (20 + 200) / (100 + 400), not 220 / 1,000; 10 / 20, not 10 / 220.
    assert table["Of previous step"].tolist()[1:] == ["1.18 %", "44.00 %", "50.00 %"]
    assert table["Lost"].tolist()[1:] == ["50,400", "280", "10"]
    [note] = [c.value.replace("\\", "") for c in app.caption if c.value.startswith("Each rate counts only")]
    assert "Conversions of leads: based on 1 of 3 files" in note
    assert "Leads of clicks: based on 2 of 3 files" in note


def test_a_stage_kpi_on_part_of_its_rows_shows_its_coverage(app):
    from datetime import date

    from metrics.schema import conform

    rows = [
        {"source_file": "shop.csv", "funnel_stage": "action", "spend": 100.0, "clicks": 50.0, "conversions": 5.0},
        {"source_file": "ads.csv", "funnel_stage": "action", "spend": 300.0, "clicks": 100.0},
    ]
    frame = conform(pl.DataFrame(rows).with_columns(pl.lit(date(2026, 5, 1)).alias("date")))
    app.session_state[DATASET] = Dataset(frame=frame, key="test-stage-coverage", label="stages")
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    stages = next(df.value for df in app.dataframe if list(df.value.columns)[0] == "funnel_stage")
    row = stages.iloc[0]
    assert row["cpa"] == pytest.approx(20.0)  # 100 / 5: ads.csv's spend adds nothing
    assert row["cpa_coverage"] == pytest.approx(50.0) and "cvr_coverage" in stages.columns  # shown in percent
    assert "ctr_coverage" not in stages.columns  # no CTR without impressions
