"""Charts that tell the truth about time: a missing period breaks the line, a partial one is marked, and no
axis repeats a label (checked on the rendered SVG, as a person would read it)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import polars as pl
import pytest

from metrics import kpis, trends
from metrics.schema import conform
from ui import charts

ROWS = conform(pl.DataFrame([
    {"date": date(2026, 1, 5), "platform": "facebook", "clicks": 1.0, "impressions": 900.0},
    {"date": date(2026, 1, 21), "platform": "facebook", "clicks": 2.0, "impressions": 1000.0},
    {"date": date(2026, 3, 3), "platform": "facebook", "clicks": 3.0, "impressions": 1100.0},
    {"date": date(2026, 4, 9), "platform": "facebook", "clicks": 2.0, "impressions": 1000.0},
]))


def svg_labels(chart) -> list[str]:
    svg = charts.chart_svg(chart).decode("utf-8")
    return [re.sub(r"<[^>]+>", "", text) for text in re.findall(r"<text[^>]*>(.*?)</text>", svg)]


def axis_labels(chart, names: set[str]) -> list[str]:
    """Tick labels only (not titles or the legend)."""
    return [label for label in svg_labels(chart) if label and label not in names]


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_time_axis_labels_never_repeat(grain):
    trend = trends.complete_periods(kpis.summarize(ROWS, ["platform"], grain=grain), grain, series=["platform"],
                                    first_day=date(2026, 1, 5), last_day=date(2026, 4, 9))
    chart = charts.trend_chart(trend.select("date", "platform", "ctr", "partial"), "ctr", label="CTR",
                               kind="percent", grain=grain)
    labels = axis_labels(chart, {"CTR", "Platform", "Facebook"})
    assert len(labels) == len(set(labels)), labels


def test_a_tiny_range_of_rates_gets_distinct_percent_labels():
    # 0.11 % .. 0.15 %: a fixed ".1%" format wrote "0.1%" on every tick.
    frame = pl.DataFrame({"date": [date(2026, 1, 1) + timedelta(days=i) for i in range(5)],
                          "ctr": [0.0011, 0.0012, 0.0013, 0.0014, 0.0015]})
    chart = charts.trend_chart(frame, "ctr", label="CTR", kind="percent", by_platform=False)
    labels = axis_labels(chart, {"CTR"})
    assert len(labels) == len(set(labels)), labels


def test_a_month_without_rows_breaks_the_line():
    trend = trends.complete_periods(kpis.summarize(ROWS, ["platform"], grain="month"), "month", series=["platform"],
                                    first_day=date(2026, 1, 1), last_day=date(2026, 4, 30))
    chart = charts.trend_chart(trend.select("date", "platform", "clicks", "partial"), "clicks", label="Clicks",
                               kind="number", grain="month")
    spec = chart.to_dict()
    values = spec["datasets"][next(iter(spec["datasets"]))]
    february = [v for v in values if v["date"].startswith("2026-02")]
    assert [v["clicks"] for v in february] == [None]  # in the data as null, not dropped and not 0
    line = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "line")
    assert line["mark"]["invalid"] == "break-paths-show-domains"
    svg = charts.chart_svg(chart).decode("utf-8")
    path = re.search(r'<path[^>]*aria-roledescription="line mark"[^>]*d="([^"]+)"', svg)
    if path is None:  # line paths are grouped; take the stroke path of the line layer
        path = re.search(r'class="mark-line[^"]*".*?<path[^>]*d="([^"]+)"', svg, re.S)
    assert path is not None
    assert path.group(1).count("M") == 2  # two pieces: January, then March onwards


def test_a_partial_period_gets_a_hollow_point_and_a_tooltip_note():
    trend = trends.complete_periods(kpis.summarize(ROWS, ["platform"], grain="month"), "month", series=["platform"],
                                    first_day=date(2026, 1, 5), last_day=date(2026, 4, 9))
    chart = charts.trend_chart(trend.select("date", "platform", "clicks", "partial"), "clicks", label="Clicks",
                               kind="number", grain="month")
    spec = chart.to_dict()
    hollow = [layer for layer in spec["layer"] if layer["mark"]["type"] == "point" and not layer["mark"]["filled"]]
    assert len(hollow) == 1 and hollow[0]["transform"] == [{"filter": "datum.partial"}]
    values = spec["datasets"][next(iter(spec["datasets"]))]
    assert {v["date"][:7]: v["period_note"] for v in values}["2026-04"].startswith("partial")


def test_axis_titles_name_one_known_currency_only():
    assert charts.value_title("spend", "Spend", "EUR") == "Spend (EUR)"
    assert charts.value_title("spend", "Spend", "mixed") == "Spend"
    assert charts.value_title("spend", "Spend", None) == "Spend"
