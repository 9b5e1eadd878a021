"""Tables of measures and KPIs: labels, number and date formats from the display catalog.

The frames keep raw numbers (rates as fractions) so sorting and downloads stay exact;
only the display is formatted (percent, currency, ×, minutes, '9 Aug 2025'), a missing
value reads "—" and a platform its display name. Text columns (campaign names from
uploads) are shown by st.dataframe as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import streamlit as st

from metrics.display import (
    MISSING,
    TABLE_DATE_FORMAT,
    TABLE_DATETIME_FORMAT,
    currency_symbol,
    describe,
    platform_label,
    text_column,
)
from metrics.kpis import find_kpi
from ui import widgets

# Percents with the catalog's two decimals ("4.60 %", "0.49 %"; Streamlit's own "percent" writes "4.6%").
# A number column with this format holds fractions: `dataframe` shows them × 100.
PERCENT_FORMAT = "%.2f %%"


def label_of(name: str) -> str:
    """Display label of a measure, KPI, dimension or a derived (`_prev`, `_delta_rel`) column."""
    return describe(name).label


def number_format(name: str, currency: str | None = None) -> str:
    """A st.column_config number format for a measure or KPI column."""
    kind = describe(name).format
    if kind == "number" and name.endswith("_rate"):  # step rates of the funnel tables are fractions
        kind = "percent"
    if kind == "percent":
        return PERCENT_FORMAT
    if kind == "currency":
        symbol = currency_symbol(currency).replace("%", "%%")
        return f"{symbol}%,.2f"
    if kind == "ratio":
        return "%,.2f×"
    if kind == "minutes":
        return "%,.1f min"
    base = name.removesuffix("_prev").removesuffix("_delta")
    if find_kpi(base) is not None:  # counts such as weighted engagement or net follower growth
        return "%,.0f"
    return "%,.1f" if base.endswith("_per_1k") else "localized"


def column_config(
    frame: pl.DataFrame, currency: str | None = None, help: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> dict:
    """Labels and formats for every column of `frame` (numbers and dates formatted, text as text)."""
    config = {}
    for name, dtype in frame.schema.items():
        tip = (help or {}).get(name) or describe(name).description or None
        label = (labels or {}).get(name) or label_of(name)
        if dtype.is_numeric():
            config[name] = st.column_config.NumberColumn(label, format=number_format(name, currency), help=tip)
        else:
            config[name] = _date_column(dtype, label, tip) or st.column_config.Column(label, help=tip)
    return config


def _date_column(dtype: pl.DataType, label: str | None, tip: str | None = None):
    if dtype == pl.Date:
        return st.column_config.DateColumn(label, format=TABLE_DATE_FORMAT, help=tip)
    if isinstance(dtype, pl.Datetime):
        return st.column_config.DatetimeColumn(label, format=TABLE_DATETIME_FORMAT, help=tip)
    return None


def readable(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as a table shows it: platform slugs as display names ('google_ads' → 'Google Ads')."""
    if frame.schema.get("platform") == pl.String:
        return frame.with_columns(text_column(
            frame, "platform", lambda slug: None if slug is None else platform_label(slug), "platform"))
    return frame


def dataframe(frame: pl.DataFrame, *, column_config: dict | None = None, **options) -> None:
    """st.dataframe with the catalog's conventions: '—' for a missing value (never "None"), dates as
    '9 Aug 2025' (never '00:00:00'), platforms by name, percents with two decimals; `column_config`
    entries win. Only the display changes: the frame (and its downloads) keep fractions."""
    config = {name: _date_column(dtype, None) for name, dtype in frame.schema.items() if _date_column(dtype, None)}
    config |= column_config or {}
    percents = [name for name, entry in config.items() if name in frame.columns and isinstance(entry, dict)
                and entry.get("type_config", {}).get("type") == "number"
                and entry.get("type_config", {}).get("format") == PERCENT_FORMAT]
    shown = readable(frame).with_columns(pl.col(name) * 100 for name in percents)
    options = {"hide_index": True, "width": "stretch", **options}
    st.dataframe(shown, column_config=config, placeholder=MISSING, **options)


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
    dataframe(shown, height=height, key=f"table_{key}",
              column_config=column_config(shown, currency, help=help, labels=labels))
    widgets.download_table(shown, file_name, key=key, label=download_label)


def preview(frame: pl.DataFrame, rows: int = 200) -> None:
    """The first `rows` rows of a canonical table, each column under its canonical name (the names a
    mapping uses) with its description, numbers in their format and the currency column's own code."""
    head = frame.head(rows)
    currency = None
    if "currency" in head.columns:
        codes = head.get_column("currency").drop_nulls().unique().to_list()
        currency = codes[0] if len(codes) == 1 else None
    config = column_config(head, currency, labels={name: name for name in head.columns})
    dataframe(head, column_config=config)
