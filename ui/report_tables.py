"""Tables of measures and KPIs: human column labels and number formats from the KPI registry.

The frames keep raw numbers (rates as fractions) so sorting and downloads stay exact;
only the display is formatted (percent, currency, ×, minutes). Text columns (campaign
names from uploads) are shown by st.dataframe as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import streamlit as st

from metrics.display import currency_symbol, describe
from metrics.kpis import find_kpi
from ui import widgets


def label_of(name: str) -> str:
    """Display label of a measure, KPI, dimension or a derived (`_prev`, `_delta_rel`) column."""
    return describe(name).label


def number_format(name: str, currency: str | None = None) -> str:
    """A st.column_config number format for a measure or KPI column."""
    if name.endswith(("_delta_rel", "_rate")):  # step rates and every *_rate KPI are fractions
        return "percent"
    base = name[: -len("_prev")] if name.endswith("_prev") else name
    kind = describe(base).format
    if kind == "percent":
        return "percent"
    if kind == "currency":
        symbol = currency_symbol(currency).replace("%", "%%")
        return f"{symbol}%,.2f"
    if kind == "ratio":
        return "%,.2f×"
    if kind == "minutes":
        return "%,.1f min"
    if find_kpi(base) is not None:  # counts such as weighted engagement or net follower growth
        return "%,.0f"
    return "%,.1f" if base.endswith("_per_1k") else "localized"


def column_config(
    frame: pl.DataFrame, currency: str | None = None, help: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> dict:
    """Labels and formats for every column of `frame` (numbers formatted, text as text)."""
    config = {}
    for name, dtype in frame.schema.items():
        tip = (help or {}).get(name) or describe(name).description or None
        label = (labels or {}).get(name) or label_of(name)
        if dtype.is_numeric():
            config[name] = st.column_config.NumberColumn(label, format=number_format(name, currency), help=tip)
        else:
            config[name] = st.column_config.Column(label, help=tip)
    return config


def show_table(
    frame: pl.DataFrame,
    *,
    key: str,
    file_name: str,
    currency: str | None = None,
    height: int | str = "auto",
    download_label: str = "Download",
    columns: Sequence[str] | None = None,
    labels: dict[str, str] | None = None,
    help: dict[str, str] | None = None,
) -> None:
    """A formatted table with CSV/XLSX downloads of the same raw numbers."""
    shown = frame.select(columns) if columns else frame
    st.dataframe(shown, hide_index=True, width="stretch", height=height, key=f"table_{key}",
                 column_config=column_config(shown, currency, help=help, labels=labels))
    widgets.download_table(shown, file_name, key=key, label=download_label)
