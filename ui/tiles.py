"""KPI tiles: a formatted value, its change against the comparison period, coloured by whether it is good news."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import streamlit as st

from metrics.kpis import Direction, find_kpi, measure_label
from metrics.schema import COLUMN_BY_NAME
from ui import data
from ui.widgets import currency_symbol, format_value, kind_of

DeltaColor = Literal["normal", "inverse", "off"]

# Measures have no KPI record: more attention and more results are good news, spend is neither.
MEASURE_DIRECTIONS: dict[str, Direction] = {
    "spend": "neutral", "followers": "higher", "unfollows": "lower", "response_minutes": "lower",
}
_DELTA_COLORS: dict[str, DeltaColor] = {"higher": "normal", "lower": "inverse", "neutral": "off"}


def direction_of(name: str) -> Direction:
    """'higher' when a rise is good news, 'lower' when a fall is, 'neutral' otherwise."""
    found = find_kpi(name)
    return found.direction if found else MEASURE_DIRECTIONS.get(name, "higher")


def delta_color(name: str) -> DeltaColor:
    """st.metric's delta_color for a metric: green when the change is good news."""
    return _DELTA_COLORS[direction_of(name)]


def label_of(name: str) -> str:
    found = find_kpi(name)
    return found.label if found else measure_label(name)


def description_of(name: str) -> str:
    found = find_kpi(name)
    if found:
        return found.description
    column = COLUMN_BY_NAME.get(name)
    return column.description if column else ""


def delta_text(delta_rel: float | None) -> str | None:
    """A relative change as text: 0.1234 → '+12.3 %', -0.08 → '-8.0 %'; None when there is nothing to compare.

    The ASCII minus matters: st.metric reads the direction of a text delta from a leading '-'.
    """
    if delta_rel is None or delta_rel != delta_rel:
        return None
    value = round(delta_rel * 100, 1)
    if value == 0:
        return "0.0 %"
    return f"{value:+,.1f} %"


def tile_value(value: float | None, kind: str, currency: str | None = None) -> str:
    """A tile's value: like `format_value`, but short enough for five tiles a row: no cents from $10,000
    ('$61,138'), K/M from 100,000 ('$268.4K', '7.70M'). The exact value is in the tile's help."""
    if value is None or value != value or kind not in ("number", "currency") or abs(value) < 1e4:
        return format_value(value, kind, currency)
    symbol = currency_symbol(currency) if kind == "currency" else ""
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if magnitude < 1e5:  # no cents on five-figure amounts: '$61,138'
        return f"{sign}{symbol}{magnitude:,.0f}"
    if magnitude >= 1e9:
        return f"{sign}{symbol}{magnitude / 1e9:,.2f}B"
    if magnitude >= 1e6:
        return f"{sign}{symbol}{magnitude / 1e6:,.2f}M"
    return f"{sign}{symbol}{magnitude / 1e3:,.1f}K"


dataset_currency = data.dataset_currency  # one definition, re-exported for the pages


def kpi_tile(
    row: Mapping[str, Any],
    name: str,
    *,
    currency: str | None,
    period: str | None,
    chart_data: Sequence[float] | None = None,
) -> None:
    """One bordered st.metric: value, relative change vs `period` (when comparing) and a sparkline."""
    kind = kind_of(name)
    value = row.get(name)
    delta = delta_text(row.get(f"{name}_delta_rel")) if period else None
    color = delta_color(name)
    shown = tile_value(value, kind, currency)
    exact = format_value(value, kind, currency)
    help_lines = [description_of(name)]
    if exact != shown:
        help_lines.append(f"Exactly {exact}.")
    if period:
        previous = format_value(row.get(f"{name}_prev"), kind, currency)
        help_lines.append(f"In {period}: {previous}.")
        if delta is None:
            help_lines.append("No change shown: the previous value is zero or missing.")
    st.metric(
        label_of(name),
        shown,
        delta=delta,
        delta_color="off" if delta == "0.0 %" else color,
        delta_arrow="off" if delta == "0.0 %" else "auto",
        help=" ".join(h for h in help_lines if h),
        border=True,
        chart_data=list(chart_data) if chart_data and len(chart_data) > 1 else None,
        chart_type="area",
    )
