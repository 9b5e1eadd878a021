"""A/B results as people read them: formatted numbers and the per-variant table.

The page shows exactly these strings, and ``table_rows`` reads either ``AbResult.to_dict()`` or the JSON of
``python -m metrics abtest`` (the same shape), so a test can prove that the page and the command line agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl

from metrics.abtest.kinds import kind_spec
from metrics.abtest.results import AbResult

DASH = "—"


def fmt_p(p: float | None) -> str:
    """A p-value with three significant digits, never in scientific notation: 0.000616, 0.0500, 1.00."""
    if p is None:
        return DASH
    if p < 1e-6:
        return "< 0.000001"
    return np.format_float_positional(p, precision=3, unique=False, fractional=False)


def fmt_rate(x: float | None) -> str:
    """A rate (fraction) as percent: 0.115 → "11.50 %"."""
    return DASH if x is None else f"{x * 100:.2f} %"


def fmt_lift(x: float | None) -> str:
    """A relative lift (fraction) as signed percent: 0.15 → "+15.00 %"."""
    return DASH if x is None else f"{x * 100:+.2f} %"


def fmt_pp(x: float | None) -> str:
    """A rate difference (fraction) in percentage points: 0.015 → "+1.50 pp"."""
    return DASH if x is None else f"{x * 100:+.2f} pp"


def fmt_number(x: float | None, signed: bool = False) -> str:
    """A mean or a difference of means with about four significant digits and thousands separators."""
    if x is None:
        return DASH
    if x == 0:
        return "+0" if signed else "0"
    digits = min(max(0, 3 - math.floor(math.log10(abs(x)))), 6)
    return f"{x:{'+' if signed else ''},.{digits}f}"


def fmt_signed_number(x: float | None) -> str:
    return fmt_number(x, signed=True)


def fmt_count(x: float | None) -> str:
    if x is None:
        return DASH
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.2f}"


def fmt_interval(ci: Sequence[float] | None, fmt: Callable[[float | None], str]) -> str:
    return DASH if ci is None else f"{fmt(ci[0])} to {fmt(ci[1])}"


def fmt_chance(p: float | None) -> str:
    if p is None:
        return DASH
    if p > 0.999:
        return "> 99.9 %"
    if p < 0.001:
        return "< 0.1 %"
    return f"{p * 100:.1f} %"


def fmt_loss(x: float | None) -> str:
    """Expected loss (rate units) in percentage points, two significant digits: 3.3e-5 → "0.0033 pp"."""
    if x is None:
        return DASH
    if x * 100 < 0.0001:
        return "< 0.0001 pp"
    return np.format_float_positional(x * 100, precision=2, unique=False, fractional=False) + " pp"


def level_label(alpha: float) -> str:
    return f"{(1 - alpha) * 100:g} %"


#: The formats a metric kind names (``kinds.MetricKindSpec``: its columns, difference and value formats).
FORMATS: dict[str, Callable[[float | None], str]] = {
    "rate": fmt_rate, "pp": fmt_pp, "number": fmt_number, "signed": fmt_signed_number, "count": fmt_count,
}


def table_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """The per-variant frequentist table as text, from ``AbResult.to_dict()`` or the CLI's JSON (the same
    shape). The Bayesian numbers are apart: :func:`bayesian_rows`."""
    spec = kind_spec(result["metric_kind"])
    level = level_label(result["alpha"])
    always = " always-valid" if result.get("sequential") else ""
    comparisons = {c["variant"]: c for c in result["comparisons"]}
    several = len(result["comparisons"]) > 1  # with one comparison the adjusted values equal the raw ones
    adjusted = several and result.get("correction") != "none"
    diff = FORMATS[spec.difference_format]
    rows = []
    for v in result["variants"]:
        row: dict[str, str] = {"Variant": str(v["name"]), "Units": fmt_count(v["n"])}
        for column in spec.columns:
            shown = FORMATS[column.format]
            if column.interval:
                row[f"{column.header} {level} CI"] = fmt_interval(v[column.key], shown)
            else:
                row[column.header] = shown(v[column.key])
        c = comparisons.get(v["name"])
        is_control = v["name"] == result["control"]
        if not is_control and c is None:
            rows.append(row)
            continue
        row["Lift"] = "control" if is_control else fmt_lift(c["lift_rel"])
        row[f"Lift{always} {level} CI"] = DASH if is_control else fmt_interval(c["ci_rel"], fmt_lift)
        if adjusted:
            row["Adjusted CI"] = DASH if is_control else fmt_interval(c["ci_rel_adjusted"], fmt_lift)
        row["Difference"] = DASH if is_control else diff(c["lift_abs"])
        row[f"Difference{always} {level} CI"] = DASH if is_control else fmt_interval(c["ci_abs"], diff)
        row["p-value"] = DASH if is_control else fmt_p(c["p_value"])
        if several:
            row["Adjusted p"] = DASH if is_control else fmt_p(c["p_value_adjusted"])
        row["Significant"] = DASH if is_control else ("yes" if c["significant"] else "no")
        rows.append(row)
    return rows


def bayesian_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """The Bayesian panel (conversion rates only; empty otherwise): chance to beat the control and expected loss
    of each challenger, following the metric's direction."""
    if not kind_spec(result["metric_kind"]).bayesian:
        return []
    return [{"Variant": str(c["variant"]), "Chance to beat the control": fmt_chance(c.get("chance_to_beat")),
             "Expected loss": fmt_loss(c.get("expected_loss"))} for c in result["comparisons"]]


_NUMBERS_SCHEMA = {
    "variant": pl.String, "is_control": pl.Boolean, "n": pl.Float64, "successes": pl.Float64,
    "numerator": pl.Float64, "denominator": pl.Float64, "value": pl.Float64, "sd": pl.Float64,
    "ci_low": pl.Float64, "ci_high": pl.Float64, "lift_rel": pl.Float64, "ci_rel_low": pl.Float64,
    "ci_rel_high": pl.Float64, "ci_rel_adjusted_low": pl.Float64, "ci_rel_adjusted_high": pl.Float64,
    "lift_abs": pl.Float64, "ci_abs_low": pl.Float64, "ci_abs_high": pl.Float64, "p_value": pl.Float64,
    "p_value_adjusted": pl.Float64, "chance_to_beat": pl.Float64, "expected_loss": pl.Float64,
    "significant": pl.Boolean,
}


def numbers_frame(result: AbResult) -> pl.DataFrame:
    """The per-variant table with raw numbers (fractions, not percent), for downloads."""
    rows = []
    for v in result.variants:
        c = result.comparison(v.name)

        def bound(ci, i):
            return ci[i] if ci else None

        rows.append({
            "variant": v.name, "is_control": v.name == result.control, "n": v.n, "successes": v.successes,
            "numerator": v.numerator, "denominator": v.denominator, "value": v.value, "sd": v.sd,
            "ci_low": bound(v.ci, 0), "ci_high": bound(v.ci, 1),
            "lift_rel": c.lift_rel if c else None, "ci_rel_low": bound(c and c.ci_rel, 0),
            "ci_rel_high": bound(c and c.ci_rel, 1), "ci_rel_adjusted_low": bound(c and c.ci_rel_adjusted, 0),
            "ci_rel_adjusted_high": bound(c and c.ci_rel_adjusted, 1), "lift_abs": c.lift_abs if c else None,
            "ci_abs_low": bound(c and c.ci_abs, 0), "ci_abs_high": bound(c and c.ci_abs, 1),
            "p_value": c.p_value if c else None, "p_value_adjusted": c.p_value_adjusted if c else None,
            "chance_to_beat": c.chance_to_beat if c else None, "expected_loss": c.expected_loss if c else None,
            "significant": c.significant if c else None,
        })
    return pl.DataFrame(rows, schema=_NUMBERS_SCHEMA)
