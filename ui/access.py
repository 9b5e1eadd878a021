"""Who is asking (SPEC §8): `identify` decides the role of every run; the sign-in and dead-link pages.

- A `?share=TOKEN` visitor is a client: one snapshot, read-only, nothing else reachable.
- Otherwise the visitor is the editor; when a password hash (or an OIDC provider in
  secrets) is configured, the editor must log in first.
The guard every page starts with lives in `ui.router` (it runs the router).
"""

from __future__ import annotations

import ipaddress
import logging

import streamlit as st

from models import repository, throttle
from models.settings import load_settings
from ui import signin
from ui.errors import user_errors
from ui.persistence import session_scope
from ui.state import EDITOR_AUTHENTICATED, VIEWER, Viewer

_LOGGER = logging.getLogger(__name__)


def log_client_failure(message: str) -> None:
    """Server log only: what a client sees is one plain sentence."""
    _LOGGER.exception(message)


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
        signed_in = st.session_state.get(EDITOR_AUTHENTICATED) or signin.signed_in_by_cookie(_password_hash())
        viewer = Viewer("editor") if signed_in else Viewer("login")
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
    if not repository.is_well_formed_token(token):  # padded, odd or huge: no hashing, no query
        return Viewer("invalid", token=token)
    remembered = st.session_state.get(VIEWER)
    already_counted = remembered is not None and remembered.token == token and remembered.is_client
    try:
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
    with st.form("login", border=True):
        st.write("This Campaign Lens is protected. Enter the editor password.")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Open the editor", type="primary")
    if not submitted:
        return
    with user_errors("The password could not be checked") as outcome:
        with session_scope() as session:
            # Throttled per account and for everyone, in the database (models/throttle.py); a malformed
            # hash in the settings simply never matches.
            result = throttle.check_password(session=session, password=password, password_hash=_password_hash(),
                                             client=st.context.ip_address)
    if outcome.failed:
        return
    if not result.accepted:
        st.error(result.message)
        return
    st.session_state[EDITOR_AUTHENTICATED] = True
    if signin.remember_sign_in():
        st.stop()  # the browser collects the cookie and comes back to this page, signed in
    st.rerun()


def sign_out_button() -> None:
    """In the sidebar of a password-protected editor: sign out of this browser."""
    if not _password_hash() or _oidc_configured():
        return
    if st.sidebar.button("Sign out", icon=":material/logout:", key="sign_out"):
        st.session_state.pop(EDITOR_AUTHENTICATED, None)
        if signin.sign_out():
            st.stop()  # the browser deletes the cookie and comes back signed out
        st.rerun()


def invalid_link_page() -> None:
    st.title("This link is not valid")
    st.write(
        "The report link may have expired or been revoked, or it was copied incompletely. "
        "Ask the person who sent it for a new link."
    )
