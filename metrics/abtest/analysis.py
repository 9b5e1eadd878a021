"""The whole A/B analysis (SPEC §5): every variant against the control, whatever the metric kind.

The relative test decides: ``p_value`` and ``ci_rel`` come from the relative effect's t test (or its confidence
sequence in sequential mode); with several variants the p-values are adjusted (Holm or Benjamini–Hochberg) and
``ci_rel_adjusted`` is the interval at the matching adjusted level, so the verdict can quote an interval that
agrees with ``significant``. Degenerate data (an empty arm, no spread, a control mean of 0) gives warnings and
None where a statistic is undefined — never an exception, never NaN or infinity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from scipy import stats as sps

from metrics.abtest import bayesian, frequentist
from metrics.abtest import sequential as seq
from metrics.abtest.data import Arm, ExperimentData, guess_control, natural_key
from metrics.abtest.frequentist import Moments
from metrics.abtest.kinds import MetricKindSpec, kind_spec
from metrics.abtest.results import (
    AbResult,
    AbWarning,
    Comparison,
    Correction,
    Direction,
    SrmCheck,
    VariantSummary,
)
from metrics.abtest.statistics import Statistic

DEFAULT_ALPHA = 0.05
DEFAULT_TUNING = seq.DEFAULT_TUNING
SRM_THRESHOLD = 0.001
MIN_UNITS = 100
MIN_CONVERSIONS = 25
LARGE_LIFT = 0.5


def analyze(
    data: ExperimentData,
    *,
    control: str | None = None,
    alpha: float = DEFAULT_ALPHA,
    correction: Correction = "holm",
    expected_split: Sequence[float] | None = None,
    sequential: bool = False,
    tuning: float = DEFAULT_TUNING,
    direction: Direction = "higher",
) -> AbResult:
    """Every variant of ``data`` against ``control`` (guessed from the labels when None).

    alpha: two-sided level (0.05 → 95 % intervals). correction: adjustment across several variants.
    expected_split: planned traffic shares in the result's order (control first, then natural order), equal when
    None. sequential: always-valid intervals and p-values with N* = ``tuning``. direction: "lower" when a
    lower value is better (CPA, bounce); it changes the Bayesian panel and the verdict's wording, not the lifts.

    Raises ValueError only for impossible settings (alpha outside (0, 1), an unknown correction or direction,
    tuning ≤ 0, arms of different kinds) — caller mistakes, not data.
    """
    if correction not in ("holm", "bh", "none"):
        raise ValueError(f"Unknown correction {correction!r}; use 'holm', 'bh' or 'none'.")
    if direction not in ("higher", "lower"):
        raise ValueError(f"Unknown direction {direction!r}; use 'higher' or 'lower'.")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1, for example 0.05.")
    if sequential and not tuning > 0:
        raise ValueError("The sequential tuning parameter must be a positive number of units, for example 5000.")
    kind = data.kind or "proportion"
    spec = kind_spec(kind)

    merged = _merge(data.arms)
    control = str(control) if control is not None else (guess_control(list(merged)) or "")
    control_arm = merged.get(control)
    others = [merged[name] for name in sorted(merged, key=natural_key) if name != control]
    ordered = ([control_arm] if control_arm else []) + others

    warnings: list[AbWarning] = list(data.warnings)
    for arm in ordered:
        if arm.rows_ignored:
            warnings.append(AbWarning("rows_ignored", f"{arm.rows_ignored:,} rows of variant {arm.name} did not "
                                      f"have {spec.readable} and were left out.", arm.name, arm.rows_ignored))
    if control_arm is None:
        available = ", ".join(arm.name for arm in ordered) or "none"
        warnings.append(AbWarning("control_missing", f"The control {control!r} is not among the variants in the "
                                  f"data ({available}); choose one of them as the control."))
    elif not others:
        warnings.append(AbWarning("no_variants", "There is only one variant, so there is nothing to compare; "
                                  "check the variant column."))
    for arm in ordered:
        warnings.extend(_guardrails(arm, spec))

    comparisons: list[Comparison] = []
    relative_moments: list[Moments | None] = []
    if control_arm is not None:
        for arm in others:
            comparison, moments = _compare(control_arm, arm, spec, alpha, sequential, tuning, direction)
            comparisons.append(comparison)
            relative_moments.append(moments)
            warnings.extend(comparison.warnings)
            if comparison.lift_rel is not None and abs(comparison.lift_rel) > LARGE_LIFT:
                warnings.append(AbWarning("large_lift", f"Variant {arm.name} differs from the control by "
                                          f"{comparison.lift_rel:+.0%}; lifts above 50 % are rare, so check "
                                          "tracking and the variant assignment.", arm.name))

    adjusted = frequentist.adjust_p_values([c.p_value for c in comparisons], correction)
    alpha_adjusted = frequentist.adjusted_alpha(alpha, correction, adjusted)
    final = []
    for comparison, moments, p_adjusted in zip(comparisons, relative_moments, adjusted):
        ci_adjusted = comparison.ci_rel
        if alpha_adjusted != alpha and moments is not None:
            test = (seq.sequential_test(moments, alpha_adjusted, tuning) if sequential
                    else frequentist.t_test(moments, alpha_adjusted))
            ci_adjusted = test.ci
        final.append(replace(comparison, p_value_adjusted=p_adjusted, ci_rel_adjusted=ci_adjusted,
                             significant=p_adjusted is not None and p_adjusted < alpha))

    srm = srm_check([arm.stat.n for arm in ordered], expected_split)
    if expected_split is not None and srm.p_value is None and len(ordered) >= 2 and (
            len(expected_split) != len(ordered) or sum(1 for w in expected_split if float(w) > 0) < 2
            or any(float(w) < 0 for w in expected_split)):
        warnings.append(AbWarning("expected_split_invalid", f"The expected split has {len(expected_split)} "
                                  f"shares for {len(ordered)} variants (or a negative share), so the sample-ratio "
                                  "check was skipped; give one share per variant."))
    if srm.mismatch:
        warnings.append(AbWarning("srm", f"The number of units per variant does not match the planned split "
                                  f"(sample-ratio mismatch, p {_fmt_p(srm.p_value)}); check the assignment and "
                                  "tracking before trusting the result."))

    return AbResult(
        metric_kind=kind, control=control, direction=direction, alpha=float(alpha),
        alpha_adjusted=float(alpha_adjusted), sequential=bool(sequential), correction=correction,
        variants=tuple(summarize_variant(arm, alpha) for arm in ordered), comparisons=tuple(final), srm=srm,
        warnings=tuple(dict.fromkeys(warnings)),  # an empty control is reported once, not once per comparison
        tuning=float(tuning) if sequential else None, metric=data.metric, capping=data.capping,
    )


def _merge(arms: Sequence[Arm]) -> dict[str, Arm]:
    """One arm per name: statistics of the same name add (rows of one arm split over several inputs)."""
    merged: dict[str, Arm] = {}
    for arm in arms:
        name = str(arm.name)
        if name in merged:
            seen = merged[name]
            merged[name] = Arm(name, seen.stat + arm.stat, seen.rows_ignored + arm.rows_ignored)
        else:
            merged[name] = Arm(name, arm.stat, arm.rows_ignored)
    return merged


def _guardrails(arm: Arm, spec: MetricKindSpec) -> list[AbWarning]:
    s = arm.stat
    if not s.valid or s.n == 0:
        return []
    out = []
    if s.n < MIN_UNITS:
        out.append(AbWarning("small_sample", f"Variant {arm.name} has only {_fmt_count(s.n)} units; results with "
                             f"fewer than {MIN_UNITS} per variant are unreliable.", arm.name))
    if spec.successes and s.sum < MIN_CONVERSIONS:
        out.append(AbWarning("few_conversions", f"Variant {arm.name} has only {_fmt_count(s.sum)} "
                             f"{spec.successes}; results with fewer than {MIN_CONVERSIONS} per variant are "
                             "unreliable.", arm.name))
    return out


def _compare(control: Arm, variant: Arm, spec: MetricKindSpec, alpha: float, sequential: bool, tuning: float,
             direction: Direction) -> tuple[Comparison, Moments | None]:
    """One comparison (p_value_adjusted and ci_rel_adjusted are filled in by :func:`analyze`) and the moments of
    its relative effect (None when the arms cannot be compared at all)."""
    blocked = []
    for arm in (control, variant):
        if not arm.stat.valid:
            blocked.append(AbWarning("invalid_counts", f"Variant {arm.name} has {spec.invalid}, so it cannot be "
                                     "compared; check the input columns.", arm.name))
        elif arm.stat.n == 0:
            blocked.append(AbWarning("empty_arm", f"Variant {arm.name} has no units, so it cannot be compared yet.",
                                     arm.name))
    if blocked:
        return Comparison(variant=variant.name, kind=spec.kind, warnings=tuple(blocked)), None

    c, t = control.stat, variant.stat
    mean_c, mean_t = c.mean, t.mean
    lift_abs = mean_t - mean_c if mean_c is not None and mean_t is not None else None
    lift_rel = (mean_t - mean_c) / abs(mean_c) if lift_abs is not None and mean_c != 0 else None
    rel = frequentist.moments(c, t, relative=True)
    absolute = frequentist.moments(c, t, relative=False)
    test = seq.sequential_test if sequential else frequentist.t_test
    options = (alpha, tuning) if sequential else (alpha,)
    rel_test, abs_test = test(rel, *options), test(absolute, *options)

    warnings = []
    if rel.error is not None:
        warnings.append(_why_untested(control, variant, rel.error, spec))
    chance = loss = None
    if spec.bayesian:
        chance, loss = bayesian.chance_to_beat(c, t, direction)
    comparison = Comparison(
        variant=variant.name, kind=spec.kind, lift_abs=lift_abs, ci_abs=abs_test.ci, lift_rel=lift_rel,
        se_rel=rel.standard_error, se_abs=absolute.standard_error,
        ci_rel=rel_test.ci, ci_rel_adjusted=rel_test.ci, p_value=rel_test.p_value, p_value_adjusted=rel_test.p_value,
        significant=rel_test.p_value is not None and rel_test.p_value < alpha, chance_to_beat=chance,
        expected_loss=loss, warnings=tuple(warnings))
    return comparison, (rel if rel.error is None else None)


def _why_untested(control: Arm, variant: Arm, error: str, spec: MetricKindSpec) -> AbWarning:
    """The warning that explains why the relative test is undefined."""
    if error == "zero_baseline":
        return AbWarning("zero_baseline", f"Control {control.name} has a mean of 0, so a relative lift cannot be "
                         "computed or tested.", variant.name)
    few = [arm.name for arm in (control, variant) if arm.stat.n < 2]
    if few:
        return AbWarning("too_few_units", f"Variant {' and '.join(few)} {'has' if len(few) == 1 else 'have'} fewer "
                         "than 2 units, so the spread and the test are undefined.", variant.name)
    reasons = [spec.no_spread(arm.name, arm.stat) for arm in (control, variant) if arm.stat.variance <= 0]
    reason = " and ".join(reasons) or f"{variant.name} and {control.name} have no spread"
    return AbWarning("no_variance", f"{reason[0].upper()}{reason[1:]}, so there is no spread to test.", variant.name)


# ---------------------------------------------------------------------------------------------------------------
# One arm, and the sample-ratio check
# ---------------------------------------------------------------------------------------------------------------


def summarize_variant(arm: Arm, alpha: float = DEFAULT_ALPHA) -> VariantSummary:
    """The arm as shown: a rate with its Wilson interval (proportions), a mean with sd and t interval (n − 1
    degrees of freedom), or a ratio Σnum/Σden with the delta-method t interval — the kind's ``spread`` and
    ``extras``. None where undefined."""
    s: Statistic = arm.stat
    spec = kind_spec(s.kind)
    extra = spec.extras(s)
    if not s.valid or s.n == 0 or s.mean is None:
        return VariantSummary(name=arm.name, kind=s.kind, n=s.n, value=None, ci=None, **extra)
    return VariantSummary(name=arm.name, kind=s.kind, n=s.n, value=s.mean, **spec.spread(s, alpha), **extra)


def srm_check(counts: Sequence[float], expected_split: Sequence[float] | None = None) -> SrmCheck:
    """Pearson chi-square goodness of fit of the units per variant against ``expected_split`` (percentages or any
    weights, e.g. [50, 50] or [30, 70]; equal when None). A variant planned at weight 0 takes no part when it has
    no units (and is a mismatch, p = 0, when it has some). p is None with fewer than 2 planned variants, no units,
    or a split of the wrong length or with a negative weight; mismatch is p < 0.001."""
    k = len(counts)
    weights = [1.0] * k if expected_split is None else [float(w) for w in expected_split]
    valid = (len(weights) == k and all(math.isfinite(w) and w >= 0 for w in weights)
             and sum(1 for w in weights if w > 0) >= 2)
    split = tuple(100 * w / sum(weights) for w in weights) if valid else tuple(weights)
    total = float(sum(counts))
    if not valid or total <= 0 or any(c < 0 or not math.isfinite(c) for c in counts):
        return SrmCheck(p_value=None, expected_split=split, mismatch=False)
    if any(c > 0 for c, w in zip(counts, weights) if w == 0):
        return SrmCheck(p_value=0.0, expected_split=split, mismatch=True)
    planned = [(c, total * w / 100) for c, w in zip(counts, split) if w > 0]
    p = float(sps.chisquare([c for c, _ in planned], [e for _, e in planned]).pvalue)
    return SrmCheck(p_value=p, expected_split=split, mismatch=p < SRM_THRESHOLD)


def _fmt_p(p: float) -> str:
    return "< 1e-300" if p < 1e-300 else f"= {p:.2g}"


def _fmt_count(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.2f}"
