"""The editor's sign-in survives a reload: a signed, expiring, HTTP-only cookie.

Why not simpler: a Streamlit script talks to the browser over a WebSocket and cannot set a cookie,
let alone an HTTP-only one, and `st.login` is for OIDC providers only. So after the password form
accepts a password (ui/access.py, throttled by models/throttle.py):

1. the session is signed in at once, and a one-time ticket (valid one minute, stored hashed) is issued;
2. the browser is sent to `/api/sign-in?ticket=…&next=<the page>` — the same kind of redirect
   `st.login` uses;
3. that route (mounted by `dashboard.py` through `st.App`) redeems the ticket once and answers with
   `Set-Cookie: campaign_lens_editor=<signed value>; HttpOnly; SameSite=Lax; Path=/; Max-Age=…`
   (`Secure` over HTTPS) and a redirect back to the page;
4. every later session reads the cookie (`st.context.cookies`) and checks its signature and expiry.

The value is signed with CAMPAIGN_LENS_SESSION_SECRET (the same on every replica) and the password
hash, so changing the password signs every browser out; it expires after CAMPAIGN_LENS_SIGN_IN_HOURS.
"Sign out" sends the browser to `/api/sign-out`, which deletes the cookie.
"""

from __future__ import annotations

import logging
import secrets
import time
from urllib.parse import urlencode, urlsplit

import streamlit as st
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route
from streamlit import config as streamlit_config

from models import repository
from models.auth import editor_session_is_valid, sign_editor_session
from models.settings import load_settings
from ui.persistence import session_scope
from ui.state import SIGNED_OUT

_LOGGER = logging.getLogger(__name__)

COOKIE_NAME = "campaign_lens_editor"
SIGN_IN_PATH = "api/sign-in"
SIGN_OUT_PATH = "api/sign-out"
# Without CAMPAIGN_LENS_SESSION_SECRET: one random secret for this process (routes and scripts share it).
_PROCESS_SECRET = secrets.token_urlsafe(32)
_routes_mounted = False


def _secret() -> str:
    return load_settings().session_secret or _PROCESS_SECRET


def _base_path() -> str:
    base = str(streamlit_config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/" if base else "/"


def signed_in_by_cookie(password_hash: str) -> bool:
    """True when this browser session arrived with a valid sign-in cookie (and did not sign out since)."""
    if st.session_state.get(SIGNED_OUT):
        return False
    value = st.context.cookies.get(COOKIE_NAME)
    return editor_session_is_valid(value, secret=_secret(), password_hash=password_hash, now=time.time())


def remember_sign_in() -> bool:
    """After an accepted password: have the browser collect the cookie, then come back to this page.
    True when the browser was sent: the caller must then end the run without `st.rerun()`, which
    would clear the message before it reaches the browser (the browser comes back by itself).

    Only under the server `dashboard.py` builds (elsewhere, e.g. in AppTest, there is no route to
    collect it and the sign-in lasts as long as the session)."""
    st.session_state.pop(SIGNED_OUT, None)
    if not _routes_mounted:
        return False
    try:
        with session_scope() as session:
            ticket = repository.issue_sign_in_ticket(session=session)
    except Exception:  # the session is signed in either way; only the reload-proof part is lost
        _LOGGER.exception("Could not issue a sign-in ticket; the sign-in lasts for this session only")
        return False
    page = urlsplit(st.context.url or "")
    back = page.path + (f"?{page.query}" if page.query else "")
    return _send_browser_to(
        f"{_base_path()}{SIGN_IN_PATH}?{urlencode({'ticket': ticket, 'next': back or _base_path()})}")


def sign_out() -> bool:
    """Forget the sign-in in this session and have the browser delete its cookie. True when the
    browser was sent (end the run without `st.rerun()`, as after `remember_sign_in`)."""
    st.session_state[SIGNED_OUT] = True
    return _routes_mounted and _send_browser_to(f"{_base_path()}{SIGN_OUT_PATH}")


def _send_browser_to(url: str) -> bool:
    """Navigate the browser's window to a same-origin `url`, as `st.login`/`st.logout` do (Streamlit
    has no public call for it). If this internal message ever changes, signing in still works; it just
    lasts only as long as the browser session. True when the message was queued."""
    try:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        context = get_script_run_ctx()
        if context is None:
            return False
        message = ForwardMsg()
        message.auth_redirect.url = url
        context.enqueue(message)
        return True
    except Exception:
        _LOGGER.warning("Could not send the browser to %s; the sign-in lasts for this session only", url,
                        exc_info=True)
        return False


# --- the routes (run by the web server, outside any script) -----------------------------------------


def _safe_next(value: str | None) -> str:
    """Only a path on this site: never another host (an open redirect) or a scheme."""
    base = _base_path()
    # Browsers drop tabs and newlines from URLs and read "\\" as "/": "/\t/evil.example" would be "//evil.example".
    odd = any(c.isspace() or not c.isprintable() or c == "\\" for c in value or "")
    if not value or odd or not value.startswith(base) or value.startswith("//"):
        return base
    return value


def _sign_in(request: Request) -> RedirectResponse:
    """Exchange a fresh one-time ticket for the sign-in cookie, then go back to the page."""
    response = RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    settings = load_settings()
    if not settings.password_hash:
        return response
    try:
        with session_scope() as session:
            redeemed = repository.redeem_sign_in_ticket(session=session, ticket=request.query_params.get("ticket", ""))
    except Exception:
        _LOGGER.exception("A sign-in ticket could not be checked")
        redeemed = False
    if not redeemed:
        return response
    lifetime = settings.sign_in_hours * 3600
    value = sign_editor_session(secret=_secret(), password_hash=settings.password_hash,
                                expires_at=int(time.time()) + lifetime)
    response.set_cookie(COOKIE_NAME, value, max_age=lifetime, path=_base_path(), httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
    return response


def _sign_out(request: Request) -> RedirectResponse:
    response = RedirectResponse(_base_path(), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.delete_cookie(COOKIE_NAME, path=_base_path(), httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
    return response


def routes() -> list[Route]:
    """The sign-in and sign-out routes, under server.baseUrlPath. Sync handlers: Starlette runs them
    in its thread pool, so the database calls never block the event loop."""
    global _routes_mounted
    _routes_mounted = True
    base = _base_path()
    return [
        Route(f"{base}{SIGN_IN_PATH}", _sign_in, methods=["GET"]),
        Route(f"{base}{SIGN_OUT_PATH}", _sign_out, methods=["GET"]),
    ]
