"""Rank groups of a `summarize` result (campaigns, ads, …) by any measure or KPI.

A minimum volume keeps tiny groups out of the ranking, so a campaign with 3 clicks
and 2 conversions does not top the conversion rate. Groups whose metric is null (not
reported, or a zero denominator) are never ranked best or worst: they come last in
the full ranking and are left out of a "worst N" list.
"""

from __future__ import annotations

import polars as pl

from metrics.display import describe


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


def top_per_group(summary: pl.DataFrame, *, group: str = "platform", item: str = "campaign") -> pl.DataFrame:
    """Per `group`, the `item` with the most conversions (then spend, then impressions; ties by name).

    `summary` is a `summarize(by=[group, item])` result; returns columns `group` and `top_<item>`.
    """
    ranking = [c for c in ("conversions", "spend", "impressions") if c in summary.columns]
    ranked = summary.filter(pl.col(item).is_not_null()).sort(
        [group, *ranking, item], descending=[False, *[True] * len(ranking), False], nulls_last=True,
    )
    return ranked.group_by(group, maintain_order=True).first().select(group, pl.col(item).alias(f"top_{item}"))


def best_and_worst(summary: pl.DataFrame, names: list[str], *, key: str = "platform") -> list[dict]:
    """For each metric with a direction, the best and the worst `key` and their values.

    Skipped: neutral metrics (spend shares), metrics with fewer than two reported values and
    metrics where best and worst are equal. Nulls are never ranked. Returns
    [{"metric", "direction", "best", "best_value", "worst", "worst_value"}, ...] in `names` order.
    """
    rows = []
    for name in names:
        direction = describe(name).direction
        if direction == "neutral" or name not in summary.columns:
            continue
        values = summary.select(key, name).drop_nulls(name)
        if values.height < 2:
            continue
        ordered = values.sort([name, key], descending=[direction == "higher", False])
        best, worst = ordered.row(0), ordered.row(-1)
        if best[1] == worst[1]:
            continue
        rows.append({"metric": name, "direction": direction, "best": best[0], "best_value": best[1],
                     "worst": worst[0], "worst_value": worst[1]})
    return rows
