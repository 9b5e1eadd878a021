"""Overview: the headline KPIs and their change, one sentence on what moved, and the trend of any metric."""

import polars as pl
import streamlit as st

from metrics import display, narrative
from metrics.kpis import KPI_NAMES, coverage_basis, coverage_name
from metrics.schema import MEASURES
from metrics.trends import complete_periods
from ui import charts, currency, data, filters, insight_charts, insights, tiles, widgets
from ui.router import require_router
from ui.state import OVERVIEW_METRIC, OVERVIEW_SPLIT

require_router(__file__)

TILES_PER_ROW = 5
# The trend picker lists the usual suspects first, then every other measure and KPI with data.
TREND_FIRST = ("spend", "impressions", "reach", "clicks", "conversions", "revenue", "ctr", "cpc", "cpm", "cpa",
               "roas", "roi", "engagement_rate", "net_follower_growth")
SPLIT_LABELS = {"platform": "By platform", "total": "Total"}

st.title("Overview")

dataset = widgets.require_dataset()

flt = filters.current()
common = dict(filters.summary_options(flt), filters_json=flt.filters_json())
# Daily platform × campaign totals: the same results as the raw rows for this page, far fewer rows.
frame_key, frame = data.dashboard_frame(dataset)


# --- what is shown ------------------------------------------------------------------------
period = None
days = None
compare = flt.comparison
if flt.date_from and flt.date_to:
    days = (flt.date_to - flt.date_from).days + 1
    period = narrative.period_phrase(compare, days)
st.caption(flt.scope_text())

total_frame = data.summarize(frame_key, frame, (), compare=compare if period else None, **common)
total = total_frame.row(0, named=True)
if all(total.get(m) is None for m in MEASURES):
    st.info(
        "No rows match these filters. Widen the date range or clear the platform and campaign filters in the "
        "sidebar to see your results."
    )
    st.stop()

by_platform = data.summarize(
    frame_key, frame, ("platform",), compare=compare if period else None, **common
)
# Money is shown with the symbol of the currency it is in, or none (unknown or mixed currencies).
money_currency = total.get("currency")

# --- the sentence -------------------------------------------------------------------------
sentence = narrative.headline(total, by_platform, compare=compare if period else None, days=days,
                              currency=money_currency)
with st.container(border=True):
    # Platform names in the sentence may come from uploads: escaped, rendered as text.
    st.markdown(f":material/insights: **{widgets.md_escape(sentence)}**")
    # Why the headline cost KPI moved (CPA, else CPL, else CPC), with the way to the rest of the insights.
    driver = insights.headline_driver(dataset, flt) if period else None
    if driver is not None:
        st.markdown(widgets.md_escape(driver.sentence))
        if driver.based_on:
            st.caption(widgets.md_escape(f"{driver.total.label} is {driver.based_on}: only the rows that report "
                                         "every measure of its factors count."))
        st.page_link("pages/insights.py", label="Why KPIs moved, budget pacing, anomalies and forecasts",
                     icon=":material/troubleshoot:")

if period and total.get("spend_prev") is None and total.get("impressions_prev") is None:
    st.caption(
        f"There is no data for {period} (it lies outside the dates in the data), so no changes are shown. "
        "Pick a later period or another comparison in the sidebar to compare."
    )
currency.currency_notes(dataset, total)

# --- tiles --------------------------------------------------------------------------------
trend_total = data.summarize(frame_key, frame, (), grain=flt.grain, **common)
# A KPI based on part of the data says which part: "based on 1 of 2 files" (or platforms).
breakdowns = [("source_file", "files", data.summarize(frame_key, frame, ("source_file",), **common)),
              ("platform", "platforms", by_platform)]
with tiles.grid("overview", TILES_PER_ROW):
    for name in display.OVERVIEW_TILES:
        reported = total.get(name) is not None
        tiles.kpi_tile(
            total, name, currency=money_currency, period=period if compare else None,
            # No sparkline under an empty value (money in mixed currencies): its days would mix them.
            chart_data=trend_total.get_column(name).drop_nulls().to_list() if reported else None,
            note=coverage_basis(name, total.get(coverage_name(name)), breakdowns) if reported else None,
        )

# --- trend --------------------------------------------------------------------------------
st.subheader("Trend")
available = [n for n in (*MEASURES, *KPI_NAMES) if total.get(n) is not None]
options = [n for n in TREND_FIRST if n in available] + [n for n in available if n not in TREND_FIRST]
left, right, _ = st.columns([2, 2, 3])
with left:
    metric = st.selectbox("Metric", options, format_func=display.label, key=OVERVIEW_METRIC)
with right:
    split = st.segmented_control(
        "Show", list(SPLIT_LABELS), format_func=SPLIT_LABELS.get, default="platform", required=True,
        key=OVERVIEW_SPLIT,
    ) or "platform"

grain_label = filters.GRAIN_LABELS.get(flt.grain, flt.grain).lower()
if split == "platform":
    trend = data.summarize(frame_key, frame, ("platform",), grain=flt.grain, **common)
else:
    trend = trend_total
first_day, last_day = data.date_bounds(dataset.key, dataset.frame)
# Every period of every line: a period without rows is a gap, and a period cut by the range is marked.
trend = complete_periods(trend.select([c for c in ("date", "platform", metric) if c in trend.columns]), flt.grain,
                         series=["platform"] if split == "platform" else [],
                         first_day=flt.date_from or first_day, last_day=flt.date_to or last_day)
label = display.label(metric)
if trend.get_column(metric).drop_nulls().is_empty():
    st.info(f"{label} has no values in this selection.")
else:
    notes = [f"{label} by {grain_label} — change the time grain in the sidebar. Hover a point for its value."]
    if trend.filter(pl.col("partial") & pl.col(metric).is_not_null()).height:
        notes.append(f"Hollow points are {grain_label}s the date range covers only in part.")
    if trend.get_column(metric).null_count():
        notes.append(f"Gaps are {grain_label}s without data.")
    st.caption(" ".join(notes))
    chart = charts.trend_chart(
        trend, metric, label=label, kind=widgets.kind_of(metric), currency=data.dataset_currency(dataset),
        by_platform=split == "platform", grain=flt.grain,
    )
    overlays = insights.trend_overlays(dataset, flt, metric, total=split == "total", grain=flt.grain, label=label,
                                       kind=widgets.kind_of(metric), currency=data.dataset_currency(dataset))
    chart = insight_charts.with_overlays(chart, *overlays.layers)
    for note in overlays.notes:
        st.caption(widgets.md_escape(note))
    charts.show_chart(chart, key="overview_trend", name=f"trend_{metric}", title=f"{label} by {grain_label}")
