"""ui/memory.py: shared data caches are cleared once nobody has been connected for the idle time, not
before, and only once per quiet spell."""

from __future__ import annotations

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
