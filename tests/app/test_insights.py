"""Insights page (AppTest): a sentence per KPI with the change read from the rows, budgets paced against the
spend, days outside their band listed (or "too short" said), annotations and holidays added by the editor,
and a snapshot's client view that says exactly what the editor sees and cannot edit anything."""

from __future__ import annotations

import re
from datetime import date, timedelta

import polars as pl
import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from metrics import display
from metrics.insights.annotations import Annotation
from metrics.insights.pacing import Budget
from metrics.report_settings import ReportSettings
from models import repository
from models.db import make_engine
from tests.app.dashboard_helpers import LAST_30, demo_frame, treat_as_local_visitor
from tests.conftest import REPO
from ui.state import DATASET, Dataset

PAGE = "pages/insights.py"
BUDGET_SUBMIT = "FormSubmitter:ins_budget_new-Save budget"
NOTE_SUBMIT = "FormSubmitter:ins_note_new-Save annotation"
SPIKE_DAY = date(2026, 10, 20)


@pytest.fixture(autouse=True)
def _local_visitor(monkeypatch):
    treat_as_local_visitor(monkeypatch)


def _app(frame: pl.DataFrame | None = None, key: str = "apptest-demo") -> AppTest:
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=90)
    at.session_state[DATASET] = Dataset(frame=demo_frame() if frame is None else frame, key=key, label="Test data")
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _plain(markdown: str) -> str:
    """Markdown as a reader sees it (md_escape's backslashes gone)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def _sentences(at: AppTest) -> list[str]:
    """The bulleted sentences of the page, in order."""
    return [_plain(m.value)[2:] for m in at.markdown if m.value.startswith("- ")]


def _table(at: AppTest, column: str):
    return next(df.value for df in at.dataframe if column in df.value.columns)


def _cost_per_conversion(frame: pl.DataFrame, start: date, end: date) -> float:
    """CPA read straight from the rows: spend / conversions over the rows reporting every factor's measure."""
    rows = frame.filter(pl.col("date").is_between(start, end)).drop_nulls(
        ["spend", "impressions", "clicks", "conversions"])
    return rows["spend"].sum() / rows["conversions"].sum()


def test_the_editor_reads_one_sentence_per_kpi_and_the_cpa_change_matches_the_rows():
    at = _app()
    sentences = _sentences(at)
    assert [s.split()[0] for s in sentences[:4]] == ["CPA", "ROAS", "CPL", "CPC"]
    start, end = LAST_30
    change = _cost_per_conversion(demo_frame(), start, end) / _cost_per_conversion(
        demo_frame(), start - timedelta(days=30), start - timedelta(days=1)) - 1
    verb = "rose" if change > 0 else "fell"
    assert sentences[0].startswith(f"CPA {verb} {abs(change) * 100:.1f} % vs the previous 30 days: CPM ")
    # the waterfall, the budget-mix sentence and the per-platform table of the explained KPI
    assert any('"part_text"' in chart.proto.spec for chart in at.get("vega_lite_chart"))
    assert any(_plain(m.value).startswith("Of the CPA change") for m in at.markdown)
    platforms = _table(at, "cvr_delta_rel")  # shown as "Conversion rate change" (the catalog's label)
    assert {"platform", "cpa_prev", "cpa", "cpa_delta_rel", "cpm_delta_rel", "ctr_delta_rel"} <= set(platforms.columns)
    assert len(platforms) == demo_frame()["platform"].n_unique()


def test_without_a_comparison_the_page_says_how_to_get_one():
    at = _app()
    at.selectbox(key="flt_compare").set_value("none").run()
    assert not at.exception, at.exception
    assert any("Pick a comparison in the sidebar" in i.value for i in at.info)
    assert not any(s.startswith("CPA ") for s in _sentences(at))


def test_a_budget_added_by_the_editor_is_paced_against_the_spend():
    at = _app()
    assert any(i.value.startswith("No budgets yet") for i in at.info)
    at.selectbox(key="ins_budget_month_new").set_value(date(2026, 10, 1))
    at.number_input(key="ins_budget_amount_new").set_value(55_000.0)
    at.button(key=BUDGET_SUBMIT).click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success][:1] == ["Budget saved\\."]
    october = demo_frame().filter(pl.col("date").is_between(date(2026, 10, 1), date(2026, 10, 31)))["spend"].sum()
    [row] = _table(at, "Spent to date").to_dict("records")
    assert row["Month"] == "Oct 2026" and row["Scope"] == "Whole account"
    assert row["Budget"] == "$55,000.00" and row["Spent to date"] == display.format_metric("spend", october, "USD")
    over = october / 55_000 - 1  # the month is over: its projection is what was spent
    expected_status = "Over" if over <= 0.20 else "Far off (over)"
    assert row["Status"] == expected_status and row["Projected vs budget"] == display.format_change(over)
    assert f"spent {row['Spent to date']} of $55,000.00" in " ".join(_sentences(at))

    # a second budget for the same month and scope is refused; the first can be deleted
    at.selectbox(key="ins_budget_month_new").set_value(date(2026, 10, 1))
    at.number_input(key="ins_budget_amount_new").set_value(1.0)
    at.button(key=BUDGET_SUBMIT).click().run()
    assert "There is already a budget for Oct 2026 · Whole account" in at.error[0].value
    engine = make_engine()
    with Session(engine) as session:
        [stored] = repository.list_budgets(session=session, workspace_id=repository.ensure_workspace(session=session).id)
    engine.dispose()
    at.selectbox(key="ins_budget_pick").set_value(stored.id).run()
    at.button(key="ins_budget_delete").click().run()
    assert not at.exception, at.exception
    assert any(i.value.startswith("No budgets yet") for i in at.info)


def test_a_budget_sheet_is_imported_and_its_bad_rows_are_named():
    at = _app()
    sheet = b"month,platform,amount\n2026-10,Google Ads,9000\n2026-11,Facebook,12000\n2026-13,X,5\n"
    at.file_uploader(key="ins_budget_sheet").set_value(("budgets.csv", sheet, "text/csv")).run()
    at.button(key="ins_budget_import").click().run()
    assert not at.exception, at.exception
    notice = _plain(at.success[0].value)
    assert notice.startswith("2 budgets added.") and "Line 4: '2026-13' is not a month" in notice
    table = _table(at, "Spent to date")
    assert table["Scope"].tolist() == ["Google Ads", "Facebook"]
    assert table["Status"].tolist()[1] == "Not started"


def test_a_clean_series_raises_no_flag_and_says_so():
    at = _app()
    assert any(s.value.startswith("No day of 2 – 31 Oct 2026 is outside its expected band") for s in at.success)


def test_a_spike_is_listed_with_its_value_and_band():
    frame = demo_frame().with_columns(
        pl.when(pl.col("date") == SPIKE_DAY).then(pl.col("spend") * 3).otherwise(pl.col("spend")).alias("spend"))
    at = _app(frame, key="apptest-spike")
    listing = _table(at, "Expected")
    spend = listing[listing["Metric"] == "Spend"]
    assert [d.date() for d in spend["Date"]] == [SPIKE_DAY]
    total = frame.filter(pl.col("date") == SPIKE_DAY)["spend"].sum()
    assert spend["Value"].tolist() == [display.format_metric("spend", total, "USD")]
    assert spend["Flag"].tolist() == ["Above the band"]


def test_a_short_series_is_too_short_to_judge():
    frame = demo_frame().filter(pl.col("date") >= date(2026, 10, 18))
    at = _app(frame, key="apptest-short")
    assert any(i.value.startswith("Too short to judge") for i in at.info)
    assert not any("Expected" in df.value.columns for df in at.dataframe)


def test_annotations_and_public_holidays_are_added_and_listed():
    at = _app()
    at.text_input(key="ins_note_text_new").input("Spring <b>sale</b> live")
    at.date_input(key="ins_note_date_new").set_value(date(2026, 10, 12))
    at.selectbox(key="ins_note_kind_new").set_value("launch")
    at.button(key=NOTE_SUBMIT).click().run()
    assert not at.exception, at.exception
    notes = _table(at, "Kind")
    assert notes.to_dict("records") == [{"Date": "12 Oct 2026", "Kind": "Launch", "Note": "Spring <b>sale</b> live"}]
    at.selectbox(key="ins_holiday_country").set_value("US").run()
    at.button(key="ins_holidays_add").click().run()
    assert not at.exception, at.exception
    assert "public holidays of United States added" in at.success[0].value
    notes = _table(at, "Kind")
    assert "25 Dec 2025" in notes["Date"].tolist() and (notes["Kind"] == "Holiday").sum() >= 30


# --- a snapshot: the client sees what the editor sees, read-only ------------------------------------------------


def _stored_settings() -> dict:
    annotations = (Annotation(date(2026, 10, 12), "Spring sale live", kind="launch"),)
    budgets = (Budget(date(2026, 10, 1), "platform", "google_ads", 9000.0),)
    return ReportSettings(annotations=tuple(a.to_dict(iso_dates=True) for a in annotations),
                          budgets=tuple(b.to_dict() for b in budgets)).to_dict()


@pytest.fixture
def saved_snapshot():
    engine = make_engine()
    try:
        with Session(engine) as session:
            workspace_id = repository.ensure_workspace(session=session).id
            snapshot = repository.save_snapshot(session=session, workspace_id=workspace_id, name="October review",
                                                frame=demo_frame(), settings=_stored_settings())
            _, token = repository.create_share_link(session=session, snapshot_id=snapshot.id)
            repository.set_workspace_showing(session=session, workspace_id=workspace_id, showing="snapshot",
                                             snapshot_id=snapshot.id)
            # the workspace's own notes changed after the snapshot was saved: the snapshot keeps its own
            repository.save_annotation(session=session, workspace_id=workspace_id,
                                       annotation=Annotation(date(2026, 10, 14), "Added later"))
        yield token
    finally:
        engine.dispose()


def _view(at: AppTest) -> dict:
    return {"sentences": _sentences(at), "pacing": _table(at, "Spent to date").to_dict("records"),
            "notes": _table(at, "Kind").to_dict("records"),
            "charts": len(at.get("vega_lite_chart"))}


def test_the_client_view_says_what_the_editor_sees_and_cannot_edit(saved_snapshot):
    editor = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=90)
    editor.run()
    editor.switch_page(PAGE).run()
    assert not editor.exception, editor.exception
    assert any("keeps the budgets and annotations it was saved with" in i.value for i in editor.info)

    client = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=90)
    client.query_params["share"] = saved_snapshot
    client.run()
    client.switch_page(PAGE).run()
    assert not client.exception, client.exception

    seen = _view(editor)
    assert seen == _view(client)
    assert seen["sentences"][0].startswith("CPA ") and len(seen["sentences"]) >= 4
    assert seen["notes"] == [{"Date": "12 Oct 2026", "Kind": "Launch", "Note": "Spring sale live"}]
    assert [row["Scope"] for row in seen["pacing"]] == ["Google Ads"]
    # the snapshot's report file says the same: the sentences, the pacing and the annotations
    from reports import ReportOptions, build_report

    settings = ReportSettings.from_dict(_stored_settings())
    report = build_report(demo_frame(), ReportOptions(date_from=LAST_30[0], date_to=LAST_30[1], compare="previous",
                                                      annotations=settings.annotations, budgets=settings.budgets))
    section = next(s for s in report.sections if s.title == "Insights")
    paragraphs = [b.text for b in section.blocks if hasattr(b, "text")]
    assert paragraphs == seen["sentences"][:len(paragraphs)] and len(paragraphs) == 4
    pacing = next(b for b in section.blocks if getattr(b, "title", "") == "Budget pacing")
    assert [dict(zip([c.label for c in pacing.columns], row)) | {"Status": ""} for row in pacing.rows] == [
        row | {"Status": ""} for row in seen["pacing"]]
    for at in (editor, client):  # nobody edits a snapshot's notes
        assert not at.file_uploader
        assert not [b for b in at.button if b.label in ("Save budget", "Save annotation", "Add holidays")]
        with pytest.raises(KeyError):
            at.selectbox(key="ins_budget_pick")


def test_money_in_two_currencies_is_not_explained_or_paced_as_if_it_were_one():
    frame = demo_frame().with_columns(
        pl.when(pl.col("platform") == "facebook").then(pl.lit("EUR")).otherwise(pl.lit("USD")).alias("currency"))
    at = _app(frame, key="apptest-two-currencies")
    sentences = _sentences(at)
    assert sentences[0].startswith("CPA: Money in the previous period is in several currencies")
    assert not any('"part_text"' in chart.proto.spec for chart in at.get("vega_lite_chart"))  # no waterfall


def test_a_kpi_explained_from_one_of_two_files_says_so():
    # ads.csv reports every factor of CPA; crm.csv spend and conversions only (60 days, so the last 30 compare).
    start = date(2026, 8, 1)
    rows = []
    for day in range(60):
        when = start + timedelta(days=day)
        rows.append({"date": when, "platform": "facebook", "campaign": "Ads", "source_file": "ads.csv",
                     "spend": 100.0 + day, "impressions": 10_000.0, "clicks": 200.0, "conversions": 10.0})
        rows.append({"date": when, "platform": "facebook", "campaign": "CRM", "source_file": "crm.csv",
                     "spend": 50.0, "conversions": 5.0})
    from metrics.schema import conform

    at = _app(conform(pl.DataFrame(rows)), key="apptest-blended-drivers")
    [note] = [_plain(c.value) for c in at.caption if "every measure its factors use" in c.value]
    assert "CPA is based on 1 of 2 files" in note
    # The Overview's headline driver says it too.
    at.switch_page("pages/overview.py").run()
    assert not at.exception, at.exception
    assert [_plain(c.value) for c in at.caption if "every measure of its factors" in c.value] == [
        "CPA is based on 1 of 2 files: only the rows that report every measure of its factors count."]
