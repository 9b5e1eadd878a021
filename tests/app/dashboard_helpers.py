"""Helpers for the Overview and Platforms AppTests: the demo account put straight into session state."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import polars as pl
from streamlit.proto.Metric_pb2 import Metric as MetricProto

from metrics import demo
from tests.conftest import REPO

DEMO_FIRST, DEMO_LAST = date(2025, 9, 1), date(2026, 10, 31)
LAST_30 = (date(2026, 10, 2), date(2026, 10, 31))
GREEN, RED, GRAY = MetricProto.MetricColor.GREEN, MetricProto.MetricColor.RED, MetricProto.MetricColor.GRAY


def treat_as_local_visitor(monkeypatch) -> None:
    """The editor is open without a password only for a visitor on this machine; in AppTest
    `st.context.ip_address` is a mock, so say plainly that the test's visitor is local."""
    monkeypatch.setattr("ui.access._is_local_visitor", lambda: True, raising=False)


@lru_cache(maxsize=1)
def demo_frame() -> pl.DataFrame:
    return demo.generate()


def app_with_demo(page: str | None = None, **session):
    """The router with the demo account loaded (as after "Use demo data"), optionally switched to `page`."""
    from streamlit.testing.v1 import AppTest

    from ui.state import DATASET, Dataset

    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=90)
    at.session_state[DATASET] = Dataset(frame=demo_frame(), key="apptest-demo", label="Demo account")
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def tiles(at) -> dict:
    """Metric tiles by label."""
    return {m.label: m for m in at.metric}


def vega_charts(at) -> list:
    """Altair charts (AppTest shows them as unknown `vega_lite_chart` elements)."""
    return list(at.get("vega_lite_chart"))


def shown_fraction(name: str, shown: float) -> float:
    """A table cell as the engine holds it: percent columns are shown × 100 ("4.61 %" from 0.0461)."""
    from metrics.display import describe

    return shown / 100 if describe(name).format == "percent" else shown
