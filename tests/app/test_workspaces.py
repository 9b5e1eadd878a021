"""Workspaces and stored sources through AppTest: the data stays put after a "reload" (a new session
with the same URL), newer exports refresh their source with a message, the sources list manages
them, and the sidebar switcher keeps clients' data apart (also when the URL's ?ws= is edited)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from metrics import kpis
from models import repository
from models.db import make_engine
from tests.conftest import REPO
from tests.export_fixtures import meta_export, totals_by_day
from ui.state import AB_CONFIG, DATASET, GOALS, WORKSPACE, WS_SETTINGS_OPEN

JAN = date(2026, 1, 1)
WEEK1 = meta_export(JAN, 10, name="meta-1-10.csv")
WEEK2 = meta_export(JAN + timedelta(days=7), 7, spend=5.0, name="meta-8-14.csv")
OTHER_CLIENT = meta_export(JAN, 3, campaigns=("Brand",), spend=50.0, name="acme.csv")


@pytest.fixture
def engine():
    created = make_engine()  # the AppTest database (tests/app/conftest.py)
    yield created
    created.dispose()


def _app(**query) -> AppTest:
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = value
    return at


def _reload(at: AppTest, page: str | None = None) -> AppTest:
    """A new browser session on the same URL (its query parameters), optionally on `page`."""
    fresh = _app(**{name: value for name, value in at.query_params.items()})
    fresh.run()
    if page:
        fresh.switch_page(page).run()
    assert not fresh.exception, fresh.exception
    return fresh


def _data_page(at: AppTest | None = None) -> AppTest:
    at = at or _app()
    at.run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception, at.exception
    return at


def _upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    values = [(name, data, "text/csv") for name, data in files]
    at.file_uploader(key="upload_files").set_value(values if len(values) > 1 else values[0]).run()
    assert not at.exception, at.exception
    return at


def _spend(at: AppTest) -> float | None:
    dataset = at.session_state[DATASET] if DATASET in at.session_state else None
    return None if dataset is None else kpis.total(dataset.frame)["spend"]


def _sources_table(at: AppTest):
    return next(df.value for df in at.dataframe if "In report" in df.value.columns)


def _messages(at: AppTest) -> list[str]:
    """Alert texts as a person reads them (upload text in them is Markdown-escaped)."""
    return [re.sub(r"\\(.)", r"\1", m.value) for m in [*at.success, *at.info, *at.warning, *at.error]]


# --- stored sources ------------------------------------------------------------------------------


def test_an_upload_is_stored_and_comes_back_after_a_reload(engine):
    at = _upload(_data_page(), WEEK1)
    expected = sum(totals_by_day(WEEK1).values())
    assert _spend(at) == pytest.approx(expected)
    assert any("stored as a new source" in m for m in _messages(at))
    table = _sources_table(at)
    row = table.iloc[0]
    assert (row["Source"], row["Rows"], row["Platforms"], row["Currency"]) == ("meta-1-10.csv", 20, "Facebook", "USD")
    assert row["Dates"] == "1 – 10 Jan 2026" and bool(row["In report"]) is True  # the display catalog's style
    assert at.query_params["ws"]

    again = _reload(at)  # a reload, a bookmark, a new tab: the same URL in a new session
    assert _spend(again) == pytest.approx(expected)
    assert again.session_state[DATASET].frame.height == 20


def test_a_newer_export_refreshes_its_source_and_says_what_changed(engine):
    at = _upload(_data_page(), WEEK1)
    _upload(at, WEEK2)
    assert any("meta-8-14.csv updated “meta-1-10.csv”: +4 days, 3 days replaced." in m for m in _messages(at))
    assert _spend(at) == pytest.approx(sum(totals_by_day(WEEK1, WEEK2).values()))
    assert len(_sources_table(at)) == 1
    # the identical file again: nothing changes, and the page says so
    before = _spend(at)
    at.file_uploader(key="upload_files").set_value([]).run()
    _upload(at, WEEK2)
    assert any("already stored in “meta-1-10.csv”; nothing changed" in m for m in _messages(at))
    assert _spend(at) == before


def test_an_upload_can_be_stored_as_a_new_source_or_into_a_chosen_one(engine):
    at = _upload(_data_page(), WEEK1)
    at.selectbox(key="upload_target").set_value("new").run()
    at.file_uploader(key="upload_files").set_value([]).run()
    _upload(at, WEEK2)
    assert len(_sources_table(at)) == 2  # added, even though it is a newer export of the first
    assert any("possible" in m or "counted twice" in m for m in _messages(at))  # and the overlap is flagged


def test_rename_disable_and_delete_a_source(engine):
    at = _upload(_data_page(), WEEK1)
    at.file_uploader(key="upload_files").set_value([]).run()
    at.selectbox(key="upload_target").set_value("new").run()
    _upload(at, OTHER_CLIENT)
    both = _spend(at)
    with Session(engine) as session:
        acme_id = repository.list_sources(session=session, workspace_id=at.session_state[WORKSPACE])[-1].id
    assert at.selectbox(key="source_selected").value == acme_id  # the newest source is picked to manage

    at.text_input(key=f"source_rename_{acme_id}").input("Acme brand")
    at.button(key=f"FormSubmitter:source_rename_form_{acme_id}-Rename").click().run()
    assert "Acme brand" in _sources_table(at)["Source"].tolist()

    at.button(key="source_disable").click().run()
    assert any("Source disabled" in m for m in _messages(at))
    assert _spend(at) == pytest.approx(both - 150.0)  # 3 days × 50
    assert _spend(_reload(at)) == pytest.approx(both - 150.0)  # left out for good, not only in this session
    at.button(key="source_enable").click().run()
    assert _spend(at) == pytest.approx(both)

    at.button(key="source_delete").click().run()
    assert any("cannot be undone" in m for m in _messages(at))
    at.button(key="source_delete_confirm").click().run()
    assert _sources_table(at)["Source"].tolist() == ["meta-1-10.csv"]
    assert _spend(at) == pytest.approx(both - 150.0)


def test_a_mapping_edit_rereads_the_stored_file(engine):
    at = _upload(_data_page(), WEEK1)
    at.selectbox(key="fix_src_0").set_value("Amount spent (USD)")
    at.selectbox(key="fix_dst_0").set_value("(ignore)")
    next(b for b in at.get("form_submit_button") if b.label == "Set column").click().run()
    assert not at.exception, at.exception
    assert _spend(at) is None
    assert len(_sources_table(at)) == 1  # read again in place, not added twice
    assert _spend(_reload(at)) is None


def test_the_demo_is_one_click_and_survives_a_reload(engine):
    at = _data_page()
    at.button(key="use_demo").click().run()
    assert at.session_state[DATASET].label == "Demo account"
    assert _reload(at).session_state[DATASET].label == "Demo account"
    # an upload brings the workspace's own data back
    _upload(at, WEEK1)
    assert at.session_state[DATASET].label == "meta-1-10.csv"


def test_goals_and_ab_settings_belong_to_the_workspace(engine):
    at = _data_page()
    at.session_state[GOALS] = [{"metric": "spend", "target": 500.0, "deadline": "2026-12-31"}]
    at.session_state[AB_CONFIG] = {"version": 1, "source": "calculator"}
    at.run()
    again = _reload(at)
    assert again.session_state[GOALS] == [{"metric": "spend", "target": 500.0, "deadline": "2026-12-31"}]
    assert again.session_state[AB_CONFIG] == {"version": 1, "source": "calculator"}


# --- workspaces ----------------------------------------------------------------------------------


def _create_workspace(at: AppTest, name: str) -> AppTest:
    at.text_input(key="ws_new_name").input(name)
    at.button(key="FormSubmitter:ws_new-Create").click().run()
    assert not at.exception, at.exception
    return at


def test_switcher_creates_and_switches_workspaces_that_never_share_data(engine):
    at = _upload(_data_page(), WEEK1)
    first = at.session_state[WORKSPACE]
    switcher = at.sidebar.selectbox(key="ws_switcher")
    assert switcher.label == "Workspace" and switcher.value == first

    _create_workspace(at, "Acme Corp")
    acme = at.session_state[WORKSPACE]
    assert acme != first and at.query_params["ws"] == str(acme)
    assert at.sidebar.selectbox(key="ws_switcher").value == acme
    assert DATASET not in at.session_state  # a new client starts empty
    assert any("No data yet" in m for m in _messages(at))
    _upload(at, OTHER_CLIENT)
    assert _spend(at) == pytest.approx(150.0)
    assert _sources_table(at)["Source"].tolist() == ["acme.csv"]

    at.sidebar.selectbox(key="ws_switcher").set_value(first).run()
    assert at.query_params["ws"] == str(first)
    assert _spend(at) == pytest.approx(sum(totals_by_day(WEEK1).values()))
    assert _sources_table(at)["Source"].tolist() == ["meta-1-10.csv"]

    # editing ?ws= in the URL opens that workspace, and only that one
    edited = _app(ws=str(acme))
    edited.run()
    edited.switch_page("pages/upload.py").run()
    assert _spend(edited) == pytest.approx(150.0) and _sources_table(edited)["Source"].tolist() == ["acme.csv"]


@pytest.mark.parametrize("wrong", ["999", "abc", "-1"])
def test_an_unknown_workspace_in_the_url_falls_back_to_the_first_with_a_note(engine, wrong):
    at = _app(ws=wrong)
    at.run()
    assert not at.exception, at.exception
    with Session(engine) as session:
        first = repository.ensure_workspace(session=session)
    assert at.session_state[WORKSPACE] == first.id and at.query_params["ws"] == str(first.id)
    assert any(f"There is no workspace {wrong}" in m for m in _messages(at))


def test_snapshots_and_links_are_listed_only_in_their_workspace(engine):
    at = _upload(_data_page(), WEEK1)
    at.switch_page("pages/snapshots.py").run()
    at.text_input(key="snap_new_name").input("January")
    at.button(key="FormSubmitter:save_snapshot-Save snapshot").click().run()
    assert any(df.value["Name"].tolist() == ["January"] for df in at.dataframe if "Live links" in df.value.columns)

    _create_workspace(at, "Beta")
    at.switch_page("pages/snapshots.py").run()
    assert not any("Live links" in df.value.columns for df in at.dataframe)
    assert any("No snapshots yet" in i.value for i in at.info)


def test_deleting_a_workspace_names_what_goes_and_deletes_it(engine):
    at = _data_page()
    _create_workspace(at, "Doomed")
    doomed = at.session_state[WORKSPACE]
    _upload(at, OTHER_CLIENT)
    with Session(engine) as session:
        snapshot = repository.save_snapshot(session=session, workspace_id=doomed, name="s",
                                            frame=at.session_state[DATASET].frame, settings={})
        _, token = repository.create_share_link(session=session, snapshot_id=snapshot.id)
    at.button(key="ws_delete").click().run()
    warning = next(w.value for w in at.warning if "cannot be undone" in w.value)
    assert "1 source, 1 snapshot, 1 client link" in warning and "Doomed" in warning
    at.button(key="ws_delete_cancel").click().run()
    assert not any("cannot be undone" in w.value for w in at.warning)
    at.button(key="ws_delete").click().run()
    at.button(key="ws_delete_confirm").click().run()
    assert not at.exception, at.exception
    assert at.session_state[WORKSPACE] != doomed
    assert "Doomed" not in at.sidebar.selectbox(key="ws_switcher").options
    with Session(engine) as session:
        assert repository.get_workspace(session=session, workspace_id=doomed) is None
        assert repository.resolve_share_token(session=session, token=token) is None


def test_a_client_link_ignores_the_workspace_parameter(engine):
    at = _upload(_data_page(), WEEK1)
    frame = at.session_state[DATASET].frame
    first = at.session_state[WORKSPACE]
    _create_workspace(at, "Other")
    other = at.session_state[WORKSPACE]
    with Session(engine) as session:
        snapshot_id = repository.save_snapshot(session=session, workspace_id=first, name="Shared January",
                                               frame=frame, settings={}).id
        _, token = repository.create_share_link(session=session, snapshot_id=snapshot_id)
    client = _app(share=token, ws=str(other))
    client.run()
    assert not client.exception, client.exception
    assert client.session_state[DATASET].snapshot_id == snapshot_id
    assert WORKSPACE not in client.session_state
    assert [s.key for s in client.selectbox if s.key == "ws_switcher"] == []  # no switcher, no workspace names
    assert not any("Other" in str(s.options) for s in client.selectbox)
    assert _spend(client) == pytest.approx(sum(totals_by_day(WEEK1).values()))


def test_workspace_settings_are_validated_and_stored(engine):
    at = _data_page()
    at.session_state[WS_SETTINGS_OPEN] = True  # the lazy expander is open
    at.run()
    workspace_id = at.session_state[WORKSPACE]
    at.text_input(key="ws_currency").input("E1")
    at.button(key=f"FormSubmitter:ws_settings_{workspace_id}-Save workspace settings").click().run()
    assert any("E1 is not a currency code" in m for m in _messages(at))
    at.text_input(key="ws_currency").input("eur")
    at.selectbox(key="ws_time_zone").set_value("Europe/Berlin")
    at.text_input(key="ws_footer").input("Prepared by Agency")
    at.button(key=f"FormSubmitter:ws_settings_{workspace_id}-Save workspace settings").click().run()
    assert any("Workspace settings saved" in m for m in _messages(at))
    with Session(engine) as session:
        branding = repository.workspace_branding(session=session, workspace_id=workspace_id)
    assert (branding.currency, branding.time_zone, branding.report_footer) == ("EUR", "Europe/Berlin",
                                                                               "Prepared by Agency")
