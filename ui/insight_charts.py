"""Insight charts: overlays for any trend chart (annotations, anomaly points, a forecast band) built as separate
layers, and the Insights page's own charts (the drivers' waterfall, a metric against its expected band, a
forecast to the period end).

A page draws a trend chart as before and adds overlays with `with_overlays(chart, *layers)`; every overlay
encodes `date:T` on x and the metric's own axis title on y, so it shares the chart's scales. Annotation
text and campaign names reach Vega only as data, which draws them as text (never HTML).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import altair as alt
import polars as pl

from metrics.display import (
    describe,
    format_bucket,
    format_change,
    format_date,
    format_metric,
    format_period,
    format_points,
    format_value,
    text_column,
)
from metrics.insights.annotations import KIND_LABELS, Annotation, within
from metrics.insights.anomalies import Anomaly, AnomalyScan
from metrics.insights.drivers import KpiChange
from metrics.insights.forecast import Forecast
from ui.charts import cached_builder, check_size, time_x, value_axis, value_title

ACCENT = "#4C6EF5"
NOTE_COLOR = "#868E96"
NOTE_TEXT = "#495057"
ANOMALY_COLOR = "#C92A2A"
BAND_COLOR = "#74C0FC"
GOOD, BAD, TOTAL, FLAT = "#2B8A3E", "#C92A2A", "#495057", "#ADB5BD"
FLAT_PART = 0.0005  # a part that reads "0.0 points" is neither help nor harm
# Labels of nearby annotations go on up to this many rows at the top of the plot, so they do not overlap.
LABEL_ROWS = 3
LABEL_WIDTH = 150  # px; a longer text ends in "…" (the tooltip shows all of it)


@cached_builder
def with_overlays(chart: alt.TopLevelMixin, *layers: alt.Chart) -> alt.TopLevelMixin:
    """The chart with the overlays drawn over it (the chart itself when there are none)."""
    return alt.layer(chart, *layers) if layers else chart


# --- annotations ------------------------------------------------------------------------------------------


def annotation_frame(annotations: Sequence[Annotation], start: date, end: date) -> pl.DataFrame:
    """The annotations a chart of [start, end] draws, clipped to it: one row each with its first and last day
    on the chart, its text, kind and dates in words, and the label row it takes."""
    rows = []
    for index, note in enumerate(within(annotations, start, end)):
        first, last = max(note.date, start), min(note.last_day, end)
        rows.append({
            "date": first, "end": last, "text": note.text, "kind": KIND_LABELS.get(note.kind, note.kind.capitalize()),
            "when": format_date(note.date) if note.end is None else format_period(note.date, note.last_day),
            "label_row": index % LABEL_ROWS, "single": first == last,
        })
    return pl.DataFrame(rows, schema={"date": pl.Date, "end": pl.Date, "text": pl.String, "kind": pl.String,
                                      "when": pl.String, "label_row": pl.Int64, "single": pl.Boolean})


@cached_builder
def annotation_layers(annotations: Sequence[Annotation], start: date | None, end: date | None) -> list[alt.Chart]:
    """A dashed rule per one-day annotation, a shaded span per longer one, and its text at the top."""
    if start is None or end is None:
        return []
    frame = check_size(annotation_frame(annotations, start, end))
    if frame.is_empty():
        return []
    tooltip = [alt.Tooltip("when:N", title="Date"), alt.Tooltip("kind:N", title="Annotation"),
               alt.Tooltip("text:N", title="Note")]
    layers = []
    days = frame.filter(pl.col("single"))
    if not days.is_empty():
        layers.append(alt.Chart(days).mark_rule(color=NOTE_COLOR, strokeDash=[4, 3], strokeWidth=1.5).encode(
            x="date:T", tooltip=tooltip))
    spans = frame.filter(~pl.col("single"))
    if not spans.is_empty():
        layers.append(alt.Chart(spans).mark_rect(color=NOTE_COLOR, opacity=0.12).encode(
            x="date:T", x2="end:T", tooltip=tooltip))
    for row in range(LABEL_ROWS):  # a text mark's y in px from the top: no y scale to share with the chart
        labels = frame.filter(pl.col("label_row") == row)
        if not labels.is_empty():
            layers.append(alt.Chart(labels).mark_text(
                align="left", baseline="top", dx=4, y=4 + 14 * row, fontSize=11, color=NOTE_TEXT, limit=LABEL_WIDTH,
            ).encode(x="date:T", text="text:N", tooltip=tooltip))
    return layers


# --- anomalies and forecasts on a trend ---------------------------------------------------------------------


def anomaly_frame(anomalies: Sequence[Anomaly], *, kind: str, currency: str | None) -> pl.DataFrame:
    rows = [{"date": a.date, "value": a.value, "value_text": format_value(a.value, kind, currency),
             "band_text": f"{format_value(a.lower, kind, currency)} – {format_value(a.upper, kind, currency)}",
             "day_text": format_date(a.date),
             "outside": "Above the expected band" if a.direction == "above" else "Below the expected band"}
            for a in anomalies]
    return pl.DataFrame(rows, schema={"date": pl.Date, "value": pl.Float64, "value_text": pl.String,
                                      "band_text": pl.String, "day_text": pl.String, "outside": pl.String})


@cached_builder
def anomaly_layer(anomalies: Sequence[Anomaly], metric: str, *, label: str, kind: str,
                  currency: str | None = None) -> list[alt.Chart]:
    """A red ring on each day outside its expected band (the metric's daily total)."""
    frame = check_size(anomaly_frame(anomalies, kind=kind, currency=currency)).rename({"value": metric})
    if frame.is_empty():
        return []
    return [alt.Chart(frame).mark_point(shape="circle", size=220, filled=False, strokeWidth=2.5,
                                        color=ANOMALY_COLOR).encode(
        x="date:T", y=alt.Y(f"{metric}:Q", title=value_title(metric, label, currency)),
        tooltip=[alt.Tooltip("day_text:N", title="Day"), alt.Tooltip("value_text:N", title=label),
                 alt.Tooltip("band_text:N", title="Expected"), alt.Tooltip("outside:N", title="Flag")])]


def forecast_frame(forecast: Forecast, *, kind: str, currency: str | None) -> pl.DataFrame:
    daily = forecast.daily
    return daily.with_columns(
        text_column(daily, "date", format_date, "day_text"),
        text_column(daily, "forecast", lambda v: format_value(v, kind, currency), "forecast_text"),
        text_column(daily, ("lower", "upper"),
                    lambda low, high: f"{format_value(low, kind, currency)} – {format_value(high, kind, currency)}",
                    "band_text"),
    )


@cached_builder
def forecast_layers(forecast: Forecast | None, metric: str, *, label: str, kind: str,
                    currency: str | None = None) -> list[alt.Chart]:
    """The forecast of each remaining day of the period: a dashed line in its 80 % band."""
    if forecast is None or forecast.reason is not None or forecast.daily.is_empty():
        return []
    frame = check_size(forecast_frame(forecast, kind=kind, currency=currency))
    title = value_title(metric, label, currency)
    tooltip = [alt.Tooltip("day_text:N", title="Day"), alt.Tooltip("forecast_text:N", title=f"{label} forecast"),
               alt.Tooltip("band_text:N", title=f"{forecast.level * 100:.0f} % band")]
    band = alt.Chart(frame).mark_area(color=BAND_COLOR, opacity=0.3).encode(
        x="date:T", y=alt.Y("lower:Q", title=title), y2="upper:Q", tooltip=tooltip)
    line = alt.Chart(frame).mark_line(color=ACCENT, strokeDash=[6, 4], strokeWidth=2).encode(
        x="date:T", y=alt.Y("forecast:Q", title=title), tooltip=tooltip)
    return [band, line]


@cached_builder
def deadline_forecast_layers(forecast: Forecast | None, *, label: str, kind: str,
                             currency: str | None = None) -> list[alt.Chart]:
    """On a goal's chart of running totals (`value`): the total forecast at the deadline, with its 80 % band as
    a bar from its lower to its upper end."""
    if forecast is None or forecast.projected is None:
        return []
    title = value_title(forecast.metric, label, currency)
    frame = pl.DataFrame({
        "date": [forecast.period_end], "value": [forecast.projected], "lower": [forecast.lower],
        "upper": [forecast.upper], "day_text": [format_date(forecast.period_end)],
        "value_text": [format_value(forecast.projected, kind, currency)],
        "band_text": [f"{format_value(forecast.lower, kind, currency)} – {format_value(forecast.upper, kind, currency)}"],
    })
    tooltip = [alt.Tooltip("day_text:N", title="Deadline"), alt.Tooltip("value_text:N", title="Forecast"),
               alt.Tooltip("band_text:N", title=f"{forecast.level * 100:.0f} % band")]
    band = alt.Chart(frame).mark_rule(color=BAND_COLOR, strokeWidth=8, opacity=0.6).encode(
        x="date:T", y=alt.Y("lower:Q", title=title), y2="upper:Q", tooltip=tooltip)
    point = alt.Chart(frame).mark_point(shape="diamond", size=120, filled=True, color=ACCENT).encode(
        x="date:T", y=alt.Y("value:Q", title=title), tooltip=tooltip)
    return [band, point]


# --- the Insights page's charts ------------------------------------------------------------------------------


def waterfall_frame(change: KpiChange) -> pl.DataFrame:
    """One bar per factor from the running total before it to after it (parts of the KPI's relative change,
    `effect_rel`), then the whole change from zero. `tone` says whether the part is good news for the KPI."""
    total = change.total
    lower_is_better = total.direction == "lower"
    rows, running = [], 0.0
    for factor in total.factors:
        start, running = running, running + factor.effect_rel
        good = (factor.effect_rel < 0) == lower_is_better
        tone = "Flat" if abs(factor.effect_rel) < FLAT_PART else "Helped" if good else "Hurt"
        rows.append({"step": factor.label, "start": start, "end": running, "tone": tone,
                     "part_text": format_points(factor.effect_rel),
                     "own_text": f"{factor.label} {format_change(factor.change_rel) or '—'}: "
                                 f"{format_metric(factor.name, factor.value_prev, change.currency)} → "
                                 f"{format_metric(factor.name, factor.value, change.currency)}"})
    change_rel = total.change_rel or 0.0
    rows.append({"step": f"{total.label} change", "start": 0.0, "end": change_rel, "tone": "Total",
                 "part_text": format_change(change_rel) or "—",
                 "own_text": f"{total.label} {format_metric(total.kpi, total.value_prev, change.currency)} → "
                             f"{format_metric(total.kpi, total.value, change.currency)}"})
    return pl.DataFrame(rows).with_columns(pl.max_horizontal("start", "end").alias("top"))


@cached_builder
def waterfall_chart(change: KpiChange) -> alt.LayerChart:
    """How each factor moved the KPI, in percentage points of its change, ending in the change itself; green
    where a factor helped (for a cost KPI: pushed it down), red where it hurt, grey where it did not move it."""
    frame = check_size(waterfall_frame(change))
    order = frame.get_column("step").to_list()
    values = frame.get_column("start").to_list() + frame.get_column("end").to_list()
    y_axis = value_axis("cpa_delta_rel", "percent", None, values)
    base = alt.Chart(frame).encode(x=alt.X("step:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)))
    bars = base.mark_bar(cornerRadius=2, size=42).encode(
        y=alt.Y("start:Q", title=f"Part of the {change.total.label} change", axis=y_axis), y2="end:Q",
        color=alt.Color("tone:N", scale=alt.Scale(domain=["Helped", "Hurt", "Flat", "Total"],
                                                  range=[GOOD, BAD, FLAT, TOTAL]),
                        legend=alt.Legend(title=None, orient="top")),
        tooltip=[alt.Tooltip("step:N", title="Part"), alt.Tooltip("part_text:N", title="Moved it by"),
                 alt.Tooltip("own_text:N", title="Change")])
    labels = base.mark_text(baseline="bottom", dy=-4, fontSize=12, color=TOTAL).encode(
        y=alt.Y("top:Q"), text="part_text:N")
    zero = alt.Chart(pl.DataFrame({"zero": [0.0]})).mark_rule(color="#ADB5BD").encode(y="zero:Q")
    return alt.layer(zero, bars, labels).properties(height=300)


@cached_builder
def band_chart(scan: AnomalyScan, *, start: date, end: date, kind: str, currency: str | None,
               annotations: Sequence[Annotation] = ()) -> alt.TopLevelMixin:
    """A metric's daily values in [start, end] against the band the model expected, flagged days ringed."""
    metric, label = scan.metric, scan.label
    frame = scan.band.filter(pl.col("date").is_between(start, end))
    frame = check_size(frame.with_columns(
        text_column(frame, "date", format_date, "day_text"),
        text_column(frame, "value", lambda v: format_value(v, kind, currency), "value_text"),
        text_column(frame, ("lower", "upper"),
                    lambda low, high: "not judged" if low is None else
                    f"{format_value(low, kind, currency)} – {format_value(high, kind, currency)}",
                    "band_text"),
    ).rename({"value": metric}))
    title = value_title(metric, label, currency)
    tooltip = [alt.Tooltip("day_text:N", title="Day"), alt.Tooltip("value_text:N", title=label),
               alt.Tooltip("band_text:N", title="Expected")]
    y = alt.Y(f"{metric}:Q", title=title, axis=value_axis(metric, kind, currency, frame.get_column(metric).to_list()))
    band = alt.Chart(frame).mark_area(color=BAND_COLOR, opacity=0.3).encode(
        x=time_x(frame, "day"), y=alt.Y("lower:Q", title=title), y2="upper:Q", tooltip=tooltip)
    values = alt.Chart(frame).mark_line(color=ACCENT, strokeWidth=2, point=alt.OverlayMarkDef(size=25)).encode(
        x="date:T", y=y, tooltip=tooltip)
    flagged = [a for a in scan.anomalies if start <= a.date <= end]
    layers = [band, values, *anomaly_layer(flagged, metric, label=label, kind=kind, currency=currency),
              *annotation_layers(annotations, start, end)]
    return alt.layer(*layers).properties(height=300)


@cached_builder
def forecast_chart(actual: pl.DataFrame, forecast: Forecast, *, kind: str, currency: str | None,
                   annotations: Sequence[Annotation] = ()) -> alt.TopLevelMixin:
    """The last weeks of daily values (`actual`: date and the metric) and the forecast to the period end."""
    metric = forecast.metric
    label = describe(metric).label
    frame = actual.select("date", metric).drop_nulls()
    frame = check_size(frame.with_columns(
        text_column(frame, "date", format_date, "day_text"),
        text_column(frame, metric, lambda v: format_value(v, kind, currency), "value_text"),
    ))
    both = pl.concat([frame.select("date"), forecast.daily.select("date")])
    title = value_title(metric, label, currency)
    line = alt.Chart(frame).mark_line(color=ACCENT, strokeWidth=2).encode(
        x=time_x(both, "day"), y=alt.Y(f"{metric}:Q", title=title,
                                       axis=value_axis(metric, kind, currency, forecast.daily["upper"].to_list())),
        tooltip=[alt.Tooltip("day_text:N", title="Day"), alt.Tooltip("value_text:N", title=label)])
    layers = [line, *forecast_layers(forecast, metric, label=label, kind=kind, currency=currency)]
    first = frame.get_column("date").min() if not frame.is_empty() else forecast.period_start
    layers += annotation_layers(annotations, first, forecast.period_end)
    return alt.layer(*layers).properties(height=300)


def forecast_span(forecast: Forecast) -> str:
    """'1 – 30 Nov 2026' or 'Nov 2026' for a whole month."""
    start, end = forecast.period_start, forecast.period_end
    whole_month = start.day == 1 and (end + timedelta(days=1)).day == 1 and start.month == end.month
    return format_bucket(start, "month") if whole_month else format_period(start, end)
