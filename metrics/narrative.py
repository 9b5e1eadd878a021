"""One plain-language sentence about the main movements, built from `summarize` outputs.

Pure functions (no streamlit): the Overview page shows the sentence, tests pin it.

    headline(total, platforms, compare="previous", days=30, currency="USD")
    -> "Spend +12 % vs the previous 30 days while CPA fell 8 %; TikTok drove most new conversions."

`total` is the one-row summary (`metrics.kpis.total(...)` or `summarize(...).row(0, named=True)`),
`platforms` the rows of `summarize(by=["platform"], ...)`. With a comparison both carry
`<name>_delta` and `<name>_delta_rel` (SPEC §4); without one only the values are used.
Nulls mean "not reported" and are skipped, never read as 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from metrics.display import describe, format_compact, format_period, platform_label
from metrics.trends import ComparePeriod

# Which total leads the sentence: money first, reach of attention for organic-only data.
_LEAD_MEASURES = ("spend", "impressions", "engagements")
# The efficiency KPI named after the lead: the first with a comparable value wins.
_EFFICIENCY_KPIS = ("cpa", "roas", "cpc", "ctr", "engagement_rate")
_KPI_LABELS = {"cpa": "CPA", "roas": "ROAS", "cpc": "CPC", "ctr": "CTR", "engagement_rate": "engagement rate"}
# The outcome a platform "drives".
_OUTCOMES = ("conversions", "leads", "engagements", "impressions")
# Changes smaller than this (as a fraction) read as "flat".
FLAT = 0.005


def period_phrase(compare: ComparePeriod | None, days: int | None) -> str | None:
    """'the previous 30 days', 'the previous day', 'the same period last year', '1 – 31 Aug 2025' (a custom
    period); None without a comparison."""
    if compare is None:
        return None
    if isinstance(compare, (tuple, list)):
        return format_period(compare[0], compare[1])
    if compare == "previous_year":
        return "the same period last year"
    if not days:
        return "the previous period"
    return "the previous day" if days == 1 else f"the previous {days:,} days"


def headline(
    total: Mapping[str, Any] | None,
    platforms: pl.DataFrame | Iterable[Mapping[str, Any]] = (),
    *,
    compare: ComparePeriod | None = None,
    days: int | None = None,
    currency: str | None = None,
) -> str:
    """The main movements in one sentence (see the module docstring)."""
    total = dict(total or {})
    rows = platforms.to_dicts() if isinstance(platforms, pl.DataFrame) else [dict(r) for r in platforms]
    rows = [r for r in rows if r.get("platform") is not None]
    lead = next((m for m in _LEAD_MEASURES if _num(total.get(m))), None)
    if lead is None:
        return "No activity was reported for this selection."
    period = period_phrase(compare, days)
    compared = period is not None and f"{lead}_delta_rel" in total
    if compared and _num(total.get(f"{lead}_prev")) is None:
        # The comparison period has no data (often: it lies before the first date of the upload).
        first = _snapshot_clause(total, lead, currency)
        driver = _top_platform_clause(rows, total)
        sentence = f"{first}; {driver}." if driver else f"{first}."
        return f"{sentence} There is no data for {period} to compare with."
    if compared:
        first = _movement_clause(total, lead, period, currency)
        driver = _driver_clause(rows, total)
    else:
        first = _snapshot_clause(total, lead, currency)
        driver = _top_platform_clause(rows, total)
    return f"{first}; {driver}." if driver else f"{first}."


# --- clauses ------------------------------------------------------------------------------


def _movement_clause(total: Mapping[str, Any], lead: str, period: str, currency: str | None) -> str:
    label = lead.capitalize()
    rel = _num(total.get(f"{lead}_delta_rel"))
    if rel is None:  # the previous value was 0
        opening = f"{label} {_amount(total[lead], lead, currency)}, up from none in {period}"
    elif abs(rel) < FLAT:
        opening = f"{label} flat vs {period}"
    else:
        opening = f"{label} {_signed_pct(rel)} vs {period}"
    efficiency = next(
        (k for k in _EFFICIENCY_KPIS if _num(total.get(k)) is not None and _num(total.get(f"{k}_delta_rel")) is not None),
        None,
    )
    if efficiency is None:
        return opening
    change = _num(total[f"{efficiency}_delta_rel"])
    return f"{opening} while {_KPI_LABELS[efficiency]} {_moved(change)}"


def _snapshot_clause(total: Mapping[str, Any], lead: str, currency: str | None) -> str:
    opening = f"{lead.capitalize()} {_amount(total[lead], lead, currency)}"
    conversions, cpa = _num(total.get("conversions")), _num(total.get("cpa"))
    if lead == "spend" and conversions:
        tail = f" brought {format_compact(conversions, 'number')} conversions"
        return opening + (tail + f" at a CPA of {format_compact(cpa, 'currency', currency)}" if cpa is not None else tail)
    impressions = _num(total.get("impressions"))
    if lead != "impressions" and impressions:
        return f"{opening} for {format_compact(impressions, 'number')} impressions"
    return opening


def _driver_clause(rows: Sequence[Mapping[str, Any]], total: Mapping[str, Any]) -> str | None:
    """Which platform moved the outcome most, in the direction the total moved."""
    if len(rows) < 2:
        return None
    outcome = _outcome(total)
    if outcome is None:
        return None
    overall = _num(total.get(f"{outcome}_delta"))
    deltas = [(r["platform"], _num(r.get(f"{outcome}_delta"))) for r in rows]
    deltas = [(p, d) for p, d in deltas if d is not None]
    if overall is None or overall == 0 or not deltas:
        return None
    if overall > 0:
        platform, best = max(deltas, key=lambda pd: (pd[1], pd[0]))
        return f"{platform_label(platform)} drove most new {outcome}" if best > 0 else None
    platform, worst = min(deltas, key=lambda pd: (pd[1], pd[0]))
    return f"{platform_label(platform)} lost the most {outcome}" if worst < 0 else None


def _top_platform_clause(rows: Sequence[Mapping[str, Any]], total: Mapping[str, Any]) -> str | None:
    if len(rows) < 2:
        return None
    outcome = _outcome(total)
    if outcome is None:
        return None
    values = [(r["platform"], _num(r.get(outcome))) for r in rows]
    values = [(p, v) for p, v in values if v]
    grand = _num(total.get(outcome))
    if not values or not grand:
        return None
    platform, value = max(values, key=lambda pv: (pv[1], pv[0]))
    return f"{platform_label(platform)} brought the most {outcome} ({_pct(value / grand)} of the total)"


def _outcome(total: Mapping[str, Any]) -> str | None:
    return next((m for m in _OUTCOMES if _num(total.get(m))), None)


# --- formatting ---------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    """A finite float, or None for null / NaN / inf / non-numbers."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _pct(fraction: float) -> str:
    """0.123 → '12 %', 0.084 → '8.4 %', 0.004 → '0.4 %' (absolute value)."""
    value = abs(fraction) * 100
    text = f"{value:,.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")
    return f"{text} %"


def _signed_pct(fraction: float) -> str:
    return ("+" if fraction > 0 else "−") + _pct(fraction)


def _moved(fraction: float) -> str:
    if abs(fraction) < FLAT:
        return "held steady"
    return f"{'rose' if fraction > 0 else 'fell'} {_pct(fraction)}"


def _amount(value: Any, measure: str, currency: str | None) -> str:
    return format_compact(_num(value), describe(measure).format, currency)
