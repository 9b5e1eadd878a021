"""KPI tiles: a formatted value, its change against the comparison period, coloured by whether it is good news."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import streamlit as st

from metrics.display import describe, format_change, format_compact, format_value

DeltaColor = Literal["normal", "inverse", "off"]
_DELTA_COLORS: dict[str, DeltaColor] = {"higher": "normal", "lower": "inverse", "neutral": "off"}


def grid(name: str, per_row: Literal[3, 4, 5]):
    """A container laying its tiles out `per_row` to a row on a wide screen and two to a row on a phone
    (a wrapping horizontal container; the widths are static CSS in `ui.widgets.PAGE_STYLE`, matched on
    the key). Use it as `with tiles.grid("overview", 5): ...`."""
    return st.container(horizontal=True, gap="small", key=f"tiles{per_row}_{name}")


def delta_color(name: str) -> DeltaColor:
    """st.metric's delta_color for a metric: green when the change is good news."""
    return _DELTA_COLORS[describe(name).direction]


def kpi_tile(
    row: Mapping[str, Any],
    name: str,
    *,
    currency: str | None,
    period: str | None,
    chart_data: Sequence[float] | None = None,
    note: str | None = None,
) -> None:
    """One bordered st.metric: value, relative change vs `period` (when comparing) and a sparkline.
    `note` says when the value is based on part of the data ("based on 1 of 2 files"); it is shown under
    the tile and in its help."""
    shown_as = describe(name)
    value = row.get(name)
    delta = format_change(row.get(f"{name}_delta_rel")) if period else None
    color = delta_color(name)
    shown = format_compact(value, shown_as.format, currency)
    exact = format_value(value, shown_as.format, currency)
    help_lines = [shown_as.description]
    if note:
        help_lines.append(f"{note[0].upper()}{note[1:]}: only the rows that report every measure it needs count.")
    if exact != shown:
        help_lines.append(f"Exactly {exact}.")
    if period:
        previous = format_value(row.get(f"{name}_prev"), shown_as.format, currency)
        help_lines.append(f"In {period}: {previous}.")
        if delta is None:
            help_lines.append("No change shown: the previous value is zero or missing.")
    # With a note the tile and its note are one item of the grid (they stay together on a phone too).
    holder = st.container(gap="small") if note else st
    holder.metric(
        shown_as.label,
        shown,
        delta=delta,
        delta_color="off" if delta == "0.0 %" else color,
        delta_arrow="off" if delta == "0.0 %" else "auto",
        help=" ".join(h for h in help_lines if h),
        border=True,
        chart_data=list(chart_data) if chart_data and len(chart_data) > 1 else None,
        chart_type="area",
    )
    if note:
        holder.caption(f":material/info: {note}")
