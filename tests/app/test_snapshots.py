"""Snapshots & sharing (editor) and the client view at /?share=TOKEN, through AppTest.

AppTest runs a page file on its own when `switch_page` is called before any run (legacy
multipage mode, like a freshly started server): those cases prove the guard re-routes.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from metrics import demo
from models import repository
from models.auth import hash_password
from models.db import make_engine, upgrade_database
from tests.conftest import REPO
from ui.state import AB_CONFIG, GOALS

XSS = "<img src=x onerror=alert(1)>"
ANALYSIS_PAGES = {"overview", "insights", "platforms", "campaigns", "funnel", "goals", "ab_tests"}


@pytest.fixture(scope="module")
def engine():
    created = make_engine()  # the AppTest database (tests/app/conftest.py sets DATABASE_URL)
    upgrade_database(created)
    yield created
    created.dispose()


def _frame() -> pl.DataFrame:
    frame = demo.generate(rows=300)
    first = frame.get_column("campaign").drop_nulls().sort()[0]
    return frame.with_columns(pl.when(pl.col("campaign") == first).then(pl.lit(XSS)).otherwise(pl.col("campaign"))
                              .alias("campaign"))


@pytest.fixture
def shared(engine):
    """A snapshot (its name and a campaign are an HTML payload) with an active, an expired and a revoked link."""
    with Session(engine) as session:
        workspace_id = repository.ensure_workspace(session=session).id
        snapshot = repository.save_snapshot(session=session, workspace_id=workspace_id, name=f"Q3 {XSS}", frame=_frame(),
                                            settings={"filters": {}, "goals": [], "ab": {}}, client_label="Acme")
        _, active = repository.create_share_link(session=session, snapshot_id=snapshot.id, label="client")
        _, expired = repository.create_share_link(
            session=session, snapshot_id=snapshot.id, expires_at=datetime.now(timezone.utc) - timedelta(seconds=1))
        revoked_link, revoked = repository.create_share_link(session=session, snapshot_id=snapshot.id)
        repository.revoke_share_link(session=session, link_id=revoked_link.id)
        return {"id": snapshot.id, "active": active, "expired": expired, "revoked": revoked}


def _app() -> AppTest:
    return AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=60)


def _nav(at: AppTest) -> set[str]:
    """Stems of the file pages `st.navigation` registered in the last run (function pages by name)."""
    names = set()
    for info in at._registered_pages.values():
        script = info.get("script_path")
        names.add(str(script).rsplit("/", 1)[-1].removesuffix(".py") if script else str(info.get("url_pathname")))
    return names


def _table(at: AppTest, column: str):
    """The first st.dataframe (as pandas) that has `column`."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column")


def _titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def _all_markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.title] + [
        h.value for h in at.subheader] + [h.value for h in at.header]


# --- editor -------------------------------------------------------------------------------------


def test_save_list_rename_open_share_revoke_delete(app, engine):
    at = app
    at.run()
    at.switch_page("pages/upload.py").run()
    at.button(key="use_demo").click().run()
    platforms = at.multiselect(key="flt_platforms")
    chosen = platforms.options[0]
    platforms.select(chosen).run()
    chosen = at.multiselect(key="flt_platforms").value[0]  # the slug behind the chip's display name
    at.session_state[GOALS] = [{"kpi": "spend", "target": 1234.0}]
    at.session_state[AB_CONFIG] = {"metric": "conversions"}

    at.switch_page("pages/snapshots.py").run()
    assert _titles(at) == ["Snapshots & sharing"]
    name_box, client_box = [t for t in at.text_input if t.label in ("Snapshot name", "Client (optional)")]
    name_box.input("March review")
    client_box.input("Acme")
    at.button(key="FormSubmitter:save_snapshot-Save snapshot").click().run()
    assert not at.exception, at.exception
    assert "Snapshot saved" in at.success[0].value

    table = _table(at, "Live links")
    row = table[table["Name"] == "March review"].iloc[0]
    assert row["Client"] == "Acme" and row["Rows"] > 0 and row["Live links"] == 0
    assert "UTC" in row["Saved"] and row["Size"].endswith("B")
    snapshot_id = at.session_state["snap_selected"]
    with Session(engine) as session:
        saved = repository.get_snapshot(session=session, snapshot_id=snapshot_id)
        assert saved.settings["filters"]["platforms"] == [chosen]
        assert saved.settings["goals"] == [{"kpi": "spend", "target": 1234.0}]
        assert saved.source_files[0]["name"] == "demo data"

    # rename
    at.text_input(key=f"rename_name_{snapshot_id}").input("March review (final)")
    at.button(key=f"FormSubmitter:rename_{snapshot_id}-Save name").click().run()
    assert _table(at, "Live links")["Name"].tolist()[0] == "March review (final)"

    # change the report, then open the snapshot: filters, goals and A/B settings come back
    at.session_state[GOALS] = []
    at.session_state[AB_CONFIG] = {}
    at.multiselect(key="flt_platforms").set_value([]).run()
    assert at.multiselect(key="flt_platforms").value == []
    at.button(key="snapshot_open").click().run()
    assert not at.exception, at.exception
    assert at.multiselect(key="flt_platforms").value == [chosen]
    assert at.session_state[GOALS] == [{"kpi": "spend", "target": 1234.0}]
    assert at.session_state[AB_CONFIG] == {"metric": "conversions"}
    with Session(engine) as session:
        workspace_id = repository.ensure_workspace(session=session).id
        assert repository.workspace_showing(session=session, workspace_id=workspace_id) == ("snapshot", snapshot_id)

    # create a link: the full URL, once
    [label] = [t for t in at.text_input if t.label == "Label (who gets it)"]
    label.input("Acme team")
    at.button(key=f"FormSubmitter:create_link_{snapshot_id}-Create link").click().run()
    assert not at.exception, at.exception
    [code] = at.code
    assert "/?share=" in code.value
    token = code.value.split("share=", 1)[1]
    with Session(engine) as session:
        assert repository.resolve_share_token(session=session, token=token, count_view=False) is not None
    links = _table(at, "Last view")
    assert links["Label"].tolist() == ["Acme team"] and links["Status"].tolist() == ["Active"]
    assert _table(at, "Live links")["Live links"].tolist()[0] == 1
    at.button(key="share_link_done").click().run()
    assert not at.code, "the raw token is shown only once"

    # regenerate: the same link at a new URL (shown once); the old token dies, one live link remains
    at.button(key="link_regenerate").click().run()
    [code] = at.code
    new_token = code.value.split("share=", 1)[1]
    assert new_token != token
    assert _table(at, "Last view")["Status"].tolist() == ["Active"]
    assert _table(at, "Live links")["Live links"].tolist()[0] == 1
    with Session(engine) as session:
        assert repository.resolve_share_token(session=session, token=token, count_view=False) is None
        assert repository.resolve_share_token(session=session, token=new_token, count_view=False) is not None

    # revoke: the link stops working, and neither Revoke nor Regenerate is offered for it any more
    at.button(key="link_revoke").click().run()
    assert _table(at, "Last view")["Status"].tolist() == ["Revoked"]
    # Said next to the picker, and the picker's options carry no status a browser could keep showing stale.
    assert [m.value for m in at.success] == ["Link revoked: it no longer opens the report."]
    assert any(c.value == "Status: Revoked" for c in at.caption)
    assert not any("Active" in option for option in at.selectbox(key=f"link_pick_{snapshot_id}").options)
    assert not at.code, "revoking the link just shown hides its URL"
    assert at.button(key="link_regenerate").disabled and at.button(key="link_revoke").disabled
    with Session(engine) as session:
        assert repository.resolve_share_token(session=session, token=new_token, count_view=False) is None

    # delete, with confirmation
    at.button(key="snapshot_delete").click().run()
    assert "cannot be undone" in at.warning[0].value
    at.button(key="snapshot_delete_cancel").click().run()
    assert not at.warning
    at.button(key="snapshot_delete").click().run()
    at.button(key="snapshot_delete_confirm").click().run()
    assert not at.exception, at.exception
    with Session(engine) as session:
        assert repository.get_snapshot(session=session, snapshot_id=snapshot_id) is None
        assert repository.list_share_links(session=session, snapshot_id=snapshot_id) == []


def test_snapshots_page_without_data_explains(app):
    app.run()
    app.switch_page("pages/snapshots.py").run()
    assert not app.exception
    assert "no data to save" in app.info[0].value


# --- client -------------------------------------------------------------------------------------


def test_client_sees_only_the_shared_report(shared):
    at = _app()
    at.query_params["share"] = shared["active"]
    at.run()
    assert not at.exception, at.exception
    assert _nav(at) == ANALYSIS_PAGES
    texts = _all_markdown(at)
    assert any("Q3" in t for t in texts), texts  # the snapshot's name titles the page
    assert any("data as of" in t for t in texts), texts
    assert not at.file_uploader
    for page in ("pages/upload.py", "pages/snapshots.py"):
        with pytest.raises(ValueError):
            at.switch_page(page)  # not among the client's pages
    for page in sorted(ANALYSIS_PAGES):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
        assert not at.file_uploader
        assert any("data as of" in t for t in _all_markdown(at)), page


def test_client_session_stays_client_without_the_parameter(shared):
    at = _app()
    at.query_params["share"] = shared["active"]
    at.run()
    at.query_params.pop("share", None)
    at.run()
    assert _nav(at) == ANALYSIS_PAGES


@pytest.mark.parametrize("page", ["pages/upload.py", "pages/snapshots.py"])
def test_client_deep_link_to_editor_page_is_rerouted(shared, page):
    at = _app()
    at.query_params["share"] = shared["active"]
    at.switch_page(page).run()  # the page file runs alone first, as on a fresh server
    assert not at.exception, at.exception
    assert not at.file_uploader
    assert "Snapshots & sharing" not in _titles(at) and "Data" not in _titles(at)
    assert any("data as of" in t for t in _all_markdown(at))


@pytest.mark.parametrize("kind", ["unknown", "expired", "revoked", "empty", "padded", "odd", "huge"])
def test_dead_links_all_look_the_same(shared, kind):
    made_up = {"unknown": "x" * 43, "empty": "", "padded": f" {shared['active']} ", "odd": shared["active"] + "%",
               "huge": "A" * 100_000}
    token = made_up[kind] if kind in made_up else shared[kind]
    at = _app()
    at.query_params["share"] = token
    at.run()
    assert not at.exception, at.exception
    assert _titles(at) == ["This link is not valid"]
    assert not any("Q3" in t for t in _all_markdown(at))


def test_dead_link_deep_link_to_editor_page(shared):
    at = _app()
    at.query_params["share"] = shared["revoked"]
    at.switch_page("pages/upload.py").run()
    assert _titles(at) == ["This link is not valid"]
    assert not at.file_uploader


def test_revoked_while_open_stops_at_once(shared, engine):
    at = _app()
    at.query_params["share"] = shared["active"]
    at.run()
    with Session(engine) as session:
        [link] = [link for link in repository.list_share_links(session=session, snapshot_id=shared["id"])
                  if link.label == "client"]
        repository.revoke_share_link(session=session, link_id=link.id)
    at.run()
    assert _titles(at) == ["This link is not valid"]


def test_upload_text_is_rendered_as_text(shared):
    at = _app()
    at.query_params["share"] = shared["active"]
    at.run()
    for page in ("pages/overview.py", "pages/campaigns.py"):
        at.switch_page(page).run()
        for text in _all_markdown(at):
            assert "<img" not in text.replace("\\<img", ""), text  # escaped, so Markdown shows it literally
        for element in at.markdown:
            assert not element.proto.allow_html, element.value
    assert any(XSS in option for option in at.multiselect(key="flt_campaigns").options)


# --- editor password ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def password_hash():
    return hash_password("correct horse")


def test_password_gate(monkeypatch, password_hash):
    monkeypatch.setenv("CAMPAIGN_LENS_PASSWORD_HASH", password_hash)
    at = _app()
    at.switch_page("pages/upload.py").run()  # a deep link first, as on a fresh server
    assert not at.file_uploader
    assert at.text_input[0].label == "Password"
    at.text_input[0].input("wrong horse")
    at.button[0].click().run()
    assert at.error[0].value == "That password is not correct. Try again."
    assert not at.file_uploader
    at.text_input[0].input("correct horse")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert {"upload", "snapshots"} <= _nav(at)
    at.switch_page("pages/upload.py").run()
    assert at.file_uploader

    at.button(key="sign_out").click().run()
    assert at.text_input[0].label == "Password" and not at.file_uploader


def test_wrong_passwords_lock_the_form_for_every_session(monkeypatch, password_hash):
    """SPEC §8: the 5th wrong password locks the editor for a minute; the right one is refused meanwhile,
    also in a new session (the count is in the database, not in the session)."""
    monkeypatch.setenv("CAMPAIGN_LENS_PASSWORD_HASH", password_hash)
    errors = []
    for attempt in range(5):
        at = _app()  # a new browser session each time
        at.run()
        at.text_input[0].input(f"guess {attempt}")
        at.button[0].click().run()
        errors.append(at.error[0].value)
    assert errors == ["That password is not correct. Try again."] * 4 + [
        "Too many wrong passwords. Try again in 1 minute."]
    at = _app()
    at.run()
    at.text_input[0].input("correct horse")
    at.button[0].click().run()
    assert at.error[0].value.startswith("Too many wrong passwords. Try again in ")
    assert not at.file_uploader and "upload" not in _file_pages(at)


def _file_pages(at: AppTest) -> set[str]:
    return {str(info["script_path"]).rsplit("/", 1)[-1].removesuffix(".py")
            for info in at._registered_pages.values() if info.get("script_path")}


def test_client_token_never_opens_the_editor(monkeypatch, password_hash, shared):
    monkeypatch.setenv("CAMPAIGN_LENS_PASSWORD_HASH", password_hash)
    at = _app()
    at.query_params["share"] = shared["active"]
    at.run()
    assert _nav(at) == ANALYSIS_PAGES
    at.query_params.pop("share", None)
    at.run()
    assert _nav(at) == ANALYSIS_PAGES  # still a client, not the editor and not the login form
    assert not at.text_input or at.text_input[0].label != "Password"
    with pytest.raises(ValueError):
        at.switch_page("pages/snapshots.py")


def test_oidc_gate_and_editor_list(monkeypatch):
    def run(user: dict) -> AppTest:
        at = _app()
        at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                              "client_id": "id", "client_secret": "secret",
                              "server_metadata_url": "https://example.com/.well-known/openid-configuration"}
        at.secrets["editor_emails"] = ["Editor@Example.com"]
        at.user = user
        at.switch_page("pages/upload.py").run()
        assert not at.exception, at.exception
        return at

    signed_out = run({"is_logged_in": False})
    assert [b.label for b in signed_out.button] == ["Sign in"] and not signed_out.file_uploader
    stranger = run({"is_logged_in": True, "email": "someone@example.org"})
    assert "may not open the editor" in stranger.markdown[0].value and not stranger.file_uploader
    editor = run({"is_logged_in": True, "email": "editor@example.com"})
    assert editor.file_uploader and {"upload", "snapshots"} <= _nav(editor)


def test_no_password_means_editor_only_on_this_machine(monkeypatch):
    monkeypatch.setattr("ui.access._is_local_visitor", lambda: False)
    at = _app()
    at.switch_page("pages/snapshots.py").run()
    assert not at.exception, at.exception
    assert "Snapshots & sharing" not in _titles(at)
    assert "CAMPAIGN_LENS_PASSWORD_HASH" in at.markdown[0].value
