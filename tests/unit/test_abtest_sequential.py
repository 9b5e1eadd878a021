"""Sequential (always-valid) inference and the Bayesian chance to beat."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy import stats as sps

from metrics.abtest import ProportionStatistic, analyze, from_counts
from metrics.abtest.bayesian import chance_to_beat, prob_beta_greater
from metrics.abtest.frequentist import Moments
from metrics.abtest.sequential import sequential_halfwidth, sequential_rho, sequential_test

# ----------------------------------------------------------------------------------------------------------------
# Sequential
# ----------------------------------------------------------------------------------------------------------------


def gbstats_halfwidth(variance: float, n: float, alpha: float, tuning: float) -> float:
    """GrowthBook's formula written out independently: s² = SE²·N, ρ from N*."""
    rho = math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)
    s2 = variance * n
    return math.sqrt(s2) * math.sqrt(2 * (n * rho**2 + 1) * math.log(math.sqrt(n * rho**2 + 1) / alpha)
                                     / (n * rho) ** 2)


def gbstats_p_value(estimate: float, variance: float, n: float, alpha: float, tuning: float) -> float:
    """gbstats' SequentialTwoSidedTTest p-value: 1 / e-value (Waudby-Smith et al. eq. 155), clamped to 1."""
    rho = math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)
    st2 = estimate**2 * n**2 / (variance * n)
    t = n * rho**2 + 1
    return min(1.0, math.sqrt(t) * math.exp(-rho**2 * st2 / (2 * t)))


def test_rho_known_value():
    # (−2 ln 0.05 + ln(−2 ln 0.05 + 1)) / 5000 = (5.99146 + 1.94462) / 5000
    assert sequential_rho(0.05, 5000) == pytest.approx(math.sqrt(7.93609 / 5000), rel=1e-5)


@pytest.mark.parametrize("variance, n, alpha, tuning", [
    (1e-4, 20000, 0.05, 5000), (3.2, 600, 0.01, 5000), (0.25, 10, 0.1, 100), (1e-6, 1e6, 0.05, 1e6),
])
def test_halfwidth_matches_formula(variance, n, alpha, tuning):
    assert sequential_halfwidth(variance * n, n, alpha, tuning) == pytest.approx(
        gbstats_halfwidth(variance, n, alpha, tuning), rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(estimate=st.floats(min_value=-1, max_value=1).filter(lambda x: abs(x) > 1e-6),
       se=st.floats(min_value=1e-4, max_value=1.0), n=st.integers(min_value=10, max_value=10**6),
       alpha=st.sampled_from([0.01, 0.05, 0.1]), tuning=st.sampled_from([100, 5000, 100000]))
def test_p_value_is_gbstats_closed_form_and_agrees_with_the_sequence(estimate, se, n, alpha, tuning):
    test = sequential_test(Moments(estimate, se, 100.0, n), alpha, tuning)
    expected = gbstats_p_value(estimate, se * se, n, alpha, tuning)
    assert test.p_value == pytest.approx(expected, rel=1e-9, abs=1e-300)
    excludes_zero = test.ci[0] > 0 or test.ci[1] < 0
    if abs(test.p_value - alpha) > 1e-9:
        assert excludes_zero == (test.p_value < alpha)


def test_sequential_interval_is_wider_than_fixed_and_converges():
    widths = []
    for scale in (1, 10, 100, 1000):
        data = from_counts([("A", 1000 * scale, 100 * scale), ("B", 1000 * scale, 112 * scale)])
        fixed, seq = analyze(data).comparisons[0], analyze(data, sequential=True).comparisons[0]
        assert seq.ci_rel[1] - seq.ci_rel[0] > fixed.ci_rel[1] - fixed.ci_rel[0]
        assert seq.ci_abs[1] - seq.ci_abs[0] > fixed.ci_abs[1] - fixed.ci_abs[0]
        assert seq.p_value >= fixed.p_value  # peeking-proof evidence is harder to get
        widths.append(seq.ci_rel[1] - seq.ci_rel[0])
    assert widths == sorted(widths, reverse=True)
    assert widths[-1] < 0.1 * widths[0]  # shrinks like 1/sqrt(N) up to a log factor


def test_sequential_significance_agrees_with_the_relative_interval():
    for n_b, x_b in [(5000, 600), (5000, 540), (5000, 500), (5000, 420)]:
        result = analyze(from_counts([("A", 5000, 500), ("B", n_b, x_b)]), sequential=True)
        c = result.comparisons[0]
        assert c.significant == (c.ci_rel[0] > 0 or c.ci_rel[1] < 0)
        assert result.to_dict()["sequential"] is True


# ----------------------------------------------------------------------------------------------------------------
# Bayesian chance to beat and expected loss
# ----------------------------------------------------------------------------------------------------------------


def integral_p_greater(a1, b1, a2, b2) -> float:
    """P(X1 > X2) = ∫ f1(x) F2(x) dx, tight adaptive quadrature (independent of the closed form)."""
    d1, d2 = sps.beta(a1, b1), sps.beta(a2, b2)
    value, err = integrate.quad(lambda x: d1.pdf(x) * d2.cdf(x), d1.ppf(1e-14), d1.isf(1e-14), limit=1000,
                                epsabs=1e-14, epsrel=1e-12, points=[d1.mean(), d2.mean()])
    assert err < 1e-9
    return value


def integral_loss(ac, bc, at, bt) -> float:
    """E[max(p_c − p_t, 0)] = ∫ f_c(x) (x F_t(x) − E[p_t] F_{t⁺}(x)) dx."""
    dc, dt, dtp = sps.beta(ac, bc), sps.beta(at, bt), sps.beta(at + 1, bt)
    mean_t = at / (at + bt)
    value, _ = integrate.quad(lambda x: dc.pdf(x) * (x * dt.cdf(x) - mean_t * dtp.cdf(x)), dc.ppf(1e-14),
                              dc.isf(1e-14), limit=1000, epsabs=1e-15, epsrel=1e-12)
    return value


@pytest.mark.parametrize("control, variant, chance, loss", [
    # values from the quadrature above, written to 5 decimals
    ((10000, 1000), (10000, 1150), 0.99969, 0.00000),
    ((10, 3), (12, 7), 0.89788, 0.00939),
    ((1000, 100), (1000, 110), 0.76661, 0.00187),
])
def test_chance_to_beat_known_answers(control, variant, chance, loss):
    c, v = ProportionStatistic(*control), ProportionStatistic(*variant)
    got_chance, got_loss = chance_to_beat(c, v)
    assert got_chance == pytest.approx(chance, abs=5e-6)
    assert got_loss == pytest.approx(loss, abs=5e-6)
    ac, bc = 1 + control[1], 1 + control[0] - control[1]
    av, bv = 1 + variant[1], 1 + variant[0] - variant[1]
    assert got_chance == pytest.approx(integral_p_greater(av, bv, ac, bc), abs=1e-9)
    assert got_loss == pytest.approx(integral_loss(ac, bc, av, bv), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(nc=st.integers(1, 3000), nv=st.integers(1, 3000), fc=st.floats(0, 1), fv=st.floats(0, 1))
def test_chance_to_beat_matches_integral(nc, nv, fc, fv):
    xc, xv = round(nc * fc), round(nv * fv)
    chance, _ = chance_to_beat(ProportionStatistic(nc, xc), ProportionStatistic(nv, xv))
    assert chance == pytest.approx(integral_p_greater(1 + xv, 1 + nv - xv, 1 + xc, 1 + nc - xc), abs=1e-6)


def test_fractional_counts_use_integration():
    # Ads platforms report fractional conversions (modelled / attributed): no closed form, same answer.
    chance = prob_beta_greater(1 + 110.25, 1 + 889.75, 1 + 100.5, 1 + 899.5)
    assert chance == pytest.approx(0.76066, abs=5e-6)


def test_large_counts_are_fast_and_exact():
    # 17k conversions per arm (the Udacity test): closed form over the smallest parameter.
    c = ProportionStatistic(147202, 17723)
    v = ProportionStatistic(147276, 17514)
    chance, loss = chance_to_beat(c, v)
    assert 0 < chance < 0.5 and loss > 0
    z = (v.mean - c.mean) / math.sqrt(c.mean * (1 - c.mean) / c.n + v.mean * (1 - v.mean) / v.n)
    assert chance == pytest.approx(sps.norm.cdf(z), abs=2e-3)  # normal approximation is good at this size


def test_lower_is_better_loss_is_the_other_tail():
    """For a lower-is-better rate the loss of choosing B is E[max(p_B − p_A, 0)], by quadrature."""
    control, variant = ProportionStatistic(200, 20), ProportionStatistic(210, 15)
    chance, loss = chance_to_beat(control, variant, "lower")
    assert chance == pytest.approx(1 - integral_p_greater(16, 196, 21, 181), abs=1e-9)
    # E[max(p_t − p_c, 0)] with the roles of the arms swapped in the integral
    assert loss == pytest.approx(integral_loss(16, 196, 21, 181), abs=1e-9)
    assert round(chance, 5) == 0.84733
