"""Cached loaders and aggregations. Caches are keyed by content hashes, bounded, shared by sessions."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import polars as pl
import streamlit as st

from metrics import demo, kpis
from metrics.rollup import daily_rollup
from ui.state import Dataset


def content_hash(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


# cache_resource returns the same immutable frame to every session (cache_data would pickle a copy of
# a million-row frame on every read).
@st.cache_resource(max_entries=2, show_spinner="Building the demo account…")
def _demo_frame(rows: int | None, seed: int) -> pl.DataFrame:
    return demo.generate(rows=rows, seed=seed)


def demo_dataset(rows: int | None = None, seed: int = 7) -> Dataset:
    frame = _demo_frame(rows, seed)
    return Dataset(
        frame=frame,
        key=content_hash("demo", str(rows), str(seed)),
        label="Demo account",
        source_files=({"name": "demo data", "sha256": "", "size": 0},),
    )


@st.cache_data(max_entries=256, ttl=3600, show_spinner=False)
def summarize(
    dataset_key: str,
    _frame: pl.DataFrame,
    by: tuple[str, ...] = (),
    *,
    grain: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    filters_json: str = "{}",
    compare: str | None = None,
    extra_costs: float = 0.0,
    weights_json: str = "{}",
) -> pl.DataFrame:
    """`metrics.kpis.summarize`, cached per (dataset, arguments). The frame itself is not hashed."""
    return kpis.summarize(
        _frame,
        list(by),
        grain=grain,
        date_from=date_from,
        date_to=date_to,
        filters=json.loads(filters_json) or None,
        compare=compare,
        extra_costs=extra_costs,
        weights=json.loads(weights_json) or None,
    )


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def dimension_values(dataset_key: str, _frame: pl.DataFrame, column: str) -> list[str]:
    """Sorted distinct non-null values of a dimension (for filter pickers)."""
    return sorted(_frame.get_column(column).drop_nulls().unique().to_list())


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def date_bounds(dataset_key: str, _frame: pl.DataFrame) -> tuple[date | None, date | None]:
    dates = _frame.get_column("date")
    return dates.min(), dates.max()


@st.cache_resource(max_entries=4, show_spinner="Preparing the dashboard…")
def _rollup(dataset_key: str, _frame: pl.DataFrame) -> pl.DataFrame:
    rolled = daily_rollup(_frame)
    # Not worth a second copy when the rows are already daily per platform and campaign.
    return rolled if rolled.height * 2 <= _frame.height else _frame


def dashboard_frame(dataset: Dataset) -> tuple[str, pl.DataFrame]:
    """(cache key, frame) for pages that group and filter only by date, platform and campaign.

    The frame is the dataset's daily platform × campaign rollup (`metrics.rollup`), which gives the
    same `summarize` results as the raw rows for those dimensions from far fewer rows.
    """
    return f"{dataset.key}:rollup", _rollup(dataset.key, dataset.frame)


def dataset_currency(dataset: Dataset) -> str | None:
    """The one currency of the data, or None when it is missing or mixed (no symbol is shown then)."""
    if "currency" not in dataset.frame.columns:
        return None
    codes = dimension_values(dataset.key, dataset.frame, "currency")
    return codes[0] if len(codes) == 1 else None
