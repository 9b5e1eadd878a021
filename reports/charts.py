"""Vega-Lite specs of the report's charts, built with altair from *aggregated* frames.

Print versions of the app's charts: a fixed size (a report page has no container to stretch into), no
tooltips or zoom, dates read in UTC so a chart rendered on any server shows the same days. Colours,
labels and axis formats come from the catalog (`metrics.display`, `metrics.schema.platform_color`), so a
platform looks the same here as in the app. Names from uploads reach Vega only as data, which draws
them as text. Every builder returns a JSON string (the `Chart` block of the report model keeps it).
"""

from __future__ import annotations

import json

import altair as alt
import polars as pl

from metrics.display import axis_format, axis_title, describe, format_value, label, platform_label, text_column
from metrics.schema import platform_color

# The drawing size in CSS pixels; the PDF scales it to the text width, the HTML to its column.
WIDTH = 640
HEIGHT = 230
MAX_MARKS = 5_000
MAX_PERIOD_TICKS = 12
TEXT_COLOUR = "#343A40"
MUTED = "#ADB5BD"


def _check_size(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.height > MAX_MARKS:
        raise ValueError(f"a report chart got {frame.height} rows; aggregate before charting")
    return frame


def _finish(chart: alt.TopLevelMixin) -> str:
    configured = chart.configure_view(stroke=None).configure_axis(
        labelColor=TEXT_COLOUR, titleColor=TEXT_COLOUR, labelFontSize=11, titleFontSize=11, gridColor="#E9ECEF",
    ).configure_legend(labelColor=TEXT_COLOUR, titleColor=TEXT_COLOUR, labelFontSize=11, titleFontSize=11)
    return json.dumps(configured.to_dict(), ensure_ascii=False)


def _with_platform_labels(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(text_column(frame, "platform", platform_label, "platform_label"))


def _platform_colours(frame: pl.DataFrame, *, legend: bool = True) -> alt.Color:
    slugs = sorted({s for s in frame.get_column("platform").to_list() if s is not None})
    scale = alt.Scale(domain=[platform_label(s) for s in slugs], range=[platform_color(s) for s in slugs])
    return alt.Color("platform_label:N", scale=scale, title="Platform",
                     legend=alt.Legend(orient="bottom", columns=4) if legend else None)


def _value_text(frame: pl.DataFrame, metric: str, currency: str | None) -> pl.DataFrame:
    kind = describe(metric).format
    return frame.with_columns(text_column(frame, metric, lambda v: format_value(v, kind, currency), "value_text"))


def trend(frame: pl.DataFrame, metric: str, *, currency: str | None, grain: str, by_platform: bool,
          colour: str) -> str:
    """One line per platform (platform colours) or one total line of `metric` over `date` at `grain`."""
    frame = _check_size(frame.filter(pl.col("date").is_not_null()))
    if by_platform:
        frame = _with_platform_labels(frame)
    kind = describe(metric).format
    date_format = "%b %Y" if grain == "month" else "%-d %b"  # '9 Aug', the catalog's date style
    # A short series gets a tick per period of its grain (never "1 Mar" at every hour of a two-day report);
    # a long one Vega's own calendar ticks (every week of a quarter).
    short = frame.get_column("date").n_unique() <= MAX_PERIOD_TICKS
    ticks = {"tickCount": {"interval": grain, "step": 1}} if short else {}
    encoding = dict(
        x=alt.X("date:T", title=None, scale=alt.Scale(type="utc"),
                axis=alt.Axis(format=date_format, grid=False, labelOverlap=True, **ticks)),
        y=alt.Y(f"{metric}:Q", title=axis_title(metric, currency), axis=alt.Axis(format=axis_format(kind))),
    )
    base = alt.Chart(frame).encode(**encoding)
    if by_platform:
        base = base.encode(color=_platform_colours(frame))
    line = base.mark_line(strokeWidth=2, interpolate="monotone", color=colour)
    if frame.get_column("date").n_unique() <= 45:  # points only while they stay readable
        line = line + base.mark_point(filled=True, size=28, color=colour)
    return _finish(line.properties(width=WIDTH, height=HEIGHT))


def platform_bars(frame: pl.DataFrame, metric: str, *, currency: str | None) -> str:
    """Horizontal bars of one metric per platform, largest first, with the value written at the bar's end."""
    frame = _value_text(_with_platform_labels(_check_size(frame)), metric, currency)
    frame = frame.filter(pl.col(metric).is_not_null()).sort([metric, "platform_label"], descending=[True, False])
    kind = describe(metric).format
    base = alt.Chart(frame).encode(
        y=alt.Y("platform_label:N", sort=frame.get_column("platform_label").to_list(), title=None),
        x=alt.X(f"{metric}:Q", title=axis_title(metric, currency), axis=alt.Axis(format=axis_format(kind))),
    )
    bars = base.mark_bar(cornerRadiusEnd=3, height={"band": 0.7}).encode(color=_platform_colours(frame, legend=False))
    text = base.mark_text(align="left", dx=4, color=TEXT_COLOUR, fontSize=11).encode(text="value_text:N")
    return _finish((bars + text).properties(width=WIDTH - 120, height=max(90, 26 * frame.height)))


def shares(frame: pl.DataFrame) -> str:
    """Share of spend next to share of conversions per platform (the spend bar lighter)."""
    picked = _with_platform_labels(_check_size(frame)).select(
        "platform", "platform_label", "share_of_spend", "share_of_conversions")
    long = picked.unpivot(index=["platform", "platform_label"], variable_name="share", value_name="value")
    long = long.with_columns(pl.col("share").replace_strict({n: label(n) for n in ("share_of_spend",
                                                                                  "share_of_conversions")}))
    kinds = [label("share_of_spend"), label("share_of_conversions")]
    order = picked.sort("share_of_spend", descending=True, nulls_last=True).get_column("platform_label").to_list()
    chart = alt.Chart(long).mark_bar(cornerRadiusEnd=3).encode(
        y=alt.Y("platform_label:N", sort=order, title=None),
        yOffset=alt.YOffset("share:N", sort=kinds),
        x=alt.X("value:Q", title="Share of the total", axis=alt.Axis(format=".0%")),
        color=_platform_colours(picked, legend=False),
        opacity=alt.Opacity("share:N", sort=kinds, scale=alt.Scale(domain=kinds, range=[0.4, 1.0]),
                            legend=alt.Legend(title=None, orient="top")),
    )
    return _finish(chart.properties(width=WIDTH - 120, height=max(120, 40 * picked.height)))


def ranked_bars(frame: pl.DataFrame, *, category: str, metric: str, title: str, currency: str | None,
                colour: str) -> str:
    """Bars of one metric per category in the frame's order (the first at the top), values at the bars' ends."""
    frame = _value_text(_check_size(frame.select(category, metric)), metric, currency)
    order = frame.get_column(category).to_list()
    kind = describe(metric).format
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{category}:N", sort=order, title=title, axis=alt.Axis(labelLimit=220)),
        x=alt.X(f"{metric}:Q", title=axis_title(metric, currency), axis=alt.Axis(format=axis_format(kind))),
    )
    bars = base.mark_bar(color=colour, cornerRadiusEnd=3, height={"band": 0.7})
    text = base.mark_text(align="left", dx=4, color=TEXT_COLOUR, fontSize=11).encode(text="value_text:N")
    return _finish((bars + text).properties(width=WIDTH - 260, height=max(90, 24 * frame.height)))


def funnel(steps: pl.DataFrame, *, colour: str) -> str:
    """The reported funnel steps as bars, on a log scale when every step is above zero (impressions are often a
    thousand times conversions), with the exact counts written at the bars' ends."""
    reported = steps.filter(pl.col("reported")).select("label", "value")
    reported = reported.with_columns(text_column(reported, "value", lambda v: format_value(v, "number"), "value_text"))
    log = bool((reported.get_column("value") > 0).all())
    scale = alt.Scale(type="log") if log else alt.Scale()
    base = alt.Chart(reported).encode(
        y=alt.Y("label:N", sort=reported.get_column("label").to_list(), title=None),
        x=alt.X("value:Q", scale=scale, title="Count (log scale)" if log else "Count",
                axis=alt.Axis(format=",~s")),
    )
    bars = base.mark_bar(color=colour, cornerRadiusEnd=3, height={"band": 0.7})
    text = base.mark_text(align="left", dx=4, color=TEXT_COLOUR, fontSize=11).encode(text="value_text:N")
    return _finish((bars + text).properties(width=WIDTH - 140, height=max(90, 30 * reported.height)))
