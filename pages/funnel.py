"""Funnel: impressions → clicks → leads → conversions with step rates, and the marketing funnel stages."""

import json
from functools import partial

import polars as pl
import streamlit as st

from metrics import display, funnel, kpis
from ui import charts, content_charts, data, filters, report_tables, tiles, widgets
from ui.router import require_router

require_router(__file__)

ALL_PLATFORMS = "All platforms"
STAGE_COLUMNS = (
    "funnel_stage", "spend", "impressions", "reach", "engagements", "clicks", "leads", "conversions", "revenue",
    "ctr", "engagement_rate", "cvr", "cpl", "cpa", "roas",
)

def count_text(value: float | None) -> str:
    """Exact counts in the funnel (21,449,242, not 21.4 M): the steps are compared digit by digit."""
    return display.format_value(value, "number")


st.title("Funnel")
st.caption(
    "How many people went from seeing an ad to buying, step by step. Each step's rate is a fraction of the step "
    "before it; a step the exports do not report is shown as not reported, never as zero."
)

dataset = widgets.require_dataset()

bar = filters.current()
currency = data.dataset_currency(dataset)
# The rows with the Data page's currency settings applied (file currencies, reporting currency).
rows_key, rows = data.report_frame(dataset)
common = filters.summary_options(bar)
by_platform = data.summarize(rows_key, rows, ("platform",), filters_json=bar.filters_json(), **common)
if by_platform.is_empty():
    st.info("No rows match the filters. Widen the date range or clear the platform and campaign filters.")
    st.stop()

platforms = [p for p in by_platform.get_column("platform").to_list() if p is not None]
choice = st.selectbox("Platform", [ALL_PLATFORMS, *platforms], key="funnel_platform",
                      format_func=lambda p: p if p == ALL_PLATFORMS else display.platform_label(p))
scope = bar.dimension_filters()
if choice != ALL_PLATFORMS:
    scope["platform"] = [choice]
scope_json = json.dumps(scope, sort_keys=True)
totals = data.summarize(rows_key, rows, (), filters_json=scope_json, **common).row(0, named=True)
# Each step rate over the rows that report both steps (a file of impressions without clicks adds nothing).
dates = dict(date_from=common["date_from"], date_to=common["date_to"])
steps = funnel.funnel_steps(totals, pairs=data.step_sums(rows_key, rows, filters_json=scope_json, **dates).row(
    0, named=True))

# --- the journey -------------------------------------------------------------------------------
with tiles.grid("funnel", 4):
    for step in steps.iter_rows(named=True):
        # Tiles are compact (they must fit two to a phone's row); the table below has every digit.
        value = display.format_compact(step["value"], "number") if step["reported"] else "not reported"
        rate = None
        if step["step_rate"] is not None:
            rate = (f"{display.format_value(step['step_rate'], 'percent')} of "
                    f"{display.label(step['previous_step']).lower()}")
        elif step["reported"] and step["previous_step"] is None:
            rate = "First step"
        # The rate of the previous step sits where a change would: grey, without an arrow (it is no change).
        st.metric(step["label"], value, delta=rate, delta_color="off", delta_arrow="off", border=True,
                  help=f"Exactly {count_text(step['value'])}." if step["reported"] else None)

log_scale = st.toggle("Logarithmic scale", value=True, key="funnel_log",
                      help="Impressions are often a thousand times conversions; a log scale keeps every "
                           "step visible.")
reported = steps.filter(pl.col("reported"))
if reported.is_empty():
    st.caption("None of impressions, clicks, leads or conversions is reported in this data.")
elif not log_scale or (reported.get_column("value") > 0).all():
    charts.show_chart(content_charts.funnel_bars(steps, log_scale=log_scale), key="funnel", name="funnel",
                      title="Funnel" if choice == ALL_PLATFORMS else f"Funnel · {display.platform_label(choice)}")
else:
    st.caption("A step is zero, which a logarithmic scale cannot show; switch the log scale off.")
percent = partial(display.format_value, format="percent")
journey = pl.DataFrame([
    steps.get_column("label").alias("Step"),
    display.text_column(steps, ("value", "reported"),
                        lambda value, reported: count_text(value) if reported else "not reported", "Count"),
    display.text_column(steps, "step_rate", percent, "Of previous step"),
    display.text_column(steps, "drop_off_rate", percent, "Drop-off"),
    display.text_column(steps, "drop_off", count_text, "Lost"),
    display.text_column(steps, "rate_from_first", percent, "Of first step"),
])
report_tables.dataframe(journey, key="funnel_table")
if (steps.get_column("step_coverage").drop_nulls() < 1).any():
    breakdowns = [(key, noun, data.step_sums(rows_key, rows, (key,), filters_json=scope_json, **dates))
                  for key, noun in (("source_file", "files"), ("platform", "platforms"))]
    notes = funnel.step_notes(steps, breakdowns)
    st.caption(widgets.md_escape(
        f"Each rate counts only the rows that report both of its steps. {'; '.join(notes)}." if notes else
        "Each rate counts only the rows that report both of its steps."))
widgets.download_table(
    steps.select("label", "value", "previous_step", "step_rate", "step_coverage", "drop_off", "drop_off_rate",
                 "rate_from_first"),
    "funnel", key="funnel_download",
)

if choice == ALL_PLATFORMS and len(platforms) > 1:
    # Folded: a detail of a long page (clients read it on phones).
    with st.expander("Step rates by platform", icon=":material/table_rows:"):
        st.caption("Each rate is the fraction of the platform's previous reported step, over the rows that report "
                   "both steps.")
        per_platform = funnel.funnel_by_group(
            by_platform, "platform",
            pairs=data.step_sums(rows_key, rows, ("platform",), filters_json=bar.filters_json(), **dates))
        report_tables.show_table(
            per_platform, key="funnel_platforms", file_name="funnel_by_platform", currency=currency,
            labels={"clicks_rate": "Clicks / impressions", "leads_rate": "Leads / clicks",
                    "conversions_rate": "Conversions / leads"},
            help={"conversions_rate": "Of leads; of clicks when the platform does not report leads."},
        )

# --- marketing funnel stages -------------------------------------------------------------------
st.subheader("Marketing funnel stages")
by_stage = data.summarize(rows_key, rows, ("funnel_stage",), filters_json=scope_json, **common)
if by_stage.get_column("funnel_stage").drop_nulls().is_empty():
    st.caption("The data has no funnel stage column (awareness, interest, consideration, action, loyalty); "
               "add one to your sheet to see spend and results per stage.")
else:
    stages = funnel.stage_table(by_stage)
    st.caption("Awareness → interest → consideration → action → loyalty; other stage names from the data follow "
               "them, and rows without a stage come last.")
    columns = [c for c in STAGE_COLUMNS if c in stages.columns
               and not (c != "funnel_stage" and stages.get_column(c).is_null().all())]
    chart_metrics = [c for c in columns if c != "funnel_stage"]
    metric = st.selectbox("Chart", chart_metrics, format_func=report_tables.label_of, key="funnel_stage_metric",
                          index=chart_metrics.index("spend") if "spend" in chart_metrics else 0)
    charts.show_chart(
        content_charts.stage_bars(stages, metric=metric, label=report_tables.label_of(metric), currency=currency),
        key="funnel_stages", name="funnel_stages", title=f"{report_tables.label_of(metric)} by funnel stage",
    )
    # A KPI resting on part of a stage's rows (a file without conversions adds nothing to CPA) shows its coverage.
    shown = []
    for column in columns[1:]:
        shown.append(column)
        coverage = kpis.coverage_name(column)
        if coverage in stages.columns and stages.get_column(coverage).drop_nulls().lt(1).any():
            shown.append(coverage)
    if len(shown) > len(columns) - 1:
        st.caption("A coverage column is the share of the stage's rows a KPI is based on: only the rows that report "
                   "every measure it needs count.")
    report_tables.show_table(
        stages.select(pl.col("funnel_stage").fill_null(funnel.NO_STAGE), *shown),
        key="funnel_stage_table", file_name="funnel_stages", currency=currency,
    )
