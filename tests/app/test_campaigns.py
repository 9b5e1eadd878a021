"""Campaigns & content page: leaderboard = summarize, minimum volume, drill-down, exports, empty states."""

from __future__ import annotations

import polars as pl
import pytest

from metrics import demo, kpis
from metrics.exports import to_csv_bytes
from tests.app.dashboard_helpers import LAST_30
from ui.state import DATASET, Dataset

PAGE = "pages/campaigns.py"


@pytest.fixture
def campaigns(demo_app):
    demo_app.switch_page(PAGE).run()
    assert not demo_app.exception, demo_app.exception
    return demo_app


def _frame_with_columns(at, first_column: str):
    for element in at.dataframe:
        value = element.value
        if list(value.columns)[: len(first_column.split(","))] == first_column.split(","):
            return value
    raise AssertionError(f"no table starting with {first_column}")


def _default_view(by: list[str], **options) -> pl.DataFrame:
    """The engine's numbers for the page's default period (the last 30 days of the demo)."""
    return kpis.summarize(demo.generate(), by, date_from=LAST_30[0], date_to=LAST_30[1], **options)


def _download_keys(at) -> set[str]:
    return {button.key for button in at.get("download_button")}


def test_empty_state_offers_the_demo(app):
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception
    assert app.button(key="empty_state_demo").label == "Use demo data"
    app.button(key="empty_state_demo").click().run()
    assert app.selectbox(key="cmp_metric").value


def test_leaderboard_values_equal_summarize(campaigns):
    at = campaigns
    at.number_input(key="cmp_min_volume").set_value(0).run()
    at.selectbox(key="cmp_metric").set_value("ctr").run()
    board = _frame_with_columns(at, "rank,campaign")
    expected = _default_view(["campaign"]).filter(pl.col("ctr").is_not_null())
    expected = expected.sort("ctr", descending=True)
    assert board["campaign"].tolist()[: expected.height] == expected["campaign"].to_list()
    # Percents are shown × 100 with two decimals ("0.78 %"); the downloads keep fractions.
    assert [v / 100 for v in board["ctr"].tolist()[: expected.height]] == pytest.approx(expected["ctr"].to_list())
    assert board["spend"].tolist()[: expected.height] == pytest.approx(expected["spend"].to_list())
    assert {"leaderboard_csv", "leaderboard_xlsx", "ad_groups_csv", "ads_xlsx"} <= _download_keys(at)


def test_leaderboard_follows_the_filter_bar(campaigns):
    at = campaigns
    at.multiselect(key="flt_platforms").select("facebook").run()
    at.selectbox(key="cmp_metric").set_value("cpa").run()
    board = _frame_with_columns(at, "rank,campaign")
    expected = _default_view(["campaign"], filters={"platform": ["facebook"]})
    expected = expected.filter(pl.col("clicks") >= 100).sort("cpa")  # lower CPA ranks first
    assert board["campaign"].tolist() == expected["campaign"].to_list()
    assert board["cpa"].tolist() == pytest.approx(expected["cpa"].to_list())


def test_minimum_volume_leaves_small_campaigns_out(campaigns):
    at = campaigns
    at.selectbox(key="cmp_volume").set_value("clicks").run()
    at.number_input(key="cmp_min_volume").set_value(11_000).run()
    board = _frame_with_columns(at, "rank,campaign")
    clicks = dict(_default_view(["campaign"]).select("campaign", "clicks").iter_rows())
    kept = {name for name, value in clicks.items() if value is not None and value >= 11_000}
    assert set(board["campaign"]) == kept and 0 < len(kept) < len(clicks)
    assert any("are left out" in caption.value for caption in at.caption)


def test_worst_and_top_n(campaigns):
    at = campaigns
    at.selectbox(key="cmp_metric").set_value("roas").run()
    at.segmented_control(key="cmp_order").set_value("Worst").run()
    at.number_input(key="cmp_n").set_value(2).run()
    board = _frame_with_columns(at, "rank,campaign")
    expected = _default_view(["campaign"]).filter(pl.col("roas").is_not_null()).sort("roas")
    assert board["campaign"].tolist() == expected["campaign"].to_list()[:2]


def test_drill_down_shows_the_chosen_campaign(campaigns):
    at = campaigns
    at.selectbox(key="cmp_drill").set_value("Retargeting 2026").run()
    assert not at.exception
    groups = _frame_with_columns(at, "ad_group")
    assert len(groups) and all(name.startswith("Retargeting") for name in groups["ad_group"])
    ads = _frame_with_columns(at, "ad,ad_group")
    assert all(name.startswith("Retargeting") for name in ads["ad"])
    assert set(ads["variant"]) == {"A", "B"}
    expected = _default_view(["ad_group"], filters={"campaign": ["Retargeting 2026"]})
    assert groups["spend"].tolist() == pytest.approx(expected["spend"].to_list())


def test_formats_and_audiences(campaigns):
    at = campaigns
    formats = _frame_with_columns(at, "content_format")
    expected = _default_view(["content_format"])
    by_format = dict(zip(formats["content_format"], formats["engagement_rate"] / 100))
    assert by_format == pytest.approx(dict(expected.select("content_format", "engagement_rate").iter_rows()))
    audiences = _frame_with_columns(at, "audience")
    assert audiences["audience"].tolist() == ["18-24", "25-34", "35-44", "45-54", "55+"]
    assert {"formats_table_csv", "audiences_table_csv"} <= _download_keys(at)


def test_no_match_state(campaigns):
    at = campaigns
    at.multiselect(key="flt_platforms").select("google_ads").run()
    at.multiselect(key="flt_campaigns").select("Organic").run()  # organic rows have no google_ads
    assert not at.exception
    assert any("No rows match" in info.value for info in at.info)


def test_campaign_names_stay_text_and_exports_escape_formulas(app):
    frame = demo.generate(rows=400).with_columns(
        pl.when(pl.col("campaign") == "Spring Sale 2026").then(pl.lit("=HYPERLINK(\"x\") <b>bold</b>"))
        .otherwise(pl.col("campaign")).alias("campaign")
    )
    app.session_state[DATASET] = Dataset(frame=frame, key="test-formula-names", label="formula names")
    app.run()
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception
    board = _frame_with_columns(app, "rank,campaign")
    assert "=HYPERLINK(\"x\") <b>bold</b>" in set(board["campaign"])
    assert not any("<b>" in md.value for md in app.markdown)
    csv = to_csv_bytes(pl.from_pandas(board)).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv
