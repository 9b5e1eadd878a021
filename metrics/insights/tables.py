"""Insights as people read them: rows of formatted text and plain sentences, shared by the Insights page and
the report files so both say the same thing. Every number, date and label comes from `metrics.display`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from metrics.display import (
    MISSING,
    format_bucket,
    format_change,
    format_date,
    format_metric,
    format_period,
    format_points,
    platform_label,
)
from metrics.insights.annotations import KIND_LABELS, Annotation
from metrics.insights.anomalies import Anomaly
from metrics.insights.drivers import KpiChange
from metrics.insights.forecast import Forecast
from metrics.insights.pacing import Budget, Pacing

PACING_COLUMNS = ("Month", "Scope", "Budget", "Spent to date", "Expected to date", "Projected month end",
                  "Projected vs budget", "Needed per day", "Status")
ANNOTATION_COLUMNS = ("Date", "Kind", "Note")


def budget_scope(budget: Budget) -> str:
    """'Whole account', 'Google Ads' or the campaign's name."""
    if budget.scope == "all":
        return "Whole account"
    return platform_label(budget.scope_value) if budget.scope == "platform" else str(budget.scope_value)


def describe_budget(budget: Budget) -> str:
    """'Oct 2026 · Google Ads'."""
    return f"{format_bucket(budget.month, 'month')} · {budget_scope(budget)}"


def _money(value: float | None, pacing: Pacing) -> str:
    return format_metric("spend", value, pacing.budget.currency or pacing.currency)


def pacing_rows(pacings: Sequence[Pacing]) -> list[dict[str, str]]:
    """One row of `PACING_COLUMNS` per budget, money in the budget's currency (else the spend's)."""
    rows = []
    for p in pacings:
        rows.append({
            "Month": format_bucket(p.budget.month, "month"), "Scope": budget_scope(p.budget),
            "Budget": _money(p.budget.amount, p), "Spent to date": _money(p.spend_to_date, p),
            "Expected to date": _money(p.expected_to_date, p), "Projected month end": _money(p.projected, p),
            "Projected vs budget": format_change(p.projected_vs_budget) or MISSING,
            "Needed per day": _money(p.needed_per_day, p), "Status": p.status_label,
        })
    return rows


def pacing_sentence(p: Pacing) -> str:
    """What a budget's pacing means, in one sentence."""
    name = describe_budget(p.budget)
    if p.projected is None:
        return f"{name}: {p.note or p.status_label}"
    if p.days_left == 0:
        return (f"{name}: spent {_money(p.spend_to_date, p)} of {_money(p.budget.amount, p)} "
                f"({format_change(p.projected_vs_budget)} against the budget).")
    text = (f"{name}: {_money(p.spend_to_date, p)} spent by {format_date(p.through)}, heading for "
            f"{_money(p.projected, p)} against a budget of {_money(p.budget.amount, p)} "
            f"({format_change(p.projected_vs_budget)}; {p.status_label.lower()}).")
    if p.needed_per_day is not None and p.status != "on_pace":
        text += (f" Landing on the budget takes {_money(p.needed_per_day, p)} a day for the {p.days_left} "
                 f"day{'s' if p.days_left != 1 else ''} left (the last {p.run_rate_days} days averaged "
                 f"{_money(p.run_rate, p)}).")
    if p.note:
        text += f" {p.note}"
    return text


def annotation_rows(annotations: Sequence[Annotation]) -> list[dict[str, str]]:
    """One row of `ANNOTATION_COLUMNS` per annotation, in date order."""
    return [{"Date": format_date(a.date) if a.end is None else format_period(a.date, a.last_day),
             "Kind": KIND_LABELS.get(a.kind, a.kind.capitalize()), "Note": a.text}
            for a in sorted(annotations, key=lambda a: (a.date, a.text))]


def platform_rows(change: KpiChange) -> list[dict[str, Any]]:
    """One row per platform for the KPI's table, in catalog names (`metrics.display` labels them): the KPI
    before and now and its change, each factor's change, the share of spend before and now, and the platform's
    parts of the total change in points (its own KPI, and budget moving to or from it)."""
    kpi = change.kpi
    mix = {part.platform: part for part in change.mix.platforms}
    rows = []
    for platform, drivers in change.platforms:
        part = mix.get(platform)
        row: dict[str, Any] = {"platform": platform, f"{kpi}_prev": drivers.value_prev, kpi: drivers.value,
                               f"{kpi}_delta_rel": drivers.change_rel}
        row |= {f"{f.name}_delta_rel": None for f in change.total.factors}
        row |= {f"{f.name}_delta_rel": f.change_rel for f in drivers.factors}
        row |= {"share_of_spend_prev": part.spend_share_prev if part else None,
                "share_of_spend": part.spend_share if part else None,
                "Own part": format_points(part.own_effect_rel) if part else MISSING,
                "Budget-mix part": format_points(part.mix_effect_rel) if part else MISSING,
                "Note": drivers.reason or ""}
        rows.append(row)
    return rows


def mix_sentence(change: KpiChange) -> str:
    """How much of the KPI's change came from budget moving between platforms, and how much from the
    platforms' own change; or why that cannot be said."""
    mix, label = change.mix, change.total.label
    if change.total.reason is not None:
        return change.total.reason
    if mix.reason is not None:
        return mix.reason
    if len(mix.platforms) < 2:
        return f"All spend is on one platform, so the {label} change has no budget-mix part."
    return (f"Of the {label} change ({format_change(mix.change_rel)}), shifting budget between platforms "
            f"accounts for {format_points(mix.mix_effect_rel)} and each platform's own change for "
            f"{format_points(mix.own_effect_rel)}.")


def anomaly_sentence(anomaly: Anomaly, *, currency: str | None = None) -> str:
    """'Spend on 13 Oct 2026 was $5,247.00, above the expected $1,950.00 – $2,240.00.'"""
    where = "above" if anomaly.direction == "above" else "below"
    return (f"{format_metric(anomaly.metric, anomaly.value, currency)} {where} the expected "
            f"{format_metric(anomaly.metric, anomaly.lower, currency)} – "
            f"{format_metric(anomaly.metric, anomaly.upper, currency)}")


def forecast_sentence(forecast: Forecast, *, currency: str | None = None, label: str | None = None) -> str:
    """'Spend: $58,962.18 projected by 30 Nov 2026 (80 % band $58,689.48 – $59,234.88), $0.00 so far.'"""
    name = label or forecast.to_dict()["label"]
    if forecast.reason is not None:
        return forecast.reason

    def amount(value: float | None) -> str:
        return format_metric(forecast.metric, value, currency)

    if forecast.days_left == 0:
        return f"{name}: {amount(forecast.projected)} over {format_period(forecast.period_start, forecast.period_end)}."
    return (f"{name}: {amount(forecast.projected)} projected by {format_date(forecast.period_end)} "
            f"({forecast.level * 100:.0f} % band {amount(forecast.lower)} – {amount(forecast.upper)}), "
            f"{amount(forecast.actual_to_date or 0.0)} so far.")
