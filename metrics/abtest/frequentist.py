"""Fixed-horizon comparisons of two arms, blind to the metric kind (gbstats ``TwoSidedTTest``).

Each arm only needs ``n``, ``mean`` and ``variance`` (see ``statistics``). Conventions, as gbstats:

* relative effect (mean_t − mean_c) / |mean_c| with the delta-method variance
  Var_t/(n_t·μ_c²) + Var_c·μ_t²/(n_c·μ_c⁴); absolute effect mean_t − mean_c with the unpooled variance
  Var_t/n_t + Var_c/n_c;
* Welch–Satterthwaite degrees of freedom from the arms' variances; two-sided p-value and interval from that t
  distribution.

A test is undefined — an ``error`` code instead of numbers — when an arm has no variance (fewer than two units,
everyone converted, a constant value) or when the relative effect's baseline is 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as sps

from metrics.abtest.results import Correction, Interval, TestError
from metrics.abtest.statistics import Statistic


@dataclass(frozen=True)
class Moments:
    """The estimate of one effect and what its tests need: standard error, degrees of freedom and the pairwise
    sample size (units of both arms). ``error`` says why there is no test (the numbers are then None)."""

    estimate: float | None
    standard_error: float | None
    dof: float | None
    n: float
    error: TestError | None = None


@dataclass(frozen=True)
class TestResult:
    """One two-sided test of one effect: its ``estimate``, ``ci`` and ``p_value`` (None with an ``error``)."""

    estimate: float | None
    ci: Interval | None
    p_value: float | None
    error: TestError | None = None


def welch_dof(control: Statistic, variant: Statistic) -> float | None:
    """Welch–Satterthwaite degrees of freedom from the per-unit variances (gbstats ``TTest.dof``)."""
    a, b = variant.variance / variant.n, control.variance / control.n
    den = a * a / (variant.n - 1) + b * b / (control.n - 1)
    return (a + b) ** 2 / den if den > 0 else None


def moments(control: Statistic, variant: Statistic, *, relative: bool) -> Moments:
    """Estimate, standard error and degrees of freedom of the relative (``relative=True``) or absolute effect
    of ``variant`` over ``control`` (gbstats ``EffectMoments``: zero variance is checked before a zero baseline,
    and a zero baseline stops the absolute effect as well)."""
    n = control.n + variant.n
    mean_c, mean_t = control.mean, variant.mean
    if control.variance <= 0 or variant.variance <= 0 or mean_c is None or mean_t is None:
        return Moments(None, None, None, n, "no_variance")
    if mean_c == 0:  # gbstats refuses the absolute effect too when the baseline is 0
        return Moments(None, None, None, n, "zero_baseline")
    try:
        if relative:
            ratio = mean_t / mean_c  # written with the ratio so that tiny means do not underflow
            estimate = (mean_t - mean_c) / abs(mean_c)
            variance = (variant.variance / variant.n + control.variance / control.n * ratio * ratio) / mean_c ** 2
        else:
            estimate = mean_t - mean_c
            variance = variant.variance / variant.n + control.variance / control.n
    except (ZeroDivisionError, OverflowError):  # a baseline so close to 0 that the relative effect is unbounded
        return Moments(None, None, None, n, "zero_baseline")
    dof = welch_dof(control, variant)
    if not (math.isfinite(variance) and variance > 0) or dof is None or not math.isfinite(estimate):
        return Moments(None, None, None, n, "no_variance")
    return Moments(estimate, math.sqrt(variance), dof, n)


def t_test(m: Moments, alpha: float) -> TestResult:
    """Two-sided t test and (1 − α) interval of one effect (gbstats ``TwoSidedTTest``)."""
    if m.error is not None or m.estimate is None:
        return TestResult(m.estimate, None, None, m.error)
    half = float(sps.t.ppf(1 - alpha / 2, m.dof)) * m.standard_error
    # 2·sf rather than gbstats' 2·(1 − cdf): the same number, without losing tiny p-values to rounding.
    p_value = float(min(1.0, 2 * sps.t.sf(abs(m.estimate / m.standard_error), m.dof)))
    return TestResult(m.estimate, (m.estimate - half, m.estimate + half), p_value)


def two_sided_ttest(control: Statistic, variant: Statistic, *, alpha: float = 0.05,
                    relative: bool = True) -> TestResult:
    """The relative (default) or absolute effect of ``variant`` over ``control`` with its two-sided test."""
    return t_test(moments(control, variant, relative=relative), alpha)


def interval(m: Moments, alpha: float) -> Interval | None:
    """The (1 − α) t interval of an effect (for the adjusted α of several comparisons)."""
    return t_test(m, alpha).ci


def adjust_p_values(p_values: Sequence[float | None], correction: Correction = "holm") -> list[float | None]:
    """Holm or Benjamini–Hochberg adjusted p-values over the entries that are not None (None stays None);
    "none" returns the input. Equal to statsmodels' ``multipletests(method="holm" | "fdr_bh")``."""
    present = [i for i, p in enumerate(p_values) if p is not None]
    out: list[float | None] = list(p_values)
    m = len(present)
    if correction == "none" or m < 2:
        return out
    order = sorted(present, key=lambda i: p_values[i])
    if correction == "holm":
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (m - rank) * p_values[i]))
            out[i] = running
    else:
        running = 1.0
        for rank in range(m - 1, -1, -1):
            i = order[rank]
            running = min(running, m / (rank + 1) * p_values[i])
            out[i] = min(running, 1.0)
    return out


def adjusted_alpha(alpha: float, correction: Correction, adjusted: Sequence[float | None]) -> float:
    """The level of the intervals quoted next to adjusted p-values (SPEC §5): Bonferroni α/m for Holm, the
    Benjamini–Yekutieli false-coverage level α·R/m for BH (R = max(1, rejections)), α for "none". m counts the
    comparisons that have a p-value."""
    tested = [p for p in adjusted if p is not None]
    m = len(tested)
    if correction == "none" or m < 2:
        return alpha
    if correction == "holm":
        return alpha / m
    rejections = sum(1 for p in tested if p < alpha)
    return alpha * max(1, rejections) / m
