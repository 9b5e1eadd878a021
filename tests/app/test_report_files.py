"""Report files and schedules in the app, through AppTest: "Download PDF" / "Download HTML" for the editor and
for a client (the file built by the button's own callable, as a click does), and the schedule form.

A download button with a callable registers it with the runtime's media file manager; the test keeps the
manager AppTest creates and runs the callable the way Streamlit does when the button is clicked."""

from __future__ import annotations

import io
from datetime import date, timedelta
from unittest import mock

import polars as pl
import pytest
import streamlit.testing.v1.app_test as app_test_module
from pypdf import PdfReader
from sqlmodel import Session
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.media_file_storage import MediaFileStorageError
from streamlit.testing.v1 import AppTest

from metrics.report_settings import ReportFilters, ReportSettings
from models import repository
from models.db import make_engine, upgrade_database
from reports import deliveries
from tests.conftest import REPO

ANALYSIS_PAGES = {"overview", "insights", "platforms", "campaigns", "funnel", "goals", "ab_tests"}
SETTINGS = ReportSettings(filters=ReportFilters(date_from=date(2026, 1, 6), date_to=date(2026, 1, 20),
                                                platforms=("facebook",)))


@pytest.fixture(scope="module")
def engine():
    created = make_engine()  # the AppTest database (tests/app/conftest.py sets DATABASE_URL)
    upgrade_database(created)
    yield created
    created.dispose()


def january() -> pl.DataFrame:
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(31)]
    return pl.DataFrame({"date": days * 2, "platform": ["facebook"] * 31 + ["tiktok"] * 31,
                         "campaign": ["Winter sale"] * 62, "spend": [10.0 + i for i in range(31)] * 2,
                         "impressions": [1000.0] * 62, "clicks": [40.0] * 62, "currency": ["EUR"] * 62})


@pytest.fixture
def shared(engine):
    """The client's snapshot (facebook, 6 – 20 January) with a live link, and another snapshot of the workspace."""
    with Session(engine) as session:
        workspace = repository.ensure_workspace(session=session)
        repository.update_workspace(session=session, workspace_id=workspace.id, report_footer="Northwind Agency")
        snapshot = repository.save_snapshot(session=session, workspace_id=workspace.id, name="January review",
                                            frame=january(), settings=SETTINGS.to_dict())
        other = repository.save_snapshot(session=session, workspace_id=workspace.id, name="Secret other client",
                                         frame=january(), settings={})
        link, token = repository.create_share_link(session=session, snapshot_id=snapshot.id)
        return {"workspace_id": workspace.id, "id": snapshot.id, "other": other.id, "token": token, "link": link.id}


class Downloads:
    """Keeps the media file manager of each AppTest run, to run a download button's callable."""

    def __init__(self) -> None:
        self.managers: list[MediaFileManager] = []
        outer = self

        class Recording(MediaFileManager):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **kwargs)
                outer.managers.append(self)

        self.patch = mock.patch.object(app_test_module, "MediaFileManager", Recording)

    def run(self, at: AppTest) -> AppTest:
        with self.patch:
            at.run()
        assert not at.exception, at.exception
        return at

    def click(self, at: AppTest, label: str) -> bytes:
        """What clicking the download button labelled `label` in the last run hands the browser."""
        [button] = [b for b in at.get("download_button") if b.label == label]
        manager = self.managers[-1]
        url = manager.execute_deferred(button.proto.deferred_file_id)
        return manager.read_file(url.rsplit("/", 1)[1].split(".", 1)[0]).content


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _app() -> AppTest:
    return AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=60)


def _nav(at: AppTest) -> set[str]:
    return {str(info.get("script_path")).rsplit("/", 1)[-1].removesuffix(".py")
            for info in at._registered_pages.values()}


def test_a_client_downloads_their_report_with_the_apps_numbers_and_nothing_else(shared, engine):
    downloads = Downloads()
    at = _app()
    at.query_params["share"] = shared["token"]
    downloads.run(at)
    assert _nav(at) == ANALYSIS_PAGES  # no Data, no Snapshots page: nothing but the report
    assert [b.label for b in at.get("download_button") if b.label.startswith("Download ")] == [
        "Download PDF", "Download HTML"]
    spend_tile = next(m.value for m in at.metric if m.label == "Spend")  # what the client's Overview shows
    assert spend_tile == "€330.00"  # facebook, 6 – 20 January: 15 + 16 + … + 29

    text = pdf_text(downloads.click(at, "Download PDF"))
    assert f"Spend\n{spend_tile}\n" in text and "January review" in text and "Northwind Agency" in text
    assert "Secret other client" not in text
    html = downloads.click(at, "Download HTML").decode("utf-8")
    assert spend_tile in html and "<!DOCTYPE html>" in html

    # The page was open when the link was revoked: a click downloads nothing.
    with Session(engine) as session:
        repository.revoke_share_link(session=session, link_id=shared["link"])
    with pytest.raises(MediaFileStorageError):
        downloads.click(at, "Download PDF")


def test_the_editor_downloads_the_selected_snapshot(shared):
    downloads = Downloads()
    at = _app()
    at.switch_page("pages/snapshots.py")
    downloads.run(at)
    at.selectbox(key="snap_selected").select(shared["id"])
    downloads.run(at)
    text = pdf_text(downloads.click(at, "Download PDF"))
    assert "January review" in text and "6 – 20 Jan 2026" in text and "Spend\n€330.00\n" in text
    assert "Secret other client" not in text


def _schedule_form(at: AppTest, **values) -> AppTest:
    fields = {"title": "Weekly report", "recipients": "client@acme.example", "zone": "Europe/Berlin", **values}
    at.text_input(key="sched_title_new").input(fields["title"])
    at.text_area(key="sched_recipients_new").input(fields["recipients"])
    at.text_input(key="sched_zone_new").input(fields["zone"])
    [submit] = [b for b in at.button if b.label == "Create schedule"]
    submit.click().run()
    assert not at.exception, at.exception
    return at


def _unescaped(text: str) -> str:
    return text.replace("\\", "")


@pytest.mark.parametrize(("values", "sentence"), [
    (dict(recipients="client@acme"),
     "'client@acme' is not an email address like name@example.com; check it."),
    (dict(recipients="ana@acme.example, Bob <bob@acme.example>"),
     "'Bob' is not an email address like name@example.com; check it."),
    (dict(zone="Berlin"), "'Berlin' is not a time zone; use a name such as Europe/Berlin or America/New_York."),
])
def test_the_schedule_form_refuses_a_bad_address_or_zone_with_one_sentence(shared, engine, values, sentence):
    at = _app()
    at.switch_page("pages/snapshots.py").run()
    _schedule_form(at, **values)
    assert [_unescaped(e.value) for e in at.error] == [sentence]
    with Session(engine) as session:
        assert deliveries.list_schedules(session=session, workspace_id=shared["workspace_id"]) == []


def test_a_schedule_is_created_shown_paused_and_deleted(shared, engine):
    at = _app()
    at.switch_page("pages/snapshots.py").run()
    at.selectbox(key="snap_selected").select(shared["id"]).run()
    _schedule_form(at)
    assert not at.error
    assert "The first delivery is due" in _unescaped(at.success[0].value)
    table = next(t.value for t in at.dataframe if "Next delivery" in t.value.columns)
    row = table.iloc[0]
    assert (row["Title"], row["Report"], row["Status"]) == ("Weekly report", "Snapshot · January review", "Scheduled")
    assert row["When"] == "Every Monday at 09:00 (Europe/Berlin)" and row["Next delivery"].startswith("Mon ")
    assert row["Last delivery"] == "—"

    at.button(key="schedule_send_now").click().run()  # no mail server is configured here
    assert [_unescaped(e.value) for e in at.error] == [
        "Email delivery is not set up; set CAMPAIGN_LENS_SMTP_URL, e.g. "
        "smtp://user:password@mail.example.com:587?from=reports@example.com."]

    at.button(key="schedule_pause").click().run()
    table = next(t.value for t in at.dataframe if "Next delivery" in t.value.columns)
    assert (table.iloc[0]["Status"], table.iloc[0]["Next delivery"]) == ("Paused", "—")
    at.button(key="schedule_delete").click().run()
    at.button(key="schedule_delete_confirm").click().run()
    with Session(engine) as session:
        assert deliveries.list_schedules(session=session, workspace_id=shared["workspace_id"]) == []
