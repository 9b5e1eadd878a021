"""ui/memory.py: shared data caches are cleared once nobody has been connected for the idle time, not
before, and only once per quiet spell."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ui import memory


class _Cache:
    def __init__(self):
        self.cleared = 0

    def clear(self):
        self.cleared += 1


@pytest.fixture
def cache(monkeypatch):
    cache = _Cache()
    monkeypatch.setattr(memory, "_idle_caches", [cache])
    monkeypatch.setattr(memory, "_released", False)
    monkeypatch.setattr(memory, "_last_left", 1_000.0)
    return cache


def test_caches_stay_while_someone_is_connected(cache, monkeypatch):
    monkeypatch.setattr(memory, "_present", 1)
    assert not memory.tidy(idle_seconds=120, now=5_000.0)
    assert cache.cleared == 0


def test_caches_stay_until_the_last_visitor_has_been_gone_for_the_idle_time(cache, monkeypatch):
    monkeypatch.setattr(memory, "_present", 1)
    memory._left(object())  # the last session disconnects (Streamlit's on_release)
    left_at = memory._last_left
    assert memory.connected_sessions() == 0
    assert not memory.tidy(idle_seconds=120, now=left_at + 119)
    assert memory.tidy(idle_seconds=120, now=left_at + 121)
    assert not memory.tidy(idle_seconds=120, now=left_at + 500)  # once per quiet spell
    assert cache.cleared == 1


# Shared caches that are meant to outlive everyone's visit: the database engine, and the demo account (built
# once, the same for every visitor, so that the next one does not wait for it).
KEPT_WHILE_IDLE = {("ui/persistence.py", "engine"), ("ui/data.py", "_demo_frame")}


def test_shared_resource_caches_are_released_when_nobody_is_connected():
    """A `st.cache_resource` shared by all sessions holds its objects (whole frames, uploaded files) until it
    is cleared: each one is marked `@memory.release_when_idle`, or server memory would not return to its
    baseline after the visitors leave (bench/bench_load.py)."""
    import ast

    from tests.conftest import REPO

    def decorator_names(function: ast.FunctionDef) -> list[str]:
        return [ast.unparse(d) for d in function.decorator_list]

    unmarked = []
    for path in sorted([*(REPO / "ui").rglob("*.py"), *(REPO / "pages").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            names = decorator_names(node)
            shared = [n for n in names if n.startswith("st.cache_resource") and "scope='session'" not in n]
            where = (str(path.relative_to(REPO)), node.name)
            if shared and not any("release_when_idle" in n for n in names) and where not in KEPT_WHILE_IDLE:
                unmarked.append(where)
    assert unmarked == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap: Linux only")
def test_memory_freed_by_sessions_goes_back_to_the_system_when_caches_are_released(cache, monkeypatch):
    """Objects of over 512 bytes (session state, messages) live in the C heap, which keeps freed pages when a
    few live objects are scattered among them: without malloc_trim the process stayed ~170 MB larger here."""

    def rss_mb() -> float:
        status = Path("/proc/self/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024

    before = rss_mb()
    pinned, blobs = [], []
    for index in range(200_000):
        blobs.append(b"x" * 1000 + str(index).encode())
        if index % 1000 == 0:
            pinned.append(b"y" * 1000)  # a few survivors spread through the heap, like long-lived sessions
    grown = rss_mb() - before
    del blobs
    monkeypatch.setattr(memory, "_present", 0)
    assert memory.tidy(idle_seconds=120, now=memory._last_left + 121)
    assert rss_mb() - before < 0.3 * grown, (before, grown, rss_mb())
