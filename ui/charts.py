"""Chart helpers shared by every page: one colour per platform, aggregated data only, PNG/SVG export."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from metrics.display import format_value, platform_label
from metrics.schema import platform_color

# A chart never receives raw rows: pages aggregate first. This guards against mistakes.
MAX_MARKS = 5_000


def platform_scale(platforms: list[str] | None = None) -> alt.Scale:
    """The same colour for a platform on every chart of the app."""
    names = sorted(set(platforms or []))
    return alt.Scale(domain=names, range=[platform_color(p) for p in names])


def platform_color_encoding(frame: pl.DataFrame, field: str = "platform", title: str = "Platform") -> alt.Color:
    names = frame.get_column(field).drop_nulls().unique().to_list() if field in frame.columns else []
    return alt.Color(f"{field}:N", scale=platform_scale(names), title=title)


def check_size(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.height > MAX_MARKS:
        raise ValueError(f"a chart got {frame.height} rows; aggregate before charting")
    return frame


def show_chart(chart: alt.Chart, *, key: str, name: str) -> None:
    """Render an altair chart with PNG and SVG downloads (rendered on demand by vl-convert)."""
    st.altair_chart(chart, width="stretch", key=f"chart_{key}")
    with st.popover("Download chart", icon=":material/image:"):
        st.download_button("PNG", lambda: chart_png(chart), file_name=f"{name}.png", mime="image/png",
                           key=f"{key}_png", on_click="ignore")
        st.download_button("SVG", lambda: chart_svg(chart), file_name=f"{name}.svg", mime="image/svg+xml",
                           key=f"{key}_svg", on_click="ignore")


def chart_png(chart: alt.Chart, scale: float = 2.0) -> bytes:
    import vl_convert as vlc  # imported on a click: its engine costs start-up time no page run should pay

    return vlc.vegalite_to_png(chart.to_json(), scale=scale)


def chart_svg(chart: alt.Chart) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_json()).encode("utf-8")


# --- chart builders (aggregated frames in, altair charts out) -------------------------------------------

_AXIS_FORMATS = {"percent": ".1%", "currency": ",.2~f", "ratio": ",.2~f", "minutes": ",.1~f", "number": ",~s"}


def axis_format(kind: str) -> str:
    """d3 format of an axis for a value kind (rates are fractions: .1% shows 0.034 as 3.4%)."""
    return _AXIS_FORMATS.get(kind, ",~s")


def axis_title(label: str, kind: str, currency: str | None) -> str:
    return f"{label} ({currency})" if kind == "currency" and currency else label


def with_platform_labels(frame: pl.DataFrame, field: str = "platform") -> pl.DataFrame:
    """Add `platform_label` ("Google Ads") next to the slug, for legends and axes."""
    return frame.with_columns(
        pl.col(field).map_elements(platform_label, return_dtype=pl.String, skip_nulls=False).alias("platform_label")
    )


def platform_label_color(frame: pl.DataFrame, field: str = "platform", *, legend: bool = True) -> alt.Color:
    """Colour by the platform's display name, keeping the platform's colour (see `platform_scale`)."""
    slugs = sorted(set(frame.get_column(field).drop_nulls().to_list()))
    scale = alt.Scale(domain=[platform_label(s) for s in slugs], range=[platform_color(s) for s in slugs])
    return alt.Color("platform_label:N", scale=scale, title="Platform", legend=alt.Legend() if legend else None)


def _formatted(frame: pl.DataFrame, column: str, kind: str, currency: str | None, alias: str) -> pl.DataFrame:
    """A text column with the value formatted exactly like the tiles (tooltips show it)."""
    return frame.with_columns(
        pl.col(column).map_elements(lambda v: format_value(v, kind, currency), return_dtype=pl.String,
                                    skip_nulls=False).alias(alias)
    )


def trend_chart(
    frame: pl.DataFrame, metric: str, *, label: str, kind: str, currency: str | None = None,
    by_platform: bool = True, grain: str = "day",
) -> alt.Chart:
    """A line per platform (platform colours) or one total line over `date` at `grain`, with tooltips."""
    frame = _formatted(check_size(frame), metric, kind, currency, "value_text")
    if by_platform:
        frame = with_platform_labels(frame)
    period = {"day": "Day", "week": "Week starting", "month": "Month"}.get(grain, "Date")
    time_format = "%b %Y" if grain == "month" else "%d %b %Y"
    tooltip = [alt.Tooltip("date:T", title=period, format=time_format)]
    if by_platform:
        tooltip.append(alt.Tooltip("platform_label:N", title="Platform"))
    tooltip.append(alt.Tooltip("value_text:N", title=label))
    base = alt.Chart(frame).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %Y" if grain == "month" else "%d %b", grid=False)),
        y=alt.Y(f"{metric}:Q", title=axis_title(label, kind, currency), axis=alt.Axis(format=axis_format(kind))),
        tooltip=tooltip,
    )
    if by_platform:
        base = base.encode(color=platform_label_color(frame))
    line = base.mark_line(strokeWidth=2, interpolate="monotone", color="#4C6EF5")
    # Points only while they stay readable; a long daily series reads better as a plain line.
    few = frame.get_column("date").n_unique() <= 45
    points = base.mark_point(filled=True, size=40, color="#4C6EF5", opacity=1 if few else 0)
    return (line + points).properties(height=340).interactive(bind_y=False)


def platform_bar_chart(
    frame: pl.DataFrame, metric: str, *, label: str, kind: str, currency: str | None = None,
) -> alt.Chart:
    """Horizontal bars of one metric per platform, best-valued first, platform colours, value labels."""
    frame = with_platform_labels(_formatted(check_size(frame), metric, kind, currency, "value_text"))
    frame = frame.filter(pl.col(metric).is_not_null())
    order = frame.sort(metric, descending=True).get_column("platform_label").to_list()
    y = alt.Y("platform_label:N", sort=order, title=None)
    base = alt.Chart(frame).encode(
        y=y,
        x=alt.X(f"{metric}:Q", title=axis_title(label, kind, currency), axis=alt.Axis(format=axis_format(kind))),
        tooltip=[alt.Tooltip("platform_label:N", title="Platform"), alt.Tooltip("value_text:N", title=label)],
    )
    bars = base.mark_bar(cornerRadiusEnd=3, height={"band": 0.7}).encode(
        color=platform_label_color(frame, legend=False)
    )
    text = base.mark_text(align="left", dx=4, color="#495057", fontSize=12).encode(text="value_text:N")
    return (bars + text).properties(height=max(160, 38 * frame.height))


def share_chart(frame: pl.DataFrame) -> alt.Chart:
    """Share of spend next to share of conversions per platform (grouped bars; platform colours,
    spend lighter)."""
    shares = with_platform_labels(check_size(frame)).select("platform", "platform_label", "share_of_spend",
                                                            "share_of_conversions")
    long = shares.unpivot(index=["platform", "platform_label"], variable_name="share", value_name="value")
    long = long.with_columns(
        pl.col("share").replace_strict({"share_of_spend": "Share of spend",
                                        "share_of_conversions": "Share of conversions"}, return_dtype=pl.String),
        pl.col("value").map_elements(lambda v: "—" if v is None else f"{v * 100:,.1f} %", return_dtype=pl.String,
                                     skip_nulls=False).alias("value_text"),
    )
    order = shares.sort("share_of_spend", descending=True, nulls_last=True).get_column("platform_label").to_list()
    kinds = ["Share of spend", "Share of conversions"]
    return alt.Chart(long).mark_bar(cornerRadiusEnd=3).encode(
        y=alt.Y("platform_label:N", sort=order, title=None),
        yOffset=alt.YOffset("share:N", sort=kinds),
        x=alt.X("value:Q", title="Share of the total", axis=alt.Axis(format=".0%")),
        color=platform_label_color(shares, legend=False),
        opacity=alt.Opacity("share:N", sort=kinds, scale=alt.Scale(domain=kinds, range=[0.4, 1.0]),
                            legend=alt.Legend(title=None, orient="top")),
        tooltip=[alt.Tooltip("platform_label:N", title="Platform"), alt.Tooltip("share:N", title="Measure"),
                 alt.Tooltip("value_text:N", title="Share")],
    ).properties(height=max(180, 46 * shares.height))


def efficiency_bubble_chart(frame: pl.DataFrame, *, currency: str | None = None) -> alt.Chart:
    """CPA (y) against conversions (x), bubble size = spend: big cheap bubbles on the right are the winners."""
    frame = with_platform_labels(check_size(frame)).filter(
        pl.col("cpa").is_not_null() & pl.col("conversions").is_not_null()
    )
    frame = frame.with_columns(
        pl.struct("cpa", "spend", "conversions").map_elements(
            lambda r: (format_value(r["cpa"], "currency", currency), format_value(r["spend"], "currency", currency),
                       format_value(r["conversions"], "number")),
            return_dtype=pl.List(pl.String),
        ).alias("texts")
    ).with_columns(
        pl.col("texts").list.get(0).alias("cpa_text"), pl.col("texts").list.get(1).alias("spend_text"),
        pl.col("texts").list.get(2).alias("conversions_text"),
    ).drop("texts")
    # Conversions span orders of magnitude between platforms: a log axis keeps small platforms apart.
    positive = frame.filter(pl.col("conversions") > 0)
    base = alt.Chart(positive).encode(
        x=alt.X("conversions:Q", title="Conversions (log scale)", axis=alt.Axis(format=",~s"),
                scale=alt.Scale(type="log", padding=40)),
        y=alt.Y("cpa:Q", title=axis_title("CPA", "currency", currency), axis=alt.Axis(format=",.2~f"),
                scale=alt.Scale(zero=True, nice=True)),
        tooltip=[alt.Tooltip("platform_label:N", title="Platform"), alt.Tooltip("cpa_text:N", title="CPA"),
                 alt.Tooltip("conversions_text:N", title="Conversions"),
                 alt.Tooltip("spend_text:N", title="Spend")],
    )
    bubbles = base.mark_circle(opacity=0.75, stroke="white", strokeWidth=1).encode(
        size=alt.Size("spend:Q", title=axis_title("Spend", "currency", currency), scale=alt.Scale(range=[80, 2400]),
                      legend=alt.Legend(format=",.0f", symbolFillColor="#adb5bd", symbolStrokeWidth=0)),
        color=platform_label_color(frame),
    )
    names = base.mark_text(dy=-14, fontSize=11, color="#343a40").encode(text="platform_label:N")
    return (bubbles + names).properties(height=380)
