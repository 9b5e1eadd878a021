"""Altair chart builders for the Campaigns, Funnel and Goals pages.

Every builder takes an aggregated frame (a few hundred rows at most; `check_size`
refuses more) and returns an `alt.Chart`; pages render them with `ui.charts.show_chart`
so the PNG/SVG downloads come for free. Text from uploads (campaign names) only ever
reaches Vega as data, which renders it as text.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from ui.charts import check_size, platform_color_encoding
from ui.widgets import currency_symbol, kind_of

ACCENT = "#4C6EF5"
MUTED = "#ADB5BD"
STATUS_COLORS = {
    "On track": "#2B8A3E", "Achieved": "#2B8A3E", "At risk": "#E67700", "Off track": "#C92A2A", "Missed": "#C92A2A",
    "No data": "#868E96",
}


def axis_format(metric: str) -> str:
    """A d3 format for an axis/tooltip of a measure or KPI (rates as percent)."""
    kind = kind_of(metric)
    return {"percent": ".1%", "currency": ",.2f", "ratio": ",.2f", "minutes": ",.1f"}.get(kind, ",.0f")


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
            x=alt.X(f"{metric}:Q", title=axis_title(label, metric, currency), axis=alt.Axis(format=axis_format(metric))),
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
    """Horizontal funnel of `metrics.funnel.funnel_steps` output; unreported steps get no bar."""
    frame = check_size(steps).with_columns(
        pl.when(pl.col("reported"))
        .then(
            pl.col("value").map_elements(lambda v: f"{v:,.0f}", return_dtype=pl.String)
            + pl.when(pl.col("step_rate").is_not_null())
            .then(pl.lit(" · ") + (pl.col("step_rate") * 100).round(2).cast(pl.String) + pl.lit(" % of previous"))
            .otherwise(pl.lit(""))
        )
        .otherwise(pl.lit("not reported"))
        .alias("text")
    )
    order = frame.get_column("label").to_list()
    scale = alt.Scale(type="log") if log_scale else alt.Scale(type="linear")
    base = alt.Chart(frame).encode(y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelFontSize=13)))
    bars = base.transform_filter("datum.reported").mark_bar(color=ACCENT, cornerRadiusEnd=3).encode(
        x=alt.X("value:Q", title="Count" + (" (log scale)" if log_scale else ""), scale=scale,
                axis=alt.Axis(format="~s")),
        tooltip=[alt.Tooltip("label:N", title="Step"), alt.Tooltip("value:Q", title="Count", format=",.0f"),
                 alt.Tooltip("step_rate:Q", title="Of previous step", format=".2%"),
                 alt.Tooltip("rate_from_first:Q", title="Of first step", format=".3%")],
    )
    # Labels sit at the left edge, inside the axis area, so a tiny bar still shows its numbers.
    labels = base.mark_text(align="left", dx=6, fontSize=12, color="#212529").encode(
        x=alt.value(0), text="text:N",
    )
    return alt.layer(bars, labels).properties(height=alt.Step(48))


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
