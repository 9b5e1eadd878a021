"""Forecast of an additive measure (spend, conversions, revenue) to the end of a period, with a band.

**Model.** Ordinary least squares (statsmodels `OLS`) of the daily value on a straight-line trend plus a
day-of-week effect, fitted on the last 56 days with a value up to the last day of data (8 weeks: recent enough
to follow the current budget, long enough for the weekday pattern). With 14–20 days only the trend is fitted;
with fewer than 14 there is no forecast (`reason` says so). On a series that is a straight line the forecast
is that line, and the band has no width.

**Period total.** projected = actual to date (from the period start through the last day of data) + the
forecast of each remaining day. Its band is the 80 % prediction interval of that sum from the fit: the
variance of the summed forecast (from the coefficients' covariance) plus one residual variance per remaining
day, with Student's t on the fit's residual degrees of freedom. Days are forecast as no less than 0 (spend and
counts cannot be negative), and the band never goes below the actual to date.

A day the data does not cover (no rows) is left out of the fit rather than read as zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import polars as pl

from metrics import display, kpis

FIT_DAYS = 56
MIN_DAYS = 14
WEEKDAY_FROM_DAYS = 21
BAND_LEVEL = 0.80
DEFAULT_METRICS: tuple[str, ...] = ("spend", "conversions", "revenue")
PeriodSpan = Literal["month", "quarter"]


def period_in_progress(last_day: date, span: PeriodSpan = "month") -> tuple[date, date]:
    """The calendar month (or quarter) the data is in the middle of: the one holding the first day the data
    does not cover yet (`last_day` + 1). Data ending on 15 Oct → 1–31 Oct (16 days to forecast); data ending
    on 31 Oct → 1–30 Nov (the whole month ahead)."""
    if span not in ("month", "quarter"):
        raise ValueError(f"unknown period {span!r}; use month or quarter")
    first_open = last_day + timedelta(days=1)
    first_month = first_open.month if span == "month" else 3 * ((first_open.month - 1) // 3) + 1
    start = date(first_open.year, first_month, 1)
    after = date(start.year + (start.month + (1 if span == "month" else 3) - 1) // 12,
                 (start.month + (1 if span == "month" else 3) - 1) % 12 + 1, 1)
    return start, after - timedelta(days=1)


@dataclass(frozen=True, eq=False)
class Forecast:
    """A measure's projected total for [period_start, period_end]. `daily` has a row per remaining day:
    date, forecast, lower, upper (the 80 % band of that day). Numbers are null when `reason` is set."""

    metric: str
    period_start: date
    period_end: date
    through: date | None
    actual_to_date: float | None
    projected: float | None
    lower: float | None
    upper: float | None
    days_left: int
    days_used: int
    method: str | None
    daily: pl.DataFrame
    reason: str | None = None
    level: float = BAND_LEVEL

    def to_dict(self, *, with_daily: bool = False) -> dict[str, Any]:
        out = {
            "metric": self.metric, "label": display.label(self.metric),
            "period": {"from": self.period_start, "to": self.period_end}, "through": self.through,
            "actual_to_date": self.actual_to_date, "projected": self.projected, "lower": self.lower,
            "upper": self.upper, "level": self.level, "days_left": self.days_left, "days_used": self.days_used,
            "method": self.method, "reason": self.reason,
        }
        if with_daily:
            out["daily"] = self.daily.to_dicts()
        return out


_EMPTY_DAILY = {"date": pl.Date, "forecast": pl.Float64, "lower": pl.Float64, "upper": pl.Float64}


def project_total(
    dates: Sequence[date],
    values: Sequence[float | None],
    *,
    metric: str,
    period_start: date,
    period_end: date,
) -> Forecast:
    """Project `metric`'s total over [period_start, period_end] from its daily values (see the module docstring).

    Days after `period_end` are ignored; days before `period_start` feed the fit but not the actual to date.
    """
    if period_end < period_start:
        raise ValueError("the period ends before it starts")
    series = sorted((d, float(v)) for d, v in zip(dates, values)
                    if v is not None and math.isfinite(float(v)) and d <= period_end)
    through = series[-1][0] if series else None
    actual = math.fsum(v for d, v in series if d >= period_start) if series else None
    days_left = (period_end - max(through, period_start - timedelta(days=1))).days if through else \
        (period_end - period_start).days + 1
    empty = pl.DataFrame(schema=_EMPTY_DAILY)

    def without(reason: str | None, method: str | None = None, used: int = 0) -> Forecast:
        done = reason is None  # the data already covers the whole period
        return Forecast(metric, period_start, period_end, through, actual, actual if done else None,
                        actual if done else None, actual if done else None, days_left, used, method, empty, reason)

    if days_left == 0:
        return without(None)
    recent = [(d, v) for d, v in series if through is not None and d > through - timedelta(days=FIT_DAYS)]
    if len(recent) < MIN_DAYS:
        return without(f"{display.label(metric)} has {len(recent)} day{'s' if len(recent) != 1 else ''} "
                       f"with a value in the last {FIT_DAYS}; a forecast needs at least {MIN_DAYS}.")
    weekly = len(recent) >= WEEKDAY_FROM_DAYS
    origin = recent[0][0]
    future = [max(through, period_start - timedelta(days=1)) + timedelta(days=i + 1) for i in range(days_left)]
    fit = _fit([d for d, _ in recent], np.array([v for _, v in recent]), origin, weekly)
    design = _design(future, origin, weekly)
    prediction = fit.get_prediction(design).summary_frame(alpha=1 - BAND_LEVEL)
    daily_forecast = np.maximum(prediction["mean"].to_numpy(), 0.0)
    daily = pl.DataFrame({
        "date": future, "forecast": daily_forecast,
        "lower": np.maximum(prediction["obs_ci_lower"].to_numpy(), 0.0),
        "upper": np.maximum(prediction["obs_ci_upper"].to_numpy(), 0.0),
    })
    rest = float(daily_forecast.sum())
    half = _sum_half_width(fit, design)
    projected = (actual or 0.0) + rest
    return Forecast(
        metric, period_start, period_end, through, actual, projected,
        max(projected - half, actual or 0.0), projected + half, days_left, len(recent),
        "trend + weekday" if weekly else "trend", daily,
    )


def _design(days: Sequence[date], origin: date, weekly: bool) -> np.ndarray:
    t = np.array([(d - origin).days for d in days], dtype=float)
    columns = [np.ones_like(t), t]
    if weekly:  # Monday is the baseline; six indicator columns
        weekday = np.array([d.weekday() for d in days])
        columns += [(weekday == k).astype(float) for k in range(1, 7)]
    return np.column_stack(columns)


def _fit(days: Sequence[date], values: np.ndarray, origin: date, weekly: bool):
    import statsmodels.api as sm

    return sm.OLS(values, _design(days, origin, weekly)).fit()


def _sum_half_width(fit, design: np.ndarray) -> float:
    """Half-width of the prediction interval of the sum of the forecast days."""
    from scipy import stats

    total_row = design.sum(axis=0)
    variance = float(total_row @ fit.cov_params() @ total_row) + len(design) * float(fit.scale)
    if not variance > 0 or fit.df_resid <= 0:
        return 0.0
    return float(stats.t.ppf(0.5 + BAND_LEVEL / 2, fit.df_resid)) * math.sqrt(variance)


def forecast_period(
    frame: pl.DataFrame | pl.LazyFrame,
    metrics: Sequence[str] = DEFAULT_METRICS,
    *,
    period_start: date,
    period_end: date,
    filters: Mapping[str, Sequence[str]] | None = None,
) -> tuple[Forecast, ...]:
    """Each measure's projected total for the period, from the daily totals of `metrics.kpis.summarize`
    (history before the period start feeds the fit). Measures the data does not report are left out."""
    daily = kpis.summarize(frame, ["date"], date_from=period_start - timedelta(days=FIT_DAYS), date_to=period_end,
                           filters=filters).filter(pl.col("date").is_not_null())
    out = []
    for metric in metrics:
        if metric not in daily.columns or daily[metric].null_count() == daily.height:
            continue
        out.append(project_total(daily["date"].to_list(), daily[metric].to_list(), metric=metric,
                                 period_start=period_start, period_end=period_end))
    return tuple(out)
