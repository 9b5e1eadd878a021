"""Altair chart builders for the Campaigns, Funnel and Goals pages.

Every builder takes an aggregated frame (a few hundred rows at most; `check_size`
refuses more) and returns an `alt.Chart`; pages render them with `ui.charts.show_chart`
so the PNG/SVG downloads come for free. Text from uploads (campaign names) only ever
reaches Vega as data, which renders it as text.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from metrics.display import describe, text_column
from metrics.funnel import NO_STAGE
from ui.charts import cached_builder, check_size, formatted, time_x, value_axis, value_title, with_bucket_text

ACCENT = "#4C6EF5"
MUTED = "#ADB5BD"
STATUS_COLORS = {
    "On track": "#2B8A3E", "Achieved": "#2B8A3E", "At risk": "#E67700", "Off track": "#C92A2A", "Missed": "#C92A2A",
    "No data": "#868E96",
}


def _kind(metric: str) -> str:
    return describe(metric).format


@cached_builder
def ranked_bars(
    frame: pl.DataFrame, *, category: str, metric: str, label: str, category_title: str,
    currency: str | None = None, color: str = ACCENT,
) -> alt.Chart:
    """Horizontal bars of one metric per category, in the frame's order (rank first at the top)."""
    frame = check_size(frame.select(category, metric).filter(pl.col(metric).is_not_null()))
    frame = formatted(frame.with_columns(pl.col(category).cast(pl.String)), metric, _kind(metric), currency,
                      "value_text")
    order = frame.get_column(category).to_list()
    return (
        alt.Chart(frame)
        .mark_bar(color=color, cornerRadiusEnd=3)
        .encode(
            x=alt.X(f"{metric}:Q", title=value_title(metric, label, currency),
                    axis=value_axis(metric, _kind(metric), currency, frame.get_column(metric).to_list())),
            y=alt.Y(f"{category}:N", sort=order, title=category_title, axis=alt.Axis(labelLimit=260)),
            tooltip=[alt.Tooltip(f"{category}:N", title=category_title),
                     alt.Tooltip("value_text:N", title=label)],
        )
        .properties(height=alt.Step(26))
    )


def metric_panels(
    frame: pl.DataFrame, *, category: str, metrics: dict[str, str], category_title: str,
) -> alt.HConcatChart:
    """Side-by-side bar panels, one per metric (each with its own scale and format)."""
    frame = check_size(frame)
    order = frame.get_column(category).cast(pl.String).to_list()
    panels = []
    for metric, label in metrics.items():
        part = formatted(frame.select(pl.col(category).cast(pl.String), metric), metric, _kind(metric), None,
                         "value_text")
        panels.append(
            alt.Chart(part)
            .mark_bar(color=ACCENT, cornerRadiusEnd=3)
            .encode(
                x=alt.X(f"{metric}:Q", title=label,
                        axis=value_axis(metric, _kind(metric), None, part.get_column(metric).to_list())),
                y=alt.Y(f"{category}:N", sort=order, title=category_title if not panels else None,
                        axis=alt.Axis(labels=not panels, ticks=not panels)),
                tooltip=[alt.Tooltip(f"{category}:N", title=category_title),
                         alt.Tooltip("value_text:N", title=label)],
            )
            .properties(width=210, height=alt.Step(26))
        )
    return alt.hconcat(*panels, spacing=12)


@cached_builder
def funnel_bars(steps: pl.DataFrame, *, log_scale: bool = False) -> alt.LayerChart:
    """Horizontal funnel of `metrics.funnel.funnel_steps` output, each bar labelled with its count and
    its rate of the previous step; an unreported step gets no bar and the label "not reported"."""
    frame = check_size(steps)
    for column, kind, alias in (("value", "number", "count_text"), ("step_rate", "percent", "step_text"),
                                ("rate_from_first", "percent", "first_text")):
        frame = formatted(frame, column, kind, None, alias)
    frame = frame.with_columns(text_column(frame, "previous_step",
                                           lambda step: None if step is None else describe(step).label.lower(),
                                           "previous_text"))
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
            pl.col("count_text")
            + pl.when(pl.col("step_rate").is_not_null())
            .then(pl.lit("  ·  ") + pl.col("step_text") + pl.lit(" of ")
                  + pl.col("previous_text"))
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
        tooltip=[alt.Tooltip("label:N", title="Step"), alt.Tooltip("count_text:N", title="Count"),
                 alt.Tooltip("step_text:N", title="Of previous step"),
                 alt.Tooltip("first_text:N", title="Of first step")],
    )
    labels = alt.Chart(frame).mark_text(align="left", dx=8, fontSize=13, color="#343A40").encode(
        y=y, x=alt.X("text_x:Q", scale=scale), text="text:N",
    )
    return alt.layer(bars, labels).properties(height=alt.Step(52))


@cached_builder
def stage_bars(table: pl.DataFrame, *, metric: str, label: str, currency: str | None = None) -> alt.Chart:
    """One metric per marketing-funnel stage, in funnel order (the table is already ordered)."""
    frame = table.select(pl.col("funnel_stage").fill_null(NO_STAGE), metric)
    return ranked_bars(frame, category="funnel_stage", metric=metric, label=label, category_title="Stage",
                       currency=currency, color="#7048E8")


@cached_builder
def goal_progress_chart(points: pl.DataFrame, *, metric: str, label: str, currency: str | None = None) -> alt.Chart:
    """Actual (cumulative / level / period-to-date rate) vs the needed pace and the projection."""
    frame = with_bucket_text(formatted(check_size(points), "value", _kind(metric), currency, "value_text"), "day")
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
            x=time_x(frame, "day"),
            y=alt.Y("value:Q", title=value_title(metric, label, currency),
                    axis=value_axis(metric, _kind(metric), currency, frame.get_column("value").to_list())),
            color=color, strokeDash=dash,
            tooltip=[alt.Tooltip("series:N", title="Line"), alt.Tooltip("bucket_text:N", title="Date"),
                     alt.Tooltip("value_text:N", title=label)],
        )
        .properties(height=300)
    )
