"""What each A/B metric kind means to people, declared once: one :class:`MetricKindSpec` per kind in :data:`KINDS`.

A kind's statistic class (``statistics.py``) holds its arithmetic; its spec here holds everything else that
differs between kinds — the variant summary (interval, extra numbers), the summary's JSON keys, the variant
table's columns and formats, the verdict's claim, the units a planned lift needs, guardrail wording, the labels
and value formats the page reads, and the input shapes (column roles, command-line flags, picker labels) that
build it (the builders are ``inputs.BUILDERS``). The comparisons (``frequentist``, ``sequential``), the analysis,
the table, the verdict, the page and the command line read a spec and never ask which kind they hold.

A new kind: its statistic class in ``statistics.py``, its spec and shapes here, its builder in ``inputs.py``.
This module only declares: it imports nothing heavy (the command line reads the shapes when it starts), and the
display formats are names that ``display.FORMATS`` resolves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metrics.abtest.statistics import ProportionStatistic, RatioStatistic, SampleMeanStatistic

if TYPE_CHECKING:
    from metrics.abtest.results import Interval, VariantSummary
    from metrics.abtest.statistics import Statistic


@dataclass(frozen=True)
class TableColumn:
    """A column of the variant table: ``header`` over ``key`` of ``VariantSummary.to_dict()`` shown with the
    ``display.FORMATS`` entry ``format``; an ``interval`` column's header names the level ("Rate 95 % CI").
    ``in_report``: short enough for a report file's table."""

    header: str
    key: str
    format: str
    interval: bool = False
    in_report: bool = True


@dataclass(frozen=True)
class Role:
    """A column an input shape needs: ``name`` is the builder's keyword and the key of ``columns``; ``flag`` and
    ``dest`` the command line's option; ``label``, ``help`` and ``hints`` the page's picker (hints: words of
    column names that suggest it)."""

    name: str
    flag: str
    dest: str
    cli_help: str
    label: str
    help: str | None = None
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class InputShape:
    """A way a file can hold a test of ``kind``. per_unit: a row per unit (or per event of a unit), so a unit id
    applies; cappable: per-unit values that capping applies to."""

    name: str
    kind: str
    label: str
    roles: tuple[Role, ...]
    per_unit: bool = False
    cappable: bool = False


@dataclass(frozen=True)
class Claim:
    """The pieces of a winner's sentence: "B converts 15.0 % better than A"."""

    name: str
    control: str
    size: str  # the relative lift, unsigned: "15.0 %"
    moved: str  # "higher" or "lower"
    better: bool
    judged: str  # ", which is better" when lower is better, else ""
    direction: str
    metric: str | None


@dataclass(frozen=True)
class MetricKindSpec:
    """Everything about a metric kind that is not arithmetic.

    statistic: its class (``from_dict``; ``from_sums`` when it is one value per unit). extras: numbers of an arm
    shown besides its value (kept even when the value is undefined). spread: the value's interval (and ``sd``) at a level. json_fields: (JSON key,
    ``VariantSummary`` attribute, is a count) in order, before "ci". columns: the variant table's own columns;
    difference_format: how the absolute difference is shown. claim: a winner's sentence. units_needed: units per
    arm to detect a planned relative lift (None when unknown). readable / invalid: what an ignored row lacked and
    what makes an arm unusable. no_spread: why an arm has no spread. successes: what a unit's success is called,
    when there are too few of them to trust (a guardrail). bayesian: the exact Beta panel applies. zero_one: a 0/1
    outcome per unit (a unit's rows combine by their maximum; no capping). value_label,
    chart_title: what its value is called (the metric's own name when ``named_by_metric`` and known);
    value_format / chart_format: how values are shown (a ``display.FORMATS`` name; a d3 format).
    takes_metric_format: a campaign metric's own format (a currency for CPA) shows its values. method_note: a
    sentence under the table. Its input shapes are in :data:`INPUT_SHAPES`.
    """

    kind: str
    statistic: type
    extras: Callable[[Any], dict[str, float | None]]
    spread: Callable[[Any, float], dict[str, Any]]
    json_fields: tuple[tuple[str, str, bool], ...]
    columns: tuple[TableColumn, ...]
    difference_format: str
    claim: Callable[[Claim], str]
    units_needed: Callable[[VariantSummary, VariantSummary, float, float, float, int], int | None]
    no_spread: Callable[[str, Any], str]
    value_label: str
    chart_title: str
    value_format: str
    chart_format: str
    readable: str = "a readable outcome"
    invalid: str = "invalid numbers"
    successes: str | None = None
    bayesian: bool = False
    zero_one: bool = False
    named_by_metric: bool = False
    takes_metric_format: bool = False
    method_note: str | None = None

    def value_name(self, metric: str | None, *, title: bool = False) -> str:
        """"rate", "mean", or the metric's own name ("spend / conversions") for a kind named by its metric."""
        if self.named_by_metric and metric:
            return metric
        return self.chart_title if title else self.value_label


# ---------------------------------------------------------------------------------------------------------------
# Pieces the kinds share
# ---------------------------------------------------------------------------------------------------------------


def wilson_interval(successes: float, n: float, alpha: float = 0.05) -> Interval:
    """Wilson score interval of a rate (stays inside [0, 1]; equal to statsmodels ``proportion_confint(...,
    method="wilson")``)."""
    from scipy import stats as sps  # scipy loads when a test is analysed, not when the command line starts

    z = float(sps.norm.ppf(1 - alpha / 2))
    z2 = z * z
    center = (successes + z2 / 2) / (n + z2)
    half = z / (n + z2) * math.sqrt(max(successes * (n - successes) / n + z2 / 4, 0.0))
    return (max(center - half, 0.0), min(center + half, 1.0))


def t_spread(stat: Statistic, alpha: float) -> dict[str, Any]:
    """A mean's t interval (n − 1 degrees of freedom; None without spread) and its per-unit sd."""
    from scipy import stats as sps

    ci = None
    if stat.n >= 2 and stat.variance > 0:
        half = float(sps.t.ppf(1 - alpha / 2, stat.n - 1)) * math.sqrt(stat.variance / stat.n)
        ci = (stat.mean - half, stat.mean + half)
    return {"ci": ci, "sd": math.sqrt(stat.variance) if stat.n >= 2 else None}


def units_for_a_mean(control: VariantSummary, variant: VariantSummary, mde: float, alpha: float, power: float,
                     k: int) -> int | None:
    """Two-sample t test sized on the arms' pooled sd (None without one)."""
    from metrics.samplesize import samplesize_means  # statsmodels loads only when a verdict plans

    spreads = [v.sd for v in (control, variant) if v.sd]
    if not spreads:
        return None
    sd = math.sqrt(sum(s * s for s in spreads) / len(spreads))
    return samplesize_means(sd, mde, baseline=control.value, relative=True, alpha=alpha, power=power,
                            variants=k).per_variant


def units_for_a_rate(control: VariantSummary, variant: VariantSummary, mde: float, alpha: float, power: float,
                     k: int) -> int | None:
    """The pooled two-proportion formula, towards a lift the rate can still reach (a drop near 100 %)."""
    from metrics.samplesize import samplesize_proportions

    target_up = control.value * (1 + mde) < 1
    return samplesize_proportions(control.value, mde if target_up else -mde, relative=True, alpha=alpha,
                                  power=power, variants=k).per_variant


_OUTCOME_HELP = "0/1 or true/false for a conversion; a number such as revenue for a mean."


# ---------------------------------------------------------------------------------------------------------------
# The kinds
# ---------------------------------------------------------------------------------------------------------------


def _rate_claim(c: Claim) -> str:
    if c.direction == "higher":
        return f"{c.name} converts {c.size} {'better' if c.better else 'worse'} than {c.control}"
    return f"{c.name}'s rate is {c.size} {c.moved} than {c.control}'s{c.judged}"


def _rate_no_spread(name: str, stat: ProportionStatistic) -> str:
    return f"variant {name} has no conversions" if stat.sum == 0 else f"every unit of variant {name} converted"


PROPORTION = MetricKindSpec(
    kind="proportion",
    statistic=ProportionStatistic,
    extras=lambda s: {"successes": s.sum},
    spread=lambda s, alpha: {"ci": wilson_interval(s.sum, s.n, alpha)},
    json_fields=(("successes", "successes", True), ("rate", "value", False)),
    columns=(TableColumn("Conversions", "successes", "count"), TableColumn("Rate", "rate", "rate"),
             TableColumn("Rate", "ci", "rate", interval=True)),
    difference_format="pp",
    claim=_rate_claim,
    units_needed=units_for_a_rate,
    no_spread=_rate_no_spread,
    value_label="rate",
    chart_title="Conversion rate",
    value_format="rate",
    chart_format=".2%",
    invalid="conversions above visitors or a negative count",
    successes="conversions",
    bayesian=True,
    zero_one=True,
    method_note="Rate intervals: Wilson. Difference: percentage points, unpooled (a secondary view).",
)

MEAN = MetricKindSpec(
    kind="mean",
    statistic=SampleMeanStatistic,
    extras=lambda s: {},
    spread=t_spread,
    json_fields=(("mean", "value", False), ("sd", "sd", False)),
    columns=(TableColumn("Mean", "mean", "number"), TableColumn("SD", "sd", "number", in_report=False),
             TableColumn("Mean", "ci", "number", interval=True)),
    difference_format="signed",
    claim=lambda c: f"{c.name} averages {c.size} {c.moved} than {c.control}{c.judged}",
    units_needed=units_for_a_mean,
    no_spread=lambda name, s: f"every unit of variant {name} has the same value",
    value_label="mean",
    chart_title="Mean",
    value_format="number",
    chart_format=",.4~g",
)


def _ratio_no_spread(name: str, stat: RatioStatistic) -> str:
    if stat.denominator.sum == 0:
        return f"the denominators of variant {name} add up to 0"
    return f"every unit of variant {name} has the same ratio"


RATIO = MetricKindSpec(
    kind="ratio",
    statistic=RatioStatistic,
    extras=lambda s: {"numerator": s.numerator.sum, "denominator": s.denominator.sum},
    spread=t_spread,
    json_fields=(("numerator", "numerator", False), ("denominator", "denominator", False), ("mean", "value", False),
                 ("sd", "sd", False)),
    columns=(TableColumn("Numerator", "numerator", "number"), TableColumn("Denominator", "denominator", "number"),
             TableColumn("Ratio", "mean", "number"), TableColumn("Ratio", "ci", "number", interval=True)),
    difference_format="signed",
    claim=lambda c: f"{c.name}'s {c.metric or 'ratio'} is {c.size} {c.moved} than {c.control}'s{c.judged}",
    units_needed=units_for_a_mean,
    no_spread=_ratio_no_spread,
    value_label="ratio",
    chart_title="Ratio",
    value_format="number",
    chart_format=",.4~g",
    readable="both a numerator and a denominator",
    named_by_metric=True,
    takes_metric_format=True,
    method_note="Ratio: sum of numerators / sum of denominators, each row (or unit) one observation, with the "
                "numerator–denominator covariance.",
)

#: Every metric kind by name.
KINDS: dict[str, MetricKindSpec] = {spec.kind: spec for spec in (PROPORTION, MEAN, RATIO)}

#: Every way a file can hold a test, in the order the page and the command line list them (``inputs.BUILDERS``
#: has a builder for each).
INPUT_SHAPES: dict[str, InputShape] = {shape.name: shape for shape in (
    InputShape("converted", "proportion", "Converted or not (0/1, true/false) per unit", (
        Role("outcome", "--converted", "converted", "Per-unit 0/1 or true/false outcome (a proportion).",
             "Outcome column", _OUTCOME_HELP),), per_unit=True),
    InputShape("value", "mean", "A number per unit (revenue, orders)", (
        Role("outcome", "--value", "value", "Per-unit numeric value such as revenue (a mean).",
             "Outcome column", _OUTCOME_HELP),), per_unit=True, cappable=True),
    InputShape("ratio", "ratio", "A ratio of two columns per row (spend / conversions)", (
        Role("numerator", "--numerator", "numerator",
             "Ratio metric per unit row, with --denominator: spend and conversions for CPA, revenue and spend "
             "for ROAS, clicks and impressions for CTR.", "Numerator",
             "Summed over the rows of a variant: spend for CPA or CPC, revenue for ROAS.",
             ("spend", "cost", "revenue")),
        Role("denominator", "--denominator", "denominator", "Denominator of the ratio metric (with --numerator).",
             "Denominator",
             "Summed over the rows of a variant: conversions for CPA, clicks for CPC, spend for ROAS.",
             ("conversion", "click", "session", "order")),
    ), per_unit=True, cappable=True),
    InputShape("aggregated", "proportion", "Totals per row (visitors and conversions)", (
        Role("trials", "--trials", "trials", "Aggregated visitors/clicks per row (with --successes).",
             "Visitors (trials)", hints=("visitor", "user", "trial", "session", "click")),
        Role("successes", "--successes", "successes", "Aggregated conversions per row (with --trials).",
             "Conversions (successes)", hints=("conversion", "success")),
    )),
    InputShape("summary", "mean", "Summary per variant (n, mean, sd)", (
        Role("n", "--n", "n_col", "Units per row (with --mean and --sd).", "Units (n)",
             hints=("users", "n", "count", "visitors")),
        Role("mean", "--mean", "mean_col", "Mean per row (with --n and --sd).", "Mean",
             hints=("mean", "avg", "average")),
        Role("sd", "--sd", "sd_col", "Sample standard deviation (with --n, --mean).", "Standard deviation",
             hints=("sd", "std", "stdev", "deviation")),
    )),
)}


def kind_spec(kind: str) -> MetricKindSpec:
    """The spec of ``kind``; ValueError for a kind nobody declared."""
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"Unknown metric kind {kind!r}.") from None
