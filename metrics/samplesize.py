"""Sample-size planning for A/B tests (SPEC §5): how many units per variant a test needs, and the reverse — which
lift a test of a given size can detect.

Pure functions, no streamlit. Rates are fractions (0.10 = 10 %). Two proportions use the pooled (Fleiss)
normal-approximation formula of ``statsmodels.stats.proportion.samplesize_proportions_2indep_onetail``
(two-sided α, the power of the far tail ignored): 10 % → 12 % at α 0.05 and power 0.8 needs 3,841 per arm.
Means use the two-sample t test, ``statsmodels.stats.power.tt_ind_solve_power`` with effect size MDE / sd.

Several variants (each compared with one control): α is Bonferroni-split over the ``variants − 1``
comparisons. Bonferroni is the first (strictest) step of Holm, the engine's default correction, so a plan made
this way keeps its power whatever Holm does with the other comparisons. With two variants nothing is split and
the answer equals statsmodels exactly.

Invalid arguments (a baseline outside (0, 1), a target rate outside (0, 1), a zero MDE, power outside (0, 1))
raise ``ValueError`` with one plain sentence: they are caller mistakes, not data.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from scipy import optimize
from statsmodels.stats.power import tt_ind_solve_power
from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail

# Rounding guard: a formula value of 3841.0000000001 is 3841 users, not 3842.
_CEIL_TOLERANCE = 1e-9


@dataclass(frozen=True)
class SampleSizePlan:
    """A sample-size answer.

    per_variant: units (users, visitors) each variant needs.
    total: per_variant × variants.
    days: ceil(total / daily_traffic) when daily traffic (all variants together, units per day) was given, else None.
    alpha_per_comparison: the α each comparison is tested at (α / (variants − 1), Bonferroni).
    """

    per_variant: int
    total: int
    days: int | None
    variants: int
    alpha_per_comparison: float

    def to_dict(self) -> dict[str, int]:
        """SPEC §6 JSON: {"per_variant", "total", "days"?} (days only when daily traffic was given)."""
        out: dict[str, int] = {"per_variant": self.per_variant, "total": self.total}
        if self.days is not None:
            out["days"] = self.days
        return out


def _ceil(value: float) -> int:
    return int(math.ceil(value - _CEIL_TOLERANCE))


def _check_common(alpha: float, power: float, variants: int, daily_traffic: float | None) -> None:
    if not 0 < alpha < 1:
        raise ValueError("The significance level alpha must be between 0 and 1, for example 0.05.")
    if not 0 < power < 1:
        raise ValueError("The power must be between 0 and 1, for example 0.8.")
    if int(variants) != variants or variants < 2:
        raise ValueError("A test needs at least 2 variants (a control and one challenger).")
    if daily_traffic is not None and not daily_traffic > 0:
        raise ValueError("Daily traffic must be a positive number of users per day across all variants.")


def target_rate(baseline: float, mde: float, relative: bool = False) -> float:
    """The challenger's rate the test should detect: baseline × (1 + mde) if relative, else baseline + mde."""
    return baseline * (1 + mde) if relative else baseline + mde


def samplesize_proportions(
    baseline: float,
    mde: float,
    *,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
    daily_traffic: float | None = None,
) -> SampleSizePlan:
    """Units per variant to detect a change of a conversion rate, two-sided.

    baseline: the control's rate as a fraction (0.10). mde: the minimum detectable effect, absolute in rate
    units (0.02 = two percentage points) or, with ``relative=True``, a fraction of the baseline (0.2 = +20 %).
    A negative MDE plans for a drop. daily_traffic: users per day across all variants → ``days``.
    """
    _check_common(alpha, power, variants, daily_traffic)
    if not 0 < baseline < 1:
        raise ValueError("The baseline rate must be a fraction between 0 and 1, for example 0.10 for 10 %.")
    target = target_rate(baseline, mde, relative)
    diff = target - baseline
    if diff == 0 or not math.isfinite(diff):
        raise ValueError("The minimum detectable effect must not be zero.")
    if not 0 < target < 1:
        raise ValueError(f"The rate to detect ({target:.4g}) must stay between 0 and 1; use a smaller effect.")
    alpha_each = alpha / (variants - 1)
    # statsmodels: prop2 is the control's rate, diff = prop1 − prop2 (the sign does not matter two-sided).
    n = samplesize_proportions_2indep_onetail(diff, baseline, power, ratio=1, alpha=alpha_each,
                                              alternative="two-sided")
    per_variant = _ceil(float(n))
    return _plan(per_variant, variants, daily_traffic, alpha_each)


def samplesize_means(
    sd: float,
    mde: float,
    *,
    baseline: float | None = None,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
    daily_traffic: float | None = None,
) -> SampleSizePlan:
    """Units per variant to detect a change ``mde`` of a mean whose per-unit standard deviation is ``sd``.

    mde: absolute, in the metric's units (3.0 = three currency units more per order) or, with ``relative=True``,
    a fraction of ``baseline`` (the control's mean; 0.1 = +10 %, −0.2 = a 20 % drop). Two-sample t test
    (statsmodels ``tt_ind_solve_power``, two-sided) with effect size |mde| / sd; α is Bonferroni-split over
    variants − 1 comparisons as for proportions.
    """
    _check_common(alpha, power, variants, daily_traffic)
    if not sd > 0 or not math.isfinite(sd):
        raise ValueError("The standard deviation must be a positive number.")
    if relative:
        if baseline is None or not math.isfinite(baseline) or baseline == 0:
            raise ValueError("A relative effect on a mean needs the baseline mean (not 0) to scale it.")
        mde = abs(baseline) * mde
    if mde == 0 or not math.isfinite(mde):
        raise ValueError("The minimum detectable effect must not be zero.")
    alpha_each = alpha / (variants - 1)
    with warnings.catch_warnings():  # statsmodels warns and returns nan where its root finder gives up
        warnings.simplefilter("ignore")
        n = float(tt_ind_solve_power(effect_size=abs(mde) / sd, alpha=alpha_each, power=power, ratio=1.0,
                                     alternative="two-sided"))
    if not math.isfinite(n):
        raise ValueError("The effect is too small against the spread to plan a test for; use a larger effect.")
    return _plan(_ceil(n), variants, daily_traffic, alpha_each)


@dataclass(frozen=True)
class Detectable:
    """The smallest effect a test of ``per_variant`` units per arm detects with the requested power:
    ``relative`` (a fraction of the baseline, upward) and ``absolute`` (rate points, or the metric's units)."""

    per_variant: int
    relative: float
    absolute: float


def detectable_effect(
    per_variant: float,
    *,
    baseline: float,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
) -> Detectable:
    """The reverse of the planner: with ``per_variant`` units in each arm (daily traffic × days / variants),
    which upward lift is detectable? Proportions (``sd`` None): the rate p₁ > baseline at which
    :func:`samplesize_proportions` needs exactly ``per_variant``; means: the t test's detectable effect size × sd.
    Raises ValueError (one sentence) when no lift is detectable (too few units, or the rate would pass 100 %)."""
    _check_common(alpha, power, variants, None)
    if not per_variant >= 2:
        raise ValueError("A test needs at least 2 units per variant; give more traffic or more days.")
    alpha_each = alpha / (variants - 1)
    if sd is not None:
        if not sd > 0 or not math.isfinite(sd):
            raise ValueError("The standard deviation must be a positive number.")
        effect = tt_ind_solve_power(effect_size=None, nobs1=float(per_variant), alpha=alpha_each, power=power,
                                    ratio=1.0, alternative="two-sided")
        absolute = float(effect) * sd
        relative = absolute / abs(baseline) if baseline else float("nan")
        return Detectable(int(per_variant), relative, absolute)
    if not 0 < baseline < 1:
        raise ValueError("The baseline rate must be a fraction between 0 and 1, for example 0.10 for 10 %.")

    def gap(diff: float) -> float:
        return samplesize_proportions_2indep_onetail(diff, baseline, power, ratio=1, alpha=alpha_each,
                                                     alternative="two-sided") - per_variant

    top = (1 - baseline) * (1 - 1e-9)
    if gap(top) > 0:
        raise ValueError(f"{int(per_variant):,} units per variant cannot detect any lift from "
                         f"{baseline:.2%}; the test needs more traffic or more days.")
    diff = optimize.brentq(gap, 1e-12, top, xtol=1e-12, rtol=1e-10)
    return Detectable(int(per_variant), diff / baseline, diff)


def _plan(per_variant: int, variants: int, daily_traffic: float | None, alpha_each: float) -> SampleSizePlan:
    total = per_variant * int(variants)
    days = _ceil(total / daily_traffic) if daily_traffic is not None else None
    return SampleSizePlan(per_variant=per_variant, total=total, days=days, variants=int(variants),
                          alpha_per_comparison=alpha_each)


def samplesize_curve(
    baseline: float,
    mdes: list[float] | None = None,
    *,
    relative: bool = True,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
) -> list[tuple[float, int]]:
    """(mde, per-variant n) points for a chart of "smaller effects need more units".

    mdes default to relative lifts of 1 % … 50 % (or, with ``relative=False``, the same fractions of the
    baseline expressed in absolute units). With ``sd`` the points plan a mean (``baseline`` is the mean), else a
    rate. Points that cannot be planned (a target rate outside (0, 1)) are skipped, so the list may be shorter
    than ``mdes``. Sorted by mde.
    """
    if mdes is None:
        grid = [0.01, 0.02, 0.03, 0.05, 0.075, 0.10, 0.15, 0.20, 0.30, 0.50]
        mdes = grid if relative else [round(abs(baseline) * g, 10) for g in grid]
    points: list[tuple[float, int]] = []
    for mde in sorted(mdes):
        try:
            if sd is None:
                plan = samplesize_proportions(baseline, mde, relative=relative, alpha=alpha, power=power,
                                              variants=variants)
            else:
                plan = samplesize_means(sd, mde, baseline=baseline, relative=relative, alpha=alpha, power=power,
                                        variants=variants)
        except ValueError:
            continue
        points.append((float(mde), plan.per_variant))
    return points
