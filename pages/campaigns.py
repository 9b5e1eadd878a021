"""Campaigns & content: a leaderboard by any KPI, a drill-down into one campaign, formats and audiences."""

import json

import polars as pl
import streamlit as st

from metrics import display, narrative
from metrics.currency import row_currencies
from metrics.kpis import KPI_BY_NAME, KPI_NAMES, coverage_name
from metrics.leaderboard import eligible, leaderboard
from metrics.schema import MEASURES
from metrics.trends import complete_periods
from ui import charts, content_charts, data, filters, insight_charts, insights, report_tables, tiles, widgets
from ui.router import require_router

require_router(__file__)

VOLUME_MEASURES = ("clicks", "impressions", "spend", "conversions")
BOARD_COLUMNS = ("impressions", "clicks", "spend", "conversions", "revenue", "ctr", "cpc", "cvr", "cpa", "roas")
DETAIL_COLUMNS = ("spend", "impressions", "clicks", "ctr", "leads", "conversions", "cvr", "cpa", "revenue", "roas")
FORMAT_COLUMNS = ("impressions", "reach", "engagements", "engagement_rate", "er_impressions", "weighted_engagement",
                  "weighted_per_1k", "clicks", "ctr", "video_view_rate")
AUDIENCE_COLUMNS = ("impressions", "clicks", "ctr", "conversions", "cvr", "spend", "cpa", "revenue", "roas",
                    "share_of_conversions")
PREFERRED_METRICS = ("roas", "cpa", "ctr", "cvr", "cpc", "conversions", "revenue", "spend")
NO_CAMPAIGN = "(no campaign)"


def present(frame: pl.DataFrame, names) -> list[str]:
    """Columns of `names` that exist and hold at least one value."""
    return [n for n in names if n in frame.columns and frame.get_column(n).null_count() < frame.height]


st.title("Campaigns & content")

dataset = widgets.require_dataset()

bar = filters.current()
currency = data.dataset_currency(dataset)
# The rows with the Data page's currency settings applied (file currencies, reporting currency).
rows_key, rows = data.report_frame(dataset)
common = filters.summary_options(bar)
summary = data.summarize(
    rows_key, rows, ("campaign",), filters_json=bar.filters_json(), compare=bar.comparison,
    **common,
)
if summary.is_empty():
    st.info("No rows match the filters. Widen the date range or clear the platform and campaign filters.")
    st.stop()
summary = summary.with_columns(pl.col("campaign").fill_null(NO_CAMPAIGN))

# --- leaderboard -----------------------------------------------------------------------------
st.subheader("Campaign leaderboard")
metric_options = present(summary, [*(n for n in KPI_NAMES if n in KPI_BY_NAME), *MEASURES])
default_metric = next((m for m in PREFERRED_METRICS if m in metric_options), metric_options[0])
volume_options = present(summary, VOLUME_MEASURES) or ["impressions"]

c_metric, c_volume, c_min, c_order, c_n = st.columns([2.2, 1.6, 1.4, 1.4, 1], vertical_alignment="bottom")
metric = c_metric.selectbox("Rank by", metric_options, index=metric_options.index(default_metric),
                            format_func=report_tables.label_of, key="cmp_metric")
volume = c_volume.selectbox("Minimum volume of", volume_options, format_func=report_tables.label_of,
                            key="cmp_volume",
                            help="Campaigns below the minimum are left out, so a campaign with a handful of "
                                 "clicks cannot top a rate.")
# Whole numbers: a threshold of clicks reads "100", not "100.00".
min_volume = c_min.number_input("At least", min_value=0, value=100, step=100, key="cmp_min_volume")
order = c_order.segmented_control("Show", ["Best", "Worst"], default="Best", required=True, key="cmp_order")
top_n = int(c_n.number_input("How many", min_value=1, max_value=100, value=10, step=1, key="cmp_n"))

lower = display.describe(metric).direction == "lower"
pool = eligible(summary, volume, min_volume)
board = leaderboard(summary, metric, key="campaign", lower_is_better=lower, volume=volume, min_volume=min_volume,
                    n=top_n, best=(order or "Best") == "Best")
left_out = summary.height - pool.height
note = f"{'Lower' if lower else 'Higher'} {report_tables.label_of(metric)} ranks first."
if left_out:
    note += (f" {left_out} of {summary.height} campaigns {'has' if left_out == 1 else 'have'} fewer than "
             f"{display.format_metric(volume, min_volume, currency)} "
             f"{report_tables.label_of(volume).lower()} and are left out.")
st.caption(note)

if board.is_empty():
    st.info("No campaign reaches the minimum volume with a value for this metric. Lower the minimum or pick "
            "another metric.")
else:
    delta = f"{metric}_delta_rel"
    if delta not in board.columns or board.get_column(delta).is_null().all():
        delta = None  # no comparison chosen, or no data in the previous period
    columns = ["rank", "campaign", metric, *([delta] if delta else []),
               *[c for c in present(board, (volume, *BOARD_COLUMNS)) if c != metric]]
    columns = list(dict.fromkeys(columns))
    coverage = coverage_name(metric)
    if coverage in board.columns and board.get_column(coverage).drop_nulls().lt(1).any():
        columns.insert(columns.index(metric) + 1, coverage)  # the share of each campaign's rows it rests on
    if len(row_currencies(summary)) > 1:  # campaigns' money in different currencies: say which is which
        columns.insert(2, "currency")
        st.caption("Campaigns' money is in different currencies (see Currency); amounts of different currencies do "
                   "not compare. Set the files' currencies or a reporting currency on the Data page.")
    table_col, chart_col = st.columns([3, 2], gap="large")
    with table_col:
        report_tables.show_table(board.select(columns), key="leaderboard", file_name="campaign_leaderboard",
                                 currency=currency)
    with chart_col:
        charts.show_chart(
            content_charts.ranked_bars(board, category="campaign", metric=metric,
                                       label=report_tables.label_of(metric), category_title="Campaign",
                                       currency=currency),
            key="leaderboard", name="campaign_leaderboard",
            title=f"Campaigns by {report_tables.label_of(metric)}",
        )

# --- drill-down --------------------------------------------------------------------------------
st.subheader("Campaign drill-down")
names = summary.get_column("campaign").to_list()
first = board.get_column("campaign")[0] if not board.is_empty() else names[0]
chosen = st.selectbox("Campaign", names, index=names.index(first), key="cmp_drill")
scope = bar.dimension_filters() | {"campaign": [chosen]}
if chosen == NO_CAMPAIGN:
    scope.pop("campaign")
scope_json = json.dumps(scope, sort_keys=True)
row = summary.filter(pl.col("campaign") == chosen).row(0, named=True)

period = narrative.period_phrase(bar.comparison, (bar.date_to - bar.date_from).days + 1) \
    if bar.date_from and bar.date_to else None
with tiles.grid("campaign", 3):
    for name in ("spend", "revenue", "roas", "conversions", "cpa", "ctr"):
        tiles.kpi_tile(row, name, currency=row.get("currency"), period=period)

if chosen == NO_CAMPAIGN:
    st.caption("Rows without a campaign name cannot be drilled into separately; the view below covers all rows.")
trend_left, trend_right = st.columns([3, 1], vertical_alignment="bottom")
trend_metric = trend_right.selectbox("Trend of", metric_options, index=metric_options.index(metric),
                                     format_func=report_tables.label_of, key="cmp_trend_metric")
split = trend_right.toggle("One line per platform", value=False, key="cmp_trend_split")
trend = data.summarize(rows_key, rows, ("platform",) if split else (), grain=bar.grain,
                       filters_json=scope_json, **common)
with trend_left:
    if trend.filter(pl.col(trend_metric).is_not_null()).is_empty():
        st.caption("This campaign does not report this metric.")
    else:
        trend = trend.select([c for c in ("date", "platform", trend_metric) if c in trend.columns])
        first_day, last_day = data.date_bounds(dataset.key, dataset.frame)
        # Every period of the range: one without rows is a gap in the line, not a line drawn through it.
        trend = complete_periods(trend, bar.grain, series=["platform"] if split else [],
                                 first_day=bar.date_from or first_day, last_day=bar.date_to or last_day)
        chart = charts.trend_chart(trend, trend_metric, label=report_tables.label_of(trend_metric),
                                   kind=display.describe(trend_metric).format, currency=currency, by_platform=split,
                                   grain=bar.grain)
        notes = insight_charts.annotation_layers(insights.notes_for(dataset).annotations, bar.date_from, bar.date_to)
        charts.show_chart(
            insight_charts.with_overlays(chart, *notes),
            key="campaign_trend", name="campaign_trend",
            title=f"{report_tables.label_of(trend_metric)} · {chosen}",
        )

groups_tab, ads_tab = st.tabs(["Ad groups", "Ads"])
with groups_tab:
    groups = data.summarize(rows_key, rows, ("ad_group",), filters_json=scope_json, **common)
    if groups.get_column("ad_group").drop_nulls().is_empty():
        st.caption("This campaign has no ad groups (ad sets) in the data.")
    else:
        report_tables.show_table(groups.select("ad_group", *present(groups, DETAIL_COLUMNS)), key="ad_groups",
                                 file_name="ad_groups", currency=currency)
with ads_tab:
    ads = data.summarize(rows_key, rows, ("ad_group", "ad", "variant"), filters_json=scope_json,
                         **common)
    if ads.get_column("ad").drop_nulls().is_empty():
        st.caption("This campaign has no ads in the data.")
    else:
        keys = ["ad", "ad_group"] + (["variant"] if ads.get_column("variant").drop_nulls().len() else [])
        report_tables.show_table(ads.select(*keys, *present(ads, DETAIL_COLUMNS)), key="ads", file_name="ads",
                                 currency=currency)

# --- content formats -------------------------------------------------------------------------
# Long pages fold their detail sections (clients read them on phones).
with st.expander("Content formats", icon=":material/category:"):
    formats = data.summarize(rows_key, rows, ("content_format",), filters_json=bar.filters_json(), **common)
    formats = formats.filter(pl.col("content_format").is_not_null())
    if formats.is_empty():
        st.caption("The data has no content format column (image, video, carousel, …).")
    else:
        formats = formats.with_columns(
            pl.when(pl.col("impressions") > 0)
            .then(pl.col("weighted_engagement") / pl.col("impressions") * 1000)
            .alias("weighted_per_1k")
        ).sort("engagement_rate", descending=True, nulls_last=True)
        st.caption("Engagement rate = engagements / reach; weighted engagement = 1×likes + 2×comments + 3×saves + "
                   "4×shares (weights on the Data page), also per 1,000 impressions so formats of different size "
                   "compare fairly.")
        panels = {m: report_tables.label_of(m) if m != "weighted_per_1k" else "Weighted engagement / 1,000 impr."
                  for m in ("engagement_rate", "weighted_per_1k", "ctr") if m in present(formats, (m,))}
        if panels:
            charts.show_chart(
                content_charts.metric_panels(formats, category="content_format", metrics=panels,
                                             category_title="Format"),
                key="formats", name="content_formats", title="Content formats",
            )
        report_tables.show_table(
            formats.select("content_format", *present(formats, FORMAT_COLUMNS)), key="formats_table",
            file_name="content_formats", currency=currency,
        )

# --- audiences -----------------------------------------------------------------------------------
audiences = data.summarize(rows_key, rows, ("audience",), filters_json=bar.filters_json(), **common)
audiences = audiences.filter(pl.col("audience").is_not_null())
if not audiences.is_empty():
    with st.expander("Audiences", icon=":material/groups:"):
        audience_metrics = present(audiences, AUDIENCE_COLUMNS)
        pick = st.selectbox("Chart", audience_metrics, format_func=report_tables.label_of, key="cmp_audience_metric",
                            index=audience_metrics.index("cpa") if "cpa" in audience_metrics else 0)
        left, right = st.columns([2, 3], gap="large")
        with left:
            charts.show_chart(
                content_charts.ranked_bars(audiences, category="audience", metric=pick,
                                           label=report_tables.label_of(pick), category_title="Audience",
                                           currency=currency, color="#1098AD"),
                key="audiences", name="audiences", title=f"{report_tables.label_of(pick)} by audience",
            )
        with right:
            report_tables.show_table(audiences.select("audience", *audience_metrics), key="audiences_table",
                                     file_name="audiences", currency=currency)
