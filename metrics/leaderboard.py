"""Rank groups of a `summarize` result (campaigns, ads, …) by any measure or KPI.

A minimum volume keeps tiny groups out of the ranking, so a campaign with 3 clicks
and 2 conversions does not top the conversion rate. Groups whose metric is null (not
reported, or a zero denominator) are never ranked best or worst: they come last in
the full ranking and are left out of a "worst N" list.
"""

from __future__ import annotations

import polars as pl


def eligible(summary: pl.DataFrame, volume: str | None = None, min_volume: float = 0.0) -> pl.DataFrame:
    """Rows whose `volume` measure is at least `min_volume` (a null volume counts as 0)."""
    if not volume or not min_volume or volume not in summary.columns:
        return summary
    return summary.filter(pl.col(volume).fill_null(0.0) >= min_volume)


def leaderboard(
    summary: pl.DataFrame,
    metric: str,
    *,
    key: str,
    lower_is_better: bool = False,
    volume: str | None = None,
    min_volume: float = 0.0,
    n: int | None = None,
    best: bool = True,
) -> pl.DataFrame:
    """The best (or worst) `n` groups by `metric`, with `rank` (1 = best) as the first column.

    Ties are broken by the group name so the order is stable. `rank` always counts from
    the best, also in a worst-N list.
    """
    pool = eligible(summary, volume, min_volume)
    ranked = pool.sort([metric, key], descending=[not lower_is_better, False], nulls_last=True)
    ranked = ranked.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))
    if not best:
        ranked = ranked.filter(pl.col(metric).is_not_null()).reverse()
    return ranked.head(n) if n else ranked
