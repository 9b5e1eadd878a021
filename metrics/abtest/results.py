"""Frozen results of an A/B analysis and their JSON (SPEC §6). Nothing here computes statistics.

Warnings are values (gbstats returns error codes the same way): a stable ``code`` from :data:`WarningCode`, one
plain ``message`` sentence, optionally the ``variant`` it concerns and a ``count`` (how many units or rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from metrics.abtest.kinds import kind_spec
from metrics.abtest.statistics import MetricKind

Direction = Literal["higher", "lower"]
Correction = Literal["holm", "bh", "none"]
Interval = tuple[float, float]
TestError = Literal["no_variance", "zero_baseline"]
WarningCode = Literal[
    "rows_ignored",  # rows without a readable outcome (or numerator/denominator) were left out
    "missing_unit_id",  # rows without a unit id were left out (with --unit)
    "units_in_several_arms",  # units seen in more than one arm were dropped
    "repeated_units",  # units with more than one row were aggregated
    "control_missing",  # the control is not among the variants
    "no_variants",  # only one variant: nothing to compare
    "empty_arm",  # an arm without units
    "invalid_counts",  # conversions above visitors, negative or non-finite sums
    "too_few_units",  # an arm with fewer than 2 units: no spread
    "no_variance",  # an arm without spread (everyone converted, a constant value)
    "zero_baseline",  # the control's mean is 0 (or undefined): no relative lift
    "small_sample",  # fewer than 100 units in an arm
    "few_conversions",  # fewer than 25 conversions in an arm
    "large_lift",  # |relative lift| above 50 %
    "srm",  # sample-ratio mismatch
    "expected_split_invalid",  # an expected split that does not fit the variants
]
WARNING_CODES: tuple[str, ...] = WarningCode.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AbWarning:
    code: WarningCode
    message: str
    variant: str | None = None
    count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.variant is not None:
            out["variant"] = self.variant
        if self.count is not None:
            out["count"] = self.count
        return out


@dataclass(frozen=True)
class VariantSummary:
    """One arm as shown. ``value``: the conversion rate (a fraction), the mean, or the ratio Σnum/Σden; ``ci`` its
    interval (Wilson for a rate, t for a mean or a ratio). ``successes`` only for proportions; ``sd`` (per unit;
    for a ratio by the delta method) for means and ratios; ``numerator``/``denominator`` (the sums) only for
    ratios. None where undefined. Which of them the JSON has is the kind's (``kinds.MetricKindSpec``)."""

    name: str
    kind: MetricKind
    n: float
    value: float | None
    ci: Interval | None
    successes: float | None = None
    sd: float | None = None
    numerator: float | None = None
    denominator: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "n": _count(self.n)}
        for key, attribute, count in kind_spec(self.kind).json_fields:
            value = getattr(self, attribute)
            out[key] = _count(value) if count else _clean(value)
        out["ci"] = _clean_interval(self.ci)
        return out


@dataclass(frozen=True)
class Comparison:
    """One variant against the control.

    lift_rel: (mean_t − mean_c) / |mean_c| (a fraction); ci_rel its interval and p_value its two-sided p-value —
    this relative test decides. ci_rel_adjusted: the interval at the level adjusted for several comparisons
    (what the verdict quotes; equal to ci_rel for one comparison or no correction). lift_abs: mean_t − mean_c in
    the metric's units (a rate difference is a fraction: 0.015 = 1.5 points), ci_abs its unpooled interval.
    p_value_adjusted: after Holm or Benjamini–Hochberg. significant: p_value_adjusted < α. chance_to_beat and
    expected_loss: the Bayesian panel (proportions only), following the metric's direction. se_rel, se_abs: the
    standard errors of the two effects (for charts; not part of the JSON). In sequential mode intervals and
    p-values are always valid. None where undefined (with a warning).
    """

    variant: str
    kind: MetricKind
    lift_abs: float | None = None
    ci_abs: Interval | None = None
    lift_rel: float | None = None
    ci_rel: Interval | None = None
    ci_rel_adjusted: Interval | None = None
    p_value: float | None = None
    p_value_adjusted: float | None = None
    significant: bool = False
    chance_to_beat: float | None = None
    expected_loss: float | None = None
    se_rel: float | None = None
    se_abs: float | None = None
    warnings: tuple[AbWarning, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "variant": self.variant,
            "lift_abs": _clean(self.lift_abs),
            "ci_abs": _clean_interval(self.ci_abs),
            "lift_rel": _clean(self.lift_rel),
            "ci_rel": _clean_interval(self.ci_rel),
            "ci_rel_adjusted": _clean_interval(self.ci_rel_adjusted),
            "p_value": _clean(self.p_value),
            "p_value_adjusted": _clean(self.p_value_adjusted),
        }
        if kind_spec(self.kind).bayesian:
            out["chance_to_beat"] = _clean(self.chance_to_beat)
            out["expected_loss"] = _clean(self.expected_loss)
        out["significant"] = bool(self.significant)
        return out


@dataclass(frozen=True)
class SrmCheck:
    """Sample-ratio check: Pearson chi-square of the units per variant against ``expected_split`` (percent per
    variant in the result's order). p_value None when it cannot be computed; mismatch: p < 0.001."""

    p_value: float | None
    expected_split: tuple[float, ...]
    mismatch: bool

    def to_dict(self) -> dict[str, Any]:
        return {"p_value": _clean(self.p_value), "expected_split": [_clean(x) for x in self.expected_split],
                "mismatch": bool(self.mismatch)}


@dataclass(frozen=True)
class Capping:
    """Per-unit values above ``value`` (the ``percentile``-th percentile of the pooled per-unit values, linear
    interpolation) were set to ``value`` before the analysis; ``units`` of them were capped."""

    percentile: float
    value: float
    units: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"percentile": _count(self.percentile), "value": _clean(self.value)}


@dataclass(frozen=True)
class AbResult:
    """A whole A/B analysis; ``to_dict()`` is the SPEC §6 JSON.

    variants: control first, then the others in natural order; comparisons: one per other variant, same order.
    alpha_adjusted: the level of ``ci_rel_adjusted``. metric: a label for the metric when the input named it
    (a column, or "numerator / denominator"). tuning: the sequential N* (None when not sequential).
    """

    metric_kind: MetricKind
    control: str
    direction: Direction
    alpha: float
    alpha_adjusted: float
    sequential: bool
    correction: Correction
    variants: tuple[VariantSummary, ...]
    comparisons: tuple[Comparison, ...]
    srm: SrmCheck
    warnings: tuple[AbWarning, ...]
    tuning: float | None = None
    metric: str | None = None
    capping: Capping | None = None

    def comparison(self, variant: str) -> Comparison | None:
        return next((c for c in self.comparisons if c.variant == variant), None)

    def variant(self, name: str) -> VariantSummary | None:
        return next((v for v in self.variants if v.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "metric_kind": self.metric_kind,
            "metric": self.metric,
            "control": self.control,
            "direction": self.direction,
            "alpha": self.alpha,
            "sequential": self.sequential,
        }
        if self.sequential:
            out["tuning"] = _count(self.tuning)
        out |= {
            "correction": self.correction,
            "variants": [v.to_dict() for v in self.variants],
            "comparisons": [c.to_dict() for c in self.comparisons],
            "srm": self.srm.to_dict(),
            "warnings": [w.to_dict() for w in self.warnings],
        }
        if self.capping is not None:
            out["capping"] = self.capping.to_dict()
        return out


def _clean(value: float | None) -> float | None:
    """JSON has no NaN or infinity: both become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _count(value: float | None) -> int | float | None:
    """Counts as ints when whole (JSON 1000, not 1000.0)."""
    value = _clean(value)
    if value is None:
        return None
    return int(value) if value.is_integer() else value


def _clean_interval(ci: Interval | None) -> list[float] | None:
    if ci is None:
        return None
    lo, hi = _clean(ci[0]), _clean(ci[1])
    return None if lo is None or hi is None else [lo, hi]
