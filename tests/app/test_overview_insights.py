"""Overview (AppTest): the drivers sentence of the headline cost KPI under the headline with a link to the Insights
page, and the insights drawn on its trend: the workspace's annotations, a flagged day and the forecast band."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta

import polars as pl
import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from metrics.insights.annotations import Annotation
from models import repository
from models.db import make_engine
from tests.app.dashboard_helpers import LAST_30, demo_frame, treat_as_local_visitor
from tests.conftest import REPO
from ui.state import DATASET, Dataset

SPIKE_DAY = date(2026, 10, 20)


@pytest.fixture(autouse=True)
def _local_visitor(monkeypatch):
    treat_as_local_visitor(monkeypatch)


def _overview(frame: pl.DataFrame | None = None, key: str = "apptest-demo") -> AppTest:
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=90)
    at.session_state[DATASET] = Dataset(frame=demo_frame() if frame is None else frame, key=key, label="Test data")
    at.run()
    assert not at.exception, at.exception
    return at


def _trend(at: AppTest) -> tuple[dict, list[pl.DataFrame]]:
    """The Overview trend's Vega-Lite spec and its data (Streamlit ships the rows as Arrow next to the spec)."""
    [chart] = at.get("vega_lite_chart")
    frames = [pl.read_ipc_stream(io.BytesIO(dataset.data.data)) for dataset in chart.proto.datasets]
    return json.loads(chart.proto.spec), frames


def _captions(at: AppTest) -> list[str]:
    return [re.sub(r"\\(.)", r"\1", c.value) for c in at.caption]


def _rows_with(frames: list[pl.DataFrame], column: str) -> pl.DataFrame:
    return pl.concat([f.select(pl.col(column).cast(pl.String), "date") for f in frames if column in f.columns])


def test_the_headline_cost_kpi_is_explained_under_the_headline_with_a_link_to_the_insights():
    at = _overview()
    texts = [re.sub(r"\\(.)", r"\1", m.value) for m in at.markdown]
    headline = next(i for i, t in enumerate(texts) if t.startswith(":material/insights:"))
    start, end = LAST_30
    rows = demo_frame().drop_nulls(["spend", "impressions", "clicks", "conversions"])

    def cpa(first: date, last: date) -> float:
        chosen = rows.filter(pl.col("date").is_between(first, last))
        return chosen["spend"].sum() / chosen["conversions"].sum()

    change = cpa(start, end) / cpa(start - timedelta(days=30), start - timedelta(days=1)) - 1
    assert texts[headline + 1].startswith(f"CPA {'rose' if change > 0 else 'fell'} {abs(change) * 100:.1f} % vs the "
                                          "previous 30 days: CPM ")
    [link] = at.get("page_link")
    assert link.proto.page.endswith("insights") and "Why KPIs moved" in link.proto.label


def test_without_a_comparison_no_drivers_sentence_is_shown():
    at = _overview()
    at.selectbox(key="flt_compare").set_value("none").run()
    assert not any(m.value.startswith("CPA ") for m in at.markdown)
    assert not at.get("page_link")


def test_the_workspaces_annotations_are_drawn_on_the_trend():
    at = _overview()
    engine = make_engine()
    with Session(engine) as session:
        workspace_id = repository.ensure_workspace(session=session).id
        repository.save_annotation(session=session, workspace_id=workspace_id,
                                   annotation=Annotation(date(2026, 10, 12), "Price <i>change</i>", kind="launch"))
        repository.save_annotation(session=session, workspace_id=workspace_id,
                                   annotation=Annotation(date(2026, 8, 1), "Before the range"))
    engine.dispose()
    at.run()
    spec, frames = _trend(at)
    notes = _rows_with(frames, "text")
    assert notes["text"].unique().to_list() == ["Price <i>change</i>"]
    assert "rule" in json.dumps(spec)


def test_a_daily_total_rings_the_spike_and_draws_the_forecast_to_the_month_end():
    frame = demo_frame().with_columns(
        pl.when(pl.col("date") == SPIKE_DAY).then(pl.col("spend") * 3).otherwise(pl.col("spend")).alias("spend"))
    at = _overview(frame, key="apptest-spike")
    at.segmented_control(key="ov_split").set_value("total").run()
    assert not at.exception, at.exception
    spec, frames = _trend(at)
    rings = _rows_with(frames, "outside")
    assert rings["date"].cast(pl.Date).to_list() == [SPIKE_DAY]
    assert any(c.startswith("Red rings: 1 day outside the band") for c in _captions(at))
    # the data ends on 31 Oct: the forecast covers November, day by day
    forecast = _rows_with(frames, "forecast_text")["date"].cast(pl.Date)
    assert (forecast.min(), forecast.max(), forecast.len()) == (date(2026, 11, 1), date(2026, 11, 30), 30)
    assert any("projected by 30 Nov 2026" in c for c in _captions(at))


def test_by_platform_the_trend_says_where_the_flags_and_forecast_are():
    at = _overview()
    assert any("Show the total by day to see days outside their expected band and the forecast" in c
               for c in _captions(at))


def test_a_spend_goal_shows_its_forecast_at_the_deadline():
    from metrics import goals as goal_math
    from ui.state import GOALS

    goal = goal_math.Goal(metric="spend", target=120_000.0, deadline=date(2026, 11, 30), start=date(2026, 10, 1))
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=90)
    at.session_state[DATASET] = Dataset(frame=demo_frame(), key="apptest-demo", label="Test data")
    at.run()  # entering the workspace sets its own goals: ours come after
    at.session_state[GOALS] = [goal.to_dict()]
    at.switch_page("pages/goals.py").run()
    assert not at.exception, at.exception
    [note] = [c for c in _captions(at) if c.startswith("The diamond is the forecast at the deadline")]
    october = demo_frame().filter(pl.col("date").is_between(date(2026, 10, 1), date(2026, 10, 31)))["spend"].sum()
    projected = float(re.search(r"weeks: \$([\d,.]+)", note)[1].replace(",", ""))
    assert october < projected < 2.2 * october  # October spent, plus about one more month like it
    spec, frames = _trend(at)
    diamond = _rows_with(frames, "band_text")
    assert diamond["date"].cast(pl.Date).to_list() == [date(2026, 11, 30)]
