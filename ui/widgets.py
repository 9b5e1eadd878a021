"""Reusable widgets: safe text, number formatting, KPI tiles, issue panels and table downloads."""

from __future__ import annotations

import re

import polars as pl
import streamlit as st

from metrics.display import describe
from metrics.exports import to_csv_bytes, to_xlsx_bytes
from ui.session import show_demo
from ui.state import get_dataset

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: object) -> str:
    """Text from uploads inside Markdown (titles, captions): every Markdown/HTML character escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


# Static CSS for layout Streamlit has no setting for (never any upload text in here):
# - KPI tile grids (`ui.tiles.grid`): 3, 4 or 5 tiles to a row, the last row aligned under the others;
#   two to a row on a phone, with a smaller value font so "-$250.0K" fits a half-width tile;
# - the toolbar of a table or chart (search, download, full screen) floats just above its top edge, where
#   a phone (which shows it on touch) has the heading: there the element leaves room for it. (On a wide
#   screen it appears on hover at the right end, clear of a heading's text.)
PAGE_STYLE = """<style>
[class*="st-key-tiles5_"] > * { flex: 0 0 calc(20% - 0.8rem); min-width: 0; }
[class*="st-key-tiles4_"] > * { flex: 0 0 calc(25% - 0.75rem); min-width: 0; }
[class*="st-key-tiles3_"] > * { flex: 0 0 calc(33.333% - 0.667rem); min-width: 0; }
@media (max-width: 640px) {
  [class*="st-key-tiles"] > * { flex: 0 0 calc(50% - 0.5rem); }
  [data-testid="stMetricValue"] { font-size: 1.75rem; }
  [data-testid="stElementContainer"]:has([data-testid="stElementToolbar"]) { margin-top: 2.75rem; }
}
</style>"""


def page_style() -> None:
    """The static layout CSS above, once per run (st.html puts a style-only block out of the flow)."""
    st.html(PAGE_STYLE)


def kind_of(name: str) -> str:
    """How to display a measure or KPI: percent, currency, number, ratio or minutes (the display catalog's)."""
    return describe(name).format


def issue_panel(issues, *, title: str | None = None) -> None:
    """Load issues / warnings as plain text (messages may quote upload text).

    Errors and warnings get a box each; informational notes share one compact box.
    """
    notes = []
    for issue in issues:
        severity = issue.get("severity") if isinstance(issue, dict) else getattr(issue, "severity", "info")
        message = issue.get("message") if isinstance(issue, dict) else getattr(issue, "message", str(issue))
        if severity == "error":
            st.error(md_escape(message))
        elif severity == "warning":
            st.warning(md_escape(message))
        else:
            notes.append(md_escape(message))
    if notes:
        st.info("\n".join(f"- {note}" for note in notes) if len(notes) > 1 else notes[0], icon=":material/info:")


def download_table(frame: pl.DataFrame, name: str, *, key: str, label: str = "Download") -> None:
    """CSV and XLSX download buttons for a table, formula-like text escaped (built only when clicked)."""
    left, right = st.columns(2, gap="small")
    with left:
        st.download_button(
            f"{label} CSV", lambda: to_csv_bytes(frame), file_name=f"{name}.csv", mime="text/csv", key=f"{key}_csv",
            icon=":material/download:", on_click="ignore",
        )
    with right:
        st.download_button(
            f"{label} XLSX", lambda: to_xlsx_bytes(frame), file_name=f"{name}.xlsx", key=f"{key}_xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/download:", on_click="ignore",
        )


PRODUCT_NAME = "Campaign Lens"
PRODUCT_SENTENCE = (
    "Drop in the exports you already have — Meta Ads Manager, Google Ads, LinkedIn, TikTok, X, organic stats or "
    "your own sheets — and see KPIs, platform comparisons, funnels, goal progress and A/B test verdicts in seconds."
)


def empty_state(message: str) -> None:
    """The first screen when there is no data: the product's name, what it does, and the two ways in —
    upload exports (on the Data page) or the demo account — side by side.

    The demo button works through a callback (runs before the script), so the router's sidebar
    already shows the demo data in the same run; no st.rerun needed.
    """
    with st.container(border=True):
        st.markdown(f"## :material/insights: {PRODUCT_NAME}")
        st.markdown(PRODUCT_SENTENCE)
        upload, demo = st.columns(2, gap="small")
        if upload.button("Upload your exports", type="primary", icon=":material/upload_file:",
                         key="empty_state_upload", width="stretch"):
            st.switch_page("pages/upload.py")
        demo.button("Use demo data", icon=":material/auto_awesome:", key="empty_state_demo", width="stretch",
                    on_click=show_demo)
        st.caption(f"{message} Files are read on this server only; nothing is sent anywhere else.")


NO_DATA = "No data yet: upload your exports, or explore a demo account of eight platforms over fourteen months."


def require_dataset():
    """The current dataset; with none, the friendly empty start and the page stops here."""
    dataset = get_dataset()
    if dataset is None:
        empty_state(NO_DATA)
        st.stop()
    return dataset
