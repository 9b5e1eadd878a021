"""Charts as a reader sees them: each chart is rendered to SVG by vl-convert (the engine of the downloads)
and its axis labels, names and titles are read back from the drawing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import altair as alt
import polars as pl
import pytest

from ui import charts

vlc = pytest.importorskip("vl_convert")
SVG = "{http://www.w3.org/2000/svg}"


def _svg(chart) -> ET.Element:
    return ET.fromstring(vlc.vegalite_to_svg(chart.to_json()))


def _axis_labels(root: ET.Element, axis: str) -> list[str]:
    """The tick labels of the 'X' or 'Y' axis, in drawing order."""
    for group in root.iter(f"{SVG}g"):
        if "role-axis" in group.get("class", "").split() and group.get("aria-label", "").startswith(f"{axis}-axis"):
            return [t.text or "" for g in group.iter(f"{SVG}g") if "role-axis-label" in g.get("class", "")
                    for t in g.iter(f"{SVG}text")]
    raise AssertionError(f"no {axis} axis")


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def _days(first: date, count: int, step: int = 1) -> list[date]:
    return [first + timedelta(days=step * i) for i in range(count)]


def test_a_week_of_days_has_one_tick_per_day_and_no_repeats():
    # Vega's own ticks on a 7-day range fall every 12 hours: "28 Nov, 28 Nov, 29 Nov…".
    frame = pl.DataFrame({"date": _days(date(2026, 11, 24), 7), "clicks": [float(i) for i in range(7)]})
    labels = _axis_labels(_svg(charts.trend_chart(frame, "clicks", label="Clicks", kind="number",
                                                  by_platform=False)), "X")
    assert labels == ["24 Nov", "25 Nov", "26 Nov", "27 Nov", "28 Nov", "29 Nov", "30 Nov"]


def test_weekly_ticks_sit_on_the_weekly_points():
    mondays = _days(date(2026, 6, 1), 20, step=7)
    frame = pl.DataFrame({"date": mondays, "clicks": [100.0 + i for i in range(20)]})
    labels = _axis_labels(_svg(charts.trend_chart(frame, "clicks", label="Clicks", kind="number",
                                                  by_platform=False, grain="week")), "X")
    shown = set(charts.time_ticks(mondays))
    assert len(labels) == len(set(labels)) <= charts.MAX_TIME_TICKS
    assert labels == [f"{d.day} {d:%b}" for d in sorted(shown)]  # every label is a Monday of the data
    assert all(d.weekday() == 0 for d in shown)


def test_months_read_as_months():
    firsts = [date(2025, 9, 1), date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1)]
    frame = pl.DataFrame({"date": firsts, "spend": [1000.0, 1100.0, 900.0, 1300.0, 1250.0]})
    labels = _axis_labels(_svg(charts.trend_chart(frame, "spend", label="Spend", kind="currency",
                                                  currency="EUR", by_platform=False, grain="month")), "X")
    assert labels == ["Sep 2025", "Oct 2025", "Nov 2025", "Dec 2025", "Jan 2026"]


def test_value_ticks_never_repeat_on_a_narrow_range():
    # A change between -4.2 % and -3.8 %: a fixed one-decimal format wrote "-4.2 %, -4.2 %, -4.1 %…".
    frame = pl.DataFrame({"i": list(range(5)), "v": [-0.042, -0.0415, -0.0405, -0.039, -0.038]})
    chart = alt.Chart(frame).mark_line().encode(
        x="i:Q", y=alt.Y("v:Q", scale=alt.Scale(zero=False), axis=charts.value_axis("ctr", "percent", None)))
    labels = _axis_labels(_svg(chart), "Y")
    assert len(labels) >= 4 and len(labels) == len(set(labels))
    assert all(label.endswith(" %") for label in labels)


def test_axis_titles_come_from_the_catalog():
    frame = pl.DataFrame({"platform": ["facebook", "google_ads"], "cpa": [12.5, 30.0]})
    chart = charts.platform_bar_chart(frame, "cpa", label="CPA", kind="currency", currency="USD")
    texts = _texts(_svg(chart))
    assert "CPA (USD)" in texts and "Google Ads" in texts and "google_ads" not in texts
    assert "$30.00" in texts  # value labels in the tile format


def _crowded_platforms() -> pl.DataFrame:
    names = ["facebook", "instagram", "tiktok", "linkedin", "google_ads", "x", "youtube", "email"]
    return pl.DataFrame({
        "platform": names,
        "conversions": [5200.0, 4900.0, 4100.0, 800.0, 6100.0, 700.0, 650.0, 1200.0],
        "cpa": [21.0, 22.5, 19.8, 60.0, 18.0, 25.0, 24.0, 12.0],
        "spend": [109200.0, 110250.0, 81180.0, 48000.0, 109800.0, 17500.0, 15600.0, 14400.0],
    })


def test_bubble_names_never_overlap_and_the_biggest_spenders_are_named():
    frame = charts.with_platform_labels(_crowded_platforms())
    placed = charts.place_bubble_labels(frame, charts.bubble_layout(frame))
    boxes = [b for b in placed.get_column("label_box").to_list() if b is not None]
    assert 3 <= len(boxes) <= charts.BUBBLE_LABELS
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    top = placed.sort("spend", descending=True).row(0, named=True)
    assert top["label_y"] is not None


def test_the_bubble_chart_draws_names_that_fit_and_a_whole_size_legend():
    chart = charts.efficiency_bubble_chart(_crowded_platforms(), currency="USD")
    root = _svg(chart)
    texts = _texts(root)
    assert "Spend (USD)" in texts and "CPA (USD)" in texts
    legend_values = charts._legend_values(110250.0)
    assert legend_values == [25000.0, 50000.0, 100000.0]
    assert {"25k", "50k", "100k"} <= set(texts)
    named = [t for t in texts if t in {"Facebook", "Instagram", "TikTok", "Google Ads", "LinkedIn", "X", "YouTube",
                                       "Email"}]
    # Every platform is in the colour legend once; at most BUBBLE_LABELS of them are also written on the plot.
    assert len(named) - 8 <= charts.BUBBLE_LABELS
    width, height = float(root.get("width")), float(root.get("height"))
    for group in root.iter(f"{SVG}g"):  # the legends lie inside the drawing, nothing cut off
        if "role-legend" in group.get("class", ""):
            match = re.search(r"translate\(([-\d.]+),([-\d.]+)\)", group.get("transform", ""))
            if match:
                assert 0 <= float(match.group(1)) < width and 0 <= float(match.group(2)) < height


def test_a_downloaded_chart_says_what_when_and_where_from():
    frame = pl.DataFrame({"platform": ["facebook", "tiktok"], "ctr": [0.012, 0.02]})
    chart = charts.platform_bar_chart(frame, "ctr", label="CTR", kind="percent")
    exported = charts.export_chart(chart, title="CTR by platform", period="2 – 31 Oct 2026",
                                   source="Source: Demo account · Campaign Lens")
    texts = _texts(_svg(exported))
    assert {"CTR by platform", "2 – 31 Oct 2026", "Source: Demo account · Campaign Lens"} <= set(texts)
    assert charts.chart_png(exported).startswith(b"\x89PNG")
