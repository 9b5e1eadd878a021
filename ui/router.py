"""The router: who is asking (editor, client with ?share=, someone who must log in), which pages
exist for them, which data they see and the shared sidebar filters; and the guard every page
starts with (ARCHITECTURE "A trap in Streamlit itself").

Imports flow one way: pages → router → access, session, filters, widgets → state.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import streamlit as st

from ui import access, filters, memory, report_files, session, widgets, workspaces
from ui.state import CLIENT_DOWNLOAD, VIEWER, Viewer, current_viewer

_LOGGER = logging.getLogger(__name__)

# A file, not a ":material/…:" icon: Streamlit fetches those favicons from fonts.gstatic.com, and no request
# may leave the machine (tests/e2e/test_polish_browser.py records every one).
FAVICON = Path(__file__).parent / "static" / "favicon.png"

# Set only while the router runs the page it chose, in the script thread running it. (Session
# state cannot carry this: Streamlit scopes writes made before `page.run()` away from the page.)
_routing = threading.local()


def _pages_for(viewer: Viewer):
    analysis = [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/insights.py", title="Insights", icon=":material/troubleshoot:"),
        st.Page("pages/platforms.py", title="Platforms", icon=":material/compare_arrows:"),
        st.Page("pages/campaigns.py", title="Campaigns & content", icon=":material/campaign:"),
        st.Page("pages/funnel.py", title="Funnel", icon=":material/filter_alt:"),
        st.Page("pages/goals.py", title="Goals", icon=":material/flag:"),
        st.Page("pages/ab_tests.py", title="A/B tests", icon=":material/science:"),
    ]
    if viewer.role == "editor":
        return {
            "Report": analysis,
            "Workspace": [
                st.Page("pages/upload.py", title="Data", icon=":material/upload_file:"),
                st.Page("pages/snapshots.py", title="Snapshots & sharing", icon=":material/share:"),
            ],
        }
    if viewer.role == "client":
        return analysis
    if viewer.role == "login":
        return _only_page(access.login_page, "Sign in", ":material/lock:")
    return _only_page(access.invalid_link_page, "Link not valid", ":material/link_off:")


def _only_page(render, title: str, icon: str):
    """`render` at "/" and, hidden, at every editor page's address: a deep link such as /upload shows the
    sign-in form (or the dead-link page) and nothing else, not Streamlit's "Page not found" over it."""
    # `_url_path`: `url_path` is "" for the default page, which answers at its own name too (/overview).
    addresses = [page._url_path for pages in _pages_for(Viewer("editor")).values() for page in pages]
    hidden = [st.Page(render, title=title, icon=icon, url_path=address, visibility="hidden") for address in addresses]
    return [st.Page(render, title=title, icon=icon, default=True), *hidden]


def route():
    """Decide everything for this run and return the page `st.navigation` chose (not yet run)."""
    st.set_page_config(page_title="Campaign Lens", page_icon=str(FAVICON), layout="wide")
    widgets.page_style()
    memory.note_session()
    viewer = access.identify()
    dataset = None
    if viewer.role in ("editor", "client"):
        try:
            dataset = session.ensure_dataset(viewer)
        except Exception:
            if not viewer.is_client:
                raise
            access.log_client_failure("Could not open a shared snapshot")
            dataset = None
        if viewer.is_client and dataset is None:
            # The snapshot vanished (deleted between the check and the load) or cannot be read:
            # the same "not valid" page as any other dead link, never the empty editor start.
            viewer = Viewer("invalid", token=viewer.token)
            st.session_state[VIEWER] = viewer
    page = st.navigation(_pages_for(viewer), position="sidebar" if viewer.role in ("editor", "client") else "hidden")
    if viewer.is_editor:
        workspaces.sidebar()
    if dataset is not None and viewer.is_client:
        try:
            session.header(viewer, dataset)
            client_title(dataset)
            filters.sidebar(dataset, mirror_in_url=False)
        except Exception:  # a client reads one plain sentence, never a traceback
            access.log_client_failure("The shared report's header or filters failed")
            st.error("The report filters could not be shown. Reload the page to try again.")
    elif dataset is not None:
        session.header(viewer, dataset)
        filters.sidebar(dataset, mirror_in_url=viewer.is_editor)
    if viewer.is_editor:
        access.sign_out_button()
    return page


def client_title(dataset) -> None:
    """Above every client page: which report this is, how fresh its data is (name shown as text), and
    its report as a PDF or HTML file (this snapshot's only: the link is checked again on each click)."""
    name = dataset.snapshot_name or dataset.label
    st.markdown(f"### {widgets.md_escape(name)}")
    line = "Shared report · read-only"
    if dataset.data_as_of:
        line += f" · data as of {dataset.data_as_of}"
    st.caption(line)
    viewer = current_viewer()
    if viewer.is_client and viewer.snapshot_id == dataset.snapshot_id:
        report_files.download_buttons(dataset.snapshot_id, name, key=CLIENT_DOWNLOAD, token=viewer.token)


def page_stem(page) -> str | None:
    """File name (without .py) of a file-based st.Page; None for function pages."""
    source = getattr(page, "_page", None)
    return Path(str(source)).stem if isinstance(source, (str, Path)) else None


def require_router(page_file: str) -> None:
    """The first statement of every page: the page runs only when the router chose it for this visitor.

    On a freshly started server (and in AppTest) Streamlit runs a deep-linked page
    file on its own (legacy multipage mode) until a session has executed
    `st.navigation`. Then this runs the router here: if it picks this very page the
    page goes on; otherwise (a client asking for an editor page, a visitor who must
    log in) the router's page runs instead and this one stops.
    """
    if getattr(_routing, "active", False):
        return
    page = route()
    if page_stem(page) == Path(page_file).stem:
        _run_rest_as(page)
        return
    run_page(page)
    st.stop()


def _run_rest_as(page) -> None:
    """Give the rest of this page run the identity `page.run()` would give it.

    Widget ids include the thread's active script hash. Under navigation the page runs with
    its own hash; here `st.navigation` has just left the entry script's hash in place, so
    without this every widget would change id on the next (navigation) run and the visitor's
    first choice on a deep-linked page of a fresh server would be lost.
    """
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

        ThreadState.update(active_script_hash=page._script_hash)
    except Exception:  # an internal API: if it moves, the page still works, only that first choice may reset
        _LOGGER.warning("Could not align the page's widget ids with navigation", exc_info=True)


def run_page(page) -> None:
    """Run the page `st.navigation` chose, marking the run as routed for `require_router`.

    For a client, any failure inside the page becomes one plain sentence: a shared report
    never shows a traceback or an exception type (client.showErrorDetails is "none" too).
    """
    _routing.active = True
    try:
        if current_viewer().is_client:
            try:
                page.run()
            except Exception:  # Streamlit's stop/rerun are BaseException and pass through
                _LOGGER.exception("A page of a shared report failed")
                st.error("This part of the report could not be shown. Reload the page, or ask the person "
                         "who sent the link for a new one.")
        else:
            try:
                page.run()
            finally:  # also when the page stopped early (st.stop) or asked for a rerun
                session.remember_report_settings()
    finally:
        _routing.active = False
