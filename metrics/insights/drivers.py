"""Why a KPI moved between two periods: its factors, and budget mix vs each platform's own change.

**Factor decomposition.** A cost or return KPI is an exact product of funnel factors:

    CPA  = CPM / (1000 × CTR × CVR)                 CPM = 1000 × spend / impressions
    CPL  = CPM / (1000 × CTR × lead rate)           CTR = clicks / impressions
    CPC  = CPM / (1000 × CTR)                       CVR = conversions / clicks
    ROAS = AOV × CVR × CTR × 1000 / CPM             lead rate = leads / clicks, AOV = revenue / conversions

so ln(KPI₁/KPI₀) = Σ exponentᵢ × ln(factorᵢ₁/factorᵢ₀) holds exactly: each factor's **log effect**
(`effect_log`, signed, in log points) is exponent × ln(factor₁/factor₀), and the effects add up to the KPI's
log change. To speak in percentages, the KPI's relative change R = KPI₁/KPI₀ − 1 is shared out in proportion
to the log effects: `effect_rel`ᵢ = effect_logᵢ × R / ln(KPI₁/KPI₀) (with R / ln(...) = 1 when the KPI did not
move, its limit). These add up to R exactly, so "CPA rose 18 %" is made of CPM's, CTR's and CVR's points
(`share` = effect_logᵢ / ln(KPI₁/KPI₀) is the same split as a fraction of the whole, null when the KPI is
unchanged). A factor's own movement is `change_rel` = factor₁/factor₀ − 1 ("CPM +25 %"): the own changes
multiply (1.25 / 0.97 / 1.09 = 1.18), the effects add.

The identity holds only when every factor is summed over the same rows, so the decomposition reads the
totals of the rows that report every measure it uses (spend, impressions, clicks and the outcome); the KPI
values it explains are those rows' values, and `rows_used` / `rows_total` say how many that is.

**Mix decomposition.** Across platforms a cost KPI is spend / outcome = 1 / Y with Y = Σₚ σₚ × yₚ, where σₚ
is platform p's share of spend and yₚ its outcome per unit of spend (conversions per dollar for CPA; for ROAS
Y = revenue per dollar is the KPI itself). The change of Y splits exactly (the two-factor Shapley split, an
average of both orders) into

    ΔY = Σₚ Δσₚ × (ȳₚ − Ȳ)   [mix: budget moved between platforms]   +   Σₚ σ̄ₚ × Δyₚ   [each platform's own change]

with x̄ the mean of both periods; subtracting Ȳ = (Y₀ + Y₁)/2 changes nothing in total (the Δσ add to 0) but
makes a platform's mix part read right: moving budget to a platform that does better than average helps.
A platform present in one period only takes its other period's yield (entering or leaving is all mix).
Parts in Y are turned into log points of the KPI by the logarithmic mean L(Y₁, Y₀) = (Y₁ − Y₀)/ln(Y₁/Y₀)
(sign flipped for cost KPIs), which keeps them adding up exactly to ln(KPI₁/KPI₀); `effect_rel` shares out R
as above. It needs spend on every platform that has the outcome (a free channel's conversions have no
spend share), and an outcome above zero in both periods.

A KPI that cannot be decomposed (a factor missing, zero or null in a period; money in several currencies)
gets `reason`, one plain sentence, and no numbers that pretend otherwise.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import polars as pl

from metrics import kpis
from metrics.display import format_period, platform_label
from metrics.narrative import period_phrase
from metrics.trends import Comparison, comparison_range

DecomposableKpi = Literal["cpa", "cpl", "cpc", "roas"]
DECOMPOSABLE_KPIS: tuple[DecomposableKpi, ...] = ("cpa", "roas", "cpl", "cpc")
# Movements smaller than this (a fraction) read as "flat" in sentences.
FLAT = 0.005


@dataclass(frozen=True)
class FactorSpec:
    """factor = scale × numerator / denominator (group totals)."""

    name: str
    label: str
    numerator: str
    denominator: str
    scale: float = 1.0


_FACTORS: dict[str, FactorSpec] = {
    "cpm": FactorSpec("cpm", "CPM", "spend", "impressions", 1000.0),
    "ctr": FactorSpec("ctr", "CTR", "clicks", "impressions"),
    "cvr": FactorSpec("cvr", "conversion rate", "conversions", "clicks"),
    "lead_rate": FactorSpec("lead_rate", "lead rate", "leads", "clicks"),
    "aov": FactorSpec("aov", "AOV", "revenue", "conversions"),
}
# KPI = constant × Π factor ** exponent (the constant 1000 or 1/1000 cancels in ratios).
_IDENTITIES: dict[str, tuple[tuple[str, int], ...]] = {
    "cpa": (("cpm", 1), ("ctr", -1), ("cvr", -1)),
    "cpl": (("cpm", 1), ("ctr", -1), ("lead_rate", -1)),
    "cpc": (("cpm", 1), ("ctr", -1)),
    "roas": (("aov", 1), ("cvr", 1), ("ctr", 1), ("cpm", -1)),
}
# For the mix split: the outcome whose yield per unit of spend is averaged with spend weights, and whether the
# KPI is spend / outcome (a cost, KPI = 1/Y) or outcome / spend (ROAS, KPI = Y).
_OUTCOME: dict[str, tuple[str, bool]] = {
    "cpa": ("conversions", True), "cpl": ("leads", True), "cpc": ("clicks", True), "roas": ("revenue", False),
}


def measures_used(kpi: str) -> tuple[str, ...]:
    """The measures a KPI's factor decomposition reads (a row must report all of them to count)."""
    names: list[str] = []
    for factor, _ in _IDENTITIES[kpi]:
        spec = _FACTORS[factor]
        names += [spec.numerator, spec.denominator]
    return tuple(dict.fromkeys(names))


# --- results ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactorEffect:
    """One factor's movement and its part of the KPI change (see the module docstring for the units)."""

    name: str
    label: str
    exponent: int
    value: float
    value_prev: float
    change_rel: float
    effect_log: float
    effect_rel: float
    share: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "factor": self.name, "label": self.label, "exponent": self.exponent, "value": self.value,
            "value_prev": self.value_prev, "change_rel": self.change_rel, "effect_log": self.effect_log,
            "effect_rel": self.effect_rel, "share": self.share,
        }


@dataclass(frozen=True)
class KpiDrivers:
    """A KPI's change split into its factors; `reason` says why not when it cannot be (then no factors)."""

    kpi: str
    label: str
    direction: str
    value: float | None
    value_prev: float | None
    change_rel: float | None
    change_log: float | None
    factors: tuple[FactorEffect, ...] = ()
    reason: str | None = None

    @property
    def explained(self) -> bool:
        return self.reason is None

    @property
    def top_factor(self) -> FactorEffect | None:
        """The factor with the largest effect in the direction the KPI moved (None when it did not move)."""
        if not self.factors or not self.change_log:
            return None
        same_way = [f for f in self.factors if f.effect_log * self.change_log > 0]
        return max(same_way, key=lambda f: abs(f.effect_log), default=None)

    def to_dict(self) -> dict[str, Any]:
        top = self.top_factor
        return {
            "kpi": self.kpi, "label": self.label, "direction": self.direction, "value": self.value,
            "value_prev": self.value_prev, "change_rel": self.change_rel, "change_log": self.change_log,
            "factors": [f.to_dict() for f in self.factors], "top_factor": top.name if top else None,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PlatformMix:
    """One platform's part of a KPI change: from budget moving to or from it (`mix_*`) and from its own KPI."""

    platform: str | None
    spend_share: float
    spend_share_prev: float
    yield_: float | None
    yield_prev: float | None
    mix_effect_log: float
    own_effect_log: float
    mix_effect_rel: float
    own_effect_rel: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform, "spend_share": self.spend_share, "spend_share_prev": self.spend_share_prev,
            "yield": self.yield_, "yield_prev": self.yield_prev, "mix_effect_log": self.mix_effect_log,
            "own_effect_log": self.own_effect_log, "mix_effect_rel": self.mix_effect_rel,
            "own_effect_rel": self.own_effect_rel,
        }


@dataclass(frozen=True)
class MixDecomposition:
    """ln(KPI₁/KPI₀) = mix_effect_log + Σ platforms' own_effect_log (and the same in `_rel` for R)."""

    kpi: str
    outcome: str
    change_log: float | None
    change_rel: float | None
    mix_effect_log: float | None
    own_effect_log: float | None
    mix_effect_rel: float | None
    own_effect_rel: float | None
    platforms: tuple[PlatformMix, ...] = ()
    reason: str | None = None

    @property
    def top_platform(self) -> PlatformMix | None:
        """The platform whose own change moved the KPI most, in the direction it moved."""
        if not self.platforms or not self.change_log:
            return None
        same_way = [p for p in self.platforms if p.own_effect_log * self.change_log > 0]
        return max(same_way, key=lambda p: abs(p.own_effect_log), default=None)

    def to_dict(self) -> dict[str, Any]:
        top = self.top_platform
        return {
            "kpi": self.kpi, "outcome": self.outcome, "change_log": self.change_log, "change_rel": self.change_rel,
            "mix_effect_log": self.mix_effect_log, "own_effect_log": self.own_effect_log,
            "mix_effect_rel": self.mix_effect_rel, "own_effect_rel": self.own_effect_rel,
            "platforms": [p.to_dict() for p in self.platforms],
            "top_platform": top.platform if top else None, "reason": self.reason,
        }


@dataclass(frozen=True)
class KpiChange:
    """Everything the Insights page and the CLI say about one KPI's change between two periods."""

    kpi: str
    period: tuple[date, date]
    previous_period: tuple[date, date]
    compare: Comparison
    total: KpiDrivers
    platforms: tuple[tuple[str | None, KpiDrivers], ...]
    mix: MixDecomposition
    rows_used: int
    rows_total: int
    currency: str | None = None
    # "based on 1 of 2 files" when only part of the rows report every measure of the KPI's factors.
    based_on: str | None = None

    @property
    def sentence(self) -> str:
        return sentence(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.total.to_dict(),
            "period": {"from": self.period[0], "to": self.period[1]},
            "previous_period": {"from": self.previous_period[0], "to": self.previous_period[1]},
            "rows_used": self.rows_used, "rows_total": self.rows_total, "currency": self.currency,
            "based_on": self.based_on,
            "platforms": [{"platform": p, **d.to_dict()} for p, d in self.platforms],
            "mix": self.mix.to_dict(),
            "sentence": self.sentence,
        }


# --- factor decomposition ------------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _relative_scale(change_log: float) -> float:
    """R / ln(1 + R): turns log points into shares of the relative change (1 at no change, its limit)."""
    return math.expm1(change_log) / change_log if change_log else 1.0


def _missing_reason(totals: Mapping[str, Any], names: Sequence[str], when: str) -> str | None:
    """Why the totals of one period cannot carry a decomposition, or None when they can."""
    if totals.get("currency") == kpis.MIXED:
        return f"Money {when} is in several currencies; pick a reporting currency and rates to compare it."
    for name in names:
        value = _num(totals.get(name))
        if value is None:
            verb = "was" if name in ("spend", "revenue") else "were"
            return f"{name.capitalize()} {when} {verb} not reported, so the change cannot be split."
        if value <= 0:
            return f"The total of {name} {when} is zero, so the change cannot be split."
    return None


def decompose(kpi: str, current: Mapping[str, Any], previous: Mapping[str, Any]) -> KpiDrivers:
    """Split the change of `kpi` (cpa, cpl, cpc or roas) between two periods' measure totals into its factors.

    `current` and `previous` map measure names (spend, impressions, clicks, conversions, leads, revenue) to
    totals over the same rows, e.g. rows of `metrics.kpis.summarize(...)`; extra keys are ignored. Every
    measure the identity uses must be above zero in both periods, else the result carries a `reason`.
    """
    if kpi not in _IDENTITIES:
        raise ValueError(f"cannot decompose {kpi!r}; use one of {', '.join(_IDENTITIES)}")
    meta = kpis.kpi(kpi)
    names = measures_used(kpi)
    reason = _missing_reason(previous, names, "in the previous period") or _missing_reason(
        current, names, "in this period")
    if reason is not None:
        return KpiDrivers(kpi, meta.label, meta.direction, _kpi_value(kpi, current), _kpi_value(kpi, previous),
                          None, None, reason=reason)
    value, value_prev = _kpi_value(kpi, current), _kpi_value(kpi, previous)
    change_log = math.log(value / value_prev)
    change_rel = value / value_prev - 1
    scale = _relative_scale(change_log)
    factors = []
    for name, exponent in _IDENTITIES[kpi]:
        spec = _FACTORS[name]
        now, before = _factor_value(spec, current), _factor_value(spec, previous)
        effect = exponent * math.log(now / before)
        factors.append(FactorEffect(
            name=name, label=spec.label, exponent=exponent, value=now, value_prev=before,
            change_rel=now / before - 1, effect_log=effect, effect_rel=effect * scale,
            share=effect / change_log if change_log else None,
        ))
    return KpiDrivers(kpi, meta.label, meta.direction, value, value_prev, change_rel, change_log, tuple(factors))


def _factor_value(spec: FactorSpec, totals: Mapping[str, Any]) -> float:
    return spec.scale * float(totals[spec.numerator]) / float(totals[spec.denominator])


def _kpi_value(kpi: str, totals: Mapping[str, Any]) -> float | None:
    """The KPI from measure totals (SPEC §4 formulas), None when a part is missing or the denominator is 0."""
    outcome, is_cost = _OUTCOME[kpi]
    spend, result = _num(totals.get("spend")), _num(totals.get(outcome))
    if spend is None or result is None:
        return None
    numerator, denominator = (spend, result) if is_cost else (result, spend)
    return numerator / denominator if denominator else None


# --- mix decomposition ---------------------------------------------------------------------------------------


def _log_mean(a: float, b: float) -> float:
    """The logarithmic mean (a − b) / ln(a / b) of two positive numbers; a when they are equal."""
    return a if a == b else (a - b) / math.log(a / b)


def decompose_mix(
    kpi: str,
    current: Mapping[str | None, Mapping[str, Any]],
    previous: Mapping[str | None, Mapping[str, Any]],
) -> MixDecomposition:
    """Split the change of `kpi` across platforms into budget mix and each platform's own change.

    `current` / `previous` map a platform to its measure totals (spend and the KPI's outcome) in each period;
    a platform may be missing from one of them. See the module docstring for the method.
    """
    if kpi not in _OUTCOME:
        raise ValueError(f"cannot decompose {kpi!r}; use one of {', '.join(_OUTCOME)}")
    outcome, is_cost = _OUTCOME[kpi]

    def empty(reason: str) -> MixDecomposition:
        return MixDecomposition(kpi, outcome, None, None, None, None, None, None, reason=reason)

    platforms = list(dict.fromkeys([*previous, *current]))
    periods = []
    for label, totals in (("in the previous period", previous), ("in this period", current)):
        spend = {p: _num((totals.get(p) or {}).get("spend")) or 0.0 for p in platforms}
        result = {p: _num((totals.get(p) or {}).get(outcome)) or 0.0 for p in platforms}
        free = [p for p in platforms if spend[p] <= 0 < result[p]]
        if free:
            names = ", ".join(platform_label(p) for p in free)
            return empty(f"{names} reported {outcome} without spend {label}, so the change cannot be split "
                         "by budget share.")
        total_spend, total_result = sum(spend.values()), sum(result.values())
        if total_spend <= 0 or total_result <= 0:
            return empty(f"There was no {'spend' if total_spend <= 0 else outcome} {label}, so the change "
                         "cannot be split by platform.")
        periods.append((spend, result, total_spend, total_result))
    (spend0, result0, s0, r0), (spend1, result1, s1, r1) = periods
    y0, y1 = r0 / s0, r1 / s1
    sign = -1.0 if is_cost else 1.0
    change_log = sign * math.log(y1 / y0)
    to_log = sign / _log_mean(y1, y0)
    scale = _relative_scale(change_log)
    y_mid = (y0 + y1) / 2
    parts = []
    for p in platforms:
        share0, share1 = spend0[p] / s0, spend1[p] / s1
        if share0 == 0 and share1 == 0:
            continue
        yield0 = result0[p] / spend0[p] if spend0[p] > 0 else None
        yield1 = result1[p] / spend1[p] if spend1[p] > 0 else None
        # A platform absent from one period takes the other period's yield: entering or leaving is all mix.
        a = yield0 if yield0 is not None else yield1
        b = yield1 if yield1 is not None else yield0
        mix = (share1 - share0) * ((a + b) / 2 - y_mid) * to_log
        own = (share0 + share1) / 2 * (b - a) * to_log
        parts.append(PlatformMix(p, share1, share0, yield1, yield0, mix, own, mix * scale, own * scale))
    mix_log = math.fsum(part.mix_effect_log for part in parts)
    own_log = math.fsum(part.own_effect_log for part in parts)
    return MixDecomposition(
        kpi, outcome, change_log, math.expm1(change_log), mix_log, own_log, mix_log * scale, own_log * scale,
        tuple(parts),
    )


# --- from the activity table ---------------------------------------------------------------------------------


def explainable_kpis(frame: pl.DataFrame | pl.LazyFrame, kpi_names: Sequence[str] = DECOMPOSABLE_KPIS) -> list[str]:
    """The KPIs of `kpi_names` whose every factor measure the data reports somewhere (others are left out
    rather than explained with "not reported")."""
    present = frame.lazy().select(pl.all().is_not_null().any()).collect().row(0, named=True)
    reported = {name for name, any_value in present.items() if any_value}
    return [k for k in kpi_names if set(measures_used(k)) <= reported]


def explain_changes(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    date_from: date,
    date_to: date,
    compare: Comparison = "previous",
    filters: Mapping[str, Sequence[str]] | None = None,
    kpi_names: Sequence[str] = DECOMPOSABLE_KPIS,
) -> tuple[KpiChange, ...]:
    """For each KPI: its factor decomposition overall and per platform, and the mix split, between
    [date_from, date_to] and the comparison period (SPEC §4's previous period or the same days a year before).

    Only rows reporting every measure of a KPI's identity count for it (see the module docstring); totals come
    from `metrics.kpis.summarize`, so filters and currency handling are the report's own.
    """
    lazy = frame.lazy()
    prev_from, prev_to = comparison_range(date_from, date_to, compare)
    periods = {"current": (date_from, date_to), "previous": (prev_from, prev_to)}
    in_periods = kpis.apply_filters(lazy, date_from=prev_from, date_to=date_to, filters=filters)
    rows_total = in_periods.select(pl.len()).collect().item()
    rows_previous = kpis.apply_filters(lazy, date_from=prev_from, date_to=prev_to, filters=filters) \
        .select(pl.len()).collect().item()
    days = (date_to - date_from).days + 1
    no_previous = (f"There is no data for {period_phrase(compare, days)} ({format_period(prev_from, prev_to)}) "
                   "to compare with.") if rows_previous == 0 else None
    changes = []
    for kpi in kpi_names:
        names = measures_used(kpi)
        complete = lazy.filter(pl.all_horizontal([pl.col(n).is_not_null() for n in names]))
        rows_used = kpis.apply_filters(complete, date_from=prev_from, date_to=date_to, filters=filters) \
            .select(pl.len()).collect().item()
        totals, by_platform = {}, {}
        for key, (start, end) in periods.items():
            options = dict(date_from=start, date_to=end, filters=filters)
            totals[key] = kpis.summarize(complete, (), **options).row(0, named=True)
            by_platform[key] = {row["platform"]: row for row in kpis.summarize(complete, ["platform"], **options)
                                .iter_rows(named=True)}
        total = decompose(kpi, totals["current"], totals["previous"])
        if no_previous:
            total = dataclasses.replace(total, reason=no_previous)
        platforms = tuple(
            (p, decompose(kpi, by_platform["current"].get(p, {}), by_platform["previous"].get(p, {})))
            for p in sorted(set(by_platform["current"]) | set(by_platform["previous"]), key=lambda p: (p is None, p))
        )
        mix = decompose_mix(kpi, by_platform["current"], by_platform["previous"])
        changes.append(KpiChange(
            kpi=kpi, period=(date_from, date_to), previous_period=(prev_from, prev_to), compare=compare,
            total=total, platforms=platforms, mix=mix, rows_used=rows_used, rows_total=rows_total,
            currency=totals["current"].get("currency"),
            based_on=_based_on(kpi, names, in_periods, rows_used, rows_total),
        ))
    return tuple(changes)


def _based_on(kpi: str, names: Sequence[str], rows: pl.LazyFrame, rows_used: int, rows_total: int) -> str | None:
    """Which part of the rows (of both periods) a KPI's explanation rests on, in `kpis.coverage_basis`'s
    words; None when all of them."""
    if not rows_total or rows_used >= rows_total:
        return None
    reports_all = pl.all_horizontal([pl.col(n).is_not_null() for n in names])
    share = (reports_all.sum() / pl.len()).alias(kpis.coverage_name(kpi))
    columns = rows.collect_schema().names()
    breakdowns = [(key, noun, rows.group_by(key).agg(share).collect())
                  for key, noun in (("source_file", "files"), ("platform", "platforms")) if key in columns]
    return kpis.coverage_basis(kpi, rows_used / rows_total, breakdowns)


# --- the sentence --------------------------------------------------------------------------------------------


def _pct(fraction: float) -> str:
    value = abs(fraction) * 100
    return (f"{value:,.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")) + " %"


def _signed(fraction: float) -> str:
    if abs(fraction) < FLAT:
        return "flat"
    return ("+" if fraction > 0 else "−") + _pct(fraction)


def _points(fraction: float) -> str:
    """A share of a relative change in percentage points: 0.15 → '15 points'."""
    value = abs(fraction) * 100
    text = f"{value:,.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")
    return f"{text} point" + ("" if text == "1" else "s")


def sentence(change: KpiChange) -> str:
    """One plain sentence about a KPI's change and what drove it, e.g.

    "CPA rose 18 % vs the previous 28 days: CPM +25 %, CTR −3 %, conversion rate +9 %. The largest part came
    from Facebook (15 points; its CPM +25 %); shifting budget between platforms added 2 points."

    Points are percentage points of the KPI's relative change (`effect_rel`).

    Platform names are plain text (the caller escapes them for Markdown).
    """
    total = change.total
    days = (change.period[1] - change.period[0]).days + 1
    period = period_phrase(change.compare, days)
    if total.reason is not None:
        return f"{total.label}: {total.reason}"
    rel = total.change_rel or 0.0
    if abs(rel) < FLAT:
        opening = f"{total.label} held steady vs {period}"
    else:
        opening = f"{total.label} {'rose' if rel > 0 else 'fell'} {_pct(rel)} vs {period}"
    factors = ", ".join(f"{f.label} {_signed(f.change_rel)}" for f in total.factors)
    text = f"{opening}: {factors}."
    mix = change.mix
    top = mix.top_platform
    if mix.reason is None and top is not None and abs(rel) >= FLAT and len(mix.platforms) > 1:
        own = dict(change.platforms).get(top.platform)
        driver = own.top_factor if own is not None else None
        detail = f"; its {driver.label} {_signed(driver.change_rel)}" if driver is not None else ""
        text += f" The largest part came from {platform_label(top.platform)} ({_points(top.own_effect_rel)}{detail})"
        if mix.mix_effect_rel is not None and abs(mix.mix_effect_rel) >= FLAT:
            verb = "added" if mix.mix_effect_rel * rel > 0 else "offset"
            text += f"; shifting budget between platforms {verb} {_points(mix.mix_effect_rel)}"
        text += "."
    return text
