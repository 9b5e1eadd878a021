"""Cached loaders and aggregations. Caches are keyed by content hashes, bounded, shared by sessions."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import polars as pl
import streamlit as st

from metrics import currency, funnel, kpis
from metrics.currency import CurrencySettings
from metrics.rollup import daily_rollup
from ui import memory
from ui.state import Dataset, currency_settings


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
    from metrics import demo  # imported on the click: it loads numpy, which the first screen does not need

    return demo.generate(rows=rows, seed=seed)


def demo_dataset(rows: int | None = None, seed: int = 7) -> Dataset:
    frame = _demo_frame(rows, seed)
    return Dataset(
        frame=frame,
        key=content_hash("demo", str(rows), str(seed)),
        label="Demo account",
        source_files=({"name": "demo data", "sha256": "", "size": 0},),
    )


@memory.release_when_idle
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


@memory.release_when_idle
@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def step_sums(
    dataset_key: str,
    _frame: pl.DataFrame,
    by: tuple[str, ...] = (),
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    filters_json: str = "{}",
) -> pl.DataFrame:
    """`metrics.funnel.step_sums` (each pair of funnel steps over the rows reporting both), cached like
    `summarize`."""
    return funnel.step_sums(_frame, list(by), date_from=date_from, date_to=date_to,
                            filters=json.loads(filters_json) or None)


@memory.release_when_idle
@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def dimension_values(dataset_key: str, _frame: pl.DataFrame, column: str) -> list[str]:
    """Sorted distinct non-null values of a dimension (for filter pickers)."""
    return sorted(_frame.get_column(column).drop_nulls().unique().to_list())


@memory.release_when_idle
@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def date_bounds(dataset_key: str, _frame: pl.DataFrame) -> tuple[date | None, date | None]:
    dates = _frame.get_column("date")
    return dates.min(), dates.max()


@memory.release_when_idle
@st.cache_resource(max_entries=4, show_spinner="Preparing the dashboard…")
def _rollup(dataset_key: str, _frame: pl.DataFrame) -> pl.DataFrame:
    rolled = daily_rollup(_frame)
    # Not worth a second copy when the rows are already daily per platform and campaign.
    return rolled if rolled.height * 2 <= _frame.height else _frame


@memory.release_when_idle
@st.cache_resource(max_entries=6, show_spinner="Converting currencies…")
def _with_settings(key: str, _frame: pl.DataFrame, settings_json: str) -> currency.Conversion:
    settings = CurrencySettings.from_dict(json.loads(settings_json))
    return currency.apply_settings(_frame, currency.applicable(_frame, settings))


def _applied(
    key: str, frame: pl.DataFrame, settings: CurrencySettings
) -> tuple[str, pl.DataFrame, tuple[currency.MissingRate, ...]]:
    if settings == CurrencySettings():
        return key, frame, ()
    settings_json = json.dumps(settings.to_dict(), sort_keys=True, default=str)
    keyed = f"{key}:{content_hash(settings_json)}"
    converted = _with_settings(keyed, frame, settings_json)
    return keyed, converted.frame, converted.missing


def rollup(dataset: Dataset) -> tuple[str, pl.DataFrame]:
    """(cache key, frame): the dataset's daily rollup as loaded, before any currency setting."""
    return f"{dataset.key}:rollup", _rollup(dataset.key, dataset.frame)


def report_frame(dataset: Dataset) -> tuple[str, pl.DataFrame]:
    """(cache key, rows) to summarize: the dataset's rows with the currency settings of the Data page
    applied — files' currencies set by the user, money converted into the reporting currency. The
    dataset itself keeps every row's own currency."""
    key, frame, _ = _applied(dataset.key, dataset.frame, currency_settings())
    return key, frame


def dashboard_frame(dataset: Dataset) -> tuple[str, pl.DataFrame]:
    """(cache key, frame) for pages that group and filter only by date, platform, campaign, currency and
    source file: the daily rollup (`metrics.rollup`) of `report_frame`, which gives the same `summarize`
    results as the rows from far fewer of them (conversion is linear, so it runs on the rollup)."""
    key, frame, _ = _applied(*rollup(dataset), currency_settings())
    return key, frame


def missing_rates(dataset: Dataset) -> tuple[currency.MissingRate, ...]:
    """Money the reporting currency's rates could not convert (empty without a reporting currency)."""
    return _applied(*rollup(dataset), currency_settings())[2]


@memory.release_when_idle
@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def money_currencies(frame_key: str, _frame: pl.DataFrame) -> pl.DataFrame:
    """`metrics.currency.money_currencies` of a report frame: source_file, currency, rows."""
    return currency.money_currencies(_frame)


def money_mix(dataset: Dataset, *, converted: bool = True) -> pl.DataFrame:
    """source_file, currency, rows of the money rows, with the files' currencies set; `converted=False`
    shows them before conversion into the reporting currency (what the rates have to cover)."""
    settings = currency_settings()
    if not converted:
        settings = CurrencySettings(settings.file_currencies, None)
    key, frame, _ = _applied(*rollup(dataset), settings)
    return money_currencies(key, frame)


def dataset_currency(dataset: Dataset) -> str | None:
    """The one ISO code all the report's money is in (after the Data page's currency settings), or None
    when money is in an unknown or in several currencies: then amounts are shown without a symbol."""
    codes = money_mix(dataset).get_column("currency").unique().to_list()
    return codes[0] if len(codes) == 1 else None
