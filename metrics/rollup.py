"""A daily platform × campaign rollup of the canonical table that `summarize` reads like the raw rows.

The dashboard pages group only by date, platform and campaign and filter only on those, so they can
read this much smaller frame (the 1M-row demo rolls up to ~5,000 rows) and get the same results:
- flows and reach are sums, and a sum of sums is the sum (reach stays "the sum of rows");
- every KPI is a ratio of sums (SPEC §4), so it is unchanged;
- null stays null: a cell's measure is null only when no row of the cell reported it;
- followers (a stock) are summed within a cell, which is what `summarize` does with the rows of a
  platform × campaign series at its latest date.
Grouping by any other dimension (ad group, audience, ...) needs the raw rows.
"""

from __future__ import annotations

import polars as pl

from metrics.kpis import group_total
from metrics.schema import MEASURES

ROLLUP_KEYS: tuple[str, ...] = ("date", "platform", "campaign")


def daily_rollup(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """One row per date × platform × campaign with every measure's total (null when none was reported).

    Keys missing from the frame are left out; rows are sorted by the keys.
    """
    lazy = frame.lazy()
    names = lazy.collect_schema().names()
    keys = [k for k in ROLLUP_KEYS if k in names]
    measures = [m for m in MEASURES if m in names]
    return (
        lazy.group_by(keys).agg(group_total(m).alias(m) for m in measures)
        .sort(keys, nulls_last=True)
        .collect()
    )
