"""What a page run costs before it draws anything: the modules it imports and the chart specs it builds.

The first screen (the router and the empty start) must not load the chart, statistics or report engines;
the Overview must not load the A/B test statistics or the PDF engine; a chart drawn again with the same
content reuses Streamlit's validated conversion instead of repeating it (issue #11: browser latency)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import altair as alt
import polars as pl
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO
from ui import charts

STATISTICS_AND_FILES = ("scipy", "statsmodels", "weasyprint", "vl_convert")


def _loaded_after(imports: str, watched: tuple[str, ...]) -> set[str]:
    """Which of `watched` a fresh interpreter has loaded after running `imports` (in the repository)."""
    code = textwrap.dedent(f"""
        import sys
        {imports}
        print(" ".join(name for name in {watched!r} if name in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          check=True)
    return set(done.stdout.split())


def test_the_first_screen_loads_no_chart_statistics_or_report_engine():
    loaded = _loaded_after("import ui.router", ("altair", "numpy", "reports.model", *STATISTICS_AND_FILES))
    assert loaded == set()


def test_the_overview_loads_no_ab_statistics_or_pdf_engine():
    overview = ("from metrics import display, narrative, kpis, schema, trends\n"
                "        from ui import charts, currency, data, filters, insight_charts, insights, tiles, widgets\n"
                "        import ui.router")
    assert _loaded_after(overview, ("altair", *STATISTICS_AND_FILES)) == {"altair"}  # altair: its chart


def _trend(spend: list[float]) -> alt.LayerChart:
    frame = pl.DataFrame({"date": pl.date_range(pl.date(2026, 10, 1), pl.date(2026, 10, 3), eager=True),
                          "platform": ["meta"] * 3, "spend": spend})
    return charts.trend_chart(frame, "spend", label="Spend", kind="currency", currency="USD", grain="day")


def test_a_chart_of_the_same_content_reuses_its_spec_and_changed_data_gets_its_own():
    first = charts.vega_lite_spec(_trend([10.0, 20.0, 30.0]))
    again = charts.vega_lite_spec(_trend([10.0, 20.0, 30.0]))  # built anew, as on a rerun
    changed = charts.vega_lite_spec(_trend([10.0, 20.0, 31.0]))  # another filter: other numbers
    assert again is first
    assert changed is not first
    assert changed["datasets"] != first["datasets"]
    # What is cached is Streamlit's own conversion of that chart.
    expected = _convert_altair_to_vega_lite_spec(_trend([10.0, 20.0, 31.0]))
    assert changed["datasets"] == expected["datasets"]


def test_show_chart_sends_the_browser_what_st_altair_chart_sends():
    def app():
        import polars as pl
        import streamlit as st

        from ui import charts

        frame = pl.DataFrame({"date": pl.date_range(pl.date(2026, 10, 1), pl.date(2026, 10, 3), eager=True),
                              "platform": ["meta", "meta", "meta"], "spend": [5.0, 7.5, 6.0]})
        chart = charts.trend_chart(frame, "spend", label="Spend", kind="currency", currency="USD", grain="day")
        st.altair_chart(chart, width="stretch", key="plain")
        charts.show_chart(chart, key="cached", name="spend", period="1 – 3 Oct 2026")
        charts.show_chart(chart, key="again", name="spend", period="1 – 3 Oct 2026")

    at = AppTest.from_function(app).run()
    assert not at.exception
    plain, cached, again = (element.proto for element in at.get("vega_lite_chart"))
    for shown in (cached, again):
        assert json.loads(shown.spec) == json.loads(plain.spec)
        assert [(d.name, d.data.data) for d in shown.datasets] == [(d.name, d.data.data) for d in plain.datasets]
        assert shown.data.data == plain.data.data


def test_a_page_run_does_not_end_in_a_full_garbage_collection_and_memory_is_still_collected():
    """Streamlit's post-run `gc.collect(2)` holds the GIL for 0.1-0.2 s after every click with the app's
    libraries loaded, and the run's last messages wait for it; the server's periodic tidy collects instead."""
    import tomllib

    from ui import server

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["postScriptGC"] is False
    assert 0 < server.TIDY_SECONDS <= 60


def test_the_server_warms_up_the_pages_modules_and_the_database_before_anyone_asks(tmp_path):
    """A fresh server imports what the Overview (every visit's first page) and then the other pages need and
    migrates its database in the background, so the first visitor does not wait for it."""
    database = tmp_path / "warm.db"
    code = textwrap.dedent(f"""
        import os, sys
        os.environ["DATABASE_URL"] = "sqlite:///{database}"
        from ui import server
        server.warm_up(rest_after=0)
        print(" ".join(name for name in ("ui.router", "ui.charts", "altair", "metrics.demo", "ui.ab", "scipy",
                                         "statsmodels.tsa.seasonal", "statsmodels.api", "ui.delivery")
                         if name in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                          check=True)
    assert set(done.stdout.split()) == {"ui.router", "ui.charts", "altair", "metrics.demo", "ui.ab", "scipy",
                                        "statsmodels.tsa.seasonal", "statsmodels.api", "ui.delivery"}
    from sqlalchemy import create_engine, inspect

    assert "alembic_version" in inspect(create_engine(f"sqlite:///{database}")).get_table_names()
