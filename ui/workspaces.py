"""Workspaces in the editor's UI: the sidebar switcher and its menu (new, rename, delete with what
goes), and the workspace settings panel of the Data page (currency, time zone, branding)."""

from __future__ import annotations

from zoneinfo import available_timezones

import streamlit as st

from models import repository
from reports.branding import DEFAULT_ACCENT
from ui import session, widgets
from ui.errors import user_errors
from ui.persistence import session_scope
from ui.state import (
    WORKSPACE_NOTE,
    WS_ACCENT,
    WS_CONFIRM_DELETE,
    WS_CURRENCY,
    WS_FOOTER,
    WS_LOGO,
    WS_NEW_NAME,
    WS_RENAME,
    WS_SWITCHER,
    WS_TIME_ZONE,
    ask_to_confirm,
    keyed,
)


def _note(message: str, kind: str = "error") -> None:
    st.session_state[WORKSPACE_NOTE] = (kind, message)


def _switch() -> None:
    chosen = st.session_state.get(WS_SWITCHER)
    if chosen is None or chosen == session.current_workspace_id():
        return
    with user_errors("The workspace could not be opened", show=_note):
        session.enter_workspace(chosen)


def _create() -> None:
    name = st.session_state.get(WS_NEW_NAME, "")
    with user_errors("The workspace could not be created", show=_note) as outcome:
        with session_scope() as db:
            created = repository.create_workspace(session=db, name=name)
            created_id, created_name = created.id, created.name
    if outcome.failed:
        return
    st.session_state[WS_NEW_NAME] = ""
    session.enter_workspace(created_id)
    _note(f"Workspace “{created_name}” created: upload its exports on the Data page.", "success")


def _rename(workspace_id: int) -> None:
    with user_errors("The workspace could not be renamed", show=_note) as outcome:
        with session_scope() as db:
            repository.update_workspace(session=db, workspace_id=workspace_id,
                                        name=st.session_state.get(keyed(WS_RENAME, workspace_id), ""))
    if not outcome.failed:
        _note("Workspace renamed.", "success")


def _delete(workspace_id: int, what: str) -> None:
    with user_errors("The workspace could not be deleted", show=_note) as outcome:
        with session_scope() as db:
            repository.delete_workspace(session=db, workspace_id=workspace_id)
            # Never left without a workspace: deleting the last one starts a fresh "My workspace".
            first = repository.ensure_workspace(session=db).id
    if outcome.failed:
        return
    st.session_state.pop(WS_CONFIRM_DELETE, None)
    session.enter_workspace(first)
    _note(f"Workspace deleted with {what}.", "success")


def sidebar() -> None:
    """The switcher (a select) and the "Workspaces" menu, at the top of the editor's sidebar."""
    workspace_id = session.current_workspace_id()
    if workspace_id is None:
        return
    contents = None
    with user_errors("The workspaces could not be listed", show=st.sidebar.error) as outcome:
        with session_scope() as db:
            names = {w.id: w.name for w in repository.list_workspaces(session=db)}
            if st.session_state.get(WS_CONFIRM_DELETE) == workspace_id:
                contents = repository.workspace_contents(session=db, workspace_id=workspace_id)
    if outcome.failed or workspace_id not in names:
        return
    with st.sidebar:
        if note := st.session_state.pop(WORKSPACE_NOTE, None):
            kind, message = note
            {"success": st.success, "warning": st.warning}.get(kind, st.error)(widgets.md_escape(message))
        st.session_state[WS_SWITCHER] = workspace_id  # follows ?ws= and the menu's actions
        st.selectbox("Workspace", list(names), format_func=names.get, key=WS_SWITCHER, on_change=_switch,
                     help="One workspace per client: its data sources, snapshots, client links and settings.")
        with st.popover("Workspaces", icon=":material/workspaces:", width="stretch"):
            with st.form("ws_new", border=False, enter_to_submit=True):
                st.text_input("New workspace", max_chars=200, placeholder="e.g. Acme Corp", key=WS_NEW_NAME)
                st.form_submit_button("Create", icon=":material/add:", on_click=_create)
            with st.form(keyed("ws_rename_form", workspace_id), border=False, enter_to_submit=True):
                st.text_input("Name of this workspace", value=names[workspace_id], max_chars=200,
                              key=keyed(WS_RENAME, workspace_id))
                st.form_submit_button("Rename", on_click=_rename, args=(workspace_id,))
            if contents is not None:
                what = contents.describe()
                st.warning(f"Delete “{widgets.md_escape(names[workspace_id])}” and everything in it: "
                           f"{what}? Client links to its snapshots stop working. This cannot be undone.")
                confirm = st.container(horizontal=True)
                confirm.button("Delete for good", type="primary", key="ws_delete_confirm", on_click=_delete,
                               args=(workspace_id, what))
                confirm.button("Cancel", key="ws_delete_cancel",
                               on_click=ask_to_confirm, args=(WS_CONFIRM_DELETE, None))
            else:
                st.button("Delete this workspace…", icon=":material/delete:", key="ws_delete",
                          on_click=ask_to_confirm, args=(WS_CONFIRM_DELETE, workspace_id))


# --- settings panel (Data page) -----------------------------------------------------------------


def _save_settings(workspace_id: int) -> None:
    logo = st.session_state.get(WS_LOGO)
    accent = st.session_state.get(WS_ACCENT) or None
    if accent and accent.lower() == DEFAULT_ACCENT.lower():
        accent = None  # the picker always holds a colour: the default one means "not set"
    with user_errors("The workspace settings could not be saved", show=_note) as outcome:
        with session_scope() as db:
            repository.update_workspace(
                session=db, workspace_id=workspace_id, currency=st.session_state.get(WS_CURRENCY) or None,
                time_zone=st.session_state.get(WS_TIME_ZONE) or "UTC",
                accent_color=accent,
                report_footer=st.session_state.get(WS_FOOTER) or None,
            )
            if logo is not None:
                repository.set_workspace_logo(session=db, workspace_id=workspace_id, logo=logo.getvalue())
    if not outcome.failed:
        _note("Workspace settings saved.", "success")


def _remove_logo(workspace_id: int) -> None:
    with user_errors("The logo could not be removed", show=_note) as outcome:
        with session_scope() as db:
            repository.set_workspace_logo(session=db, workspace_id=workspace_id, logo=None)
    if not outcome.failed:
        _note("Logo removed.", "success")


def settings_panel(workspace_id: int) -> None:
    """Default currency, time zone and report branding of the workspace (used by report files)."""
    with user_errors("The workspace settings could not be read") as outcome:
        with session_scope() as db:
            branding = repository.workspace_branding(session=db, workspace_id=workspace_id)
    if outcome.failed:
        return
    zones = sorted(available_timezones() | {"UTC"})
    with st.form(keyed("ws_settings", workspace_id), border=False):
        left, right = st.columns(2)
        left.text_input("Default currency", value=branding.currency or "", max_chars=3, key=WS_CURRENCY,
                        placeholder="e.g. EUR", help="For files that do not say their currency. Three letters.")
        right.selectbox("Time zone", zones, index=zones.index(branding.time_zone), key=WS_TIME_ZONE,
                        help="The client's time zone: report dates and scheduled deliveries use it.")
        left.color_picker("Accent colour of report files", value=branding.accent_color or DEFAULT_ACCENT,
                          key=WS_ACCENT, help="Headings, tiles and charts of the PDF and HTML report files.")
        right.text_input("Report footer", value=branding.report_footer or "", max_chars=repository.FOOTER_MAX_LENGTH,
                         key=WS_FOOTER,
                         placeholder="e.g. Prepared by Your Agency · hello@agency.example")
        st.file_uploader("Logo (PNG or JPEG, up to 1 MB)", type=["png", "jpg", "jpeg"], key=WS_LOGO)
        st.form_submit_button("Save workspace settings", type="primary", on_click=_save_settings, args=(workspace_id,))
    if branding.logo:
        st.image(branding.logo, width=160, caption="Current logo")
        st.button("Remove the logo", key="ws_logo_remove", on_click=_remove_logo, args=(workspace_id,))
