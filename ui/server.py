"""The web server around the app: security headers on every response, the two small routes that
set and clear the editor's sign-in cookie (a Streamlit script runs over a WebSocket and cannot set
an HTTP-only cookie itself), and a periodic tidy-up so memory comes back when people leave (ui/memory.py).

`dashboard.py` hands these to `st.App` when `streamlit run dashboard.py` imports it as the server
(Streamlit 1.67 finds the `app = st.App(...)` assignment and serves it with uvicorn); for every
browser session Streamlit runs the same file as a script, and the router runs instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit import config as streamlit_config

from ui import memory, signin

# What the app can say about itself. The token of a shared report is in the URL: no page sends it
# on in a Referer header. Other sites may not frame the app (clickjacking); Streamlit frames its own
# components from the same origin, hence 'self'. The rest (HSTS, access logs without query
# strings, rate limits) belongs to the proxy: docs/operations.md.
SECURITY_HEADERS: dict[str, str] = {
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
}


class SecurityHeaders:
    """Pure ASGI middleware adding `SECURITY_HEADERS` to every HTTP response (pages, assets, routes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def middleware() -> list[Middleware]:
    return [Middleware(SecurityHeaders)]


def routes() -> list[Route]:
    return signin.routes()


TIDY_SECONDS = 30


async def _tidy_periodically() -> None:
    """Every 30 s: collect garbage, and drop shared data caches once nobody is connected (ui/memory.py)."""
    while True:
        await asyncio.sleep(TIDY_SECONDS)
        memory.tidy(idle_seconds=float(streamlit_config.get_option("server.disconnectedSessionTTL")))


@asynccontextmanager
async def lifespan(_app) -> AsyncIterator[None]:
    task = asyncio.get_running_loop().create_task(_tidy_periodically())
    try:
        yield None
    finally:
        task.cancel()
