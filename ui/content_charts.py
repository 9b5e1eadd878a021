"""Altair chart builders for the Campaigns, Funnel and Goals pages.

Every builder takes an aggregated frame (a few hundred rows at most; `check_size`
refuses more) and returns an `alt.Chart`; pages render them with `ui.charts.show_chart`
so the PNG/SVG downloads come for free. Text from uploads (campaign names) only ever
reaches Vega as data, which renders it as text.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from metrics.display import currency_symbol
from ui.charts import check_size, platform_color_encoding
from ui.widgets import kind_of

ACCENT = "#4C6EF5"
MUTED = "#ADB5BD"
STATUS_COLORS = {
    "On track": "#2B8A3E", "Achieved": "#2B8A3E", "At risk": "#E67700", "Off track": "#C92A2A", "Missed": "#C92A2A",
    "No data": "#868E96",
}


def axis_format(metric: str) -> str:
    """A d3 format for an axis/tooltip of a measure or KPI (rates as percent)."""
    kind = kind_of(metric)
    return {"percent": ".1%", "currency": ",.2~f", "ratio": ",.2~f", "minutes": ",.1f"}.get(kind, ",.0f")


def axis_title(label: str, metric: str, currency: str | None = None) -> str:
    if kind_of(metric) == "currency" and currency:
        return f"{label} ({currency_symbol(currency).strip() or currency})"
    return label


def ranked_bars(
    frame: pl.DataFrame, *, category: str, metric: str, label: str, category_title: str,
    currency: str | None = None, color: str = ACCENT,
) -> alt.Chart:
    """Horizontal bars of one metric per category, in the frame's order (rank first at the top)."""
    frame = check_size(frame.select(category, metric).filter(pl.col(metric).is_not_null()))
    order = frame.get_column(category).cast(pl.String).to_list()
    return (
        alt.Chart(frame.with_columns(pl.col(category).cast(pl.String)))
        .mark_bar(color=color, cornerRadiusEnd=3)
        .encode(
            x=alt.X(f"{metric}:Q", title=axis_title(label, metric, currency),
                    axis=alt.Axis(format=axis_format(metric), tickCount=6)),
            y=alt.Y(f"{category}:N", sort=order, title=category_title, axis=alt.Axis(labelLimit=260)),
            tooltip=[alt.Tooltip(f"{category}:N", title=category_title),
                     alt.Tooltip(f"{metric}:Q", title=label, format=axis_format(metric))],
        )
        .properties(height=alt.Step(26))
    )


def trend_lines(
    frame: pl.DataFrame, *, metric: str, label: str, split: str | None = None, currency: str | None = None,
) -> alt.Chart:
    """A metric over time (`date` bucketed to the grain); one line per platform when split."""
    columns = ["date", metric] + ([split] if split else [])
    frame = check_size(frame.select(columns).filter(pl.col("date").is_not_null()))
    encoding = dict(
        x=alt.X("date:T", title=None),
        y=alt.Y(f"{metric}:Q", title=axis_title(label, metric, currency), axis=alt.Axis(format=axis_format(metric))),
        tooltip=[alt.Tooltip("date:T", title="Period start"),
                 alt.Tooltip(f"{metric}:Q", title=label, format=axis_format(metric))],
    )
    if split:
        encoding["color"] = platform_color_encoding(frame, split)
        encoding["tooltip"] = [alt.Tooltip(f"{split}:N", title="Platform"), *encoding["tooltip"]]
        chart = alt.Chart(frame).mark_line(point=frame.height <= 200)
    else:
        chart = alt.Chart(frame).mark_line(color=ACCENT, point=frame.height <= 120)
    return chart.encode(**encoding).properties(height=280)


def metric_panels(
    frame: pl.DataFrame, *, category: str, metrics: dict[str, str], category_title: str,
) -> alt.HConcatChart:
    """Side-by-side bar panels, one per metric (each with its own scale and format)."""
    frame = check_size(frame)
    order = frame.get_column(category).cast(pl.String).to_list()
    panels = []
    for metric, label in metrics.items():
        part = frame.select(pl.col(category).cast(pl.String), metric)
        panels.append(
            alt.Chart(part)
            .mark_bar(color=ACCENT, cornerRadiusEnd=3)
            .encode(
                x=alt.X(f"{metric}:Q", title=label, axis=alt.Axis(format=axis_format(metric), tickCount=4)),
                y=alt.Y(f"{category}:N", sort=order, title=category_title if not panels else None,
                        axis=alt.Axis(labels=not panels, ticks=not panels)),
                tooltip=[alt.Tooltip(f"{category}:N", title=category_title),
                         alt.Tooltip(f"{metric}:Q", title=label, format=axis_format(metric))],
            )
            .properties(width=210, height=alt.Step(26))
        )
    return alt.hconcat(*panels, spacing=12)


def funnel_bars(steps: pl.DataFrame, *, log_scale: bool = False) -> alt.LayerChart:
    """Horizontal funnel of `metrics.funnel.funnel_steps` output, each bar labelled with its count and
    its rate of the previous step; an unreported step gets no bar and the label "not reported"."""
    frame = check_size(steps)
    top = max([v for v in frame.get_column("value").to_list() if v is not None and v > 0] or [1.0])
    # Bars start at 1 on a log scale (log 0 is undefined); the domain leaves room for the labels.
    baseline = 1.0 if log_scale else 0.0
    domain = [baseline, top * 1000] if log_scale else [0.0, top * 1.7]
    frame = frame.with_columns(
        pl.lit(baseline).alias("baseline"),
        pl.when(pl.col("reported") & (pl.col("value") > baseline)).then(pl.col("value"))
        .otherwise(pl.lit(baseline)).alias("text_x"),
        pl.when(pl.col("reported"))
        .then(
            pl.col("value").map_elements(lambda v: f"{v:,.0f}", return_dtype=pl.String)
            + pl.when(pl.col("step_rate").is_not_null())
            .then(pl.lit("  ·  ") + pl.col("step_rate").map_elements(lambda r: f"{r * 100:,.2f} %",
                                                                      return_dtype=pl.String)
                  + pl.lit(" of ") + pl.col("previous_step"))
            .otherwise(pl.lit(""))
        )
        .otherwise(pl.lit("not reported"))
        .alias("text"),
    )
    order = frame.get_column("label").to_list()
    scale = alt.Scale(type="log", domain=domain) if log_scale else alt.Scale(domain=domain)
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelFontSize=13, ticks=False, domain=False))
    bars = alt.Chart(frame.filter(pl.col("reported") & (pl.col("value") > baseline))).mark_bar(
        color=ACCENT, cornerRadiusEnd=4,
    ).encode(
        y=y,
        # No axis: every bar carries its exact count, and log-scale ticks (1, 10, … 1G) only distract.
        x=alt.X("baseline:Q", title=None, scale=scale, axis=None),
        x2="value:Q",
        tooltip=[alt.Tooltip("label:N", title="Step"), alt.Tooltip("value:Q", title="Count", format=",.0f"),
                 alt.Tooltip("step_rate:Q", title="Of previous step", format=".2%"),
                 alt.Tooltip("rate_from_first:Q", title="Of first step", format=".3%")],
    )
    labels = alt.Chart(frame).mark_text(align="left", dx=8, fontSize=13, color="#343A40").encode(
        y=y, x=alt.X("text_x:Q", scale=scale), text="text:N",
    )
    return alt.layer(bars, labels).properties(height=alt.Step(52))


def stage_bars(table: pl.DataFrame, *, metric: str, label: str, currency: str | None = None) -> alt.Chart:
    """One metric per marketing-funnel stage, in funnel order (the table is already ordered)."""
    frame = table.select(pl.col("funnel_stage").fill_null("(no stage)"), metric)
    return ranked_bars(frame, category="funnel_stage", metric=metric, label=label, category_title="Stage",
                       currency=currency, color="#7048E8")


def goal_progress_chart(points: pl.DataFrame, *, metric: str, label: str, currency: str | None = None) -> alt.Chart:
    """Actual (cumulative / level / period-to-date rate) vs the needed pace and the projection."""
    frame = check_size(points)
    color = alt.Color(
        "series:N", title=None,
        scale=alt.Scale(domain=["Actual", "Needed pace", "Projection"], range=[ACCENT, "#2B8A3E", "#E67700"]),
        legend=alt.Legend(orient="top"),
    )
    dash = alt.StrokeDash(
        "series:N", legend=None,
        scale=alt.Scale(domain=["Actual", "Needed pace", "Projection"], range=[[1, 0], [6, 4], [2, 3]]),
    )
    return (
        alt.Chart(frame)
        .mark_line(strokeWidth=2.5)
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("value:Q", title=axis_title(label, metric, currency), axis=alt.Axis(format=axis_format(metric))),
            color=color, strokeDash=dash,
            tooltip=[alt.Tooltip("series:N", title="Line"), alt.Tooltip("date:T", title="Date"),
                     alt.Tooltip("value:Q", title=label, format=axis_format(metric))],
        )
        .properties(height=300)
    )
