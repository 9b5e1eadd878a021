"""Always-valid (sequential) comparisons: gbstats ``SequentialTwoSidedTTest``.

Asymptotic confidence sequences of Waudby-Smith et al. (2023), "Time-uniform central limit theory and asymptotic
confidence sequences", arXiv:2103.06476v7 (eq. 9 for the half-width, eq. 155 for the p-value, eq. 161 for ρ).
The interval stays valid however often the test is looked at, so it is wider than a fixed-horizon one. The
tuning parameter N* is the total number of units (both arms) at which the sequence is tightest.
"""

from __future__ import annotations

import math

from metrics.abtest.frequentist import Moments, TestResult

#: GrowthBook's default N*: choose it near the total number of units expected at the end of the test.
DEFAULT_TUNING = 5000


def sequential_rho(alpha: float, tuning: float) -> float:
    """ρ = sqrt((−2 ln α + ln(−2 ln α + 1)) / N*) (two-sided; gbstats ``sequential_rho``)."""
    log_alpha = math.log(alpha)
    return math.sqrt((-2 * log_alpha + math.log(-2 * log_alpha + 1)) / tuning)


def sequential_halfwidth(s2: float, n: float, alpha: float, tuning: float = DEFAULT_TUNING,
                         rho: float | None = None) -> float:
    """sqrt(s²) · sqrt(2(nρ² + 1) / (n²ρ²) · ln(sqrt(nρ² + 1) / α)), s² = SE² · n the per-unit variance of the
    estimate and n the units of both arms (gbstats ``sequential_interval_halfwidth``). Computed in logs so a
    tiny α cannot underflow."""
    rho = sequential_rho(alpha, tuning) if rho is None else rho
    t = n * rho * rho + 1
    log_factor = 0.5 * (math.log(2 * t) - 2 * math.log(n * rho) + math.log(0.5 * math.log(t) - math.log(alpha)))
    return math.sqrt(s2) * math.exp(log_factor)


def sequential_p_value(estimate: float, standard_error: float, n: float, rho: float) -> float:
    """Always-valid p-value: 1 / e-value = sqrt(nρ² + 1) · exp(−ρ² · n·est²/SE² / (2(nρ² + 1))), at most 1."""
    t = n * rho * rho + 1
    st2 = estimate * estimate * n / (standard_error * standard_error)
    log_p = 0.5 * math.log(t) - rho * rho * st2 / (2 * t)
    return 1.0 if log_p >= 0 else math.exp(log_p)


def sequential_test(m: Moments, alpha: float, tuning: float = DEFAULT_TUNING) -> TestResult:
    """Confidence sequence and p-value of one effect at level α with ρ from (α, N*), as gbstats configures
    ``SequentialTwoSidedTTest(alpha=α)``."""
    if m.error is not None or m.estimate is None:
        return TestResult(m.estimate, None, None, m.error)
    rho = sequential_rho(alpha, tuning)
    half = sequential_halfwidth(m.standard_error ** 2 * m.n, m.n, alpha, tuning, rho)
    p_value = sequential_p_value(m.estimate, m.standard_error, m.n, rho)
    return TestResult(m.estimate, (m.estimate - half, m.estimate + half), p_value)
