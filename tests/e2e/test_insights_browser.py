"""The Insights page in a real browser: with the demo snapshot (the editor and the client read the same sentences,
budgets and annotations) and with a real export uploaded on the Data page."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from metrics import demo
from metrics.insights.annotations import Annotation
from metrics.insights.pacing import Budget
from metrics.report_settings import ReportSettings
from models import repository
from models.db import make_engine, upgrade_database
from tests.e2e.conftest import docs_screenshot, exports_input, screenshot, settled, wait_for_app

pytestmark = pytest.mark.e2e

NOTE = "Spring <b>sale</b> live"
REAL_EXPORT = "multichannel-campaign-daily/marketing_campaign_dataset.csv"


def _shared_demo_snapshot(database_url: str) -> str:
    """A demo snapshot with an annotation and a budget, opened by the workspace (so the editor's session shows
    it), and a client link to it; returns the link's token."""
    settings = ReportSettings(annotations=(Annotation(date(2026, 10, 12), NOTE, kind="launch").to_dict(iso_dates=True),),
                              budgets=(Budget(date(2026, 10, 1), "platform", "google_ads", 9000.0).to_dict(),))
    engine = make_engine(database_url)
    try:
        upgrade_database(engine)
        with Session(engine) as session:
            workspace_id = repository.ensure_workspace(session=session).id
            snapshot = repository.save_snapshot(session=session, workspace_id=workspace_id, name="October review",
                                                frame=demo.generate(), settings=settings.to_dict())
            _, token = repository.create_share_link(session=session, snapshot_id=snapshot.id)
            repository.set_workspace_showing(session=session, workspace_id=workspace_id, showing="snapshot",
                                             snapshot_id=snapshot.id)
        return token
    finally:
        engine.dispose()


def _panel(page, tab: str):
    """The content of one tab of the Insights page, after clicking it."""
    page.get_by_role("tab", name=tab).click()
    return page.get_by_role("tabpanel", name=tab)


def _read_insights(page) -> dict:
    """What a reader sees on the Insights page: the drivers sentences, the pacing table's size, the anomaly verdict
    and the annotations' text."""
    page.get_by_role("heading", name="Insights").wait_for()
    wait_for_app(page)
    drivers = _panel(page, "Why KPIs moved")
    drivers.locator("li").first.wait_for()
    sentences = [text.strip() for text in drivers.locator("li").all_inner_texts()]
    pacing = _panel(page, "Budget pacing")
    pacing.locator("[data-testid='stDataFrame']").first.wait_for()
    anomalies = _panel(page, "Anomalies")
    verdict = anomalies.get_by_text("outside").or_(anomalies.get_by_text("Too short to judge")).first
    verdict.wait_for()
    verdict_text = verdict.inner_text().split(" (")[0]
    notes = _panel(page, "Annotations")
    notes.locator("[data-testid='stDataFrame']").first.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    return {"sentences": sentences, "verdict": verdict_text}


def test_the_client_reads_the_sentences_the_editor_reads(app_server, page, browser):
    server = app_server()
    token = _shared_demo_snapshot(f"sqlite:///{server.data_dir / 'campaign_lens.db'}")

    page.goto(f"{server.url}/insights")
    editor = _read_insights(page)
    assert editor["sentences"][0].startswith("CPA ") and len(editor["sentences"]) >= 4
    _panel(page, "Why KPIs moved").locator("[data-testid='stVegaLiteChart']").first.wait_for()
    wait_for_app(page)
    docs_screenshot(page, "insights")
    page.get_by_role("tab", name="Budget pacing").click()
    settled(page, page.get_by_text("keeps the budgets and annotations it was saved with"))
    screenshot(page, "insights_editor")

    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        client = context.new_page()
        client.set_default_timeout(30_000)
        client.goto(f"{server.url}/?share={token}")
        wait_for_app(client)
        client.locator("[data-testid='stSidebarNav']").get_by_text("Insights", exact=True).click()
        assert _read_insights(client) == editor
        assert client.get_by_role("button", name="Save budget").count() == 0
        assert client.locator("[data-testid='stFileUploaderDropzoneInput']").count() == 0
        screenshot(client, "insights_client")
    finally:
        context.close()


@pytest.mark.datasets
def test_the_insights_page_reads_a_real_export(app_server, page, shared_datasets):
    server = app_server()
    page.goto(f"{server.url}/upload")
    wait_for_app(page)
    exports_input(page).set_input_files(str(shared_datasets / REAL_EXPORT))
    page.get_by_text("Current data:").wait_for()
    wait_for_app(page)
    page.locator("[data-testid='stSidebarNav']").get_by_text("Insights", exact=True).click()
    page.get_by_role("heading", name="Insights").wait_for()
    wait_for_app(page)
    drivers = _panel(page, "Why KPIs moved")
    drivers.locator("li").first.wait_for()
    sentences = drivers.locator("li").all_inner_texts()
    assert [s.split()[0] for s in sentences[:4]] == ["CPA", "ROAS", "CPL", "CPC"], sentences
    forecast = _panel(page, "Forecast")
    forecast.get_by_text("projected by 30 Jun 2025").first.wait_for()
    anomalies = _panel(page, "Anomalies")
    anomalies.get_by_text("outside the expected band").or_(anomalies.get_by_text("is outside its expected band")) \
        .first.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "insights_real_export")
