"""The shared filter bar: set up once by the router, read by every page through `current()`."""

from __future__ import annotations

import json
from datetime import date

import streamlit as st

from metrics.report_settings import ReportFilters
from ui import data
from ui.state import (
    FILTER_CAMPAIGNS,
    FILTER_COMPARE,
    FILTER_DATES,
    FILTER_GRAIN,
    FILTER_PLATFORMS,
    FILTERS,
    Dataset,
    kpi_settings,
)

GRAIN_LABELS = {"day": "Day", "week": "Week", "month": "Month"}
COMPARE_LABELS = {"previous": "Previous period", "previous_year": "Previous year", "none": "None"}


def current() -> ReportFilters:
    """The filters the sidebar holds now (defaults before the sidebar first ran)."""
    return st.session_state.get(FILTERS) or ReportFilters()


def restore(saved: ReportFilters) -> None:
    """Put saved filters back into the sidebar widgets (used when a snapshot is opened)."""
    if saved.date_from and saved.date_to:
        st.session_state[FILTER_DATES] = (saved.date_from, saved.date_to)
    st.session_state[FILTER_PLATFORMS] = list(saved.platforms)
    st.session_state[FILTER_CAMPAIGNS] = list(saved.campaigns)
    st.session_state[FILTER_GRAIN] = saved.grain
    st.session_state[FILTER_COMPARE] = saved.compare or "none"
    st.session_state.pop(FILTERS, None)


def sidebar(dataset: Dataset, *, mirror_in_url: bool) -> ReportFilters:
    """Render the filter bar for `dataset` and store the result for the pages.

    Widgets keep their values across page switches (they are rendered on every run
    by the router) and, for editors, are mirrored in the URL so a view can be bookmarked.
    """
    frame = dataset.frame
    lo, hi = data.date_bounds(dataset.key, frame)
    bind = "query-params" if mirror_in_url else None
    with st.sidebar:
        st.subheader("Filters")
        date_from = date_to = None
        if lo is not None and hi is not None:
            chosen = st.date_input(
                "Date range", value=(lo, hi), min_value=lo, max_value=hi, key=FILTER_DATES, bind=bind,
                help="Defaults to the whole period in the data.",
            )
            if isinstance(chosen, (tuple, list)) and len(chosen) == 2:
                date_from, date_to = chosen
            elif isinstance(chosen, (tuple, list)) and len(chosen) == 1:
                date_from = date_to = chosen[0]  # a half-picked range: one day until the second click
            elif isinstance(chosen, date):
                date_from = date_to = chosen
        platforms = st.multiselect(
            "Platforms", data.dimension_values(dataset.key, frame, "platform"), key=FILTER_PLATFORMS,
            placeholder="All platforms", bind=bind,
        )
        campaign_options = data.dimension_values(dataset.key, frame, "campaign")
        campaigns = st.multiselect(
            "Campaigns", campaign_options, key=FILTER_CAMPAIGNS, placeholder="All campaigns", bind=bind,
        )
        grain = st.segmented_control(
            "Time grain", list(GRAIN_LABELS), format_func=GRAIN_LABELS.get, default="day", required=True,
            key=FILTER_GRAIN, bind=bind,
        ) or "day"
        compare = st.selectbox(
            "Compare with", list(COMPARE_LABELS), format_func=COMPARE_LABELS.get, key=FILTER_COMPARE, bind=bind,
        )
    filters = ReportFilters(
        date_from=date_from, date_to=date_to, platforms=tuple(platforms), campaigns=tuple(campaigns),
        grain=grain, compare=None if compare in (None, "none") else compare,
    )
    st.session_state[FILTERS] = filters
    return filters


def summary_options(flt: ReportFilters | None = None) -> dict:
    """Keyword arguments every page passes to `ui.data.summarize`: the date range and the KPI
    settings (extra costs, engagement weights). Dimension filters are passed per call."""
    flt = flt or current()
    settings = kpi_settings()
    return dict(
        date_from=flt.date_from, date_to=flt.date_to, extra_costs=float(settings["extra_costs"]),
        weights_json=json.dumps(settings["weights"], sort_keys=True),
    )
