"""The Bayesian panel for conversion rates: Beta(1, 1) priors, exact chance to beat and expected loss.

Shown apart from the frequentist verdict. Exact means closed-form sums over Beta functions (numerical
integration for non-integer counts), not Monte Carlo, so the numbers are reproducible to ~1e-12.
"Better" follows the metric's direction: for a lower-is-better rate (bounce, unsubscribe) the chance to beat is
P(p_variant < p_control) and the loss is what choosing the variant costs if its rate is in fact higher.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, special
from scipy import stats as sps

from metrics.abtest.results import Direction
from metrics.abtest.statistics import ProportionStatistic

# Below this many terms the Beta closed form is a fast exact sum; above it, numerical integration.
_MAX_CLOSED_FORM_TERMS = 2_000_000


def _prob_greater_closed(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(X1 > X2) for X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2), a1 a positive integer (Evan Miller's closed form):
    Σ_{i<a1} B(a2+i, b1+b2) / ((b1+i) B(1+i, b1) B(a2, b2)), summed in logs."""
    i = np.arange(int(a1), dtype=float)
    log_terms = (special.betaln(a2 + i, b1 + b2) - np.log(b1 + i) - special.betaln(1 + i, b1)
                 - special.betaln(a2, b2))
    return float(np.exp(special.logsumexp(log_terms)))


def _prob_greater_quad(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(X1 > X2) = ∫ f1(x) F2(x) dx by adaptive quadrature over the region where X1 has mass."""
    d1, d2 = sps.beta(a1, b1), sps.beta(a2, b2)
    lo, hi = d1.ppf(1e-15), d1.isf(1e-15)
    points = [p for p in (d1.mean(), d2.mean()) if lo < p < hi]
    value, _ = integrate.quad(lambda x: d1.pdf(x) * d2.cdf(x), lo, hi, points=points or None, limit=500,
                              epsabs=1e-12, epsrel=1e-10)
    return float(min(max(value, 0.0), 1.0))


def prob_beta_greater(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(X1 > X2) for independent X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2), exact to ~1e-12.

    Sums over whichever integer parameter is smallest (using P(X1 > X2) = 1 − P(X2 > X1) = P(1 − X1 < 1 − X2)),
    and integrates numerically when no parameter is a usable integer (fractional conversions)."""
    options = []
    if float(a1).is_integer():
        options.append((a1, lambda: _prob_greater_closed(a1, b1, a2, b2)))
    if float(a2).is_integer():
        options.append((a2, lambda: 1 - _prob_greater_closed(a2, b2, a1, b1)))
    if float(b2).is_integer():  # P(X1 > X2) = P(Y2 > Y1), Y = 1 − X ~ Beta(b, a)
        options.append((b2, lambda: _prob_greater_closed(b2, a2, b1, a1)))
    if float(b1).is_integer():
        options.append((b1, lambda: 1 - _prob_greater_closed(b1, a1, b2, a2)))
    options = [o for o in options if o[0] <= _MAX_CLOSED_FORM_TERMS]
    value = min(options, key=lambda o: o[0])[1]() if options else _prob_greater_quad(a1, b1, a2, b2)
    return float(min(max(value, 0.0), 1.0))


def chance_to_beat(control: ProportionStatistic, variant: ProportionStatistic,
                   direction: Direction = "higher") -> tuple[float, float]:
    """(chance_to_beat, expected_loss) of ``variant`` against ``control`` with Beta(1, 1) priors.

    chance_to_beat: P(variant better than control), a probability. expected_loss: E[max(worse − better, 0)] of
    choosing the variant, in rate units (a fraction) — E[max(p_c − p_t, 0)] when higher is better,
    E[max(p_t − p_c, 0)] when lower is better. Uses E[A·1{A>B}] = E[A] · P(A⁺ > B) with A⁺ ~ Beta(α_A + 1, β_A).
    """
    ac, bc = 1 + control.sum, 1 + control.n - control.sum
    at, bt = 1 + variant.sum, 1 + variant.n - variant.sum
    mean_c, mean_t = ac / (ac + bc), at / (at + bt)
    greater = prob_beta_greater(at, bt, ac, bc)  # P(p_t > p_c)
    if direction == "higher":
        loss = mean_c * prob_beta_greater(ac + 1, bc, at, bt) - mean_t * prob_beta_greater(ac, bc, at + 1, bt)
        return greater, max(loss, 0.0)
    loss = mean_t * prob_beta_greater(at + 1, bt, ac, bc) - mean_c * prob_beta_greater(at, bt, ac + 1, bc)
    return 1.0 - greater, max(loss, 0.0)
