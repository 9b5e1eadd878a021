"""Time buckets and comparison periods."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Literal

import polars as pl

Grain = Literal["day", "week", "month"]
Comparison = Literal["previous", "previous_year"]
# What a report is compared with: a named comparison, or a custom period (first day, last day).
ComparePeriod = Comparison | tuple[date, date]
GRAINS: tuple[Grain, ...] = ("day", "week", "month")
_EVERY = {"day": "1d", "week": "1w", "month": "1mo"}


def truncate_to_grain(expr: pl.Expr, grain: Grain) -> pl.Expr:
    """Bucket a Date expression to the start of its day, ISO week (Monday) or month."""
    if grain not in _EVERY:
        raise ValueError(f"unknown grain {grain!r}; use day, week or month")
    return expr.dt.truncate(_EVERY[grain])


def comparison_range(date_from: date, date_to: date, compare: ComparePeriod) -> tuple[date, date]:
    """The period to compare [date_from, date_to] (inclusive) with.

    previous: the range of equal length ending the day before `date_from`.
    previous_year: the same calendar days one year earlier (29 Feb → 28 Feb).
    (first, last): that custom period itself, of any length (the KPIs are ratios of its sums, and
    totals compare as totals: a longer period has larger totals, which the UI says).
    """
    if date_to < date_from:
        raise ValueError("the end date is before the start date")
    if isinstance(compare, (tuple, list)):
        start, end = compare
        if not isinstance(start, date) or not isinstance(end, date) or end < start:
            raise ValueError("a custom comparison period needs a first and a last day, in that order")
        return start, end
    if compare == "previous":
        length = date_to - date_from + timedelta(days=1)
        return date_from - length, date_from - timedelta(days=1)
    if compare == "previous_year":
        return _minus_year(date_from), _minus_year(date_to)
    raise ValueError(f"unknown comparison {compare!r}; use previous or previous_year")


def _minus_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def period_end(start: pl.Expr, grain: Grain) -> pl.Expr:
    """The last day of the period that begins at `start` (a bucket from `truncate_to_grain`)."""
    if grain not in _EVERY:
        raise ValueError(f"unknown grain {grain!r}; use day, week or month")
    return start.dt.offset_by(_EVERY[grain]).dt.offset_by("-1d")


def complete_periods(
    trend: pl.DataFrame,
    grain: Grain,
    *,
    series: Sequence[str] = (),
    first_day: date | None = None,
    last_day: date | None = None,
) -> pl.DataFrame:
    """A trend (`summarize(..., grain=grain)` output) with every period of every series, and `partial`.

    A period in which a series has no rows becomes a row of nulls — a gap, so a chart breaks its
    line there instead of drawing through the missing period or dropping to zero. Periods run from
    the one holding `first_day` to the one holding `last_day`: pass the days of the range shown
    (the filter's, or the data's first and last date). `partial` is true for a period that reaches
    beyond them — such as the current, unfinished month: its totals cover only some of its days, so
    a chart should mark it or leave it out with a note. Without the days, the trend's own first and
    last periods are taken as whole. Rows without a date are dropped (they belong to no period).
    Sorted by series, then date.
    """
    series = [s for s in series if s != "date"]
    dated = trend.filter(pl.col("date").is_not_null())
    if dated.is_empty():
        return dated.with_columns(pl.lit(False).alias("partial"))
    start = truncate_to_grain(pl.lit(first_day or dated["date"].min()), grain)
    end = truncate_to_grain(pl.lit(last_day or dated["date"].max()), grain)
    periods = pl.select(pl.date_range(start, end, interval=_EVERY[grain]).alias("date"))
    grid = dated.select(series).unique().join(periods, how="cross") if series else periods
    complete = grid.join(dated, on=[*series, "date"], how="left", nulls_equal=True)
    lo = first_day or dated["date"].min()
    hi = last_day or period_end(pl.lit(dated["date"].max()), grain)
    partial = (pl.col("date") < lo) | (period_end(pl.col("date"), grain) > hi)
    return complete.with_columns(partial.alias("partial")).sort([*series, "date"], nulls_last=True).select(
        *trend.columns, "partial"
    )


# --- date presets -----------------------------------------------------------------------------

Preset = Literal["last_7", "last_30", "last_90", "this_month", "last_month", "quarter_to_date", "year_to_date",
                 "all", "custom"]
PRESET_LABELS: dict[str, str] = {
    "last_7": "Last 7 days", "last_30": "Last 30 days", "last_90": "Last 90 days", "this_month": "This month",
    "last_month": "Last month", "quarter_to_date": "Quarter to date", "year_to_date": "Year to date",
    "all": "All data", "custom": "Custom",
}
DEFAULT_PRESET: Preset = "last_30"


def preset_range(preset: Preset, first_day: date, last_day: date) -> tuple[date, date]:
    """The dates of a preset, counted back from `last_day` — the last day *in the data*, not the wall
    clock (exports describe the past: "last 7 days" of an export that ends on 31 Oct is 25–31 Oct).
    "This month" is the month of `last_day` up to it; "last month" the whole month before. The start
    never falls before `first_day`. "custom" has no dates of its own (ValueError)."""
    if last_day < first_day:
        raise ValueError("the last day is before the first day")
    if preset in ("last_7", "last_30", "last_90"):
        start = last_day - timedelta(days=int(preset.removeprefix("last_")) - 1)
        end = last_day
    elif preset == "this_month":
        start, end = last_day.replace(day=1), last_day
    elif preset == "last_month":
        end = last_day.replace(day=1) - timedelta(days=1)
        start = end.replace(day=1)
    elif preset == "quarter_to_date":
        start, end = date(last_day.year, 3 * ((last_day.month - 1) // 3) + 1, 1), last_day
    elif preset == "year_to_date":
        start, end = date(last_day.year, 1, 1), last_day
    elif preset == "all":
        start, end = first_day, last_day
    else:
        raise ValueError(f"the preset {preset!r} has no dates of its own")
    return max(start, first_day), max(end, first_day)


def matching_preset(date_from: date, date_to: date, first_day: date, last_day: date) -> Preset:
    """The first preset whose dates are exactly [date_from, date_to], else "custom"."""
    for preset in PRESET_LABELS:
        if preset != "custom" and preset_range(preset, first_day, last_day) == (date_from, date_to):  # type: ignore[arg-type]
            return preset  # type: ignore[return-value]
    return "custom"
