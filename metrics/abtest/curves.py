"""Chart data for A/B results (pure): the lift over time and the distribution of each lift.

Both use the engine's own moments, so the last day of the lift-over-time curve and the shaded interval of the
distribution are exactly the numbers in the result table.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats as sps

from metrics.abtest import frequentist
from metrics.abtest import sequential as seq
from metrics.abtest.analysis import MIN_CONVERSIONS
from metrics.abtest.results import AbResult
from metrics.abtest.statistics import ProportionStatistic, RatioStatistic, SampleMeanStatistic

_EMPTY = {"date": pl.Date, "variant": pl.String, "lift": pl.Float64, "low": pl.Float64, "high": pl.Float64}


def cumulative_lift(rows: pl.DataFrame, *, numerator: str, denominator: str, control: str, alpha: float,
                    ratio: bool = True, sequential: bool = False, tuning: float = seq.DEFAULT_TUNING,
                    min_units: int = MIN_CONVERSIONS) -> pl.DataFrame:
    """The relative lift of each variant over the control with the data up to the end of each day, and its
    interval (always-valid in sequential mode). Columns: date, variant, lift, low, high (fractions).

    ratio=True: every row is a unit with a ``numerator`` and a ``denominator`` (a ratio metric, as
    ``inputs.from_ratio_rows``); ratio=False: rows hold trials (``denominator``) and successes (``numerator``) of a
    conversion rate (``inputs.from_aggregates``). Rows need a date, a variant and both values. Days before each arm
    has ``min_units`` units (or conversions) are left out: their intervals are too wide to read."""
    needed = {"date", "variant", numerator, denominator}
    if not needed <= set(rows.columns):
        return pl.DataFrame(schema=_EMPTY)
    m, d = pl.col(numerator).cast(pl.Float64), pl.col(denominator).cast(pl.Float64)
    valid = rows.lazy().filter(pl.col("variant").is_not_null() & pl.col("date").is_not_null()
                               & m.is_finite() & d.is_finite())
    sums = ([pl.len().alias("n"), m.sum().alias("m"), (m * m).sum().alias("mm"), d.sum().alias("d"),
             (d * d).sum().alias("dd"), (m * d).sum().alias("md")] if ratio else
            [d.sum().alias("n"), m.sum().alias("m")])
    daily = valid.group_by("date", pl.col("variant").cast(pl.String)).agg(sums).collect()
    if daily.is_empty() or control not in daily.get_column("variant").to_list():
        return pl.DataFrame(schema=_EMPTY)
    columns = [c for c in daily.columns if c not in ("date", "variant")]
    grid = (daily.select("date").unique().join(daily.select("variant").unique(), how="cross")
            .join(daily, on=["date", "variant"], how="left").fill_null(0.0).sort(["variant", "date"])
            .with_columns(pl.col(columns).cum_sum().over("variant")))
    by_day = {key[0]: part for key, part in grid.partition_by("date", as_dict=True).items()}
    out = []
    for day in sorted(by_day):
        stats = {r["variant"]: _statistic(r, ratio) for r in by_day[day].iter_rows(named=True)}
        base = stats.pop(control)
        for name, stat in stats.items():
            if min(_size(base, ratio), _size(stat, ratio)) < min_units:
                continue
            moments = frequentist.moments(base, stat, relative=True)
            test = (seq.sequential_test(moments, alpha, tuning) if sequential else
                    frequentist.t_test(moments, alpha))
            if test.ci is not None:
                out.append({"date": day, "variant": name, "lift": test.estimate, "low": test.ci[0],
                            "high": test.ci[1]})
    return pl.DataFrame(out, schema=_EMPTY).sort(["variant", "date"])


def _statistic(r: dict, ratio: bool):
    if not ratio:
        return ProportionStatistic(n=r["n"], sum=r["m"])
    return RatioStatistic(n=r["n"], numerator=SampleMeanStatistic(n=r["n"], sum=r["m"], sum_squares=r["mm"]),
                          denominator=SampleMeanStatistic(n=r["n"], sum=r["d"], sum_squares=r["dd"]),
                          sum_of_products=r["md"])


def _size(stat, ratio: bool) -> float:
    return stat.n if ratio else stat.sum


def lift_density(result: AbResult, points: int = 161) -> pl.DataFrame | None:
    """Normal approximation of each comparison's relative lift with the engine's standard error. Columns:
    variant, x, density, inside (x within the interval the verdict quotes, ``ci_rel_adjusted``). None when no
    comparison has a relative test."""
    frames = []
    for c in result.comparisons:
        ci = c.ci_rel_adjusted
        if c.lift_rel is None or c.se_rel is None or ci is None:
            continue
        lo, hi = min(c.lift_rel - 4 * c.se_rel, ci[0]), max(c.lift_rel + 4 * c.se_rel, ci[1])
        xs = np.linspace(lo, hi, points)
        frames.append(pl.DataFrame({
            "variant": [c.variant] * points, "x": xs, "density": sps.norm.pdf(xs, c.lift_rel, c.se_rel),
            "inside": (xs >= ci[0]) & (xs <= ci[1]),
        }))
    return pl.concat(frames) if frames else None
