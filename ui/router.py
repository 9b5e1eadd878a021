"""The router's decisions, callable from `dashboard.py` and from a page's guard.

Who is asking (editor, client with ?share=, someone who must log in), which pages
exist for them, which data they see, and the shared sidebar filters.
"""

from __future__ import annotations

import streamlit as st

from ui import access, filters, session, widgets
from ui.state import VIEWER


def _pages_for(viewer: access.Viewer):
    analysis = [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
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
        return [st.Page(access.login_page, title="Sign in", icon=":material/lock:", default=True)]
    return [st.Page(access.invalid_link_page, title="Link not valid", icon=":material/link_off:", default=True)]


def route():
    """Decide everything for this run and return the page `st.navigation` chose (not yet run)."""
    st.set_page_config(page_title="Campaign Lens", page_icon=":material/insights:", layout="wide")
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
            viewer = access.Viewer("invalid", token=viewer.token)
            st.session_state[VIEWER] = viewer
    page = st.navigation(_pages_for(viewer), position="sidebar" if viewer.role in ("editor", "client") else "hidden")
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
    return page


def client_title(dataset) -> None:
    """Above every client page: which report this is and how fresh its data is (name shown as text)."""
    name = dataset.snapshot_name or dataset.label
    st.markdown(f"### {widgets.md_escape(name)}")
    line = "Shared report · read-only"
    if dataset.data_as_of:
        line += f" · data as of {dataset.data_as_of}"
    st.caption(line)
