"""Cached loaders and aggregations. Caches are keyed by content hashes, bounded, shared by sessions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date

import polars as pl
import streamlit as st

from metrics import demo, ingest, kpis
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


# Session scope: an upload belongs to the session that made it; Streamlit drops these entries when the
# session disconnects (a global cache kept two 100 MB uploads' frames after everyone had left).
@st.cache_resource(max_entries=2, scope="session", show_spinner=False)
def _load_files(key: str, _files: tuple[tuple[str, bytes], ...], mappings_json: str) -> ingest.CombinedLoad:
    mappings = json.loads(mappings_json) or None
    return ingest.load_many(list(_files), mappings=mappings)


def load_uploads(files: Sequence[tuple[str, bytes]], mappings: dict[str, dict[str, str]] | None = None) -> Dataset:
    """Load uploaded files (name, bytes) into a Dataset, cached by the bytes' hashes and the mappings."""
    hashes = [(name, hashlib.sha256(data).hexdigest(), len(data)) for name, data in files]
    mappings_json = json.dumps(mappings or {}, sort_keys=True, ensure_ascii=False)
    key = content_hash(json.dumps(hashes), mappings_json)
    combined = _load_files(key, tuple(files), mappings_json)
    names = ", ".join(name for name, _, _ in hashes)
    return Dataset(
        frame=combined.frame,
        key=key,
        label=names if len(names) <= 60 else f"{len(files)} files",
        reports=tuple(combined.reports),
        errors=dict(combined.errors),
        unmapped_headers=dict(combined.unmapped_headers),
        issues=tuple(combined.issues),
        source_files=tuple({"name": n, "sha256": h, "size": s} for n, h, s in hashes),
        session_only=True,
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


def _rolled(frame: pl.DataFrame) -> pl.DataFrame:
    rolled = daily_rollup(frame)
    # Not worth a second copy when the rows are already daily per platform and campaign.
    return rolled if rolled.height * 2 <= frame.height else frame


@st.cache_resource(max_entries=4, show_spinner="Preparing the dashboard…")
def _rollup(dataset_key: str, _frame: pl.DataFrame) -> pl.DataFrame:
    """Shared data (the demo, a snapshot many clients open): one rollup for every session."""
    return _rolled(_frame)


@st.cache_resource(max_entries=2, scope="session", show_spinner="Preparing the dashboard…")
def _session_rollup(dataset_key: str, _frame: pl.DataFrame) -> pl.DataFrame:
    """A session's own upload: the rollup goes when the session does."""
    return _rolled(_frame)


def dashboard_frame(dataset: Dataset) -> tuple[str, pl.DataFrame]:
    """(cache key, frame) for pages that group and filter only by date, platform and campaign.

    The frame is the dataset's daily platform × campaign rollup (`metrics.rollup`), which gives the
    same `summarize` results as the raw rows for those dimensions from far fewer rows.
    """
    rollup = _session_rollup if dataset.session_only else _rollup
    return f"{dataset.key}:rollup", rollup(dataset.key, dataset.frame)


def dataset_currency(dataset: Dataset) -> str | None:
    """The one currency of the data, or None when it is missing or mixed (no symbol is shown then)."""
    if "currency" not in dataset.frame.columns:
        return None
    codes = dimension_values(dataset.key, dataset.frame, "currency")
    return codes[0] if len(codes) == 1 else None
