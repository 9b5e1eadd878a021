"""The shared filter bar: set up once by the router, read by every page through `current()`.

The period is a preset ("Last 30 days", "Quarter to date", … counted back from the last day in the
data, see `metrics.trends.preset_range`) or custom dates; the comparison is the previous period, the
same days a year earlier, a custom period or none. The default view is the last 30 days against the
30 days before. For editors every choice is mirrored in the URL (a bookmark reopens the same view);
snapshots save them (`metrics.report_settings.ReportFilters`) and `restore` puts them back.
"""

from __future__ import annotations

import json
from datetime import date

import streamlit as st

from metrics.display import format_period, platform_label
from metrics.report_settings import DEFAULT_COMPARISON, CompareChoice, ReportFilters
from metrics.trends import DEFAULT_PRESET, PRESET_LABELS, comparison_range, matching_preset, preset_range
from ui import data
from ui.state import (
    FILTER_CAMPAIGNS,
    FILTER_COMPARE,
    FILTER_COMPARE_DATES,
    FILTER_DATES,
    FILTER_GRAIN,
    FILTER_PERIOD,
    FILTER_PLATFORMS,
    FILTERS,
    Dataset,
    kpi_settings,
)

GRAIN_LABELS = {"day": "Day", "week": "Week", "month": "Month"}
COMPARE_LABELS = {"previous": "Previous period", "previous_year": "Previous year", "custom": "Custom period",
                  "none": "No comparison"}


def current() -> ReportFilters:
    """The filters the sidebar holds now (defaults before the sidebar first ran)."""
    return st.session_state.get(FILTERS) or ReportFilters()


def restore(saved: ReportFilters, dataset: Dataset) -> None:
    """Put saved filters back into every sidebar widget (used when a snapshot is opened).

    Saved dates outside `dataset` (or none) become the default preset's; the preset picker shows the
    saved preset when the dates are still its dates, else the preset they equal or "Custom". Writes every
    filter key, so `ui.state.set_dataset(..., filters_restored_by_caller=True)` can keep them (a widget
    key deleted and written again in one run would take the URL's value instead).
    """
    first_day, last_day = data.date_bounds(dataset.key, dataset.frame)
    if first_day is not None and last_day is not None:
        shown = saved.within(first_day, last_day)  # the report files of a snapshot resolve them the same way
        st.session_state[FILTER_PERIOD] = shown.preset
        st.session_state[FILTER_DATES] = (shown.date_from, shown.date_to)
    st.session_state[FILTER_PLATFORMS] = list(saved.platforms)
    st.session_state[FILTER_CAMPAIGNS] = list(saved.campaigns)
    st.session_state[FILTER_GRAIN] = saved.grain
    st.session_state[FILTER_COMPARE] = saved.compare or "none"
    if saved.compare == "custom" and saved.compare_from and saved.compare_to:
        st.session_state[FILTER_COMPARE_DATES] = (saved.compare_from, saved.compare_to)
    else:
        st.session_state.pop(FILTER_COMPARE_DATES, None)
    st.session_state.pop(FILTERS, None)


def _picked_range(value: object) -> tuple[date, date] | None:
    """A date_input range value as (first, last): a half-picked range is one day until the second click."""
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, date) for v in value):
        return value[0], value[1]
    if isinstance(value, (tuple, list)) and len(value) == 1 and isinstance(value[0], date):
        return value[0], value[0]
    if isinstance(value, date):
        return value, value
    return None


def _apply_preset(first_day: date, last_day: date) -> None:
    """Picking a preset sets the dates (a callback: runs before the widgets of the next run exist)."""
    preset = st.session_state.get(FILTER_PERIOD)
    if preset in PRESET_LABELS and preset != "custom":
        st.session_state[FILTER_DATES] = preset_range(preset, first_day, last_day)


def _follow_dates(first_day: date, last_day: date) -> None:
    """The preset picker names what the dates are: dates picked by hand that equal a preset show it,
    any others show "Custom" (a restored snapshot, a bookmark, a calendar edit)."""
    picked = _picked_range(st.session_state.get(FILTER_DATES))
    if picked is None or picked[0] > picked[1]:
        return
    preset = st.session_state.get(FILTER_PERIOD, DEFAULT_PRESET)
    if preset == "custom" or preset not in PRESET_LABELS or preset_range(preset, first_day, last_day) != picked:
        st.session_state[FILTER_PERIOD] = matching_preset(picked[0], picked[1], first_day, last_day)


def period_picker(first_day: date, last_day: date, bind: str | None) -> tuple[date | None, date | None, str]:
    """The preset picker and the calendar under it; returns (first day, last day, preset)."""
    _follow_dates(first_day, last_day)
    preset = st.selectbox(
        "Period", list(PRESET_LABELS), format_func=PRESET_LABELS.get, key=FILTER_PERIOD,
        index=list(PRESET_LABELS).index(DEFAULT_PRESET), bind=bind, on_change=_apply_preset,
        args=(first_day, last_day),
        help=f"Presets end on the last day in the data ({format_period(last_day, last_day)}), not today.",
    )
    chosen = st.date_input(
        "Date range", value=preset_range(DEFAULT_PRESET, first_day, last_day), min_value=first_day,
        max_value=last_day, key=FILTER_DATES, bind=bind, on_change=_follow_dates, args=(first_day, last_day),
    )
    picked = _picked_range(chosen)
    if picked is None:
        return None, None, preset or "custom"
    return picked[0], picked[1], preset or "custom"


def comparison_picker(
    date_from: date | None, date_to: date | None, bind: str | None,
) -> tuple[CompareChoice | None, date | None, date | None]:
    """"Compare with": previous period (default), previous year, custom dates or none."""
    compare = st.selectbox(
        "Compare with", list(COMPARE_LABELS), format_func=COMPARE_LABELS.get, key=FILTER_COMPARE, bind=bind,
        index=list(COMPARE_LABELS).index(DEFAULT_COMPARISON),
    )
    if compare in (None, "none"):
        return None, None, None
    if compare != "custom":
        if date_from and date_to:
            st.caption(f"vs {format_period(*comparison_range(date_from, date_to, compare))}")
        return compare, None, None
    default = comparison_range(date_from, date_to, "previous") if date_from and date_to else None
    picked = _picked_range(st.date_input(
        "Comparison dates", value=default, key=FILTER_COMPARE_DATES, bind=bind,
        help="Any period, of any length: totals of a longer period are larger; rates compare as they are.",
    ))
    return "custom", *(picked or (None, None))


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
        preset = "custom"
        if lo is not None and hi is not None:
            date_from, date_to, preset = period_picker(lo, hi, bind)
        compare, compare_from, compare_to = comparison_picker(date_from, date_to, bind)
        platforms = st.multiselect(
            "Platforms", data.dimension_values(dataset.key, frame, "platform"), key=FILTER_PLATFORMS,
            format_func=platform_label, placeholder="All platforms", bind=bind,
        )
        campaign_options = data.dimension_values(dataset.key, frame, "campaign")
        campaigns = st.multiselect(
            "Campaigns", campaign_options, key=FILTER_CAMPAIGNS, placeholder="All campaigns", bind=bind,
        )
        grain = st.segmented_control(
            "Time grain", list(GRAIN_LABELS), format_func=GRAIN_LABELS.get, default="day", required=True,
            key=FILTER_GRAIN, bind=bind,
        ) or "day"
    filters = ReportFilters(
        date_from=date_from, date_to=date_to, platforms=tuple(platforms), campaigns=tuple(campaigns),
        grain=grain, compare=compare, compare_from=compare_from, compare_to=compare_to, preset=preset,
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
