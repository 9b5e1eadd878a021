"""Snapshots & sharing (editor only): save the report, open/rename/delete snapshots, client links."""

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import polars as pl
import streamlit as st

from models import repository
from models.settings import load_settings
from reports import deliveries
from ui import delivery, insights, report_files, session, widgets
from ui.errors import user_errors
from ui.persistence import session_scope
from ui.router import require_router
from ui.state import (
    SNAP_CONFIRM_DELETE,
    SNAP_DOWNLOAD,
    SNAP_LINK_EXPIRY,
    SNAP_LINK_LABEL,
    SNAP_LINK_NOTICE,
    SNAP_LINK_PICK,
    SNAP_LINK_UNTIL,
    SNAP_NEW_CLIENT,
    SNAP_NEW_LINK,
    SNAP_NEW_NAME,
    SNAP_NOTICE,
    SNAP_RENAME_CLIENT,
    SNAP_RENAME_NAME,
    SNAP_SELECTED,
    SNAP_TAB,
    ask_to_confirm,
    current_viewer,
    get_dataset,
    keyed,
)

require_router(__file__)

MANAGE_TAB, LINKS_TAB, DELIVERY_TAB = "Open, rename, delete", "Client links", "Scheduled delivery"

EXPIRY_CHOICES = {"7": "7 days", "30": "30 days", "90": "90 days", "date": "Until a date"}
STATUS_LABELS = {"active": "Active", "expired": "Expired", "revoked": "Revoked"}

if not current_viewer().is_editor:  # defence in depth: the router never offers this page to others
    st.stop()
# Everything here belongs to the editor's workspace: ids of another workspace do nothing.
workspace_id = session.current_workspace_id()
if workspace_id is None:  # the router already said why (the database did not answer)
    st.stop()


def _when(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def _app_url() -> str | None:
    """The app's root URL as the editor's browser sees it (st.context.url ends with this page's path)."""
    url = st.context.url
    if not url:
        return None
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    page_path = Path(__file__).stem
    if path == page_path or path.endswith("/" + page_path):
        path = path[: -len(page_path)]
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


def _share_url(token: str) -> str:
    """CAMPAIGN_LENS_PUBLIC_URL when set (behind a proxy), else the URL the editor is using."""
    return load_settings().share_url(token, base_url=_app_url())


# --- actions: button callbacks, run before the next script run (no extra rerun needed) ---------


def _notify(message: str, kind: str = "success") -> None:
    st.session_state[SNAP_NOTICE] = (kind, message)


def _notify_error(message: str) -> None:
    _notify(message, "error")


def _save() -> None:
    dataset = get_dataset()
    name = st.session_state.get(SNAP_NEW_NAME, "")
    if dataset is None:
        return _notify_error("There is no data to save; upload exports on the Data page first.")
    if not name.strip():
        return _notify_error("Give the snapshot a name.")
    # The annotations and budgets go with it: a shared report never changes when the workspace's do.
    settings = insights.with_notes(session.current_report_settings(), dataset).to_dict()
    with user_errors("The snapshot could not be saved", show=_notify_error) as outcome:
        with session_scope() as db:
            saved = repository.save_snapshot(
                session=db, workspace_id=workspace_id, name=name, frame=dataset.frame, settings=settings,
                client_label=st.session_state.get(SNAP_NEW_CLIENT) or None, source_files=dataset.source_files,
            )
            saved_id = saved.id
    if outcome.failed:
        return
    st.session_state[SNAP_SELECTED] = saved_id
    st.session_state[SNAP_NEW_NAME] = st.session_state[SNAP_NEW_CLIENT] = ""
    _notify("Snapshot saved. Create a client link for it under “Client links”.")


def _open(snapshot_id: int) -> None:
    if not session.open_snapshot(snapshot_id):  # the workspace remembers it for the next session too
        return _notify_error("That snapshot no longer exists.")
    _notify("Snapshot opened: the report pages now show it with its saved filters, goals and A/B settings.")


def _rename(snapshot_id: int) -> None:
    name = st.session_state.get(keyed(SNAP_RENAME_NAME, snapshot_id), "")
    if not name.strip():
        return _notify_error("Give the snapshot a name.")
    with user_errors("The snapshot could not be renamed", show=_notify_error) as outcome:
        with session_scope() as db:
            repository.rename_snapshot(
                session=db, snapshot_id=snapshot_id, name=name, workspace_id=workspace_id,
                client_label=st.session_state.get(keyed(SNAP_RENAME_CLIENT, snapshot_id)) or None)
    if not outcome.failed:
        _notify("Snapshot renamed.")


def _delete(snapshot_id: int) -> None:
    with user_errors("The snapshot could not be deleted", show=_notify_error) as outcome:
        with session_scope() as db:
            repository.delete_snapshot(session=db, snapshot_id=snapshot_id, workspace_id=workspace_id)
    if outcome.failed:
        return
    st.session_state.pop(SNAP_CONFIRM_DELETE, None)
    st.session_state.pop(SNAP_SELECTED, None)
    if (st.session_state.get(SNAP_NEW_LINK) or {}).get("snapshot_id") == snapshot_id:
        st.session_state.pop(SNAP_NEW_LINK, None)
    _notify("Snapshot deleted, with its client links.")


def _create_link(snapshot_id: int) -> None:
    expiry = st.session_state.get(keyed(SNAP_LINK_EXPIRY, snapshot_id), "30")
    if expiry == "date":
        until = st.session_state.get(keyed(SNAP_LINK_UNTIL, snapshot_id)) or date.today() + timedelta(days=30)
        expires = {"expires_at": datetime.combine(until, time(23, 59, 59), tzinfo=timezone.utc)}
    else:
        expires = {"expires_in_days": int(expiry)}
    with user_errors("The link could not be created (the snapshot may have been deleted)",
                     show=_notify_error) as outcome:
        with session_scope() as db:
            link, token = repository.create_share_link(
                session=db, snapshot_id=snapshot_id, workspace_id=workspace_id,
                label=st.session_state.get(keyed(SNAP_LINK_LABEL, snapshot_id)) or None, **expires,
            )
            link_id = link.id
    if outcome.failed:
        return
    st.session_state[keyed(SNAP_LINK_LABEL, snapshot_id)] = ""
    st.session_state[SNAP_NEW_LINK] = {"link_id": link_id, "snapshot_id": snapshot_id, "url": _share_url(token)}
    st.session_state[keyed(SNAP_LINK_PICK, snapshot_id)] = link_id


def _dismiss_link() -> None:
    st.session_state.pop(SNAP_NEW_LINK, None)


def _revoke(link_id: int) -> None:
    with user_errors("The link could not be revoked", show=_notify_error) as outcome:
        with session_scope() as db:
            repository.revoke_share_link(session=db, link_id=link_id, workspace_id=workspace_id)
    if outcome.failed:
        return
    if (st.session_state.get(SNAP_NEW_LINK) or {}).get("link_id") == link_id:
        st.session_state.pop(SNAP_NEW_LINK, None)
    st.session_state[SNAP_LINK_NOTICE] = "Link revoked: it no longer opens the report."


def _regenerate(snapshot_id: int, link_id: int, seen_token_sha256: str) -> None:
    with user_errors("The link could not be regenerated", show=_notify_error) as outcome:
        with session_scope() as db:
            link, token = repository.regenerate_share_link(
                session=db, link_id=link_id, workspace_id=workspace_id, replacing_token_sha256=seen_token_sha256)
            new_id = link.id
    if outcome.failed:
        return
    st.session_state[SNAP_NEW_LINK] = {"link_id": new_id, "snapshot_id": snapshot_id, "url": _share_url(token)}
    st.session_state[keyed(SNAP_LINK_PICK, snapshot_id)] = new_id


# --- the page ---------------------------------------------------------------------------------

st.title("Snapshots & sharing")
st.caption(
    "A snapshot freezes the current data with its filters, goals and A/B settings. Share it with a client "
    "through a read-only link that expires, send it as a PDF or HTML file, or email it on a schedule."
)

if notice := st.session_state.pop(SNAP_NOTICE, None):
    kind, message = notice
    (st.error if kind == "error" else st.success)(message)

# --- save the current report ------------------------------------------------------------------
dataset = get_dataset()
with st.container(border=True):
    st.subheader("Save the current report")
    if dataset is None:
        st.info("There is no data to save yet. Upload exports on the Data page (or use the demo account) first.")
    else:
        st.caption(f"{dataset.frame.height:,} rows from: {widgets.md_escape(dataset.label)}")
        with st.form("save_snapshot", border=False):
            left, right = st.columns(2)
            left.text_input("Snapshot name", max_chars=200, placeholder="e.g. March campaigns review",
                            key=SNAP_NEW_NAME)
            right.text_input("Client (optional)", max_chars=200, placeholder="e.g. Acme Corp", key=SNAP_NEW_CLIENT)
            st.form_submit_button("Save snapshot", type="primary", icon=":material/save:", on_click=_save)

# --- the list ---------------------------------------------------------------------------------
with user_errors("The saved snapshots could not be read") as listing:
    with session_scope() as db:
        snapshots = repository.list_snapshots(session=db, workspace_id=workspace_id)
        links = repository.list_share_links(session=db, workspace_id=workspace_id)
        schedules = deliveries.list_schedules(session=db, workspace_id=workspace_id)
if listing.failed:
    st.stop()

now = datetime.now(timezone.utc)
live_links: dict[int, int] = {}
for link in links:
    if link.status_at(now) == "active":
        live_links[link.snapshot_id] = live_links.get(link.snapshot_id, 0) + 1

st.subheader("Saved snapshots")
if not snapshots:
    st.info("No snapshots yet. Save the current report above.")
    st.stop()

table = pl.DataFrame(
    {
        "Name": [s.name for s in snapshots],
        "Client": [s.client_label or "" for s in snapshots],
        "Saved": [_when(s.created_at) for s in snapshots],
        "Size": [repository.describe_size(s.size_bytes) for s in snapshots],
        "Rows": [s.row_count for s in snapshots],
        "Live links": [live_links.get(s.id, 0) for s in snapshots],
        "Files": [", ".join(f.get("name", "") for f in (s.source_files or [])) for s in snapshots],
    },
    schema={"Name": pl.String, "Client": pl.String, "Saved": pl.String, "Size": pl.String, "Rows": pl.Int64,
            "Live links": pl.Int64, "Files": pl.String},
)
st.dataframe(table, hide_index=True, width="stretch", key="snapshot_table")

by_id = {s.id: s for s in snapshots}
if st.session_state.get(SNAP_SELECTED) not in by_id:
    st.session_state[SNAP_SELECTED] = next(iter(by_id))
selected_id = st.selectbox(
    "Work with snapshot", list(by_id), key=SNAP_SELECTED,
    format_func=lambda i: f"{by_id[i].name} · {_when(by_id[i].created_at)}",
)
snapshot = by_id[selected_id]
snapshot_links = [link for link in links if link.snapshot_id == selected_id]
snapshot_schedules = [s for s in schedules if s.snapshot_id == selected_id]
report_files.download_buttons(selected_id, snapshot.name, key=keyed(SNAP_DOWNLOAD, selected_id),
                              workspace_id=workspace_id)

manage, share, scheduled = st.tabs([MANAGE_TAB, LINKS_TAB, DELIVERY_TAB], key=SNAP_TAB, on_change="rerun")

with manage:
    st.button("Open in the report", type="primary", icon=":material/open_in_browser:", key="snapshot_open",
              on_click=_open, args=(selected_id,),
              help="Make this snapshot the current data, with the filters, goals and A/B settings it was saved with.")
    files = snapshot.source_files or []
    if files:
        st.caption("Source files")
        st.dataframe(
            pl.DataFrame(
                {"File": [f.get("name", "") for f in files], "SHA-256": [f.get("sha256", "") for f in files],
                 "Bytes": [int(f.get("size") or 0) for f in files]},
                schema={"File": pl.String, "SHA-256": pl.String, "Bytes": pl.Int64},
            ),
            hide_index=True, width="stretch", key=f"snapshot_files_{selected_id}",
        )

    with st.form(f"rename_{selected_id}", border=True):
        st.write("Rename")
        left, right = st.columns(2)
        left.text_input("Name", value=snapshot.name, max_chars=200, key=keyed(SNAP_RENAME_NAME, selected_id))
        right.text_input("Client", value=snapshot.client_label or "", max_chars=200, key=keyed(SNAP_RENAME_CLIENT, selected_id))
        st.form_submit_button("Save name", on_click=_rename, args=(selected_id,))

    if st.session_state.get(SNAP_CONFIRM_DELETE) == selected_id:
        count, planned = len(snapshot_links), len(snapshot_schedules)
        also = f" and its {planned} schedule{'s' if planned != 1 else ''} (they stop sending)" if planned else ""
        st.warning(
            f"Delete this snapshot, its {count} client link{'s' if count != 1 else ''}{also}? Clients who open "
            "those links will see “This link is not valid”. This cannot be undone."
        )
        confirm = st.container(horizontal=True)
        confirm.button("Delete for good", type="primary", key="snapshot_delete_confirm", on_click=_delete,
                   args=(selected_id,))
        confirm.button("Cancel", key="snapshot_delete_cancel",
                       on_click=ask_to_confirm, args=(SNAP_CONFIRM_DELETE, None))
    else:
        st.button("Delete…", icon=":material/delete:", key="snapshot_delete", on_click=ask_to_confirm,
                  args=(SNAP_CONFIRM_DELETE, selected_id))

with share:
    new_link = st.session_state.get(SNAP_NEW_LINK)
    if new_link and new_link.get("snapshot_id") == selected_id:
        with st.container(border=True):
            st.success("Link ready. Copy it now: it is shown only this once (only its fingerprint is stored). "
                       "Lost it? Regenerate the link.")
            st.code(new_link["url"], language=None, wrap_lines=True)
            st.button("Done, I copied it", key="share_link_done", on_click=_dismiss_link)

    with st.form(f"create_link_{selected_id}", border=True):
        st.write("New client link")
        left, middle, right = st.columns(3)
        left.text_input("Label (who gets it)", max_chars=200, placeholder="e.g. Acme marketing team",
                        key=keyed(SNAP_LINK_LABEL, selected_id))
        middle.radio("Valid for", list(EXPIRY_CHOICES), index=1, format_func=EXPIRY_CHOICES.get, horizontal=True,
                     key=keyed(SNAP_LINK_EXPIRY, selected_id))
        right.date_input("Until (with “Until a date”)", value=date.today() + timedelta(days=30),
                         min_value=date.today() + timedelta(days=1), key=keyed(SNAP_LINK_UNTIL, selected_id))
        st.form_submit_button("Create link", type="primary", icon=":material/add_link:", on_click=_create_link,
                              args=(selected_id,))

    if not snapshot_links:
        st.caption("No client links for this snapshot yet.")
    else:
        st.dataframe(
            pl.DataFrame(
                {
                    "Label": [link.label or "" for link in snapshot_links],
                    "Status": [STATUS_LABELS[link.status_at(now)] for link in snapshot_links],
                    "Created": [_when(link.created_at) for link in snapshot_links],
                    "Expires": [_when(link.expires_at) for link in snapshot_links],
                    "Views": [link.view_count for link in snapshot_links],
                    "Last view": [_when(link.last_viewed_at) for link in snapshot_links],
                },
                schema={"Label": pl.String, "Status": pl.String, "Created": pl.String, "Expires": pl.String,
                        "Views": pl.Int64, "Last view": pl.String},
            ),
            hide_index=True, width="stretch", key=f"link_table_{selected_id}",
        )
        by_link = {link.id: link for link in snapshot_links}
        # No status in the option labels: a browser keeps showing an option's old label after it changes.
        chosen_link = st.selectbox(
            "Link to revoke or regenerate", list(by_link), key=keyed(SNAP_LINK_PICK, selected_id),
            format_func=lambda i: f"{by_link[i].label or 'Unlabelled link'} · created {_when(by_link[i].created_at)}",
        )
        st.caption(f"Status: {STATUS_LABELS[by_link[chosen_link].status_at(now)]}")
        if link_notice := st.session_state.pop(SNAP_LINK_NOTICE, None):
            st.success(link_notice, icon=":material/check_circle:")
        actions = st.container(horizontal=True)
        active = by_link[chosen_link].status_at(now) == "active"
        actions.button("Revoke", icon=":material/link_off:", key="link_revoke", disabled=not active,
                          on_click=_revoke, args=(chosen_link,), help="The link stops working at once.")
        actions.button("Regenerate", icon=":material/autorenew:", key="link_regenerate", disabled=not active,
                       on_click=_regenerate, args=(selected_id, chosen_link, by_link[chosen_link].token_sha256),
                       help="Gives this link a new address with the same label and validity; the old address "
                            "stops working at once. Revoked and expired links cannot be regenerated.")

with scheduled:
    delivery.section(workspace_id, selected_id, snapshot.name, {s.id: s.name for s in snapshots})
