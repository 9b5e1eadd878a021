"""The daily rollup: partial sums of the canonical table that `summarize` reads like the raw rows.

The dashboard pages group only by date, platform, campaign (and currency or source file) and
filter only on those, so they read this much smaller frame (the 1M-row demo rolls up to ~5,000
rows) and get IDENTICAL results — not approximately: the rollup is `metrics.partials` at
date × platform × campaign × currency × source_file, and partials of partials are partials:
- every additive measure is a sum, and a sum of sums is the sum (reach stays "the sum of rows");
- rows are also split by which measures they report (`__mask`) and counted (`__rows`), which is
  all coverage-matched KPIs and `<kpi>_coverage` need;
- null stays null: a measure is null in a rollup row whose input rows did not report it;
- followers (a stock) are summed within a cell, which is what `summarize` does with the rows of a
  platform × campaign series at its latest date.
Grouping by any other dimension (ad group, audience, ...) needs the raw rows.
"""

from __future__ import annotations

import polars as pl

from metrics.partials import as_frame, partials

ROLLUP_KEYS: tuple[str, ...] = ("date", "platform", "campaign", "currency", "source_file")


def daily_rollup(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """One row per date × platform × campaign × currency × source file × reported measures, with
    every measure's total, `__mask` and `__rows`; sorted by the keys."""
    return as_frame(partials(frame, ROLLUP_KEYS).collect()).sort(list(ROLLUP_KEYS), nulls_last=True)
