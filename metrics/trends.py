"""Time buckets and comparison periods."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import polars as pl

Grain = Literal["day", "week", "month"]
Comparison = Literal["previous", "previous_year"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month")
_EVERY = {"day": "1d", "week": "1w", "month": "1mo"}


def truncate_to_grain(expr: pl.Expr, grain: Grain) -> pl.Expr:
    """Bucket a Date expression to the start of its day, ISO week (Monday) or month."""
    if grain not in _EVERY:
        raise ValueError(f"unknown grain {grain!r}; use day, week or month")
    return expr.dt.truncate(_EVERY[grain])


def comparison_range(date_from: date, date_to: date, compare: Comparison) -> tuple[date, date]:
    """The period to compare [date_from, date_to] (inclusive) with.

    previous: the range of equal length ending the day before `date_from`.
    previous_year: the same calendar days one year earlier (29 Feb → 28 Feb).
    """
    if date_to < date_from:
        raise ValueError("the end date is before the start date")
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
