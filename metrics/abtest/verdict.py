"""Plain-language verdicts. Prose only: every number comes from an :class:`AbResult` or the planner.

Rules (SPEC §5): a winner is declared only when the adjusted p-value is below α *and* the interval the sentence
quotes (``ci_rel_adjusted``: the relative interval at the level adjusted for several comparisons) excludes no
difference; when the two disagree (rare: Holm's later steps, sequential mode) the sentence says the evidence is
borderline. So a verdict and the interval it quotes never disagree. Bayesian probabilities are never quoted
here (they have their own panel). "How many more units" is sized on the planned minimum detectable effect — a
planner input — never on the observed lift.
"""

from __future__ import annotations

import math

from metrics.abtest.kinds import Claim, kind_spec
from metrics.abtest.results import AbResult, Comparison, VariantSummary

#: The smallest relative lift worth detecting when the user has not planned one (+10 %).
DEFAULT_PLANNED_MDE = 0.10
PLANNED_POWER = 0.8


def verdict(result: AbResult, comparison: Comparison, *, planned_mde: float | None = DEFAULT_PLANNED_MDE) -> str:
    """One to three sentences about ``comparison`` for a marketer. planned_mde: the smallest relative lift the
    test should detect (0.10 = ±10 %); None leaves out the "how many units" sentence."""
    name, control_name = comparison.variant, result.control
    prefix = ""
    if result.srm.mismatch:
        prefix = ("Caution: the traffic split does not match the plan (sample-ratio mismatch), so this result may be "
                  "biased. ")
    ci = comparison.ci_rel_adjusted
    if comparison.p_value is None or comparison.lift_rel is None or ci is None:
        reason = next((w.message for w in comparison.warnings), None) or next(
            (w.message for w in result.warnings if w.variant in (name, control_name) or w.code == "control_missing"),
            None)
        return prefix + f"There is not enough data to compare {name} with {control_name} yet." + (
            f" {reason}" if reason else "")

    quoted = f"({_interval_label(result)} {percent(ci[0])} to {percent(ci[1])})"
    excludes_zero = ci[0] > 0 or ci[1] < 0
    if comparison.significant and excludes_zero:
        return prefix + f"{_claim(result, comparison)} {quoted}."
    plan = _planning(result, comparison, planned_mde)
    if comparison.significant or excludes_zero:
        why = ("the adjusted p-value is below α but the interval still includes no difference" if
               comparison.significant else "the interval excludes no difference but the adjusted p-value is not "
               "below α")
        return prefix + (f"Borderline: {name} is {percent(comparison.lift_rel)} against {control_name} {quoted}; "
                         f"{why}, so do not call a winner yet.{plan}")
    return prefix + (f"No clear winner yet: {name} is {percent(comparison.lift_rel)} against {control_name} "
                     f"{quoted}, which could be chance.{plan}")


def percent(x: float, signed: bool = True) -> str:
    """A fraction as percent with one decimal, or two significant digits below 0.1 % (never "+0.0 %" for a
    bound that is not 0): 0.153 → "+15.3 %", 0.00042 → "+0.042 %"."""
    value = x * 100
    decimals = 1
    if value != 0 and abs(value) < 0.1:
        decimals = min(8, 1 - math.floor(math.log10(abs(value))))
    return f"{value:{'+' if signed else ''}.{decimals}f} %"


def _interval_label(result: AbResult) -> str:
    label = f"{(1 - result.alpha) * 100:g} % {'always-valid CI' if result.sequential else 'CI'}"
    tested = sum(1 for c in result.comparisons if c.p_value is not None)
    if result.correction != "none" and tested > 1:
        label += f" adjusted for {tested} comparisons,"
    return label


def _claim(result: AbResult, comparison: Comparison) -> str:
    """"B converts 15.0 % better than A", in the words of the metric's kind, following its direction."""
    up = comparison.lift_rel > 0
    better = up == (result.direction == "higher")
    judged = f", which is {'better' if better else 'worse'}" if result.direction == "lower" else ""
    return kind_spec(result.metric_kind).claim(Claim(
        name=comparison.variant, control=result.control, size=percent(abs(comparison.lift_rel), signed=False),
        moved="higher" if up else "lower", better=better, judged=judged, direction=result.direction,
        metric=result.metric))


def _planning(result: AbResult, comparison: Comparison, planned_mde: float | None) -> str:
    """The sentence on units still needed to detect the planned lift (α split over the comparisons, power 0.8)."""
    if not planned_mde:
        return " Keep the test running to collect more data."
    control, variant = result.variant(result.control), result.variant(comparison.variant)
    needed = _needed_per_arm(result, control, variant, abs(planned_mde))
    if needed is None:
        return " Keep the test running to collect more data."
    have = int(min(control.n, variant.n))
    lift = percent(abs(planned_mde), signed=False)
    if needed > have:
        return (f" To detect a lift of {lift} (the planned minimum) with 80 % power, the test needs about "
                f"{needed:,} units per variant, {needed - have:,} more than it has.")
    return (f" The test already has enough units to detect a lift of {lift} (the planned minimum), so the true "
            "difference is probably smaller than that.")


def _needed_per_arm(result: AbResult, control: VariantSummary | None, variant: VariantSummary | None,
                    mde: float) -> int | None:
    if control is None or variant is None or not control.value:
        return None
    try:
        return kind_spec(result.metric_kind).units_needed(control, variant, mde, result.alpha, PLANNED_POWER,
                                                          max(len(result.variants), 2))
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
