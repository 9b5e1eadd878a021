"""A/B tests (SPEC §5), shaped like GrowthBook's gbstats so every number can be reproduced with it.

    statistics   sufficient statistics that add: ProportionStatistic, SampleMeanStatistic, RatioStatistic
    kinds        what each metric kind means to people (summary, table, wording, labels, input shapes): KINDS
    frequentist  relative / absolute t tests with Welch df, Holm / BH adjustment (blind to the metric kind)
    sequential   always-valid confidence sequences (gbstats SequentialTwoSidedTTest)
    bayesian     exact Beta chance to beat and expected loss for conversion rates
    results      frozen results, their JSON, the WarningCode Literal
    data         Arm and ExperimentData: what an analysis receives
    inputs       frames (user rows, ratio rows, aggregated rows, summaries) -> ExperimentData; units, capping
    analysis     analyze(): every variant against the control
    verdict      plain-language sentences (prose only)
    display      numbers as the page and the command line print them
    curves       chart data: the lift over time, the distribution of each lift
    saved        the report's saved A/B test (a JSON-able dict), campaign ratio metrics, the calculator's rows

    data = inputs.build(frame, shape="ratio", variant="variant",
                        columns={"numerator": "spend", "denominator": "conversions"})
    result = analyze(data, direction="lower")          # AbResult; result.to_dict() is the SPEC §6 JSON
    verdict(result, result.comparisons[0])             # "B's spend / conversions is 12.0 % lower than A's, ..."
"""

from importlib import import_module
from typing import TYPE_CHECKING

from metrics.abtest.data import (
    Arm,
    ExperimentData,
    from_arms,
    from_counts,
    from_summaries,
    guess_control,
    natural_key,
)
from metrics.abtest.kinds import KINDS, MetricKindSpec, wilson_interval
from metrics.abtest.results import (
    AbResult,
    AbWarning,
    Capping,
    Comparison,
    Correction,
    Direction,
    SrmCheck,
    VariantSummary,
    WarningCode,
)
from metrics.abtest.statistics import (
    MetricKind,
    ProportionStatistic,
    RatioStatistic,
    SampleMeanStatistic,
    Statistic,
)
from metrics.abtest.verdict import verdict

if TYPE_CHECKING:
    from metrics.abtest.analysis import (
        DEFAULT_ALPHA,
        DEFAULT_TUNING,
        LARGE_LIFT,
        MIN_CONVERSIONS,
        MIN_UNITS,
        analyze,
        srm_check,
        summarize_variant,
    )
    from metrics.abtest.inputs import build, from_aggregates, from_ratio_rows, from_rows, from_summary_rows

# The analysis (scipy) and the input builders (polars) load on first use, so that the command line can read the
# declarations in ``kinds`` when it starts without paying for them.
_LAZY = {name: "analysis" for name in ("DEFAULT_ALPHA", "DEFAULT_TUNING", "LARGE_LIFT", "MIN_CONVERSIONS",
                                        "MIN_UNITS", "analyze", "srm_check", "summarize_variant")}
_LAZY |= {name: "inputs" for name in ("build", "from_aggregates", "from_ratio_rows", "from_rows",
                                       "from_summary_rows")}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_ALPHA", "DEFAULT_TUNING", "KINDS", "LARGE_LIFT", "MIN_CONVERSIONS", "MIN_UNITS", "AbResult", "AbWarning",
    "Arm", "Capping", "Comparison", "Correction", "Direction", "ExperimentData", "MetricKind", "MetricKindSpec",
    "ProportionStatistic",
    "RatioStatistic", "SampleMeanStatistic", "SrmCheck", "Statistic", "VariantSummary", "WarningCode", "analyze",
    "build", "from_aggregates", "from_arms", "from_counts", "from_ratio_rows", "from_rows", "from_summaries",
    "from_summary_rows", "guess_control", "natural_key", "srm_check", "summarize_variant", "verdict",
    "wilson_interval",
]
