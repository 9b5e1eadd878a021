"""Platforms: every KPI side by side, best and worst per KPI, and where the money and the results go."""

import polars as pl
import streamlit as st

from metrics import display
from metrics.currency import row_currencies
from metrics.kpis import KPI_NAMES, coverage_basis, coverage_name, find_kpi
from metrics.leaderboard import best_and_worst, top_per_group
from ui import charts, currency, data, filters, report_tables, widgets
from ui.router import require_router
from ui.state import PLATFORMS_METRIC

require_router(__file__)

# Column order: the totals and KPIs a marketer compares first, then the rest (reach is labelled as a
# sum of rows by `display.label`).
LEADING_MEASURES = ("spend", "impressions", "clicks", "conversions", "revenue")
TRAILING_MEASURES = ("reach", "link_clicks", "leads", "engagements", "video_views", "new_followers")
TABLE_MEASURES = LEADING_MEASURES + TRAILING_MEASURES
# The KPIs a marketer compares first lead the table and the picker.
KPI_ORDER = ("ctr", "cpc", "cpm", "cpa", "cvr", "roas", "roi", "engagement_rate", "net_follower_growth",
             "share_of_spend", "share_of_conversions")

st.title("Platforms")

dataset = widgets.require_dataset()

flt = filters.current()
common = dict(filters.summary_options(flt), filters_json=flt.filters_json())
# Daily platform × campaign totals: the same results as the raw rows for this page, far fewer rows.
frame_key, frame = data.dashboard_frame(dataset)

by_platform = data.summarize(frame_key, frame, ("platform",), **common)
if by_platform.is_empty():
    st.info(
        "No rows match these filters. Widen the date range or clear the platform and campaign filters in the "
        "sidebar to compare platforms."
    )
    st.stop()

period = display.format_period(flt.date_from, flt.date_to) if flt.date_from and flt.date_to else "All dates"
st.caption(f"{period} · {by_platform.height} platform(s) · every KPI is a ratio of the platform's totals.")
currency.currency_notes(dataset, data.summarize(frame_key, frame, (), **common).row(0, named=True))
# Money of platforms in different currencies is shown without a symbol and never compared.
codes = row_currencies(by_platform)
money_currency = codes[0] if len(codes) == 1 else None


def is_money(name: str) -> bool:
    return name in ("spend", "revenue") or bool(find_kpi(name) and find_kpi(name).is_money)


# --- the comparison table -----------------------------------------------------------------
kpi_columns = [n for n in KPI_ORDER if n in by_platform.columns] + [
    n for n in KPI_NAMES if n not in KPI_ORDER and n in by_platform.columns
]
measure_columns = [n for n in TABLE_MEASURES if n in by_platform.columns]
# Columns without a value for any platform say nothing; they are left out.
ordered = [
    *(n for n in LEADING_MEASURES if n in measure_columns),
    *(n for n in kpi_columns if n in KPI_ORDER),
    *(n for n in TRAILING_MEASURES if n in measure_columns),
    *(n for n in kpi_columns if n not in KPI_ORDER),
]
shown = [n for n in ordered if by_platform.get_column(n).drop_nulls().len() > 0]
hidden = [n for n in ordered if n not in shown]


def partly_based(row: dict, per_file: pl.DataFrame) -> str | None:
    """The KPIs of one platform's row based on part of its rows, and on which part."""
    files = [("source_file", "files", per_file.filter(pl.col("platform").eq_missing(row["platform"])))]
    notes = [f"{display.label(n)} ({coverage_basis(n, row.get(coverage_name(n)), files)})"
             for n in kpi_columns if n in shown and row.get(n) is not None
             and coverage_basis(n, row.get(coverage_name(n)), files)]
    return "; ".join(notes) or None


per_file = data.summarize(frame_key, frame, ("platform", "source_file"), **common)
extra = {"based_on": pl.Series([partly_based(r, per_file) for r in by_platform.iter_rows(named=True)],
                               dtype=pl.String)}
if len(codes) > 1:  # each platform says which currency its money is in
    extra["currency"] = by_platform.select(
        pl.when(pl.col("spend").is_null() & pl.col("revenue").is_null() & pl.col("currency").ne_missing("mixed"))
        .then(pl.lit(None)).otherwise(pl.col("currency").fill_null("unknown"))
    ).to_series()
table = by_platform.select("platform", *shown).with_columns(**extra)
columns = ["platform", *(["currency"] if "currency" in extra else []), *shown, "based_on"]
if "campaign" in frame.columns:
    by_campaign = data.summarize(frame_key, frame, ("platform", "campaign"), **common)
    table = table.join(top_per_group(by_campaign), on="platform", how="left", nulls_equal=True)
    columns.insert(1, "top_campaign")
if table.get_column("based_on").null_count() == table.height:
    columns.remove("based_on")
table = table.select(columns)
table = table.with_columns(display.text_column(table, "platform", display.platform_label, "platform"))
table = table.sort("spend" if "spend" in shown else shown[0], descending=True, nulls_last=True)

column_config = report_tables.column_config(
    table, money_currency, labels={"top_campaign": "Top campaign", "currency": "Currency",
                                   "based_on": "Based on part of the data"},
    help={"top_campaign": "The platform's campaign with the most conversions (then spend).",
          "currency": "The currency of the platform's money; 'mixed' when it is in several (then it is not added "
                      "up), 'unknown' when its file does not say.",
          "based_on": "KPIs computed from only the rows that report every measure they need, and which part."},
)
column_config["platform"] = st.column_config.TextColumn("Platform", pinned=True)

st.subheader("Every KPI per platform")
report_tables.dataframe(table, column_config=column_config)
notes = ["Reach is summed over rows, an upper bound of the people reached. Scroll right for every KPI."]
money_hidden = [display.label(n) for n in hidden if is_money(n) and "mixed" in codes]
other_hidden = [display.label(n) for n in hidden if display.label(n) not in money_hidden]
if money_hidden:
    notes.append(f"Not shown because money is in several currencies: {', '.join(money_hidden)}.")
if other_hidden:
    notes.append(f"Not shown because no platform reports what they need: {', '.join(other_hidden)}.")
st.caption(" ".join(notes))
with st.columns([2, 3])[0]:
    widgets.download_table(table, "platform_comparison", key="platforms_table", label="Download table")


# --- best and worst -----------------------------------------------------------------------
def ranking_table(names: list[str]) -> pl.DataFrame:
    """Best and worst platform per KPI (values formatted like the tiles)."""
    rows = [
        {"KPI": display.label(row["metric"]), "Better when": "higher ▲" if row["direction"] == "higher" else "lower ▼",
         "Best": row["best"], "Best value": display.format_metric(row["metric"], row["best_value"], money_currency),
         "Worst": row["worst"],
         "Worst value": display.format_metric(row["metric"], row["worst_value"], money_currency)}
        for row in best_and_worst(table, names)
    ]
    return pl.DataFrame(rows, schema={c: pl.String for c in ("KPI", "Better when", "Best", "Best value", "Worst",
                                                              "Worst value")})


def show_ranking(ranking: pl.DataFrame) -> None:
    report_tables.dataframe(ranking, height=35 * (ranking.height + 1) + 3)


st.subheader("Best and worst per KPI")
# Money KPIs of platforms in different currencies are not compared.
ranking = ranking_table([n for n in kpi_columns if n in shown and (len(codes) <= 1 or not is_money(n))])
if ranking.is_empty():
    st.info("Pick two or more platforms in the sidebar to see which one does best on each KPI.")
else:
    main_labels = [display.label(n) for n in KPI_ORDER]
    show_ranking(ranking.filter(pl.col("KPI").is_in(main_labels)))
    more = ranking.filter(~pl.col("KPI").is_in(main_labels))
    if not more.is_empty():
        with st.expander(f"{more.height} more KPIs"):
            show_ranking(more)
    st.caption("Best follows each KPI's direction: a lower CPA is better, a higher CTR is better."
               + (" Money KPIs are left out: the platforms' money is in different currencies." if len(codes) > 1
                  else ""))

# --- charts -------------------------------------------------------------------------------
chart_source = by_platform
picker_options = [n for n in kpi_columns + measure_columns if n in shown]
left, right = st.columns(2, gap="large")
with left:
    st.subheader("KPI by platform")
    metric = st.selectbox(
        "KPI", picker_options, format_func=display.label, key=PLATFORMS_METRIC,
        index=picker_options.index("cpa") if "cpa" in picker_options else 0,
    )
    if is_money(metric) and len(codes) > 1:
        st.info(f"{display.label(metric)} of these platforms is in different currencies, so the bars would not "
                "compare; set the files' currencies or a reporting currency on the Data page.")
    else:
        charts.show_chart(
            charts.platform_bar_chart(chart_source.select("platform", metric), metric, label=display.label(metric),
                                      kind=widgets.kind_of(metric), currency=money_currency),
            key="platforms_kpi", name=f"platforms_{metric}", title=f"{display.label(metric)} by platform",
        )
with right:
    st.subheader("Share of spend vs conversions")
    if chart_source.get_column("share_of_spend").drop_nulls().is_empty() and chart_source.get_column(
        "share_of_conversions"
    ).drop_nulls().is_empty():
        st.info("Neither spend nor conversions were reported for these platforms.")
    else:
        st.caption("A platform whose dark bar is longer than its light bar earns more than its share of the budget.")
        charts.show_chart(charts.share_chart(chart_source), key="platforms_share", name="share_of_spend_vs_conversions",
                          title="Share of spend vs share of conversions")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Efficiency")
    efficient = chart_source.filter(pl.col("cpa").is_not_null() & pl.col("conversions").is_not_null())
    if efficient.is_empty():
        st.info("CPA needs spend and conversions; none of these platforms reported both.")
    elif len(codes) > 1:
        st.info("The platforms' spend is in different currencies, so their CPAs do not compare; set the files' "
                "currencies or a reporting currency on the Data page.")
    else:
        st.caption("CPA against conversions; bubble size is spend. Low and to the right is best. Names are "
                   "written where they fit; hover a bubble for its platform and numbers.")
        charts.show_chart(charts.efficiency_bubble_chart(efficient, currency=money_currency),
                          key="platforms_efficiency", name="platform_efficiency",
                          title="Efficiency: CPA against conversions (bubble = spend)")
with right:
    st.subheader("Engagement rate")
    if chart_source.get_column("engagement_rate").drop_nulls().is_empty():
        st.info("Engagement rate needs engagements and reach; no platform reported both here.")
    else:
        st.caption("Engagements / reach (reach summed over rows).")
        charts.show_chart(
            charts.platform_bar_chart(chart_source.select("platform", "engagement_rate"), "engagement_rate",
                                      label="Engagement rate", kind="percent"),
            key="platforms_engagement", name="platforms_engagement_rate", title="Engagement rate by platform",
        )
