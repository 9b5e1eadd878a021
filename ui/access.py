"""Who is asking, and the guard every page starts with (SPEC §8, ARCHITECTURE "A trap in Streamlit itself").

- A `?share=TOKEN` visitor is a client: one snapshot, read-only, nothing else reachable.
- Otherwise the visitor is the editor; when a password hash (or an OIDC provider in
  secrets) is configured, the editor must log in first.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from pathlib import Path
from dataclasses import dataclass
from typing import Literal

import streamlit as st

from ui.state import EDITOR_AUTHENTICATED, VIEWER

Role = Literal["editor", "client", "invalid", "login"]

_LOGGER = logging.getLogger(__name__)
# A wrong password costs the guesser this long (on top of scrypt's own cost).
WRONG_PASSWORD_DELAY_SECONDS = 1.0

# Set only while the router runs the page it chose, in the script thread running it. (Session
# state cannot carry this: Streamlit scopes writes made before `page.run()` away from the page.)
_routing = threading.local()


@dataclass(frozen=True)
class Viewer:
    role: Role
    snapshot_id: int | None = None
    link_id: int | None = None
    token: str | None = None

    @property
    def is_client(self) -> bool:
        return self.role == "client"

    @property
    def is_editor(self) -> bool:
        return self.role == "editor"


def page_stem(page) -> str | None:
    """File name (without .py) of a file-based st.Page; None for function pages."""
    source = getattr(page, "_page", None)
    return Path(str(source)).stem if isinstance(source, (str, Path)) else None


def require_router(page_file: str) -> None:
    """First line of every page: the page runs only when the router chose it for this visitor.

    On a freshly started server (and in AppTest) Streamlit runs a deep-linked page
    file on its own (legacy multipage mode) until a session has executed
    `st.navigation`. Then this runs the router here: if it picks this very page the
    page goes on; otherwise (a client asking for an editor page, a visitor who must
    log in) the router's page runs instead and this one stops.
    """
    if getattr(_routing, "active", False):
        return
    from ui.router import route

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
            page.run()
    finally:
        _routing.active = False


def log_client_failure(message: str) -> None:
    """Server log only: what a client sees is one plain sentence."""
    _LOGGER.exception(message)


def current_viewer() -> Viewer:
    return st.session_state.get(VIEWER) or Viewer("editor")


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def _oidc_editor_allowed() -> bool:
    """Logged in through OIDC and, when `editor_emails` is set in secrets, one of those addresses.

    Without the list every account the provider lets in is an editor: with a public provider
    (Google, Microsoft) restrict it there or list the editors' addresses here.
    """
    if not getattr(st.user, "is_logged_in", False):
        return False
    try:
        allowed = st.secrets.get("editor_emails")
    except Exception:
        allowed = None
    if not allowed:
        return True
    email = str(getattr(st.user, "email", "") or "").strip().lower()
    return bool(email) and email in {str(a).strip().lower() for a in allowed}


def _is_local_visitor() -> bool:
    """True for a browser on this machine (Streamlit reports no address, or a loopback one, then)."""
    address = st.context.ip_address
    if not isinstance(address, str) or not address:  # None on localhost (AppTest hands out a mock)
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _password_hash() -> str:
    from models.settings import load_settings

    return load_settings().password_hash or ""


def identify() -> Viewer:
    """Decide the visitor's role for this run (and remember it for the pages).

    A session that arrived with `?share=` stays a client for its whole life, even when a page
    switch drops the parameter from the URL: only a new browser session (a reload of a URL
    without `?share=`) can ask for the editor, and then the password/OIDC gate applies.
    The link is re-checked on every run, so a revoked or expired link stops working at once.
    """
    token = st.query_params.get("share")
    remembered = st.session_state.get(VIEWER)
    if token is None and remembered is not None and remembered.role in ("client", "invalid"):
        token = remembered.token or ""
        if token:
            st.query_params["share"] = token  # keep the URL shareable and the role visible
    if token is not None:
        viewer = _client_viewer(token)
    elif _oidc_configured():
        viewer = Viewer("editor") if _oidc_editor_allowed() else Viewer("login")
    elif _password_hash():
        viewer = Viewer("editor") if st.session_state.get(EDITOR_AUTHENTICATED) else Viewer("login")
    elif _is_local_visitor():
        viewer = Viewer("editor")  # SPEC §8: no password configured = open editor, on this machine only
    else:
        viewer = Viewer("login")
    st.session_state[VIEWER] = viewer
    return viewer


def _client_viewer(token: str) -> Viewer:
    """Resolve a share token. Unknown, expired, revoked and malformed all give the same 'invalid'.

    A view is counted once per browser session; every rerun re-checks the link so a
    revoked or expired link stops working at once.
    """
    remembered = st.session_state.get(VIEWER)
    already_counted = remembered is not None and remembered.token == token and remembered.is_client
    try:
        from models import repository
        from ui.persistence import session_scope

        with session_scope() as session:
            link = repository.resolve_share_token(session=session, token=token, count_view=not already_counted)
            if link is None:
                return Viewer("invalid", token=token)
            return Viewer("client", snapshot_id=link.snapshot_id, link_id=link.id, token=token)
    except Exception:  # a database hiccup must not leak details to a client
        _LOGGER.exception("Could not check a share link")
        return Viewer("invalid", token=token)


def login_page() -> None:
    """The editor's login: OIDC via st.login when configured, else the password form."""
    st.title("Campaign Lens")
    if _oidc_configured():
        if getattr(st.user, "is_logged_in", False):  # signed in, but not one of the editors
            st.write("This account may not open the editor. Sign out and use an editor's account.")
            st.text(str(getattr(st.user, "email", "") or ""))
            if st.button("Sign out"):
                st.logout()
            return
        st.write("Sign in to open the editor.")
        if st.button("Sign in", type="primary"):
            st.login()
        return
    if not _password_hash():
        st.write(
            "The editor is open only on the computer running Campaign Lens because no password is set. "
            "To open it from elsewhere, set CAMPAIGN_LENS_PASSWORD_HASH (see docs/operations.md)."
        )
        return
    from models.auth import verify_password

    with st.form("login", border=True):
        st.write("This Campaign Lens is protected. Enter the editor password.")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Open the editor", type="primary")
    if submitted:
        try:
            accepted = bool(password) and verify_password(password, _password_hash())
        except Exception:  # a malformed hash in the settings: refuse, say nothing about it
            _LOGGER.exception("The editor password hash could not be checked")
            accepted = False
        if accepted:
            st.session_state[EDITOR_AUTHENTICATED] = True
            st.rerun()
        else:
            time.sleep(WRONG_PASSWORD_DELAY_SECONDS)
            st.error("That password is not correct. Try again.")


def invalid_link_page() -> None:
    st.title("This link is not valid")
    st.write(
        "The report link may have expired or been revoked, or it was copied incompletely. "
        "Ask the person who sent it for a new link."
    )
