"""Chart helpers shared by every page: one colour per platform, aggregated data only, PNG/SVG export."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

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
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_json(), scale=scale)


def chart_svg(chart: alt.Chart) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_json()).encode("utf-8")
