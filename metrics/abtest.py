"""A/B test statistics (SPEC §5): pure functions on sufficient statistics, no streamlit.

Every input shape — user-level rows, aggregated rows, summary statistics, four typed numbers — is first reduced to
one :class:`VariantStats` per variant (n, sum, sum of squares). The analysis only ever sees those.

Conventions (chosen so results can be checked against scipy, statsmodels and GrowthBook's gbstats):

* Proportions. ``p_value``: two-sided pooled two-proportion z-test (= ``statsmodels.stats.proportion.
  proportions_ztest`` = Pearson chi-square without continuity correction). ``ci_abs``: unpooled Wald interval of
  rate_t − rate_c. ``lift_rel`` = rate_t / rate_c − 1 with ``ci_rel`` by the delta method,
  Var = σ²_t/(n_t μ_c²) + σ²_c μ_t²/(n_c μ_c⁴), σ² = p(1 − p), normal quantile. Per-variant ``ci``: **Wilson**
  score interval (stays inside [0, 1] and behaves at 0 or n conversions, where Wald collapses to a point).
  Bayesian: Beta(1, 1) priors; ``chance_to_beat`` = P(p_t > p_c) and ``expected_loss`` = E[max(p_c − p_t, 0)]
  are computed exactly (closed-form sums over Beta functions, numerical integration for non-integer counts),
  not by Monte Carlo.
* Means. ``p_value``: Welch t-test (``scipy.stats.ttest_ind_from_stats(..., equal_var=False)``). ``ci_abs``:
  Welch–Satterthwaite degrees of freedom, t quantile. ``ci_rel``: delta method with the same t quantile (as
  gbstats' ``TwoSidedTTest`` does). Per-variant ``ci``: t interval with n − 1 degrees of freedom; sd is the
  sample standard deviation (n − 1 denominator).
* Several variants: each against the control; ``p_value_adjusted`` by Holm (default), Benjamini–Hochberg or none
  (``statsmodels.stats.multitest.multipletests``) over the comparisons that have a p-value; ``significant`` is
  ``p_value_adjusted < alpha``. Confidence intervals are not adjusted.
* Sequential mode (``sequential=True``): always-valid confidence sequences and p-values, see
  :func:`sequential_halfwidth` and :func:`sequential_p_value`.
* Sample-ratio mismatch: Pearson chi-square goodness of fit of n per variant against the expected split (equal
  unless given), flagged when p < 0.001, always reported.
* Guardrails (warnings): fewer than 100 units or fewer than 25 conversions in an arm; |relative lift| > 50 %.

Degenerate data (an empty arm, one user, zero conversions everywhere, everyone converted, zero variance, a
control name that is not in the data) gives a result with warning codes and ``None`` where a statistic is
undefined — never an exception, never NaN or infinity.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy import integrate, optimize, special
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from metrics.errors import UsageError
from metrics.samplesize import samplesize_means, samplesize_proportions

Correction = Literal["holm", "bh", "none"]
MetricKind = Literal["proportion", "mean"]

DEFAULT_ALPHA = 0.05
#: GrowthBook's default sequential tuning parameter N* (the total sample size at which the confidence sequence
#: is tightest). Choose it near the total number of units you expect at the end of the test.
DEFAULT_TUNING = 5000
SRM_THRESHOLD = 0.001
MIN_UNITS = 100
MIN_CONVERSIONS = 25
LARGE_LIFT = 0.5

_STATSMODELS_METHOD = {"holm": "holm", "bh": "fdr_bh"}
# Below this many terms the Beta closed form is a fast exact sum; above it, numerical integration.
_MAX_CLOSED_FORM_TERMS = 2_000_000
# Relative size below which sum_squares − sum²/n is floating-point cancellation, not spread (see sample_variance).
_CANCELLATION = 1e-10
_CONTROL_NAMES = ("control", "ctrl", "baseline", "original", "a", "old", "old_page", "default")


# ---------------------------------------------------------------------------------------------------------------
# Sufficient statistics
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantStats:
    """Sufficient statistics of one variant.

    n: units (users, visitors, sessions) counted. sum: sum of the outcome (conversions for a 0/1 outcome, total
    revenue for a value). sum_squares: sum of squared outcomes (equal to ``sum`` for a 0/1 outcome).
    rows_ignored: input rows of this variant left out because the outcome was missing or unreadable.
    """

    name: str
    n: float
    sum: float
    sum_squares: float
    rows_ignored: int = 0

    @classmethod
    def from_counts(cls, name: str, n: float, successes: float) -> VariantStats:
        """A conversion-style variant: ``n`` trials (visitors), ``successes`` conversions."""
        return cls(str(name), _num(n), _num(successes), _num(successes))

    @classmethod
    def from_summary(cls, name: str, n: float, mean: float, sd: float | None) -> VariantStats:
        """From n, mean and sample standard deviation (n − 1 denominator): sum = n·mean,
        sum_squares = (n − 1)·sd² + n·mean². A missing sd counts as 0 (only sensible for n = 1)."""
        n, mean = _num(n), _num(mean)
        sd = 0.0 if sd is None or not math.isfinite(sd) else float(sd)
        return cls(str(name), n, n * mean, max(n - 1, 0) * sd * sd + n * mean * mean)

    @classmethod
    def from_values(cls, name: str, values: Iterable[float]) -> VariantStats:
        """From the raw outcome of each unit (0/1 or a value); NaN and None are counted in ``rows_ignored``."""
        arr = np.asarray([np.nan if v is None else float(v) for v in values], dtype=float)
        ok = np.isfinite(arr)
        good = arr[ok]
        return cls(str(name), float(good.size), float(good.sum()), float((good * good).sum()), int((~ok).sum()))

    @property
    def mean(self) -> float | None:
        """Mean outcome (the conversion rate, a fraction, for 0/1 outcomes); None when n = 0."""
        return self.sum / self.n if self.n > 0 else None

    @property
    def sample_variance(self) -> float | None:
        """Sample variance (n − 1 denominator); None when n < 2.

        sum_squares − sum²/n cancels badly when every value is the same non-round number (200 × 0.1 leaves
        4e-18, not 0). A variance below 1e-10 of the mean square is therefore rounding noise and reported as 0:
        such data is constant for any A/B purpose (a coefficient of variation under 0.001 %)."""
        if self.n < 2:
            return None
        variance = (self.sum_squares - self.sum * self.sum / self.n) / (self.n - 1)
        if variance <= _CANCELLATION * (self.sum_squares / self.n):
            return 0.0
        return variance

    @property
    def bernoulli_variance(self) -> float | None:
        """p(1 − p) of the conversion rate; None when n = 0."""
        p = self.mean
        return None if p is None else max(p * (1 - p), 0.0)


def _num(value: Any) -> float:
    value = float(value)
    return value


def stats_from_counts(
    visitors_a: float, conversions_a: float, visitors_b: float, conversions_b: float, names: Sequence[str] = ("A", "B")
) -> list[VariantStats]:
    """The "four numbers typed by hand" shape: visitors and conversions of A (control) and B."""
    return [VariantStats.from_counts(names[0], visitors_a, conversions_a),
            VariantStats.from_counts(names[1], visitors_b, conversions_b)]


_TRUE = ("true", "t", "yes", "y")
_FALSE = ("false", "f", "no", "n")


def _outcome_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    """The outcome as Float64: booleans and "true"/"false"/"yes"/"no" strings as 1/0, numbers as themselves,
    anything unreadable (and NaN/inf) as null."""
    col = pl.col(column)
    if dtype == pl.Boolean:
        value = col.cast(pl.Float64)
    elif dtype == pl.String or dtype == pl.Categorical or dtype == pl.Enum:
        text = col.cast(pl.String).str.strip_chars().str.to_lowercase()
        value = (pl.when(text.is_in(_TRUE)).then(pl.lit(1.0))
                 .when(text.is_in(_FALSE)).then(pl.lit(0.0))
                 .otherwise(text.str.replace_all(r"[\s\u00a0]", "").cast(pl.Float64, strict=False)))
    elif dtype.is_numeric():
        value = col.cast(pl.Float64)
    else:
        value = pl.lit(None, dtype=pl.Float64)
    return pl.when(value.is_finite()).then(value).otherwise(None)


def _require_columns(frame: pl.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UsageError(f"Column {missing[0]!r} is not in the data; available columns: "
                         f"{', '.join(repr(c) for c in frame.columns)}.")


def _collect(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def _variant_key(dtype: pl.DataType) -> pl.Expr:
    """Variant labels as text. Whole floats lose their ".0" (a Promotion column read as Float64 because of one
    empty cell still gives labels "1", "2", "3", which is what people type for --control)."""
    col = pl.col("__variant")
    if dtype.is_float():
        whole = col.is_finite() & (col == col.round(0))
        return pl.when(whole).then(col.cast(pl.Int64, strict=False).cast(pl.String)).otherwise(col.cast(pl.String))
    return col.cast(pl.String)


def infer_metric_kind(frame: pl.DataFrame | pl.LazyFrame, outcome: str) -> MetricKind:
    """"proportion" when every readable outcome is 0/1 (or true/false), else "mean"."""
    frame = _collect(frame)
    _require_columns(frame, [outcome])
    values = frame.select(_outcome_expr(outcome, frame.schema[outcome]).alias("v")).get_column("v").drop_nulls()
    if values.len() == 0:
        return "proportion" if frame.schema[outcome] == pl.Boolean else "mean"
    return "proportion" if bool(values.is_in([0.0, 1.0]).all()) else "mean"


def stats_from_rows(
    frame: pl.DataFrame | pl.LazyFrame, variant: str, outcome: str, kind: MetricKind | None = None
) -> list[VariantStats]:
    """User-level rows → one VariantStats per variant, sorted by name.

    outcome: 0/1, True/False, "true"/"false"/"yes"/"no" (a proportion) or a numeric value (a mean, e.g.
    revenue per user). Rows with a missing variant label are dropped; rows with a missing or unreadable outcome
    are counted in ``rows_ignored``. With ``kind="proportion"`` an outcome other than 0/1 raises UsageError
    (the wrong column was chosen). Variant labels are compared as text (1 and "1" are the same variant).
    """
    frame = _collect(frame)
    _require_columns(frame, [variant, outcome])
    kind = kind or infer_metric_kind(frame, outcome)
    data = frame.select(pl.col(variant).alias("__variant"),
                        _outcome_expr(outcome, frame.schema[outcome]).alias("__y"))
    if kind == "proportion":
        bad = data.filter(pl.col("__y").is_not_null() & ~pl.col("__y").is_in([0.0, 1.0]))
        if bad.height:
            raise UsageError(f"Column {outcome!r} holds values other than 0/1 or true/false (for example "
                             f"{bad.get_column('__y')[0]:g}); use --value for a numeric metric.")
    grouped = (data.filter(pl.col("__variant").is_not_null())
               .group_by(_variant_key(frame.schema[variant]).alias("name"))
               .agg(pl.col("__y").count().alias("n"), pl.col("__y").sum().alias("s"),
                    (pl.col("__y") * pl.col("__y")).sum().alias("ss"), pl.col("__y").null_count().alias("ignored"))
               .sort("name"))
    return [VariantStats(r["name"], float(r["n"]), float(r["s"] or 0.0), float(r["ss"] or 0.0), int(r["ignored"]))
            for r in grouped.iter_rows(named=True)]


def _number_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    """A count or statistic column as Float64 (text like "1 234" or "1,234" read as 1234); unreadable → null."""
    col = pl.col(column)
    if dtype == pl.String:
        value = col.str.replace_all(r"[\s\u00a0,]", "").cast(pl.Float64, strict=False)
    elif dtype.is_numeric() or dtype == pl.Boolean:
        value = col.cast(pl.Float64)
    else:
        value = pl.lit(None, dtype=pl.Float64)
    return pl.when(value.is_finite()).then(value).otherwise(None)


def stats_from_aggregates(
    frame: pl.DataFrame | pl.LazyFrame, variant: str, trials: str, successes: str
) -> list[VariantStats]:
    """Aggregated rows (trials and successes per row, e.g. clicks and conversions of the canonical table with
    column ``variant``) → one VariantStats per variant; rows of the same variant are summed. Rows with a missing
    trials or successes cell are counted in ``rows_ignored``. Sorted by name."""
    frame = _collect(frame)
    _require_columns(frame, [variant, trials, successes])
    data = frame.select(pl.col(variant).alias("__variant"),
                        _number_expr(trials, frame.schema[trials]).alias("__n"),
                        _number_expr(successes, frame.schema[successes]).alias("__x"))
    ok = pl.col("__n").is_not_null() & pl.col("__x").is_not_null()
    grouped = (data.filter(pl.col("__variant").is_not_null())
               .group_by(_variant_key(frame.schema[variant]).alias("name"))
               .agg(pl.col("__n").filter(ok).sum().alias("n"), pl.col("__x").filter(ok).sum().alias("x"),
                    (~ok).sum().alias("ignored"))
               .sort("name"))
    return [VariantStats(r["name"], float(r["n"] or 0.0), float(r["x"] or 0.0), float(r["x"] or 0.0),
                         int(r["ignored"])) for r in grouped.iter_rows(named=True)]


def stats_from_summary(
    frame: pl.DataFrame | pl.LazyFrame, variant: str, n: str, mean: str, sd: str
) -> list[VariantStats]:
    """Summary statistics per variant (n, mean, sample sd) → VariantStats; several rows of one variant are
    pooled exactly (their sums and sums of squares add). Rows missing n or mean are counted in ``rows_ignored``;
    a missing sd counts as 0. Sorted by name."""
    frame = _collect(frame)
    _require_columns(frame, [variant, n, mean, sd])
    data = frame.select(pl.col(variant).alias("__variant"), _number_expr(n, frame.schema[n]).alias("__n"),
                        _number_expr(mean, frame.schema[mean]).alias("__m"),
                        _number_expr(sd, frame.schema[sd]).fill_null(0.0).alias("__sd"))
    ok = pl.col("__n").is_not_null() & pl.col("__m").is_not_null()
    nn, mm, sdv = pl.col("__n"), pl.col("__m"), pl.col("__sd")
    grouped = (data.filter(pl.col("__variant").is_not_null())
               .group_by(_variant_key(frame.schema[variant]).alias("name"))
               .agg(nn.filter(ok).sum().alias("n"), (nn * mm).filter(ok).sum().alias("s"),
                    (pl.max_horizontal(nn - 1, 0) * sdv * sdv + nn * mm * mm).filter(ok).sum().alias("ss"),
                    (~ok).sum().alias("ignored"))
               .sort("name"))
    return [VariantStats(r["name"], float(r["n"] or 0.0), float(r["s"] or 0.0), float(r["ss"] or 0.0),
                         int(r["ignored"])) for r in grouped.iter_rows(named=True)]


def natural_key(name: str) -> tuple:
    """Sort key that puts "2" before "10" and "variant 2" before "variant 10"."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower())
                 for part in re.split(r"(\d+)", str(name)) if part != "")


def guess_control(names: Sequence[str]) -> str | None:
    """The control when the user did not name one: a label such as "control", "baseline", "original" or "A"
    (case-insensitive), else the first label in natural order. None for no labels."""
    if not names:
        return None
    for candidate in _CONTROL_NAMES:
        for name in names:
            if str(name).strip().lower() == candidate:
                return name
    return sorted(names, key=natural_key)[0]


# ---------------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------------

Interval = tuple[float, float]


@dataclass(frozen=True)
class AbWarning:
    """Something the reader must know: a stable ``code``, one plain ``message`` sentence, optionally the variant."""

    code: str
    message: str
    variant: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.variant is not None:
            out["variant"] = self.variant
        return out


@dataclass(frozen=True)
class VariantSummary:
    """One variant as shown: ``value`` is the conversion rate (a fraction) or the mean; ``ci`` its interval
    (Wilson for a rate, t for a mean); ``sd`` only for means; ``successes`` only for proportions. None where
    undefined (no units; fewer than 2 units for a mean's sd and ci)."""

    name: str
    kind: MetricKind
    n: float
    value: float | None
    ci: Interval | None
    successes: float | None = None
    sd: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "n": _count(self.n)}
        if self.kind == "proportion":
            out["successes"] = _count(self.successes)
            out["rate"] = _clean(self.value)
        else:
            out["mean"] = _clean(self.value)
            out["sd"] = _clean(self.sd)
        out["ci"] = _clean_interval(self.ci)
        return out


@dataclass(frozen=True)
class Comparison:
    """One variant against the control.

    lift_abs: rate (or mean) difference, variant − control, in the metric's units (a rate difference is a fraction:
    0.015 = 1.5 percentage points). lift_rel: variant / control − 1 (a fraction). ci_abs, ci_rel: their
    confidence intervals (always-valid confidence sequences in sequential mode). p_value: raw two-sided p
    (always-valid in sequential mode); p_value_adjusted: after the multiple-comparison correction.
    chance_to_beat, expected_loss: Bayesian, proportions only. Any of them is None when undefined, with a warning.
    """

    variant: str
    kind: MetricKind
    lift_abs: float | None
    ci_abs: Interval | None
    lift_rel: float | None
    ci_rel: Interval | None
    p_value: float | None
    p_value_adjusted: float | None
    significant: bool
    chance_to_beat: float | None = None
    expected_loss: float | None = None
    warnings: tuple[AbWarning, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "variant": self.variant,
            "lift_abs": _clean(self.lift_abs),
            "ci_abs": _clean_interval(self.ci_abs),
            "lift_rel": _clean(self.lift_rel),
            "ci_rel": _clean_interval(self.ci_rel),
            "p_value": _clean(self.p_value),
            "p_value_adjusted": _clean(self.p_value_adjusted),
        }
        if self.kind == "proportion":
            out["chance_to_beat"] = _clean(self.chance_to_beat)
            out["expected_loss"] = _clean(self.expected_loss)
        out["significant"] = bool(self.significant)
        return out


@dataclass(frozen=True)
class SrmCheck:
    """Sample-ratio mismatch check. expected_split: percentages per variant in the order of the result's variants
    (summing to 100). p_value: Pearson chi-square goodness of fit; None with fewer than 2 variants or no units.
    mismatch: p < 0.001."""

    p_value: float | None
    expected_split: tuple[float, ...]
    mismatch: bool

    def to_dict(self) -> dict[str, Any]:
        return {"p_value": _clean(self.p_value), "expected_split": [_clean(x) for x in self.expected_split],
                "mismatch": bool(self.mismatch)}


@dataclass(frozen=True)
class AbResult:
    """A whole A/B analysis; ``to_dict()`` is the SPEC §6 JSON (plus "alpha", "sequential", "correction").

    variants: control first, then the others in natural order. comparisons: one per non-control variant, same
    order. tuning: the sequential N* used (None when not sequential; not part of the JSON shape).
    """

    metric_kind: MetricKind
    control: str
    alpha: float
    sequential: bool
    correction: Correction
    variants: tuple[VariantSummary, ...]
    comparisons: tuple[Comparison, ...]
    srm: SrmCheck
    warnings: tuple[AbWarning, ...]
    tuning: float | None = None

    def comparison(self, variant: str) -> Comparison | None:
        return next((c for c in self.comparisons if c.variant == variant), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric_kind": self.metric_kind,
            "control": self.control,
            "alpha": self.alpha,
            "sequential": self.sequential,
            "correction": self.correction,
            "variants": [v.to_dict() for v in self.variants],
            "comparisons": [c.to_dict() for c in self.comparisons],
            "srm": self.srm.to_dict(),
            "warnings": [w.to_dict() for w in self.warnings],
        }


def _clean(value: float | None) -> float | None:
    """JSON has no NaN or infinity: both become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _count(value: float | None) -> int | float | None:
    """Counts as ints when whole (JSON 1000, not 1000.0)."""
    value = _clean(value)
    if value is None:
        return None
    return int(value) if value.is_integer() else value


def _clean_interval(ci: Interval | None) -> list[float] | None:
    if ci is None:
        return None
    lo, hi = _clean(ci[0]), _clean(ci[1])
    return None if lo is None or hi is None else [lo, hi]


# ---------------------------------------------------------------------------------------------------------------
# Sequential testing (always-valid inference)
# ---------------------------------------------------------------------------------------------------------------


def sequential_rho(alpha: float, tuning: float) -> float:
    """Mixing parameter ρ of the asymptotic confidence sequence, chosen so the sequence is tightest when the total
    sample size reaches the tuning parameter N*:

        ρ = sqrt( (−2 ln α + ln(−2 ln α + 1)) / N* )

    Followed from GrowthBook gbstats (``packages/stats/gbstats/frequentist/tests.py``, ``sequential_rho`` used by
    ``SequentialTwoSidedTTest``, and its TypeScript port ``sequentialRho``), which implements Waudby-Smith et al.
    (2023), "Time-uniform central limit theory and asymptotic confidence sequences", arXiv:2103.06476v7, eq. 161.
    """
    log_alpha = math.log(alpha)
    return math.sqrt((-2 * log_alpha + math.log(-2 * log_alpha + 1)) / tuning)


def _log_halfwidth_factor(n: float, rho: float, log_alpha: float) -> float:
    """ln of sqrt( 2(nρ²+1)/(n²ρ²) · ln(sqrt(nρ²+1)/α) ) — in logs so tiny α cannot underflow."""
    t = n * rho * rho + 1
    inner = 0.5 * math.log(t) - log_alpha
    return 0.5 * (math.log(2 * t) - 2 * math.log(n * rho) + math.log(inner))


def sequential_halfwidth(variance: float, n: float, alpha: float, tuning: float = DEFAULT_TUNING,
                         rho: float | None = None) -> float:
    """Half-width of the two-sided asymptotic confidence sequence (Waudby-Smith et al. 2023, eq. 9, as in gbstats'
    ``sequential_interval_halfwidth``):

        half-width = sqrt(s²) · sqrt( 2(N ρ² + 1) / (N² ρ²) · ln( sqrt(N ρ² + 1) / α ) )

    with N = n_control + n_variant (units) and s² = SE² · N the per-unit variance, where SE² is the variance of the
    estimate (``variance`` here). ρ defaults to :func:`sequential_rho` (α, N*). Units of the result are those of
    the estimate. The interval is valid at every look, so it is wider than a fixed-horizon interval.
    """
    rho = sequential_rho(alpha, tuning) if rho is None else rho
    s2 = variance * n
    return math.sqrt(s2) * math.exp(_log_halfwidth_factor(n, rho, math.log(alpha)))


def sequential_p_value(estimate: float, variance: float, n: float, alpha: float,
                       tuning: float = DEFAULT_TUNING) -> float:
    """Always-valid two-sided p-value: the smallest α' at which the confidence sequence (ρ fixed at the configured
    α and N*, as gbstats does) excludes 0, i.e. the root of half-width(α') = |estimate|, found with
    ``scipy.optimize.brentq`` on ln α'. It equals gbstats' closed form 1 / e-value =
    sqrt(Nρ²+1) · exp(−ρ² N² est² / (2 s² (Nρ²+1))), clamped to 1, and lies in [0, 1].
    """
    if estimate == 0:  # no observed effect: nothing to reject at any level
        return 1.0
    rho = sequential_rho(alpha, tuning)
    target = math.log(abs(estimate)) - 0.5 * math.log(variance * n)  # ln|est| − ln sqrt(s²)

    def gap(log_a: float) -> float:
        return _log_halfwidth_factor(n, rho, log_a) - target

    if gap(0.0) >= 0:  # even at α' = 1 the sequence covers 0
        return 1.0
    # Below ln α' = −745 exp() is 0.0 in double precision: such evidence is reported as p = 0.
    lowest = -745.0
    if gap(lowest) < 0:
        return 0.0
    log_a = optimize.brentq(gap, lowest, 0.0, xtol=1e-12, rtol=1e-12)
    return float(min(1.0, math.exp(log_a)))


# ---------------------------------------------------------------------------------------------------------------
# Bayesian (Beta-Binomial) chance to beat
# ---------------------------------------------------------------------------------------------------------------


def _is_int(x: float) -> bool:
    return float(x).is_integer()


def _prob_greater_closed(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(X1 > X2) for X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2), a1 a positive integer (Evan Miller's closed form):
    Σ_{i<a1} B(a2+i, b1+b2) / ((b1+i) B(1+i, b1) B(a2, b2)), summed in logs."""
    i = np.arange(int(a1), dtype=float)
    log_terms = (special.betaln(a2 + i, b1 + b2) - np.log(b1 + i) - special.betaln(1 + i, b1)
                 - special.betaln(a2, b2))
    return float(np.exp(special.logsumexp(log_terms)))


def _prob_greater_quad(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(X1 > X2) = ∫ f1(x) F2(x) dx by adaptive quadrature over the region where X1 has mass."""
    d1 = sps.beta(a1, b1)
    d2 = sps.beta(a2, b2)
    lo, hi = d1.ppf(1e-15), d1.isf(1e-15)
    points = [d1.mean(), d2.mean()]
    points = [p for p in points if lo < p < hi]
    value, _ = integrate.quad(lambda x: d1.pdf(x) * d2.cdf(x), lo, hi, points=points or None, limit=500,
                              epsabs=1e-12, epsrel=1e-10)
    return float(min(max(value, 0.0), 1.0))


def prob_beta_greater(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(X1 > X2) for independent X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2), exact to ~1e-12.

    Uses the closed-form sum over whichever integer parameter is smallest (by the symmetries
    P(X1 > X2) = 1 − P(X2 > X1) = P(1 − X1 < 1 − X2)), and numerical integration when the parameters are not
    integers (fractional conversions) or the sum would be very long.
    """
    options = []
    if _is_int(a1):
        options.append((a1, lambda: _prob_greater_closed(a1, b1, a2, b2)))
    if _is_int(a2):
        options.append((a2, lambda: 1 - _prob_greater_closed(a2, b2, a1, b1)))
    if _is_int(b2):  # P(X1 > X2) = P(Y2 > Y1), Y = 1 − X ~ Beta(b, a)
        options.append((b2, lambda: _prob_greater_closed(b2, a2, b1, a1)))
    if _is_int(b1):
        options.append((b1, lambda: 1 - _prob_greater_closed(b1, a1, b2, a2)))
    options = [o for o in options if o[0] <= _MAX_CLOSED_FORM_TERMS]
    if options:
        value = min(options, key=lambda o: o[0])[1]()
    else:
        value = _prob_greater_quad(a1, b1, a2, b2)
    return float(min(max(value, 0.0), 1.0))


def bayesian_proportions(control: VariantStats, variant: VariantStats) -> tuple[float, float]:
    """(chance_to_beat, expected_loss) with Beta(1, 1) priors.

    chance_to_beat = P(p_variant > p_control), a probability. expected_loss = E[max(p_control − p_variant, 0)],
    in rate units (a fraction): what choosing the variant costs on average if it is in fact worse. Computed from
    E[A·1{A>B}] = E[A] · P(A⁺ > B) with A⁺ ~ Beta(α_A + 1, β_A).
    """
    ac, bc = 1 + control.sum, 1 + control.n - control.sum
    av, bv = 1 + variant.sum, 1 + variant.n - variant.sum
    chance = prob_beta_greater(av, bv, ac, bc)
    mean_c, mean_v = ac / (ac + bc), av / (av + bv)
    loss = mean_c * prob_beta_greater(ac + 1, bc, av, bv) - mean_v * prob_beta_greater(ac, bc, av + 1, bv)
    return chance, max(loss, 0.0)


# ---------------------------------------------------------------------------------------------------------------
# Two-arm comparisons
# ---------------------------------------------------------------------------------------------------------------


def _interval(center: float, half: float) -> Interval:
    return (center - half, center + half)


def _sequential_parts(estimate: float, variance: float, n_total: float, alpha: float,
                      tuning: float) -> tuple[Interval, float]:
    return (_interval(estimate, sequential_halfwidth(variance, n_total, alpha, tuning)),
            sequential_p_value(estimate, variance, n_total, alpha, tuning))


def _invalid_counts(s: VariantStats, kind: MetricKind) -> bool:
    if not all(math.isfinite(x) for x in (s.n, s.sum, s.sum_squares)) or s.n < 0:
        return True
    return kind == "proportion" and (s.sum < 0 or s.sum > s.n)


def _empty_comparison(variant: str, kind: MetricKind, warnings: list[AbWarning]) -> Comparison:
    return Comparison(variant, kind, None, None, None, None, None, None, False, None, None, tuple(warnings))


def _arm_warnings(control: VariantStats, variant: VariantStats, kind: MetricKind) -> list[AbWarning] | None:
    """Warnings that make the comparison impossible (returned), or None when it can go ahead."""
    out = []
    for s in (control, variant):
        if _invalid_counts(s, kind):
            what = "conversions above visitors or a negative count" if kind == "proportion" else "invalid numbers"
            out.append(AbWarning("invalid_counts", f"Variant {s.name} has {what}, so it cannot be compared; "
                                 "check the input columns.", s.name))
        elif s.n == 0:
            out.append(AbWarning("empty_arm", f"Variant {s.name} has no units, so it cannot be compared yet.",
                                 s.name))
    return out or None


def compare_proportions(control: VariantStats, variant: VariantStats, alpha: float = DEFAULT_ALPHA,
                        sequential: bool = False, tuning: float = DEFAULT_TUNING) -> Comparison:
    """Conversion rate of ``variant`` against ``control`` (see the module docstring for every convention).

    Returns ``p_value_adjusted == p_value`` (one comparison); :func:`analyze` adjusts across variants. Undefined
    statistics are None with a warning: no conversions (or only conversions) in both arms → no p-value; control
    rate 0 → no relative lift; a zero standard error → no interval.
    """
    kind: MetricKind = "proportion"
    blocked = _arm_warnings(control, variant, kind)
    if blocked:
        return _empty_comparison(variant.name, kind, blocked)
    warnings: list[AbWarning] = []
    nc, nt, xc, xt = control.n, variant.n, control.sum, variant.sum
    pc, pt = xc / nc, xt / nt
    vc, vt = pc * (1 - pc), pt * (1 - pt)
    lift_abs = pt - pc
    z = sps.norm.ppf(1 - alpha / 2)
    var_abs = vt / nt + vc / nc
    pooled = (xc + xt) / (nc + nt)

    p_value: float | None = None
    if 0 < pooled < 1:
        _, p = proportions_ztest([xt, xc], [nt, nc], alternative="two-sided")
        p_value = float(p)
    else:
        state = "no conversions" if pooled == 0 else "only conversions"
        warnings.append(AbWarning("no_variance", f"Variant {variant.name} and control {control.name} both have "
                                  f"{state}, so there is no difference to test.", variant.name))

    lift_rel: float | None = None
    var_rel: float | None = None
    if pc > 0:
        lift_rel = pt / pc - 1
        var_rel = _delta_variance(pc, pt, vc, vt, nc, nt)
    elif pooled > 0:
        warnings.append(AbWarning("zero_baseline", f"Control {control.name} has no conversions, so a relative "
                                  "lift cannot be computed; read the absolute difference.", variant.name))

    ci_abs = ci_rel = None
    if sequential:
        n_total = nc + nt
        if var_abs > 0:
            ci_abs, p_value = _sequential_parts(lift_abs, var_abs, n_total, alpha, tuning)
        else:
            p_value = None
        if var_rel and var_rel > 0:
            ci_rel = _interval(lift_rel, sequential_halfwidth(var_rel, n_total, alpha, tuning))
    else:
        if var_abs > 0:
            ci_abs = _interval(lift_abs, z * math.sqrt(var_abs))
        if var_rel and var_rel > 0:
            ci_rel = _interval(lift_rel, z * math.sqrt(var_rel))

    chance, loss = bayesian_proportions(control, variant)
    return Comparison(variant.name, kind, lift_abs, ci_abs, lift_rel, ci_rel, p_value, p_value,
                      p_value is not None and p_value < alpha, chance, loss, tuple(warnings))


def _delta_variance(mc: float, mt: float, vc: float, vt: float, nc: float, nt: float) -> float | None:
    """Delta-method variance of mt/mc − 1: σ²_t/(n_t μ_c²) + σ²_c μ_t²/(n_c μ_c⁴), written with the ratio so
    tiny means do not underflow; None when it is not a finite positive number."""
    try:
        ratio = mt / mc
        value = (vt / nt + vc * ratio * ratio / nc) / (mc * mc)
    except (ZeroDivisionError, OverflowError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def welch_df(var_c: float, n_c: float, var_t: float, n_t: float) -> float | None:
    """Welch–Satterthwaite degrees of freedom; None when undefined (both variances 0 or an arm with n < 2)."""
    a, b = var_t / n_t, var_c / n_c
    den = (a * a / (n_t - 1) if a else 0.0) + (b * b / (n_c - 1) if b else 0.0)
    return (a + b) ** 2 / den if den > 0 else None


def compare_means(control: VariantStats, variant: VariantStats, alpha: float = DEFAULT_ALPHA,
                  sequential: bool = False, tuning: float = DEFAULT_TUNING) -> Comparison:
    """Mean of ``variant`` against ``control``: Welch t-test, Welch–Satterthwaite t intervals, delta-method
    relative lift. Needs at least 2 units per arm and some variance; otherwise the statistics are None with a
    warning. Sequential mode replaces intervals and p-value by the always-valid ones (normal-based)."""
    kind: MetricKind = "mean"
    blocked = _arm_warnings(control, variant, kind)
    if blocked:
        return _empty_comparison(variant.name, kind, blocked)
    mc, mt = control.mean, variant.mean
    lift_abs = mt - mc
    warnings: list[AbWarning] = []
    lift_rel = mt / mc - 1 if mc != 0 else None
    if mc == 0:
        warnings.append(AbWarning("zero_baseline", f"Control {control.name} has a mean of 0, so a relative lift "
                                  "cannot be computed; read the absolute difference.", variant.name))
    few = [s for s in (control, variant) if s.n < 2]
    if few:
        warnings.extend(AbWarning("too_few_units", f"Variant {s.name} has fewer than 2 units, so its spread and "
                                  "the test are undefined.", s.name) for s in few)
        return Comparison(variant.name, kind, lift_abs, None, lift_rel, None, None, None, False,
                          warnings=tuple(warnings))
    vc, vt = control.sample_variance, variant.sample_variance
    var_abs = vt / variant.n + vc / control.n
    df = welch_df(vc, control.n, vt, variant.n)
    # Spreads so small that their squares underflow are no spread at all for the test.
    if not var_abs > 0 or df is None or not math.isfinite(df):
        warnings.append(AbWarning("no_variance", f"Every unit of {variant.name} and {control.name} has the same "
                                  "value within each variant, so there is no spread to test against.", variant.name))
        return Comparison(variant.name, kind, lift_abs, None, lift_rel, None, None, None, False,
                          warnings=tuple(warnings))
    var_rel = _delta_variance(mc, mt, vc, vt, control.n, variant.n) if mc != 0 else None
    if sequential:
        n_total = control.n + variant.n
        ci_abs, p_value = _sequential_parts(lift_abs, var_abs, n_total, alpha, tuning)
        ci_rel = (_interval(lift_rel, sequential_halfwidth(var_rel, n_total, alpha, tuning))
                  if var_rel and var_rel > 0 else None)
    else:
        result = sps.ttest_ind_from_stats(mt, math.sqrt(vt), variant.n, mc, math.sqrt(vc), control.n,
                                            equal_var=False)
        p_value = float(result.pvalue)
        tq = sps.t.ppf(1 - alpha / 2, df)
        ci_abs = _interval(lift_abs, tq * math.sqrt(var_abs))
        ci_rel = _interval(lift_rel, tq * math.sqrt(var_rel)) if var_rel and var_rel > 0 else None
    return Comparison(variant.name, kind, lift_abs, ci_abs, lift_rel, ci_rel, p_value, p_value,
                      p_value is not None and p_value < alpha, warnings=tuple(warnings))


# ---------------------------------------------------------------------------------------------------------------
# Whole analysis
# ---------------------------------------------------------------------------------------------------------------


def summarize_variant(s: VariantStats, kind: MetricKind, alpha: float = DEFAULT_ALPHA) -> VariantSummary:
    """Rate with a Wilson interval (proportions) or mean, sd and t interval (means); None where undefined."""
    if _invalid_counts(s, kind) or s.n == 0:
        return VariantSummary(s.name, kind, s.n, None, None, s.sum if kind == "proportion" else None, None)
    if kind == "proportion":
        lo, hi = proportion_confint(s.sum, s.n, alpha=alpha, method="wilson")
        return VariantSummary(s.name, kind, s.n, s.mean, (float(lo), float(hi)), successes=s.sum)
    var = s.sample_variance
    sd = math.sqrt(var) if var is not None else None
    ci = None
    if sd is not None:
        ci = _interval(s.mean, sps.t.ppf(1 - alpha / 2, s.n - 1) * sd / math.sqrt(s.n))
    return VariantSummary(s.name, kind, s.n, s.mean, ci, sd=sd)


def _merge(stats_list: Iterable[VariantStats]) -> list[VariantStats]:
    """One VariantStats per name (duplicates pooled: sufficient statistics add)."""
    merged: dict[str, VariantStats] = {}
    for s in stats_list:
        name = str(s.name)
        if name in merged:
            m = merged[name]
            merged[name] = VariantStats(name, m.n + s.n, m.sum + s.sum, m.sum_squares + s.sum_squares,
                                        m.rows_ignored + s.rows_ignored)
        else:
            merged[name] = replace(s, name=name)
    return list(merged.values())


def srm_check(counts: Sequence[float], expected_split: Sequence[float] | None = None) -> SrmCheck:
    """Pearson chi-square goodness of fit of the units per variant against ``expected_split`` (percentages or any
    weights, e.g. [50, 50] or [30, 70]; equal when None). p is None with fewer than 2 variants, no units, or a
    split of the wrong length or with a non-positive weight; mismatch is p < 0.001."""
    k = len(counts)
    weights = [1.0] * k if expected_split is None else [float(w) for w in expected_split]
    valid = len(weights) == k and all(math.isfinite(w) and w > 0 for w in weights)
    split = tuple(100 * w / sum(weights) for w in weights) if valid else tuple(float(w) for w in weights)
    total = float(sum(counts))
    if not valid or k < 2 or total <= 0 or any(c < 0 or not math.isfinite(c) for c in counts):
        return SrmCheck(None, split, False)
    expected = [total * w / 100 for w in split]
    p = float(sps.chisquare(list(counts), expected).pvalue)
    return SrmCheck(p, split, p < SRM_THRESHOLD)


def adjust_p_values(p_values: Sequence[float | None], correction: Correction = "holm") -> list[float | None]:
    """Holm or Benjamini–Hochberg adjusted p-values (statsmodels ``multipletests``) over the non-None entries;
    None stays None; "none" returns the input."""
    present = [i for i, p in enumerate(p_values) if p is not None]
    out: list[float | None] = list(p_values)
    # One p-value is its own Holm and BH adjustment; skipping the call also skips the gc.collect() that
    # statsmodels' multipletests runs on every call (~50 ms).
    if correction == "none" or len(present) < 2:
        return out
    adjusted = multipletests([p_values[i] for i in present], method=_STATSMODELS_METHOD[correction])[1]
    for i, p in zip(present, adjusted):
        out[i] = float(p)
    return out


def analyze(
    stats: list[VariantStats],
    control: str,
    kind: MetricKind,
    alpha: float = DEFAULT_ALPHA,
    correction: Correction = "holm",
    expected_split: Sequence[float] | None = None,
    sequential: bool = False,
    tuning: float = DEFAULT_TUNING,
) -> AbResult:
    """The whole A/B analysis: every variant against ``control``.

    kind: "proportion" (sum = conversions) or "mean". alpha: two-sided significance level (0.05 → 95 % intervals).
    correction: multiple-comparison adjustment of the p-values across variants. expected_split: planned traffic
    shares in the order of the result's variants (control first, then natural order), equal when None.
    sequential: always-valid intervals and p-values with tuning parameter N* = ``tuning`` (total units at which
    the sequence is tightest; default 5000 as in GrowthBook).

    Never raises for bad data: missing control, empty arms, no variance, etc. become warnings and None values.
    Raises ValueError only for impossible settings (alpha outside (0, 1), an unknown kind or correction,
    tuning ≤ 0) — caller mistakes.
    """
    if kind not in ("proportion", "mean"):
        raise ValueError(f"Unknown metric kind {kind!r}; use 'proportion' or 'mean'.")
    if correction not in ("holm", "bh", "none"):
        raise ValueError(f"Unknown correction {correction!r}; use 'holm', 'bh' or 'none'.")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1, for example 0.05.")
    if sequential and not tuning > 0:
        raise ValueError("The sequential tuning parameter must be a positive number of units, for example 5000.")

    merged = _merge(stats)
    control = str(control)
    others = sorted((s for s in merged if s.name != control), key=lambda s: natural_key(s.name))
    control_stats = next((s for s in merged if s.name == control), None)
    ordered = ([control_stats] if control_stats else []) + others
    warnings: list[AbWarning] = []

    for s in ordered:
        if s.rows_ignored:
            warnings.append(AbWarning("rows_ignored", f"{s.rows_ignored:,} rows of variant {s.name} had no readable "
                                      "outcome and were left out.", s.name))
    if control_stats is None:
        available = ", ".join(s.name for s in ordered) or "none"
        warnings.append(AbWarning("control_missing", f"The control {control!r} is not among the variants in the "
                                  f"data ({available}); choose one of them as the control."))
    elif not others:
        warnings.append(AbWarning("no_variants", "There is only one variant, so there is nothing to compare; "
                                  "check the variant column."))

    summaries = tuple(summarize_variant(s, kind, alpha) for s in ordered)
    for s in ordered:
        if _invalid_counts(s, kind) or s.n == 0:
            continue
        if s.n < MIN_UNITS:
            warnings.append(AbWarning("small_sample", f"Variant {s.name} has only {_fmt_count(s.n)} units; results "
                                      f"with fewer than {MIN_UNITS} per variant are unreliable.", s.name))
        if kind == "proportion" and s.sum < MIN_CONVERSIONS:
            warnings.append(AbWarning("few_conversions", f"Variant {s.name} has only {_fmt_count(s.sum)} "
                                      f"conversions; results with fewer than {MIN_CONVERSIONS} per variant are "
                                      "unreliable.", s.name))

    comparisons: list[Comparison] = []
    if control_stats is not None:
        compare = compare_proportions if kind == "proportion" else compare_means
        for s in others:
            c = compare(control_stats, s, alpha, sequential, tuning)
            comparisons.append(c)
            warnings.extend(c.warnings)
            if c.lift_rel is not None and abs(c.lift_rel) > LARGE_LIFT:
                warnings.append(AbWarning("large_lift", f"Variant {s.name} differs from the control by "
                                          f"{c.lift_rel:+.0%}; lifts above 50 % are rare, so check tracking and "
                                          "the variant assignment.", s.name))
        adjusted = adjust_p_values([c.p_value for c in comparisons], correction)
        comparisons = [replace(c, p_value_adjusted=p, significant=p is not None and p < alpha)
                       for c, p in zip(comparisons, adjusted)]

    srm = srm_check([s.n for s in ordered], expected_split)
    if expected_split is not None and srm.p_value is None and len(ordered) >= 2 and (
            len(expected_split) != len(ordered) or not all(float(w) > 0 for w in expected_split)):
        warnings.append(AbWarning("expected_split_invalid", f"The expected split has {len(expected_split)} "
                                  f"shares for {len(ordered)} variants (or a share that is not positive), so the "
                                  "sample-ratio check was skipped; give one positive share per variant."))
    if srm.mismatch:
        warnings.append(AbWarning("srm", f"The number of units per variant does not match the planned split "
                                  f"(sample-ratio mismatch, p {_fmt_p(srm.p_value)}); check the assignment and "
                                  "tracking before trusting the result."))

    unique = tuple(dict.fromkeys(warnings))  # an empty control is reported once, not once per comparison
    return AbResult(kind, control, float(alpha), bool(sequential), correction, summaries, tuple(comparisons), srm,
                    unique, float(tuning) if sequential else None)


def _fmt_p(p: float) -> str:
    return "< 1e-300" if p < 1e-300 else f"= {p:.2g}"


def _fmt_count(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.2f}"


# ---------------------------------------------------------------------------------------------------------------
# Plain-language verdict
# ---------------------------------------------------------------------------------------------------------------

# Below this relative lift a difference is treated as "no difference" for planning: detecting it would need a
# sample no campaign has.
_NEGLIGIBLE_LIFT = 0.005
_MAX_PLANNED_PER_ARM = 100_000_000


def _pct(x: float, signed: bool = True) -> str:
    return f"{x * 100:+.1f} %" if signed else f"{x * 100:.1f} %"


def _chance(p: float) -> str:
    if p > 0.999:
        return "more than 99.9 %"
    if p < 0.001:
        return "less than 0.1 %"
    return f"{p * 100:.1f} %"


def _needed_per_arm(result: AbResult, control: VariantSummary, comparison: Comparison,
                    variant: VariantSummary) -> int | None:
    """Units per arm the planner says an effect of the observed size needs (α split over the comparisons)."""
    k = max(len(result.variants), 2)
    try:
        if result.metric_kind == "proportion":
            plan = samplesize_proportions(control.value, comparison.lift_abs, alpha=result.alpha, power=0.8,
                                          variants=k)
        else:
            sds = [s for s in (control.sd, variant.sd) if s is not None]
            sd = math.sqrt(sum(s * s for s in sds) / len(sds)) if sds else None
            if not sd:
                return None
            plan = samplesize_means(sd, comparison.lift_abs, alpha=result.alpha, power=0.8, variants=k)
    except (ValueError, TypeError, ZeroDivisionError):
        return None
    return plan.per_variant


def verdict(result: AbResult, comparison: Comparison) -> str:
    """One or two plain sentences about ``comparison`` for a marketer.

    Claims a difference only when ``comparison.significant`` is true (adjusted p below α, or the always-valid
    interval excluding 0 in sequential mode). Otherwise says the test needs more data and, from the planner at
    the observed baseline and lift (power 0.8), about how many more units per arm; or that the observed
    difference is too small to detect when the lift is about 0. Mentions a sample-ratio mismatch first.
    """
    name, control_name = comparison.variant, result.control
    control = next((v for v in result.variants if v.name == control_name), None)
    variant = next((v for v in result.variants if v.name == name), None)
    level = f"{(1 - result.alpha) * 100:g} %"
    ci_label = f"{level} always-valid CI" if result.sequential else f"{level} CI"
    prefix = ""
    if result.srm.mismatch:
        prefix = ("Caution: the traffic split does not match the plan (sample-ratio mismatch), so this result may "
                  "be biased. ")

    if control is None or variant is None or comparison.lift_abs is None or comparison.p_value is None:
        reason = next((w.message for w in result.warnings
                       if w.variant in (name, control_name) or w.code == "control_missing"), None)
        return prefix + f"There is not enough data to compare {name} with {control_name} yet" + (
            f": {reason[0].lower()}{reason[1:]}" if reason else ".")

    is_prop = result.metric_kind == "proportion"
    # A relative interval that crosses 0 while the (absolute) test is significant would read as a contradiction;
    # the delta-method ratio interval is then the looser one, so speak in absolute units.
    rel_ci_agrees = comparison.ci_rel is not None and (
        not comparison.significant or comparison.ci_rel[0] > 0 or comparison.ci_rel[1] < 0)
    if comparison.lift_rel is not None and rel_ci_agrees:
        size, ci = abs(comparison.lift_rel), comparison.ci_rel
        fmt = _pct
        amount = f"{size * 100:.1f} %"
    else:  # no usable relative lift (control at 0, or see above): speak in absolute terms
        size, ci = abs(comparison.lift_abs), comparison.ci_abs
        if is_prop:
            fmt = lambda x, signed=True: f"{x * 100:+.2f} pp"  # noqa: E731 - percentage points
            amount = f"{size * 100:.2f} percentage points"
        else:
            fmt = lambda x, signed=True: f"{x:+,.4g}"  # noqa: E731
            amount = f"{size:,.4g}"
    up = comparison.lift_abs > 0
    if is_prop:
        direction = "better" if up else "worse"
        phrase = f"{name} converts {amount} {direction} than {control_name}"
    else:
        direction = "higher" if up else "lower"
        phrase = f"{name} averages {amount} {direction} than {control_name}"
    ci_text = f" ({ci_label} {fmt(ci[0])} to {fmt(ci[1])})" if ci else ""
    chance_text = ""
    if is_prop and comparison.chance_to_beat is not None:
        chance_text = f"; the chance that {name} is better is {_chance(comparison.chance_to_beat)}"

    if comparison.significant:
        return prefix + phrase + ci_text + chance_text + "."

    # Not significant: never state the difference as real.
    shown = comparison.lift_rel if fmt is _pct else comparison.lift_abs
    head = prefix + (f"No clear winner yet: {name} is {fmt(shown)} against {control_name}{ci_text}, which could "
                     f"be chance{chance_text}.")
    negligible = comparison.lift_abs == 0 or (comparison.lift_rel is not None
                                               and abs(comparison.lift_rel) < _NEGLIGIBLE_LIFT)
    if negligible:
        return head + " The observed difference is too small to detect with any practical amount of traffic."
    needed = _needed_per_arm(result, control, comparison, variant)
    if needed is None:  # the planner cannot work from these numbers (e.g. a control rate of 0)
        return head + " The test needs more data; keep it running."
    if needed > _MAX_PLANNED_PER_ARM:
        return head + " The observed difference is too small to detect with any practical amount of traffic."
    more = needed - int(min(control.n, variant.n))
    if more <= 0:
        adjusted = len(result.comparisons) > 1 and result.correction != "none"
        why = f" after adjusting for {len(result.comparisons)} comparisons" if adjusted else ""
        return head + f" The test is not conclusive{why}; keep it running to collect more data."
    return head + (f" The test needs more data: about {more:,} more units per variant ({needed:,} per variant in "
                   f"total) to detect a difference this size with 80 % power.")
