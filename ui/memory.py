"""Memory that comes back when people leave.

Measured with bench/bench_load.py: after 20 sessions and two 100 MB uploads had ended, the server
kept 2.7x its baseline memory. What held it, and what lets go of it now:

- A session's own data (its upload as read) is cached with `scope="session"` (ui/sources.py), so
  Streamlit drops it when the session disconnects.
- Data shared by sessions (a workspace's combined sources, their rollup, an opened snapshot) stays
  in global caches while someone uses it. Those caches are marked `@release_when_idle`: once nobody
  has been connected for as long as Streamlit keeps a left session (`server.disconnectedSessionTTL`),
  they are cleared. Who is connected is counted with a session-scoped cache entry per browser
  session whose `on_release` runs when the session disconnects (Streamlit's public API).
- A finished session is a reference cycle, and an idle server allocates too little for Python's
  collector to run by itself: `tidy()` collects garbage (and, with the caches, asks pyarrow's
  allocator and the C heap to hand back what they keep for reuse).

`tidy()` runs every 30 s from the server's lifespan (ui/server.py); the router calls
`note_session()` on every run.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

CachedFunction = TypeVar("CachedFunction", bound=Callable)

_idle_caches: list[Callable] = []
_lock = threading.Lock()
_present = 0
_last_left = time.monotonic()
_released = True


def release_when_idle(cached: CachedFunction) -> CachedFunction:
    """Mark an `st.cache_resource`/`st.cache_data` function whose entries nobody needs once everyone has left."""
    _idle_caches.append(cached)
    return cached


def _left(_token: object) -> None:
    global _present, _last_left
    with _lock:
        _present = max(_present - 1, 0)
        _last_left = time.monotonic()


@st.cache_resource(scope="session", on_release=_left, show_spinner=False)
def _presence() -> object:
    global _present, _released
    with _lock:
        _present += 1
        _released = False
    return object()


def note_session() -> None:
    """Count this browser session as connected until it disconnects (cheap after its first run)."""
    _presence()


def connected_sessions() -> int:
    return _present


def tidy(*, idle_seconds: float, now: float | None = None) -> bool:
    """Collect garbage and, when no session has been connected for `idle_seconds`, clear the caches
    marked `@release_when_idle` (once per quiet spell). True when the caches were cleared."""
    global _released
    now = time.monotonic() if now is None else now
    with _lock:
        release = not _released and _present == 0 and now - _last_left >= idle_seconds
        if release:
            _released = True
    if release:
        for cached in _idle_caches:
            cached.clear()
    gc.collect()
    if release:
        # Streamlit ships tables to the browser through pyarrow, whose allocator (mimalloc) keeps freed
        # memory for reuse unless asked to hand it back.
        pyarrow = sys.modules.get("pyarrow")
        if pyarrow is not None:
            pyarrow.default_memory_pool().release_unused()
        _trim_c_heap()
    return release


def _trim_c_heap() -> None:
    """Hand the C heap's free pages back to the system. Python keeps objects over 512 bytes (session
    state, protobuf messages, Streamlit's forward queues) in glibc's heap, which keeps what is freed
    for reuse unless asked (malloc_trim). Elsewhere (macOS, musl) there is nothing to ask."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
