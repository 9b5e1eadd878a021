"""Insight overlays on trend charts and the Insights page's charts, read from the Vega-Lite spec (what the
browser gets) and from vl-convert's drawing: annotations and flagged days are there, as text and at their dates."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import polars as pl
import pytest

from metrics.insights.annotations import Annotation
from metrics.insights.anomalies import scan_series
from metrics.insights.drivers import KpiChange, decompose, decompose_mix
from metrics.insights.forecast import project_total
from ui import charts, insight_charts

vlc = pytest.importorskip("vl_convert")
SVG = "{http://www.w3.org/2000/svg}"
FIRST = date(2026, 9, 1)
SPIKE = date(2026, 10, 13)
NOTE = "Launch <b>Spring</b> & co"


def _days(count: int) -> list[date]:
    return [FIRST + timedelta(days=i) for i in range(count)]


def _spend(days: list[date]) -> list[float]:
    """A weekday pattern (weekends lower) with a tripled day."""
    return [(600.0 if d.weekday() >= 5 else 1000.0) * (3 if d == SPIKE else 1) for d in days]


def _layers(spec: dict) -> list[dict]:
    """Every unit layer of a spec (nested layers flattened), each with its own rows."""
    found = []
    for layer in spec.get("layer", []):
        if "layer" in layer:
            found += _layers({**layer, "datasets": spec.get("datasets", {})})
        else:
            rows = spec["datasets"].get(layer.get("data", {}).get("name", ""), [])
            found.append({**layer, "rows": rows})
    return found


def _mark(layer: dict) -> str:
    mark = layer["mark"]
    return mark["type"] if isinstance(mark, dict) else mark


def _trend_with_overlays():
    days = _days(61)
    values = _spend(days)
    frame = pl.DataFrame({"date": days, "spend": values})
    scan = scan_series(days, values, metric="spend")
    trend = charts.trend_chart(frame, "spend", label="Spend", kind="currency", currency="USD", by_platform=False)
    notes = [Annotation(date(2026, 10, 5), NOTE, kind="launch"),
             Annotation(date(2026, 10, 20), "Tracking outage", end=date(2026, 10, 22), kind="outage"),
             Annotation(date(2026, 12, 24), "Christmas Eve", kind="holiday")]  # after the chart: not drawn
    layers = [*insight_charts.anomaly_layer(scan.anomalies, "spend", label="Spend", kind="currency", currency="USD"),
              *insight_charts.annotation_layers(notes, days[0], days[-1])]
    return insight_charts.with_overlays(trend, *layers), scan


def test_an_annotation_and_an_anomaly_point_appear_in_the_trend_spec():
    chart, scan = _trend_with_overlays()
    assert [a.date for a in scan.anomalies] == [SPIKE]
    layers = _layers(chart.to_dict())
    rules = [layer for layer in layers if _mark(layer) == "rule"]
    assert [row["text"] for layer in rules for row in layer["rows"]] == [NOTE]
    assert rules[0]["rows"][0]["date"].startswith("2026-10-05")
    spans = [layer for layer in layers if _mark(layer) == "rect"]
    assert [(row["date"][:10], row["end"][:10], row["kind"]) for row in spans[0]["rows"]] == [
        ("2026-10-20", "2026-10-22", "Outage")]
    labels = [row["text"] for layer in layers if _mark(layer) == "text" for row in layer["rows"]]
    assert sorted(labels) == sorted([NOTE, "Tracking outage"])  # the December note is outside the chart
    [rings] = [layer for layer in layers if _mark(layer) == "point" and layer["mark"].get("color") ==
               insight_charts.ANOMALY_COLOR]
    [ring] = rings["rows"]
    assert ring["date"].startswith(SPIKE.isoformat()) and ring["spend"] == 3000.0
    assert ring["value_text"] == "$3,000.00" and ring["outside"] == "Above the expected band"
    assert rings["encoding"]["y"]["field"] == "spend"  # on the chart's own axis


def test_annotation_text_is_drawn_as_text():
    chart, _ = _trend_with_overlays()
    root = ET.fromstring(vlc.vegalite_to_svg(chart.to_json()))
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any(text.startswith("Launch <b>Spring</b>") for text in texts)  # the characters, not markup
    assert not list(root.iter(f"{SVG}b"))


def test_nearby_annotations_take_different_label_rows_and_spans_are_clipped_to_the_chart():
    notes = [Annotation(date(2026, 10, d), f"Note {d}") for d in (1, 2, 3, 4)]
    notes.append(Annotation(date(2026, 9, 25), "Started before", end=date(2026, 10, 2), kind="outage"))
    frame = insight_charts.annotation_frame(notes, date(2026, 10, 1), date(2026, 10, 31))
    assert frame.get_column("label_row").to_list() == [0, 1, 2, 0, 1]
    started = frame.filter(pl.col("text") == "Started before").row(0, named=True)
    assert (started["date"], started["end"], started["when"]) == (date(2026, 10, 1), date(2026, 10, 2),
                                                                   "25 Sep – 2 Oct 2026")


def test_the_forecast_band_runs_from_the_day_after_the_data_to_the_period_end():
    days = _days(56)
    forecast = project_total(days, [100.0 + i for i in range(56)], metric="spend", period_start=date(2026, 10, 1),
                             period_end=date(2026, 10, 31))
    layers = _layers(insight_charts.with_overlays(
        charts.trend_chart(pl.DataFrame({"date": days, "spend": [100.0] * 56}), "spend", label="Spend",
                           kind="currency", by_platform=False),
        *insight_charts.forecast_layers(forecast, "spend", label="Spend", kind="currency")).to_dict())
    [band] = [layer for layer in layers if _mark(layer) == "area"]
    dates = [row["date"][:10] for row in band["rows"]]
    assert (dates[0], dates[-1], len(dates)) == ("2026-10-27", "2026-10-31", 5)
    # a straight line is forecast as the line: day 56 is 100 + 56
    assert band["rows"][0]["forecast"] == pytest.approx(156.0) and band["rows"][0]["forecast_text"] == "156.00"


def test_the_waterfall_parts_add_up_to_the_kpi_change():
    before = {"spend": 1000.0, "impressions": 100_000.0, "clicks": 2000.0, "conversions": 100.0}
    after = {"spend": 1500.0, "impressions": 120_000.0, "clicks": 2200.0, "conversions": 121.0}
    flat = {**after, "conversions": 110.0}  # the same conversion rate as before
    total = decompose("cpa", after, before)
    change = KpiChange("cpa", (date(2026, 10, 1), date(2026, 10, 31)), (date(2026, 9, 1), date(2026, 9, 30)),
                       "previous", total, (), decompose_mix("cpa", {"x": after}, {"x": before}), 1, 1, "USD")
    frame = insight_charts.waterfall_frame(change)
    rows = frame.to_dicts()
    # CPA 10.00 -> 12.40: +23.97 % (1500/121 over 1000/100)
    assert rows[-1]["end"] == pytest.approx((1500 / 121) / (1000 / 100) - 1, abs=1e-12)
    for previous, current in zip(rows[:-2], rows[1:-1]):
        assert current["start"] == pytest.approx(previous["end"])
    assert rows[-2]["end"] == pytest.approx(rows[-1]["end"], abs=1e-12)
    tones = {row["step"]: row["tone"] for row in rows}
    # CPM 10.00 -> 12.50 and CTR 2.00 % -> 1.83 % raised CPA; the conversion rate 5.0 % -> 5.5 % lowered it
    assert tones == {"CPM": "Hurt", "CTR": "Hurt", "conversion rate": "Helped", "CPA change": "Total"}
    flat_change = KpiChange("cpa", change.period, change.previous_period, "previous", decompose("cpa", flat, before),
                            (), change.mix, 1, 1, "USD")
    assert insight_charts.waterfall_frame(flat_change)["tone"].to_list()[2] == "Flat"
    assert rows[0]["own_text"] == "CPM +25.0 %: $10.00 → $12.50"
    spec = json.dumps(insight_charts.waterfall_chart(change).to_dict())
    assert "Part of the CPA change" in spec
