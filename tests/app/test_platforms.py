"""Platforms page (AppTest): the table equals the metrics engine, best/worst follow directions, exports and charts."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from metrics import kpis
from metrics.display import platform_label
from metrics.schema import PLATFORM_COLORS
from tests.app.dashboard_helpers import (
    LAST_30,
    app_with_demo,
    demo_frame,
    shown_fraction,
    treat_as_local_visitor,
    vega_charts,
)

PAGE = "pages/platforms.py"


@pytest.fixture(autouse=True)
def _local_visitor(monkeypatch):
    treat_as_local_visitor(monkeypatch)


def _by_platform(date_from=LAST_30[0], date_to=LAST_30[1], **filters) -> pl.DataFrame:
    return kpis.summarize(demo_frame(), ["platform"], date_from=date_from, date_to=date_to,
                          filters=filters or None).with_columns(
        pl.col("platform").map_elements(platform_label, return_dtype=pl.String)
    )


def _table(at) -> pl.DataFrame:
    return pl.from_pandas(at.dataframe[0].value)


def _ranking(at) -> pl.DataFrame:
    return pl.concat([pl.from_pandas(d.value) for d in at.dataframe[1:]])


def test_table_has_every_kpi_per_platform_equal_to_the_engine():
    at = app_with_demo(PAGE)
    table = _table(at)
    expected = _by_platform()
    assert sorted(table["platform"].to_list()) == sorted(expected["platform"].to_list())
    for name in ("spend", "impressions", "reach", "clicks", "conversions", "revenue", "ctr", "cpc", "cpm", "cpa",
                 "cvr", "roas", "roi", "engagement_rate", "net_follower_growth", "share_of_spend",
                 "share_of_conversions", "frequency", "avg_first_response_min"):
        assert name in table.columns, name
        for row in expected.iter_rows(named=True):
            shown = table.filter(pl.col("platform") == row["platform"])[name][0]
            if row[name] is None:
                assert shown is None or math.isnan(shown), (name, row["platform"])
            else:
                assert math.isclose(shown_fraction(name, shown), row[name], rel_tol=1e-9), (name, row["platform"])
    # Sorted by spend, largest first.
    assert table["spend"].to_list() == sorted(table["spend"].to_list(), reverse=True)


def test_top_campaign_is_the_one_with_most_conversions():
    at = app_with_demo(PAGE)
    table = _table(at)
    by_campaign = kpis.summarize(demo_frame(), ["platform", "campaign"], date_from=LAST_30[0], date_to=LAST_30[1])
    for slug in ("google_ads", "tiktok", "linkedin"):
        rows = by_campaign.filter(pl.col("platform") == slug).sort("conversions", descending=True, nulls_last=True)
        shown = table.filter(pl.col("platform") == platform_label(slug))["top_campaign"][0]
        assert shown == rows["campaign"][0]


def test_best_and_worst_follow_each_kpis_direction():
    at = app_with_demo(PAGE, flt_dates=LAST_30)
    ranking = _ranking(at)
    expected = _by_platform(*LAST_30)
    cpa = ranking.filter(pl.col("KPI") == "CPA").row(0, named=True)
    assert cpa["Better when"] == "lower ▼"
    assert cpa["Best"] == expected.sort("cpa")["platform"][0]  # the cheapest conversion
    assert cpa["Worst"] == expected.sort("cpa", descending=True)["platform"][0]
    ctr = ranking.filter(pl.col("KPI") == "CTR").row(0, named=True)
    assert ctr["Better when"] == "higher ▲"
    assert ctr["Best"] == expected.sort("ctr", descending=True)["platform"][0]
    assert ctr["Worst"] == expected.sort("ctr")["platform"][0]
    # Neutral KPIs (shares, frequency) have no best or worst.
    assert not ranking.filter(pl.col("KPI").is_in(["Share of spend", "Frequency"])).height


def test_exports_and_charts_are_there():
    at = app_with_demo(PAGE)
    keys = {b.key for b in at.download_button}
    assert {"platforms_table_csv", "platforms_table_xlsx"} <= keys
    for chart in ("platforms_kpi", "platforms_share", "platforms_efficiency", "platforms_engagement"):
        assert {f"{chart}_png", f"{chart}_svg"} <= keys, chart
    charts = vega_charts(at)
    assert len(charts) == 4
    # Platform colours on every chart.
    for chart in charts:
        assert PLATFORM_COLORS["google_ads"] in chart.proto.spec


def test_kpi_picker_changes_the_bar_chart():
    at = app_with_demo(PAGE)
    at.selectbox(key="pf_metric").set_value("roas").run()
    assert not at.exception
    assert "ROAS" in json.dumps(json.loads(vega_charts(at)[0].proto.spec))


def test_one_platform_has_nothing_to_rank():
    at = app_with_demo(PAGE, flt_platforms=["tiktok"])
    assert _table(at)["platform"].to_list() == ["TikTok"]
    assert any("two or more platforms" in i.value for i in at.info)


def test_filters_that_match_nothing_say_so():
    at = app_with_demo(PAGE)
    at.multiselect(key="flt_platforms").set_value(["email"])
    at.multiselect(key="flt_campaigns").set_value(["Organic"]).run()
    assert not at.exception
    assert len(at.dataframe) == 0 and vega_charts(at) == []
    assert any("No rows match these filters" in i.value for i in at.info)


def test_no_data_shows_the_empty_state(app):
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception
    assert any("No data yet" in c.value for c in app.caption)
    assert app.button(key="empty_state_demo").label == "Use demo data"
