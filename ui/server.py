"""The web server around the app: security headers on every response, the two small routes that
set and clear the editor's sign-in cookie (a Streamlit script runs over a WebSocket and cannot set
an HTTP-only cookie itself), a periodic tidy-up so memory comes back when people leave (ui/memory.py), and a
warm-up at start: the modules the pages import and the database, so the first visitor does not wait for them.

`dashboard.py` hands these to `st.App` when `streamlit run dashboard.py` imports it as the server
(Streamlit 1.67 finds the `app = st.App(...)` assignment and serves it with uvicorn); for every
browser session Streamlit runs the same file as a script, and the router runs instead.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import importlib.util
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit import config as streamlit_config

from ui import memory, signin

_LOGGER = logging.getLogger(__name__)
PAGES = Path(__file__).resolve().parents[1] / "pages"
FIRST_PAGE, LAST_PAGE = "overview.py", "ab_tests.py"  # the A/B statistics (scipy, statsmodels) last: seconds
# Imported inside functions when a page first needs them: the anomaly bands and the forecasts (Insights,
# trend overlays, goals).
RUNTIME_IMPORTS = ("statsmodels.tsa.seasonal", "statsmodels.robust.scale", "statsmodels.api", "scipy.stats")
WARM_REST_AFTER_S = 10.0

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


def page_imports(*pages: str) -> list[str]:
    """The modules the page scripts (file names in `pages/`) import, read from their source: importing the
    pages themselves would run them."""
    names: list[str] = []
    for page in pages:
        for node in ast.parse((PAGES / page).read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # `from ui import charts` imports the module ui.charts; `from ui.state import X` imports ui.state.
                names.append(node.module)
                spec = importlib.util.find_spec(node.module)
                if spec is not None and spec.submodule_search_locations is not None:
                    names += [f"{node.module}.{alias.name}" for alias in node.names
                              if importlib.util.find_spec(f"{node.module}.{alias.name}") is not None]
    return list(dict.fromkeys(names))


def warm_up(*, rest_after: float = WARM_REST_AFTER_S) -> None:
    """What the first visitors' runs would otherwise wait for. At once: the router, the database (opened and
    migrated) and the modules of the Overview, the page every visit starts on (its script imports them
    before it shows even the empty start), and the demo account's. After `rest_after` seconds, so the first
    visitor's first screen does not share the CPU with it: the other pages' modules (the A/B statistics
    last) and those pages import on first use. Runs once in a background thread; a failure is only logged
    (the page that needs the module then loads it itself and says what went wrong)."""
    try:
        importlib.import_module("ui.router")
        from ui.persistence import engine

        engine()
        for name in [*page_imports(FIRST_PAGE), "metrics.demo"]:
            importlib.import_module(name)
        time.sleep(rest_after)
        others = sorted(p.name for p in PAGES.glob("*.py") if p.name not in (FIRST_PAGE, LAST_PAGE))
        for name in [*page_imports(*others, LAST_PAGE), *RUNTIME_IMPORTS]:
            importlib.import_module(name)
    except Exception:
        _LOGGER.warning("Warming up the server failed; pages load what they need themselves", exc_info=True)


@asynccontextmanager
async def lifespan(_app) -> AsyncIterator[None]:
    threading.Thread(target=warm_up, name="campaign-lens-warm-up", daemon=True).start()
    task = asyncio.get_running_loop().create_task(_tidy_periodically())
    try:
        yield None
    finally:
        task.cancel()
