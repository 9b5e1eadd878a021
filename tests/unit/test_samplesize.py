"""Sample-size planner: equal to statsmodels for two variants, Bonferroni-split α for more, days from traffic."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.power import tt_ind_solve_power
from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail

from metrics.samplesize import detectable_effect, samplesize_curve, samplesize_means, samplesize_proportions


def test_spec_example_3841_per_arm():
    plan = samplesize_proportions(0.10, 0.02)
    assert plan.to_dict() == {"per_variant": 3841, "total": 7682}


@pytest.mark.parametrize("baseline, mde, relative, expected", [
    (0.10, 0.02, False, 3841),   # statsmodels 3840.84748
    (0.10, 0.20, True, 3841),    # +20 % of 10 % is the same 2 points
    (0.05, 0.01, False, 8158),   # statsmodels 8157.73145
    (0.30, -0.03, False, 3554),  # a drop; statsmodels 3553.05521
])
def test_two_variants_equal_statsmodels(baseline, mde, relative, expected):
    plan = samplesize_proportions(baseline, mde, relative=relative)
    diff = baseline * mde if relative else mde
    assert plan.per_variant == expected
    assert plan.per_variant == math.ceil(samplesize_proportions_2indep_onetail(diff, baseline, 0.8, alpha=0.05))


@settings(max_examples=100, deadline=None)
@given(baseline=st.floats(0.01, 0.9), lift=st.floats(0.02, 0.5), power=st.floats(0.5, 0.95),
       alpha=st.sampled_from([0.01, 0.05, 0.1]))
def test_property_equals_statsmodels(baseline, lift, power, alpha):
    diff = baseline * lift
    if baseline + diff >= 1:
        return
    expected = samplesize_proportions_2indep_onetail(diff, baseline, power, alpha=alpha)
    got = samplesize_proportions(baseline, lift, relative=True, alpha=alpha, power=power).per_variant
    assert got == math.ceil(expected - 1e-9)


def test_more_variants_split_alpha_bonferroni():
    plan = samplesize_proportions(0.10, 0.02, variants=3)
    # α 0.05 over 2 comparisons → 0.025 each: statsmodels 4651.41788
    assert plan.per_variant == 4652 and plan.total == 3 * 4652
    assert plan.alpha_per_comparison == pytest.approx(0.025)


def test_days_from_daily_traffic():
    # 7,682 users at 1,000 a day across both variants → 8 days (7.682 rounded up)
    assert samplesize_proportions(0.10, 0.02, daily_traffic=1000).to_dict() == {
        "per_variant": 3841, "total": 7682, "days": 8}
    assert samplesize_proportions(0.10, 0.02, daily_traffic=7682).days == 1


@pytest.mark.parametrize("kwargs", [
    dict(baseline=0.0, mde=0.01), dict(baseline=1.2, mde=0.01), dict(baseline=0.1, mde=0.0),
    dict(baseline=0.9, mde=0.2), dict(baseline=0.1, mde=0.02, power=1.0), dict(baseline=0.1, mde=0.02, alpha=0),
    dict(baseline=0.1, mde=0.02, variants=1), dict(baseline=0.1, mde=0.02, daily_traffic=0),
])
def test_invalid_arguments_raise_value_error_with_a_sentence(kwargs):
    with pytest.raises(ValueError, match=r"\.$"):
        samplesize_proportions(**kwargs)


@pytest.mark.parametrize("sd, mde, baseline, relative, alpha, power, variants", [
    (16.0, 3.0, None, False, 0.05, 0.8, 2),
    (30.0, 0.05, 52.0, True, 0.05, 0.8, 2),     # +5 % of an average order value of 52
    (30.0, -0.2, 52.0, True, 0.01, 0.9, 2),     # a 20 % drop
    (5.0, 0.5, None, False, 0.05, 0.8, 4),      # Bonferroni α/3
    (1.0, 0.3, None, False, 0.1, 0.95, 3),
])
def test_means_planner_equals_statsmodels_t_test(sd, mde, baseline, relative, alpha, power, variants):
    plan = samplesize_means(sd, mde, baseline=baseline, relative=relative, alpha=alpha, power=power,
                            variants=variants)
    effect = abs(baseline * mde if relative else mde) / sd
    expected = tt_ind_solve_power(effect_size=effect, alpha=alpha / (variants - 1), power=power, ratio=1.0)
    assert plan.per_variant == math.ceil(expected)
    assert plan.total == plan.per_variant * variants


def test_means_planner_refuses_what_it_cannot_plan():
    for kwargs in (dict(sd=0.0, mde=1.0), dict(sd=1.0, mde=0.0), dict(sd=1.0, mde=0.1, relative=True),
                   dict(sd=1e6, mde=1e-9)):
        with pytest.raises(ValueError, match=r"\.$"):
            samplesize_means(**kwargs)


@pytest.mark.parametrize("days, daily, baseline", [(14, 1000, 0.10), (30, 400, 0.03), (7, 20000, 0.5)])
def test_detectable_lift_in_n_days_inverts_the_planner(days, daily, baseline):
    per_variant = days * daily / 2
    found = detectable_effect(per_variant, baseline=baseline)
    n = samplesize_proportions_2indep_onetail(found.absolute, baseline, 0.8, alpha=0.05)
    assert n == pytest.approx(per_variant, rel=1e-6)
    assert found.relative == pytest.approx(found.absolute / baseline)


def test_detectable_lift_of_a_mean_and_too_little_traffic():
    found = detectable_effect(448, baseline=50.0, sd=16.0)
    assert tt_ind_solve_power(effect_size=found.absolute / 16.0, alpha=0.05, power=0.8) == pytest.approx(448, abs=0.5)
    with pytest.raises(ValueError, match="more traffic"):
        detectable_effect(5, baseline=0.5)


def test_curve_points_for_a_chart():
    points = samplesize_curve(0.10)
    mdes = [m for m, _ in points]
    sizes = [n for _, n in points]
    assert mdes == sorted(mdes) and len(points) == 10
    assert sizes == sorted(sizes, reverse=True)  # smaller effects need more users
    assert (0.2, 3841) in points
    # points whose target rate leaves (0, 1) are skipped
    assert [m for m, _ in samplesize_curve(0.8, [0.1, 0.2, 0.3])] == [0.1, 0.2]
