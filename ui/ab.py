"""A/B test widgets for pages/ab_tests.py: settings, the result panel, charts and the saved configuration.

The statistics are `metrics.abtest` (the same engine the `python -m metrics abtest` command calls); this module only
builds its inputs from what the visitor picked and shows its output. Formatting lives here too, so the table on the
page and a test reading the CLI's JSON format numbers the same way.

The report's saved A/B test is a JSON-able dict in ``st.session_state[AB_CONFIG]`` (snapshots save and restore it):

    {"version": 1,
     "source": "campaign" | "upload" | "calculator",
     "metric": "cvr" | "ctr" | "leads_per_click"      (campaign) | outcome column (upload) | "counts" | "means",
     "campaign": None | "<campaign name>",             (campaign source: restricted to one campaign)
     "control": "A", "expected_split": None | [50, 50], "alpha": 0.05, "correction": "holm" | "bh" | "none",
     "sequential": False, "tuning": 5000,
     "calculator_rows": [{"name", "visitors", "conversions"} | {"name", "n", "mean", "sd"}, ...],   (calculator)
     "upload": {"file_name", "variant_column", "outcome_column", "kind": "proportion" | "mean",
                "stats": [{"name", "n", "sum", "sum_squares", "rows_ignored"}, ...]}}           (upload)

An uploaded user-level file is not part of a snapshot, so an upload-based test saves its sufficient statistics,
which is all the analysis needs to give the same numbers again.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import polars as pl
import streamlit as st
from scipy import stats as sps

from metrics import abtest
from metrics.abtest import AbResult, Comparison, VariantStats
from metrics.kpis import apply_filters
from ui.charts import show_chart
from ui.state import keyed
from ui.widgets import download_table, md_escape

CONFIG_VERSION = 1

#: Campaign-table metrics: key → (label, trials column, successes column).
CAMPAIGN_METRICS: dict[str, tuple[str, str, str]] = {
    "cvr": ("Conversion rate (conversions / clicks)", "clicks", "conversions"),
    "ctr": ("Click-through rate (clicks / impressions)", "impressions", "clicks"),
    "leads_per_click": ("Leads per click (leads / clicks)", "clicks", "leads"),
}
CORRECTIONS = {"holm": "Holm (default)", "bh": "Benjamini–Hochberg", "none": "None"}
ALPHAS = [0.01, 0.05, 0.10]
TUNING_HELP = (
    "Sequential testing gives intervals and p-values that stay valid however often you look at the test, so you "
    "may check it every day and stop as soon as it is conclusive. The price is wider intervals. N* is the total "
    "number of units (all variants together) at which the intervals are tightest: set it near the total you "
    "expect when the test ends. It does not need to be exact; the default is 5,000."
)
CALCULATOR_COUNTS = [{"name": "A", "visitors": 5000, "conversions": 400},
                     {"name": "B", "visitors": 5000, "conversions": 460}]
CALCULATOR_MEANS = [{"name": "A", "n": 1000, "mean": 52.0, "sd": 30.0},
                    {"name": "B", "n": 1000, "mean": 55.0, "sd": 31.0}]

_CONTROL_COLOR = "#8c8c8c"
_VARIANT_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


# ---------------------------------------------------------------------------------------------------------------
# Formatting (shared with the tests that compare the page with the CLI)
# ---------------------------------------------------------------------------------------------------------------

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
        return "0" if not signed else "+0"
    digits = min(max(0, 3 - math.floor(math.log10(abs(x)))), 6)
    return f"{x:{'+' if signed else ''},.{digits}f}"


def fmt_count(x: float | None) -> str:
    if x is None:
        return DASH
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.2f}"


def fmt_interval(ci: Sequence[float] | None, fmt) -> str:
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


def table_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """The per-variant table as text, from ``AbResult.to_dict()`` — or from the CLI's JSON, which has the same
    shape, so a test can check that the page and the command line show the same numbers."""
    prop = result["metric_kind"] == "proportion"
    level = level_label(result["alpha"])
    always = " always-valid" if result.get("sequential") else ""
    by_variant = {c["variant"]: c for c in result["comparisons"]}
    several = len(result["comparisons"]) > 1  # with one comparison the adjusted p is the p-value
    rows = []
    for v in result["variants"]:
        row: dict[str, str] = {"Variant": str(v["name"]), "Units": fmt_count(v["n"])}
        if prop:
            row["Conversions"] = fmt_count(v["successes"])
            row["Rate"] = fmt_rate(v["rate"])
            row[f"Rate {level} CI"] = fmt_interval(v["ci"], fmt_rate)
        else:
            row["Mean"] = fmt_number(v["mean"])
            row["SD"] = fmt_number(v["sd"])
            row[f"Mean {level} CI"] = fmt_interval(v["ci"], fmt_number)
        c = by_variant.get(v["name"])
        diff = fmt_pp if prop else (lambda x: fmt_number(x, signed=True))
        if v["name"] == result["control"]:
            row.update({"Lift": "control", f"Lift{always} {level} CI": DASH, "Difference": DASH,
                        f"Difference{always} {level} CI": DASH, "p-value": DASH})
            if several:
                row["Adjusted p"] = DASH
            if prop:
                row.update({"Chance to beat": DASH, "Expected loss": DASH})
            row["Significant"] = DASH
        elif c is not None:
            row.update({
                "Lift": fmt_lift(c["lift_rel"]),
                f"Lift{always} {level} CI": fmt_interval(c["ci_rel"], fmt_lift),
                "Difference": diff(c["lift_abs"]),
                f"Difference{always} {level} CI": fmt_interval(c["ci_abs"], diff),
                "p-value": fmt_p(c["p_value"]),
            })
            if several:
                row["Adjusted p"] = fmt_p(c["p_value_adjusted"])
            if prop:
                row.update({"Chance to beat": fmt_chance(c.get("chance_to_beat")),
                            "Expected loss": fmt_loss(c.get("expected_loss"))})
            row["Significant"] = "yes" if c["significant"] else "no"
        rows.append(row)
    return rows


def numbers_frame(result: AbResult) -> pl.DataFrame:
    """The per-variant table with raw numbers (fractions, not percent), for downloads."""
    rows = []
    for v in result.variants:
        c = result.comparison(v.name)
        rows.append({
            "variant": v.name, "is_control": v.name == result.control, "n": v.n, "successes": v.successes,
            "value": v.value, "sd": v.sd, "ci_low": v.ci[0] if v.ci else None, "ci_high": v.ci[1] if v.ci else None,
            "lift_rel": c.lift_rel if c else None,
            "ci_rel_low": c.ci_rel[0] if c and c.ci_rel else None,
            "ci_rel_high": c.ci_rel[1] if c and c.ci_rel else None,
            "lift_abs": c.lift_abs if c else None,
            "ci_abs_low": c.ci_abs[0] if c and c.ci_abs else None,
            "ci_abs_high": c.ci_abs[1] if c and c.ci_abs else None,
            "p_value": c.p_value if c else None, "p_value_adjusted": c.p_value_adjusted if c else None,
            "chance_to_beat": c.chance_to_beat if c else None, "expected_loss": c.expected_loss if c else None,
            "significant": c.significant if c else None,
        })
    return pl.DataFrame(rows, schema={
        "variant": pl.String, "is_control": pl.Boolean, "n": pl.Float64, "successes": pl.Float64,
        "value": pl.Float64, "sd": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
        "lift_rel": pl.Float64, "ci_rel_low": pl.Float64, "ci_rel_high": pl.Float64, "lift_abs": pl.Float64,
        "ci_abs_low": pl.Float64, "ci_abs_high": pl.Float64, "p_value": pl.Float64,
        "p_value_adjusted": pl.Float64, "chance_to_beat": pl.Float64, "expected_loss": pl.Float64,
        "significant": pl.Boolean,
    })


# ---------------------------------------------------------------------------------------------------------------
# Inputs → sufficient statistics (pure)
# ---------------------------------------------------------------------------------------------------------------


def parse_split(text: str | None) -> list[float] | None:
    """"50,50" or "30/70" or "50 %, 50 %" → [50.0, 50.0]; empty → None (equal split).
    Raises ValueError with one plain sentence when it is not a list of positive numbers."""
    if text is None or not str(text).strip():
        return None
    parts = [p.strip().rstrip("%").strip() for p in str(text).replace("/", ",").replace(";", ",").split(",")
             if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"The expected split {text!r} is not a list of numbers; write it like 50,50.") from None
    if len(values) < 2 or not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError("The expected split needs a positive share for each variant, like 50,50 or 30,70.")
    return values


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def calculator_stats(rows: Sequence[dict[str, Any]], mode: str) -> list[VariantStats]:
    """Rows typed in the calculator → VariantStats. Blank rows are skipped; a blank name becomes "Variant N";
    a blank count is 0 (the engine then warns about an empty arm). mode: "counts" or "means"."""
    out: list[VariantStats] = []
    for index, row in enumerate(rows):
        name = row.get("name")
        name = "" if name is None or (isinstance(name, float) and math.isnan(name)) else str(name).strip()
        fields = ("visitors", "conversions") if mode == "counts" else ("n", "mean", "sd")
        values = [_number(row.get(f)) for f in fields]
        if not name and all(v is None for v in values):
            continue
        name = name or f"Variant {index + 1}"
        if mode == "counts":
            out.append(VariantStats.from_counts(name, values[0] or 0.0, values[1] or 0.0))
        else:
            out.append(VariantStats.from_summary(name, values[0] or 0.0, values[1] or 0.0, values[2]))
    return out


def campaign_rows(frame: pl.DataFrame, *, filters: Any = None, campaign: str | None = None) -> pl.DataFrame:
    """The campaign-table rows a test on the ``variant`` dimension uses: the report's filters (dates, platforms,
    campaigns) and optionally one campaign."""
    lazy = frame.lazy()
    if filters is not None:
        lazy = apply_filters(lazy, date_from=filters.date_from, date_to=filters.date_to,
                             filters=filters.dimension_filters())
    if campaign:
        lazy = lazy.filter(pl.col("campaign") == campaign)
    return lazy.collect()


def available_campaign_metrics(frame: pl.DataFrame) -> list[str]:
    """Campaign metrics whose two columns exist with some values on rows that have a variant."""
    if "variant" not in frame.columns:
        return []
    tagged = frame.filter(pl.col("variant").is_not_null())
    out = []
    for key, (_, trials, successes) in CAMPAIGN_METRICS.items():
        if trials in tagged.columns and successes in tagged.columns and tagged.select(
                (pl.col(trials).is_not_null() & pl.col(successes).is_not_null()).any()).item():
            out.append(key)
    return out


def stats_to_json(stats: Sequence[VariantStats]) -> list[dict[str, Any]]:
    return [{"name": s.name, "n": s.n, "sum": s.sum, "sum_squares": s.sum_squares, "rows_ignored": s.rows_ignored}
            for s in stats]


def stats_from_json(items: Sequence[dict[str, Any]]) -> list[VariantStats]:
    return [VariantStats(str(i["name"]), float(i["n"]), float(i["sum"]), float(i["sum_squares"]),
                         int(i.get("rows_ignored") or 0)) for i in items]


def variant_names(stats: Sequence[VariantStats]) -> list[str]:
    return sorted(dict.fromkeys(s.name for s in stats), key=abtest.natural_key)


# ---------------------------------------------------------------------------------------------------------------
# Reading an uploaded user-level file exactly as the CLI does
# ---------------------------------------------------------------------------------------------------------------


@st.cache_resource(max_entries=4, ttl=3600, show_spinner="Reading the file…")
def _read_upload(digest: str, name: str, _data: bytes) -> pl.DataFrame:
    from metrics.cli_abtest import read_table

    safe_name = Path(str(name).replace("\\", "/")).name or "upload.csv"
    with tempfile.TemporaryDirectory(prefix="campaign-lens-ab-") as folder:
        path = Path(folder) / safe_name
        path.write_bytes(_data)
        return read_table(path)


def read_upload(name: str, data: bytes) -> pl.DataFrame:
    """An uploaded CSV/TSV/XLSX/Parquet file as a frame, through the CLI's reader (same sniffing, encodings and
    zip-bomb guard, so the page and `python -m metrics abtest` see the same table). Raises InputError."""
    return _read_upload(hashlib.sha256(data).hexdigest(), name, data)


# ---------------------------------------------------------------------------------------------------------------
# Chart data (pure)
# ---------------------------------------------------------------------------------------------------------------


def cumulative_lift(rows: pl.DataFrame, trials: str, successes: str, control: str, *, alpha: float,
                    sequential: bool = False, tuning: float = abtest.DEFAULT_TUNING) -> pl.DataFrame:
    """Cumulative rates per variant per day → the relative lift of each variant over the control as it stood at
    the end of each day, with its interval (delta method as the engine; always-valid in sequential mode).

    Columns: date, variant, lift, low, high (fractions). Rows are kept as the engine keeps them (a variant label
    and both counts present). Days before both arms have 25 successes (the engine's guardrail) are left out.
    The last day's lift equals the overall result's lift when every row has a date."""
    empty = pl.DataFrame(schema={"date": pl.Date, "variant": pl.String, "lift": pl.Float64, "low": pl.Float64,
                                 "high": pl.Float64})
    if "date" not in rows.columns or "variant" not in rows.columns:
        return empty
    daily = (rows.lazy()
             .filter(pl.col("variant").is_not_null() & pl.col("date").is_not_null()
                     & pl.col(trials).is_finite() & pl.col(successes).is_finite())
             .group_by(pl.col("date"), pl.col("variant").cast(pl.String))
             .agg(pl.col(trials).sum().alias("n"), pl.col(successes).sum().alias("x"))
             .collect())
    if daily.is_empty() or control not in daily.get_column("variant").to_list():
        return empty
    grid = (daily.select("date").unique().join(daily.select("variant").unique(), how="cross")
            .join(daily, on=["date", "variant"], how="left").fill_null(0.0)
            .sort(["variant", "date"])
            .with_columns(pl.col("n").cum_sum().over("variant"), pl.col("x").cum_sum().over("variant")))
    ctrl = grid.filter(pl.col("variant") == control).select("date", pl.col("n").alias("nc"), pl.col("x").alias("xc"))
    joined = (grid.filter(pl.col("variant") != control).join(ctrl, on="date")
              .filter((pl.col("n") > 0) & (pl.col("nc") > 0) & (pl.col("xc") > 0))
              # The first days' intervals are so wide they flatten the chart; the engine's own guardrail says
              # results under 25 conversions per arm are unreliable.
              .filter((pl.col("x") >= abtest.MIN_CONVERSIONS) & (pl.col("xc") >= abtest.MIN_CONVERSIONS))
              .sort(["variant", "date"]))
    if joined.is_empty():
        return empty
    nt, xt = joined.get_column("n").to_numpy(), joined.get_column("x").to_numpy()
    nc, xc = joined.get_column("nc").to_numpy(), joined.get_column("xc").to_numpy()
    pt, pc = xt / nt, xc / nc
    ratio = pt / pc
    lift = ratio - 1
    var = (pt * (1 - pt) / nt + pc * (1 - pc) * ratio * ratio / nc) / (pc * pc)
    if sequential:
        half = np.array([abtest.sequential_halfwidth(v, a + b, alpha, tuning) if v > 0 else np.nan
                         for v, a, b in zip(var, nt, nc)])
    else:
        half = sps.norm.ppf(1 - alpha / 2) * np.sqrt(var)
    half = np.where(var > 0, half, np.nan)
    return joined.select("date", "variant").with_columns(
        pl.Series("lift", lift), pl.Series("low", lift - half), pl.Series("high", lift + half),
    ).with_columns(pl.col("low", "high").fill_nan(None))


@dataclass(frozen=True)
class LiftCurve:
    frame: pl.DataFrame  # variant, x, density, inside
    relative: bool


def lift_density(result: AbResult, points: int = 161) -> LiftCurve | None:
    """Normal approximation of each comparison's lift: relative (delta method, the engine's variance) when the
    control's value is not 0, else the absolute difference. ``inside`` marks the points within the reported
    interval (the always-valid one in sequential mode)."""
    by_name = {v.name: v for v in result.variants}
    control = by_name.get(result.control)
    if control is None or control.value is None:
        return None
    relative = all(c.lift_rel is not None and c.ci_rel is not None for c in result.comparisons)
    frames = []
    for c in result.comparisons:
        v = by_name.get(c.variant)
        if v is None or v.value is None or c.lift_abs is None:
            continue
        var_c = _unit_variance(control, result.metric_kind)
        var_t = _unit_variance(v, result.metric_kind)
        if var_c is None or var_t is None or control.n <= 0 or v.n <= 0:
            continue
        if relative:
            ratio = v.value / control.value
            var = (var_t / v.n + var_c * ratio * ratio / control.n) / (control.value ** 2)
            center, ci = c.lift_rel, c.ci_rel
        else:
            var = var_t / v.n + var_c / control.n
            center, ci = c.lift_abs, c.ci_abs
        if not var > 0 or ci is None:
            continue
        sd = math.sqrt(var)
        lo, hi = min(center - 4 * sd, ci[0]), max(center + 4 * sd, ci[1])
        xs = np.linspace(lo, hi, points)
        frames.append(pl.DataFrame({
            "variant": [c.variant] * points, "x": xs, "density": sps.norm.pdf(xs, center, sd),
            "inside": (xs >= ci[0]) & (xs <= ci[1]),
        }))
    if not frames:
        return None
    return LiftCurve(pl.concat(frames), relative)


def _unit_variance(v, kind: str) -> float | None:
    if kind == "proportion":
        return v.value * (1 - v.value)
    return None if v.sd is None else v.sd * v.sd


# ---------------------------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------------------------


def _color_scale(names: Sequence[str], control: str) -> alt.Scale:
    others = [n for n in names if n != control]
    domain = [control] + others
    colors = [_CONTROL_COLOR] + [_VARIANT_COLORS[i % len(_VARIANT_COLORS)] for i in range(len(others))]
    return alt.Scale(domain=domain, range=colors)


def _fit_width(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Fill the width but keep the declared plot height (Streamlit's default "fit" squeezes axes and titles
    into the height, which leaves a flat plot)."""
    return chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))


def _challenger_color(names: Sequence[str], control: str) -> alt.Color:
    """Colours of the challengers (the same as on the rates chart); a legend only when there are several."""
    challengers = [n for n in names if n != control]
    colors = [_VARIANT_COLORS[i % len(_VARIANT_COLORS)] for i in range(len(challengers))]
    legend = alt.Legend(orient="top", title=None) if len(challengers) > 1 else None
    return alt.Color("variant:N", scale=alt.Scale(domain=challengers, range=colors), legend=legend)


def rates_chart(result: AbResult) -> alt.Chart | None:
    prop = result.metric_kind == "proportion"
    rows = [{"variant": v.name, "value": v.value, "low": v.ci[0], "high": v.ci[1]}
            for v in result.variants if v.value is not None and v.ci is not None]
    if not rows:
        return None
    frame = pl.DataFrame(rows)
    names = [v.name for v in result.variants]
    fmt = ".2%" if prop else ",.4~g"
    title = "Conversion rate" if prop else "Mean"
    base = alt.Chart(frame).encode(
        y=alt.Y("variant:N", sort=names, title=None, axis=alt.Axis(labelLimit=160)),
        color=alt.Color("variant:N", scale=_color_scale(names, result.control), legend=None),
        tooltip=[alt.Tooltip("variant:N", title="Variant"), alt.Tooltip("value:Q", title=title, format=fmt),
                 alt.Tooltip("low:Q", title="CI low", format=fmt), alt.Tooltip("high:Q", title="CI high", format=fmt)],
    )
    bars = base.mark_rule(strokeWidth=3).encode(x=alt.X("low:Q", title=f"{title} with {level_label(result.alpha)} "
                                                        "interval", axis=alt.Axis(format=fmt.replace(",", "")),
                                                        scale=alt.Scale(zero=False)), x2="high:Q")
    dots = base.mark_point(filled=True, size=120).encode(x="value:Q")
    # One band per variant, whatever their number.
    return _fit_width((bars + dots).properties(height=alt.Step(44), title=f"{title} per variant"))


def lift_chart(result: AbResult) -> alt.Chart | None:
    curve = lift_density(result)
    if curve is None:
        return None
    names = [v.name for v in result.variants]
    if curve.relative:
        x_title, fmt = "Relative lift over the control", "+.0%"
    elif result.metric_kind == "proportion":
        x_title, fmt = "Difference from the control (rate)", "+.2%"
    else:
        x_title, fmt = "Difference from the control", "+,.3~g"
    interval = "always-valid interval" if result.sequential else "interval"
    color = _challenger_color(names, result.control)
    base = alt.Chart(curve.frame).encode(x=alt.X("x:Q", title=x_title, axis=alt.Axis(format=fmt)),
                                         y=alt.Y("density:Q", title=None, axis=None), color=color)
    line = base.mark_line()
    shade = base.transform_filter(alt.datum.inside).mark_area(opacity=0.3)
    zero = alt.Chart(pl.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4], color="#555").encode(x="x:Q")
    return _fit_width((shade + line + zero).properties(
        height=160, title=alt.TitleParams("How large the lift could be",
                                          subtitle=f"Shaded: the {level_label(result.alpha)} {interval}")))


def cumulative_chart(frame: pl.DataFrame, result: AbResult) -> alt.Chart | None:
    if frame.is_empty():
        return None
    names = [v.name for v in result.variants]
    color = _challenger_color(names, result.control)
    base = alt.Chart(frame).encode(x=alt.X("date:T", title=None), color=color)
    band = base.mark_area(opacity=0.18).encode(y=alt.Y("low:Q", title="Cumulative lift over the control",
                                                       axis=alt.Axis(format="+.0%")), y2="high:Q")
    line = base.mark_line(point=False).encode(
        y="lift:Q",
        tooltip=[alt.Tooltip("date:T", title="Day"), alt.Tooltip("variant:N", title="Variant"),
                 alt.Tooltip("lift:Q", title="Lift", format="+.2%"), alt.Tooltip("low:Q", title="Low", format="+.2%"),
                 alt.Tooltip("high:Q", title="High", format="+.2%")])
    zero = alt.Chart(pl.DataFrame({"y": [0.0]})).mark_rule(strokeDash=[4, 4], color="#555").encode(y="y:Q")
    interval = "always-valid interval" if result.sequential else "interval"
    return _fit_width((band + line + zero).properties(
        height=240, title=alt.TitleParams("Lift over time", subtitle=f"Data up to each day, from the first day "
                                          f"with {abtest.MIN_CONVERSIONS} conversions in every arm; band: "
                                          f"{level_label(result.alpha)} {interval}")))


def samplesize_chart(points: Sequence[tuple[float, int]], chosen: tuple[float, int] | None, *,
                     relative: bool) -> alt.Chart | None:
    if not points:
        return None
    frame = pl.DataFrame({"mde": [p[0] for p in points], "n": [float(p[1]) for p in points]})
    x_title = "Minimum detectable effect (relative)" if relative else "Minimum detectable effect (rate points)"
    fmt = ".0%" if relative else ".1%"
    x = alt.X("mde:Q", title=x_title, axis=alt.Axis(format=fmt))
    y = alt.Y("n:Q", title="Units per variant", scale=alt.Scale(type="log"), axis=alt.Axis(format="~s"))
    tooltip = [alt.Tooltip("mde:Q", title="MDE", format=fmt.replace("0", "1")),
               alt.Tooltip("n:Q", title="Per variant", format=",.0f")]
    chart = alt.Chart(frame).mark_line(point=True).encode(x=x, y=y, tooltip=tooltip)
    if chosen is not None:
        here = pl.DataFrame({"mde": [chosen[0]], "n": [float(chosen[1])]})
        chart = chart + alt.Chart(here).mark_point(size=160, filled=True, color="#d62728").encode(
            x="mde:Q", y="n:Q", tooltip=tooltip)
    return _fit_width(chart.properties(height=220, title="Smaller effects need many more users"))


# ---------------------------------------------------------------------------------------------------------------
# Widgets
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestSettings:
    control: str
    alpha: float
    correction: abtest.Correction
    expected_split: list[float] | None
    sequential: bool
    tuning: float

    def to_config(self) -> dict[str, Any]:
        return {"control": self.control, "alpha": self.alpha, "correction": self.correction,
                "expected_split": self.expected_split, "sequential": self.sequential, "tuning": self.tuning}


def _default(key: str, value: Any, options: Sequence[Any] | None = None) -> None:
    """Give a widget its first value through session state (so a saved configuration can set it too, without
    Streamlit's "default value and Session State" warning) and drop a remembered value that is no longer an
    option (other data, other variants)."""
    if options is not None and key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]
    st.session_state.setdefault(key, value)


def settings_widgets(prefix: str, names: Sequence[str]) -> TestSettings | None:
    """Control, α, correction, expected split and sequential mode. None (with an error shown) when the
    expected split cannot be used."""
    if not names:
        return None
    names = list(names)
    cols = st.columns([1.2, 1, 1.2, 1.2])
    _default(f"{prefix}_control", abtest.guess_control(names), names)
    control = cols[0].selectbox("Control", names, key=keyed(prefix, "control"), format_func=str,
                                help="The variant the others are compared with (usually the current version).")
    alpha_options = list(ALPHAS)
    remembered = st.session_state.get(keyed(prefix, "alpha"))
    if isinstance(remembered, float) and 0 < remembered < 1 and remembered not in alpha_options:
        alpha_options = sorted(alpha_options + [remembered])
    _default(f"{prefix}_alpha", 0.05, alpha_options)
    alpha = cols[1].selectbox("Significance level α", alpha_options, key=keyed(prefix, "alpha"),
                              format_func=lambda a: f"{a:g} ({level_label(a)} confidence)",
                              help="The false-positive rate you accept; 0.05 is the usual choice.")
    _default(f"{prefix}_correction", "holm", list(CORRECTIONS))
    correction = cols[2].selectbox("Correction for several variants", list(CORRECTIONS), key=keyed(prefix, "correction"),
                                   format_func=CORRECTIONS.get,
                                   help="With more than one challenger, p-values are adjusted so that the chance of "
                                        "any false winner stays at α. Holm is safe; Benjamini–Hochberg finds more "
                                        "winners and controls the share of false ones.")
    _default(f"{prefix}_split", "")
    split_text = cols[3].text_input(
        "Expected split (%)", key=keyed(prefix, "split"), placeholder="equal",
        help="Planned traffic shares, control first, then the others in the order shown, e.g. 50,50 or 30,70. "
             "Used for the sample-ratio check; leave empty for an equal split.")
    seq_cols = st.columns([1.2, 1, 2.4])
    _default(f"{prefix}_sequential", False)
    sequential = seq_cols[0].toggle("Sequential testing", key=keyed(prefix, "sequential"), help=TUNING_HELP)
    tuning = float(abtest.DEFAULT_TUNING)
    if sequential:
        _default(f"{prefix}_tuning", abtest.DEFAULT_TUNING)
        tuning = float(seq_cols[1].number_input("Tuning N*", min_value=1, step=1000, key=keyed(prefix, "tuning"),
                                                help=TUNING_HELP))
        seq_cols[2].caption("Always-valid results: safe to look every day, at the price of wider intervals.")
    try:
        split = parse_split(split_text)
    except ValueError as error:
        st.error(md_escape(error))
        return None
    ordered = [control] + [n for n in names if n != control]
    if split is not None and len(split) != len(ordered):
        st.error(md_escape(f"The expected split has {len(split)} shares but there are {len(ordered)} variants "
                           f"({', '.join(ordered)}); give one share per variant."))
        return None
    return TestSettings(str(control), float(alpha), correction, split, bool(sequential), tuning)


def seed_settings(prefix: str, config: dict[str, Any]) -> None:
    """Put a saved configuration's settings into the widgets of one tab (before they are drawn)."""
    st.session_state[keyed(prefix, "control")] = config.get("control")
    if config.get("alpha") is not None:
        st.session_state[keyed(prefix, "alpha")] = float(config["alpha"])
    if config.get("correction") in CORRECTIONS:
        st.session_state[keyed(prefix, "correction")] = config["correction"]
    split = config.get("expected_split")
    st.session_state[keyed(prefix, "split")] = ",".join(f"{x:g}" for x in split) if split else ""
    st.session_state[keyed(prefix, "sequential")] = bool(config.get("sequential"))
    st.session_state[keyed(prefix, "tuning")] = int(config.get("tuning") or abtest.DEFAULT_TUNING)


def run_analysis(stats: Sequence[VariantStats], kind: abtest.MetricKind, settings: TestSettings) -> AbResult:
    return abtest.analyze(list(stats), settings.control, kind, alpha=settings.alpha, correction=settings.correction,
                          expected_split=settings.expected_split, sequential=settings.sequential,
                          tuning=settings.tuning)


def verdict_box(result: AbResult, comparison: Comparison) -> None:
    text = md_escape(abtest.verdict(result, comparison))
    if result.srm.mismatch:
        st.error(text, icon=":material/warning:")
    elif comparison.significant and (comparison.lift_abs or 0) > 0:
        st.success(text, icon=":material/check_circle:")
    elif comparison.significant:
        st.warning(text, icon=":material/trending_down:")
    else:
        st.info(text, icon=":material/hourglass_empty:")


def srm_status(result: AbResult) -> None:
    """The sample-ratio check, always shown; red when the split does not match the plan."""
    srm = result.srm
    units = " / ".join(fmt_count(v.n) for v in result.variants)
    split = " / ".join(f"{x:g}" for x in srm.expected_split)
    if srm.p_value is None:
        st.caption(f":material/help: Sample-ratio check: not possible here (units {units}).")
    elif srm.mismatch:
        st.error(f"Sample-ratio mismatch: the units per variant ({units}) do not match the planned split "
                 f"({split} %), p = {fmt_p(srm.p_value)}. Check the assignment and tracking before trusting the "
                 "result.", icon=":material/error:")
    else:
        st.caption(f":material/check_circle: Sample-ratio check passed: units {units} against a planned "
                   f"{split} % split (p = {fmt_p(srm.p_value)}).")


def tiles(result: AbResult) -> None:
    """Headline numbers for a two-variant test."""
    if len(result.comparisons) != 1:
        return
    c = result.comparisons[0]
    by_name = {v.name: v for v in result.variants}
    control, variant = by_name.get(result.control), by_name.get(c.variant)
    if control is None or variant is None:
        return
    prop = result.metric_kind == "proportion"
    value = fmt_rate if prop else fmt_number
    cols = st.columns(5 if prop else 4)
    what = "rate" if prop else "mean"
    cols[0].metric(f"{md_escape(control.name)} {what} (control)", value(control.value))
    cols[1].metric(f"{md_escape(variant.name)} {what}", value(variant.value))
    cols[2].metric("Relative lift", fmt_lift(c.lift_rel))
    cols[3].metric("p-value", fmt_p(c.p_value))
    if prop:
        cols[4].metric(f"Chance {md_escape(variant.name)} is better", fmt_chance(c.chance_to_beat))


def render_result(result: AbResult, *, key: str, daily: pl.DataFrame | None = None) -> None:
    """Verdict, headline tiles, sample-ratio check, warnings, table, charts and downloads of one analysis."""
    if not result.comparisons:
        for w in result.warnings:
            st.warning(md_escape(w.message))
        return
    with st.container(key=f"{key}_verdicts"):
        for c in result.comparisons:
            verdict_box(result, c)
    tiles(result)
    srm_status(result)
    for w in result.warnings:
        if w.code != "srm":  # the sample-ratio line above already says it
            st.warning(md_escape(w.message), icon=":material/info:")
    st.dataframe(pl.DataFrame(table_rows(result.to_dict())), hide_index=True, width="stretch", key=f"{key}_table")
    if result.sequential:
        st.caption(f"Sequential mode (N* = {result.tuning:,.0f}): intervals and p-values are always valid.")
    if result.metric_kind == "proportion":
        st.caption("Rate intervals: Wilson. Lift: relative difference with a delta-method interval. p-value: pooled "
                   "two-proportion z-test. Chance to beat: Bayesian with uniform priors.")
    else:
        st.caption("Mean intervals: t. Lift: relative difference with a delta-method interval. p-value: Welch's "
                   "t-test.")
    left, right = st.columns(2)
    with left:
        chart = rates_chart(result)
        if chart is not None:
            show_chart(chart, key=f"{key}_rates", name="ab_rates")
    with right:
        chart = lift_chart(result)
        if chart is not None:
            show_chart(chart, key=f"{key}_lift", name="ab_lift")
    if daily is not None and not daily.is_empty():
        chart = cumulative_chart(daily, result)
        if chart is not None:
            show_chart(chart, key=f"{key}_cumulative", name="ab_lift_over_time")
    download_table(numbers_frame(result), "ab_test", key=f"{key}_download", label="Download results")


def config_hash(config: dict[str, Any] | None) -> str:
    return hashlib.sha256(json.dumps(config or {}, sort_keys=True, default=str).encode()).hexdigest()


def describe_config(config: dict[str, Any]) -> str:
    """One plain line saying what the saved test is (names from uploads are escaped)."""
    source = config.get("source")
    if source == "campaign":
        label = CAMPAIGN_METRICS.get(config.get("metric"), (str(config.get("metric")),))[0]
        where = f"campaign {md_escape(config['campaign'])}" if config.get("campaign") else "all campaigns"
        text = f"{label} by variant, {where}"
    elif source == "upload":
        up = config.get("upload") or {}
        text = (f"uploaded file {md_escape(up.get('file_name', ''))}: {md_escape(up.get('outcome_column', ''))} by "
                f"{md_escape(up.get('variant_column', ''))}")
    else:
        text = "numbers typed in the calculator"
    extra = f"α {config.get('alpha', 0.05):g}, control {md_escape(config.get('control', ''))}"
    if config.get("sequential"):
        extra += f", sequential (N* {float(config.get('tuning') or abtest.DEFAULT_TUNING):,.0f})"
    return f"{text} · {extra}"


# ---------------------------------------------------------------------------------------------------------------
# The saved configuration
# ---------------------------------------------------------------------------------------------------------------


def settings_from_config(config: dict[str, Any]) -> TestSettings:
    correction = config.get("correction") if config.get("correction") in CORRECTIONS else "holm"
    alpha = _number(config.get("alpha"))
    tuning = _number(config.get("tuning"))
    split = config.get("expected_split") or None
    return TestSettings(
        control=str(config.get("control") or ""),
        alpha=alpha if alpha is not None and 0 < alpha < 1 else abtest.DEFAULT_ALPHA,
        correction=correction,
        expected_split=[float(x) for x in split] if split else None,
        sequential=bool(config.get("sequential")),
        tuning=tuning if tuning is not None and tuning > 0 else float(abtest.DEFAULT_TUNING),
    )


def analyze_config(config: dict[str, Any], frame: pl.DataFrame | None,
                   filters: Any = None) -> tuple[AbResult | None, pl.DataFrame | None, str | None]:
    """The saved test's result (and, for the campaign table, its lift over time), or a plain sentence saying why
    there is none. Never raises for a stale or odd configuration."""
    source = config.get("source")
    daily = None
    if source == "campaign":
        metric = CAMPAIGN_METRICS.get(config.get("metric"))
        if metric is None or frame is None or "variant" not in frame.columns or not {metric[1], metric[2]} <= set(
                frame.columns):
            return None, None, ("The saved A/B test uses the campaign table's variant column, which this data does "
                                "not have.")
        _, trials, successes = metric
        rows = campaign_rows(frame, filters=filters, campaign=config.get("campaign") or None)
        stats, kind = abtest.stats_from_aggregates(rows, "variant", trials, successes), "proportion"
    elif source == "upload":
        upload = config.get("upload") or {}
        stats = stats_from_json(upload.get("stats") or [])
        kind = "mean" if upload.get("kind") == "mean" else "proportion"
    elif source == "calculator":
        mode = "means" if config.get("metric") == "means" else "counts"
        stats = calculator_stats(config.get("calculator_rows") or [], mode)
        kind = "mean" if mode == "means" else "proportion"
    else:
        return None, None, "This report has no A/B test."
    if not stats:
        return None, None, "There are no rows with a variant label for the saved A/B test in the current filters."
    settings = settings_from_config(config)
    try:
        result = run_analysis(stats, kind, settings)
    except ValueError as error:
        return None, None, str(error)
    if source == "campaign":
        daily = cumulative_lift(rows, trials, successes, settings.control, alpha=settings.alpha,
                                sequential=settings.sequential, tuning=settings.tuning)
    return result, daily, None


def render_saved(config: dict[str, Any], frame: pl.DataFrame | None, filters: Any, *, key: str) -> None:
    """The report's A/B test, read-only: what a client sees."""
    if not config:
        st.info("This report has no saved A/B test.")
        return
    st.caption(f"Saved A/B test: {describe_config(config)}")
    result, daily, problem = analyze_config(config, frame, filters)
    if problem:
        st.info(md_escape(problem))
        return
    render_result(result, key=key, daily=daily)
