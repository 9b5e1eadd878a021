"""Partial sums: the additive stage every summary is finalised from (`metrics.kpis.finalize`).

Coverage-matched KPIs (SPEC §4) sum a KPI's numerator and denominator over the rows that report
every measure it uses. Instead of one filtered sum per KPI and measure, rows are grouped by a
*presence mask* — one bit per measure, set when the row reports it — next to the group keys:

    flows:  keys × currency × mask → the sum of every additive measure and the row count `__rows`
    stocks: keys × platform × campaign × day × mask → the followers reported that day

Within one mask group a measure is either reported by every row or by none, so any KPI's matched
sums are plain sums over the mask groups whose mask contains the KPI's bits, and a coverage is a
ratio of row counts. Everything here adds up: partials of partials are partials. The dashboard's
daily rollup (`metrics.rollup`) is this stage at date × platform × campaign × currency ×
source_file, so `summarize` on the rollup gives exactly what it gives on the raw rows.

Real files carry a handful of distinct masks (one per export layout), so the mask costs one small
integer key, not one group per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from metrics.schema import COLUMN_BY_NAME, MEASURES

MASK = "__mask"  # which measures the rows of a partial report (bit per measure, see BIT)
ROWS = "__rows"  # how many input rows a partial stands for
DAY = "__day"  # a row's own date, kept when `date` is bucketed to a week or month
BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(MEASURES)}
MONEY: tuple[str, ...] = ("spend", "revenue")
MONEY_BITS = BIT["spend"] | BIT["revenue"]
STOCKS: tuple[str, ...] = tuple(m for m in MEASURES if COLUMN_BY_NAME[m].aggregation == "stock")
FLOWS: tuple[str, ...] = tuple(m for m in MEASURES if m not in STOCKS)
# A stock is a level per platform × campaign series, read at the series' latest date (SPEC §2).
SERIES: tuple[str, ...] = ("platform", "campaign")


def bits(names: Sequence[str]) -> int:
    value = 0
    for name in names:
        value |= BIT[name]
    return value


def has_all(mask_bits: int) -> pl.Expr:
    """Partials whose rows report every measure of `mask_bits`."""
    return (pl.col(MASK) & mask_bits) == mask_bits


def has_any(mask_bits: int) -> pl.Expr:
    """Partials whose rows report at least one measure of `mask_bits`."""
    return (pl.col(MASK) & mask_bits) != 0


def presence_mask(measures: Sequence[str] = MEASURES) -> pl.Expr:
    """The mask of a raw row: bit `BIT[m]` set when measure m is reported (not null). `measures`: the
    columns the rows have (a measure without a column is reported by no row)."""
    # when/then on UInt32 literals: three times faster than casting booleans and multiplying.
    zero = pl.lit(0, pl.UInt32)
    return pl.sum_horizontal(
        [pl.lit(0, pl.UInt32)] + [pl.when(pl.col(m).is_not_null()).then(pl.lit(BIT[m], pl.UInt32)).otherwise(zero)
                                  for m in measures]
    ).alias(MASK)


def is_partial_frame(frame: pl.DataFrame | pl.LazyFrame) -> bool:
    """True for a frame that already holds partials (the daily rollup), False for raw rows."""
    names = frame.collect_schema().names()
    return MASK in names and ROWS in names


@dataclass(frozen=True)
class Partials:
    """Partial sums at `keys` (see the module docstring). Lazy until `collect`."""

    flows: pl.LazyFrame
    stocks: pl.LazyFrame
    keys: tuple[str, ...]

    def collect(self) -> CollectedPartials:
        flows, stocks = pl.collect_all([self.flows, self.stocks])
        return CollectedPartials(flows=flows, stocks=stocks, keys=self.keys)


@dataclass(frozen=True)
class CollectedPartials:
    flows: pl.DataFrame
    stocks: pl.DataFrame
    keys: tuple[str, ...]


def partials(frame: pl.DataFrame | pl.LazyFrame, keys: Sequence[str]) -> Partials:
    """Partial sums of canonical rows (or of partials) at `keys`.

    `keys` may include `currency`, `source_file` and `date`; a `__day` column, when present,
    is the day stocks are read at (so `date` can hold a week or month start).
    """
    lazy = frame.lazy()
    names = lazy.collect_schema().names()
    pre_aggregated = MASK in names and ROWS in names
    keys = tuple(dict.fromkeys(keys))
    rows = lazy if pre_aggregated else lazy.with_columns(presence_mask())
    day = DAY if DAY in names else "date"

    flow_keys = list(dict.fromkeys([*keys, "currency", MASK]))
    count = pl.col(ROWS).sum() if pre_aggregated else pl.len()
    flows = rows.group_by(flow_keys).agg(
        *[pl.col(m).sum() for m in FLOWS], count.cast(pl.Int64).alias(ROWS)
    )

    stock_keys = list(dict.fromkeys([*keys, *SERIES, DAY, MASK]))
    # Filter first: only the (usually few) rows reporting a stock need their mask here.
    reported = lazy.filter(pl.any_horizontal([pl.col(m).is_not_null() for m in STOCKS]))
    if not pre_aggregated:
        reported = reported.with_columns(presence_mask())
    if day != DAY:
        reported = reported.with_columns(pl.col(day).alias(DAY))
    stocks = reported.group_by(stock_keys).agg([pl.col(m).sum() for m in STOCKS])
    return Partials(flows=flows, stocks=stocks, keys=keys)


def as_frame(collected: CollectedPartials) -> pl.DataFrame:
    """Flows and stocks of partials keyed by (at least) date, platform and campaign as ONE frame of
    canonical columns plus `__mask` and `__rows`: the shape `partials` reads back (the daily rollup).

    A measure a partial does not report is null there, as in the canonical table.
    """
    keys = list(dict.fromkeys([*collected.keys, "currency", MASK]))
    stocks = collected.stocks.drop(DAY)
    merged = collected.flows.join(stocks, on=keys, how="left", nulls_equal=True)
    reported = [
        pl.when(has_all(BIT[m])).then(pl.col(m)).otherwise(None).alias(m) for m in MEASURES
    ]
    return merged.select(*[k for k in keys if k != MASK], *reported, MASK, ROWS)
