"""A/B test widgets for pages/ab_tests.py: settings, the result panel, charts and the read-only saved test.

Everything computed or formatted comes from `metrics.abtest` (the engine of `python -m metrics abtest`):
`saved` (settings, calculator rows, campaign metrics, the saved configuration), `display` (every string in the
tables and tiles), `curves` (chart data) and `verdict`. This module only draws.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from metrics.abtest import AbResult, Comparison, guess_control
from metrics.abtest import display as fmt
from metrics.abtest.curves import lift_density
from metrics.abtest.inputs import infer_metric_kind
from metrics.abtest.kinds import INPUT_SHAPES, kind_spec
from metrics.abtest.saved import (
    CAMPAIGN_METRICS,
    CORRECTIONS,
    AnalysisSettings,
    analyze_config,
    describe_config,
    parse_split,
)
from metrics.abtest.sequential import DEFAULT_TUNING
from metrics.abtest.verdict import DEFAULT_PLANNED_MDE, verdict
from metrics.display import format_value
from metrics.ingest import read_table
from ui import memory
from ui.charts import cached_builder, show_chart
from ui.state import (
    AB_UPLOAD_CAP,
    AB_UPLOAD_COLUMN,
    AB_UPLOAD_FILE,
    AB_UPLOAD_SHAPE,
    AB_UPLOAD_UNIT,
    AB_UPLOAD_VARIANT,
    keyed,
)
from ui.widgets import download_table, md_escape

ALPHAS = [0.01, 0.05, 0.10]
CAP_PERCENTILES = [None, 99.9, 99.0, 95.0, 90.0]
TUNING_HELP = (
    "Sequential testing gives intervals and p-values that stay valid however often you look at the test, so you "
    "may check it every day and stop as soon as it is conclusive. The price is wider intervals. N* is the total "
    "number of units (all variants together) at which the intervals are tightest: set it near the total you "
    "expect when the test ends. It does not need to be exact; the default is 5,000."
)
CAPPING_HELP = (
    "One customer with a huge order can swing a test of averages. Capping sets every unit's value above this "
    "percentile of all units (both variants together) to that percentile before the analysis, as GrowthBook does."
)
MDE_HELP = (
    "The smallest relative change that would matter to you, planned before the test. When a test is not conclusive, "
    "the verdict says how many more units it needs to detect a change of this size (never sized on the lift "
    "observed so far)."
)

VARIANT_HINTS = ("variant", "group", "version", "arm", "bucket", "treatment", "experiment", "test")
OUTCOME_HINTS = ("convert", "outcome", "success", "purchase", "revenue", "retention", "click", "value", "sales")
UNIT_NAMES = ("user_id", "userid", "user id", "user", "visitor_id", "visitor id", "customer_id", "customer id",
              "client_id", "cookie_id", "uid", "id")
NO_UNIT = ""

_CONTROL_COLOR = "#8c8c8c"
_VARIANT_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


# ---------------------------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------------------------


@memory.release_when_idle  # uploaded files, held while someone is connected
@st.cache_resource(max_entries=4, ttl=3600, show_spinner="Reading the file…")
def _read_upload(digest: str, name: str, _data: bytes) -> pl.DataFrame:
    return read_table(_data, name)


def read_upload(name: str, data: bytes) -> pl.DataFrame:
    """An uploaded CSV/TSV/XLSX/Parquet file as a frame through the upload reader (the command line reads files
    the same way), cached by the bytes' hash. Raises InputError (one sentence) when it cannot be read."""
    return _read_upload(hashlib.sha256(data).hexdigest(), name, data)


def default(key: str, value: Any, options: Sequence[Any] | None = None) -> None:
    """Give a widget its first value through session state (so a saved configuration can set it too, without
    Streamlit's "default value and Session State" warning) and drop a remembered value that is no longer an
    option (other data, other variants)."""
    if options is not None and key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]
    st.session_state.setdefault(key, value)


@dataclass(frozen=True)
class UploadChoice:
    """What the visitor picked for an uploaded file (the page passes it to ``inputs.build``)."""

    variant: str
    shape: str
    columns: dict[str, str]
    unit: str | None
    cap_percentile: float | None


def upload_choices(table: pl.DataFrame, file_key: str) -> UploadChoice:
    """Column pickers for an uploaded file: the variant, the input shape, the columns of that shape, a unit id
    and capping. Columns are guessed from their names ("test group" is a variant, "user_id" a unit); another file
    (``file_key`` changes) starts from fresh guesses."""
    if st.session_state.get(AB_UPLOAD_FILE) != file_key:
        pickers = [AB_UPLOAD_VARIANT, AB_UPLOAD_SHAPE, AB_UPLOAD_UNIT, AB_UPLOAD_CAP,
                   *{keyed(AB_UPLOAD_COLUMN, role.name) for shape in INPUT_SHAPES.values() for role in shape.roles}]
        for key in pickers:
            st.session_state.pop(key, None)
        st.session_state[AB_UPLOAD_FILE] = file_key
    columns = table.columns
    row = st.columns(3)
    default(AB_UPLOAD_VARIANT, _guess(columns, VARIANT_HINTS) or columns[0], columns)
    variant = row[0].selectbox("Variant column", columns, key=AB_UPLOAD_VARIANT)
    others = [c for c in columns if c != variant]
    outcome = _guess(others, OUTCOME_HINTS) or others[-1]
    guessed_shape = "converted" if infer_metric_kind(table, outcome) == "proportion" else "value"
    default(AB_UPLOAD_SHAPE, guessed_shape, list(INPUT_SHAPES))
    shape = row[1].selectbox("What the file holds", list(INPUT_SHAPES), key=AB_UPLOAD_SHAPE,
                             format_func=lambda name: INPUT_SHAPES[name].label)
    declared = INPUT_SHAPES[shape]
    unit = None
    if declared.per_unit:
        options = [NO_UNIT] + [c for c in others]
        default(AB_UPLOAD_UNIT, _guess(others, UNIT_NAMES, exact=True) or NO_UNIT, options)
        unit = row[2].selectbox("Unit id (optional)", options, key=AB_UPLOAD_UNIT,
                                format_func=lambda c: "Each row is a unit" if c == NO_UNIT else c,
                                help="A user or visitor id: rows of one unit are combined first (duplicates are "
                                     "reported), and units that saw more than one variant are left out.") or None
    picked: dict[str, str] = {}
    role_cols = st.columns(len(declared.roles) + (1 if declared.cappable else 0))
    candidates = [c for c in others if c != unit]
    for column, role in zip(role_cols, declared.roles):
        key = keyed(AB_UPLOAD_COLUMN, role.name)
        guess = outcome if role.name == "outcome" else _guess(candidates, role.hints or (role.name,))
        default(key, guess if guess in candidates else candidates[0], candidates)
        picked[role.name] = column.selectbox(role.label, candidates, key=key, help=role.help)
    cap = capping_widget(AB_UPLOAD_CAP, role_cols[-1]) if declared.cappable else None
    return UploadChoice(variant, shape, picked, unit, cap)


def _guess(columns: Sequence[str], hints: Sequence[str], exact: bool = False) -> str | None:
    """The first column whose (lower-cased) name is — or, unless ``exact``, contains — one of ``hints``."""
    for hint in hints:
        for column in columns:
            name = str(column).strip().lower()
            if name == hint or (not exact and hint in name):
                return column
    return None


def capping_widget(key: str, column: Any) -> float | None:
    """"Cap outliers at": no capping or a percentile (a fraction of 100)."""
    default(key, None, CAP_PERCENTILES)
    return column.selectbox("Cap outliers", CAP_PERCENTILES, key=key, help=CAPPING_HELP,
                            format_func=lambda q: "No capping" if q is None else f"At the {q:g}th percentile")


def settings_widgets(prefix: str, names: Sequence[str], *, direction: str = "higher",
                     direction_key: str = "") -> AnalysisSettings | None:
    """Control, α, correction, expected split, direction, planned minimum effect and sequential mode. None (with
    one error shown) when the expected split cannot be used. ``direction`` is the metric's own direction (CPA is
    lower-is-better); ``direction_key`` names the metric so each metric remembers its own choice."""
    if not names:
        return None
    names = list(names)
    cols = st.columns([1.2, 1, 1.2, 1.2])
    default(keyed(prefix, "control"), guess_control(names), names)
    control = cols[0].selectbox("Control", names, key=keyed(prefix, "control"), format_func=str,
                                help="The variant the others are compared with (usually the current version).")
    alpha_options = list(ALPHAS)
    remembered = st.session_state.get(keyed(prefix, "alpha"))
    if isinstance(remembered, float) and 0 < remembered < 1 and remembered not in alpha_options:
        alpha_options = sorted(alpha_options + [remembered])
    default(keyed(prefix, "alpha"), 0.05, alpha_options)
    alpha = cols[1].selectbox("Significance level α", alpha_options, key=keyed(prefix, "alpha"),
                              format_func=lambda a: f"{a:g} ({fmt.level_label(a)} confidence)",
                              help="The false-positive rate you accept; 0.05 is the usual choice.")
    default(keyed(prefix, "correction"), "holm", list(CORRECTIONS))
    correction = cols[2].selectbox(
        "Correction for several variants", list(CORRECTIONS), key=keyed(prefix, "correction"),
        format_func=CORRECTIONS.get,
        help="With more than one challenger, p-values and the intervals the verdicts quote are adjusted so that "
             "the chance of any false winner stays at α. Holm is safe; Benjamini–Hochberg finds more winners and "
             "controls the share of false ones.")
    default(keyed(prefix, "split"), "")
    split_text = cols[3].text_input(
        "Expected split (%)", key=keyed(prefix, "split"), placeholder="equal",
        help="Planned traffic shares, control first, then the others in the order shown, e.g. 50,50 or 30,70. "
             "Used for the sample-ratio check; leave empty for an equal split.")
    more = st.columns([1.2, 1, 1.2, 1.2])
    lower_key = keyed(prefix, f"lower_{direction_key}" if direction_key else "lower")
    default(lower_key, direction == "lower")
    lower = more[0].toggle("Lower is better", key=lower_key,
                           help="For costs (CPA, CPC, cost per lead) and rates you want down (bounce, unsubscribe): "
                                "the verdict and the Bayesian panel then call a decrease better.")
    default(keyed(prefix, "mde"), DEFAULT_PLANNED_MDE * 100)
    mde = more[1].number_input("Smallest lift worth detecting (%)", min_value=0.1, max_value=500.0, step=1.0,
                               key=keyed(prefix, "mde"), help=MDE_HELP)
    default(keyed(prefix, "sequential"), False)
    sequential = more[2].toggle("Sequential testing", key=keyed(prefix, "sequential"), help=TUNING_HELP)
    tuning = float(DEFAULT_TUNING)
    if sequential:
        default(keyed(prefix, "tuning"), DEFAULT_TUNING)
        tuning = float(more[3].number_input("Tuning N*", min_value=1, step=1000, key=keyed(prefix, "tuning"),
                                            help=TUNING_HELP))
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
    return AnalysisSettings(control=str(control), alpha=float(alpha), correction=correction, expected_split=split,
                        sequential=bool(sequential), tuning=tuning, direction="lower" if lower else "higher",
                        planned_mde=float(mde) / 100)


def seed_settings(prefix: str, config: dict[str, Any], *, direction_key: str = "") -> None:
    """Put a saved configuration's settings into the widgets of one tab (before they are drawn)."""
    settings = AnalysisSettings.from_config(config)
    st.session_state[keyed(prefix, "control")] = settings.control
    st.session_state[keyed(prefix, "alpha")] = settings.alpha
    st.session_state[keyed(prefix, "correction")] = settings.correction
    split = settings.expected_split
    st.session_state[keyed(prefix, "split")] = ",".join(f"{x:g}" for x in split) if split else ""
    st.session_state[keyed(prefix, "sequential")] = settings.sequential
    st.session_state[keyed(prefix, "tuning")] = int(settings.tuning)
    st.session_state[keyed(prefix, f"lower_{direction_key}" if direction_key else "lower")] = (
        settings.direction == "lower")
    st.session_state[keyed(prefix, "mde")] = settings.planned_mde * 100


# ---------------------------------------------------------------------------------------------------------------
# The result panel
# ---------------------------------------------------------------------------------------------------------------


def verdict_box(result: AbResult, comparison: Comparison, planned_mde: float | None) -> None:
    text = md_escape(verdict(result, comparison, planned_mde=planned_mde))
    ci = comparison.ci_rel_adjusted
    winner = comparison.significant and ci is not None and (ci[0] > 0 or ci[1] < 0)
    better = winner and (ci[0] > 0) == (result.direction == "higher")
    if result.srm.mismatch:
        st.error(text, icon=":material/warning:")
    elif winner and better:
        st.success(text, icon=":material/check_circle:")
    elif winner:
        st.warning(text, icon=":material/trending_down:")
    else:
        st.info(text, icon=":material/hourglass_empty:")


def srm_status(result: AbResult) -> None:
    """The sample-ratio check, always shown; red when the split does not match the plan."""
    srm = result.srm
    units = " / ".join(fmt.fmt_count(v.n) for v in result.variants)
    split = " / ".join(f"{x:g}" for x in srm.expected_split)
    if srm.p_value is None:
        st.caption(f":material/help: Sample-ratio check: not possible here (units {units}).")
    elif srm.mismatch:
        st.error(f"Sample-ratio mismatch: the units per variant ({units}) do not match the planned split "
                 f"({split} %), p = {fmt.fmt_p(srm.p_value)}. Check the assignment and tracking before trusting "
                 "the result.", icon=":material/error:")
    else:
        st.caption(f":material/check_circle: Sample-ratio check passed: units {units} against a planned "
                   f"{split} % split (p = {fmt.fmt_p(srm.p_value)}).")


def tiles(result: AbResult, value_format: Callable[[float | None], str] | None = None) -> None:
    """Headline numbers of a two-variant test (frequentist only; the Bayesian panel is apart). ``value_format``
    shows the arms' values (a currency for CPA); by default rates as percent, other values as numbers."""
    if len(result.comparisons) != 1:
        return
    c = result.comparisons[0]
    control, variant = result.variant(result.control), result.variant(c.variant)
    if control is None or variant is None:
        return
    spec = kind_spec(result.metric_kind)
    what = spec.value_name(result.metric)
    value = value_format or fmt.FORMATS[spec.value_format]
    cols = st.columns(4)
    cols[0].metric(f"{md_escape(control.name)} {md_escape(what)} (control)", value(control.value))
    cols[1].metric(f"{md_escape(variant.name)} {md_escape(what)}", value(variant.value))
    cols[2].metric("Relative lift", fmt.fmt_lift(c.lift_rel))
    cols[3].metric("p-value", fmt.fmt_p(c.p_value))


def bayesian_panel(result: AbResult, *, key: str) -> None:
    """Chance to beat and expected loss (conversion rates), labelled as Bayesian and kept apart from the verdict."""
    rows = fmt.bayesian_rows(result.to_dict())
    if not rows:
        return
    with st.expander("Bayesian view: chance to beat the control", icon=":material/casino:"):
        st.caption("Uniform Beta(1, 1) priors, computed exactly. A different question from the verdict above: how "
                   "likely each variant is better than the control" + (" (lower is better)" if result.direction ==
                                                                         "lower" else "")
                   + ", and what choosing it costs in rate points if it is in fact worse.")
        st.dataframe(pl.DataFrame(rows), hide_index=True, width="stretch", key=f"{key}_bayes")


def render_result(result: AbResult, *, key: str, daily: pl.DataFrame | None = None,
                  planned_mde: float | None = DEFAULT_PLANNED_MDE,
                  value_format: Callable[[float | None], str] | None = None) -> None:
    """Verdicts, headline tiles, sample-ratio check, warnings, table, Bayesian panel, charts and downloads."""
    if not result.comparisons:
        for w in result.warnings:
            st.warning(md_escape(w.message))
        return
    with st.container(key=f"{key}_verdicts"):
        for c in result.comparisons:
            verdict_box(result, c, planned_mde)
    tiles(result, value_format)
    srm_status(result)
    for w in result.warnings:
        if w.code != "srm":  # the sample-ratio line above already says it
            st.warning(md_escape(w.message), icon=":material/info:")
    if result.capping is not None:
        st.caption(f"Values capped at {fmt.fmt_number(result.capping.value)} (the {result.capping.percentile:g}th "
                   f"percentile of all units); {result.capping.units:,} units were capped.")
    st.dataframe(pl.DataFrame(fmt.table_rows(result.to_dict())), hide_index=True, width="stretch",
                 key=f"{key}_table")
    st.caption(_method_caption(result))
    bayesian_panel(result, key=key)
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
    download_table(fmt.numbers_frame(result), "ab_test", key=f"{key}_download", label="Download results")


def _method_caption(result: AbResult) -> str:
    parts = ["Lift: relative difference (variant − control) / |control| with a delta-method interval and Welch "
             "t test, as GrowthBook's frequentist engine; this test decides."]
    if result.sequential:
        parts.append(f"Sequential mode (N* = {result.tuning:,.0f}): intervals and p-values are always valid.")
    if len(result.comparisons) > 1 and result.correction != "none":
        parts.append(f"Adjusted CI: at the level matching the {CORRECTIONS[result.correction].split(' (')[0]} "
                     "correction; the verdicts quote it.")
    note = kind_spec(result.metric_kind).method_note
    if note:
        parts.append(note)
    return " ".join(parts)


def render_saved(config: dict[str, Any], frame: pl.DataFrame | None, filters: Any, *, key: str) -> None:
    """The report's A/B test, read-only: what a client sees."""
    if not config:
        st.info("This report has no saved A/B test.")
        return
    st.caption(f"Saved A/B test: {md_escape(describe_config(config))}")
    result, daily, problem = analyze_config(config, frame, filters)
    if problem:
        st.info(md_escape(problem))
        return
    metric = CAMPAIGN_METRICS.get(config.get("metric")) if kind_spec(result.metric_kind).takes_metric_format else None
    render_result(result, key=key, daily=daily, planned_mde=AnalysisSettings.from_config(config).planned_mde,
                  value_format=(lambda x: format_value(x, metric.format)) if metric else None)


# ---------------------------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------------------------


def _color_scale(names: Sequence[str], control: str) -> alt.Scale:
    others = [n for n in names if n != control]
    colors = [_CONTROL_COLOR] + [_VARIANT_COLORS[i % len(_VARIANT_COLORS)] for i in range(len(others))]
    return alt.Scale(domain=[control] + others, range=colors)


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


@cached_builder
def rates_chart(result: AbResult) -> alt.Chart | None:
    spec = kind_spec(result.metric_kind)
    rows = [{"variant": v.name, "value": v.value, "low": v.ci[0], "high": v.ci[1]}
            for v in result.variants if v.value is not None and v.ci is not None]
    if not rows:
        return None
    names = [v.name for v in result.variants]
    number = spec.chart_format
    title = spec.value_name(result.metric, title=True)
    base = alt.Chart(pl.DataFrame(rows)).encode(
        y=alt.Y("variant:N", sort=names, title=None, axis=alt.Axis(labelLimit=160)),
        color=alt.Color("variant:N", scale=_color_scale(names, result.control), legend=None),
        tooltip=[alt.Tooltip("variant:N", title="Variant"), alt.Tooltip("value:Q", title=title, format=number),
                 alt.Tooltip("low:Q", title="CI low", format=number),
                 alt.Tooltip("high:Q", title="CI high", format=number)],
    )
    bars = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("low:Q", title=f"{title} with {fmt.level_label(result.alpha)} interval",
                axis=alt.Axis(format=number.replace(",", "")), scale=alt.Scale(zero=False)), x2="high:Q")
    dots = base.mark_point(filled=True, size=120).encode(x="value:Q")
    return _fit_width((bars + dots).properties(height=alt.Step(44), title=f"{title} per variant"))


@cached_builder
def lift_chart(result: AbResult) -> alt.Chart | None:
    curve = lift_density(result)
    if curve is None:
        return None
    names = [v.name for v in result.variants]
    interval = "always-valid interval" if result.sequential else "interval"
    adjusted = " (adjusted)" if result.alpha_adjusted != result.alpha else ""
    base = alt.Chart(curve).encode(x=alt.X("x:Q", title="Relative lift over the control", axis=alt.Axis(format="+.0%")),
                                   y=alt.Y("density:Q", title=None, axis=None),
                                   color=_challenger_color(names, result.control))
    shade = base.transform_filter(alt.datum.inside).mark_area(opacity=0.3)
    zero = alt.Chart(pl.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4], color="#555").encode(x="x:Q")
    return _fit_width((shade + base.mark_line() + zero).properties(
        height=160, title=alt.TitleParams("How large the lift could be",
                                          subtitle=f"Shaded: the {fmt.level_label(result.alpha)} {interval}"
                                                   f"{adjusted} the verdict quotes")))


@cached_builder
def cumulative_chart(frame: pl.DataFrame, result: AbResult) -> alt.Chart | None:
    if frame.is_empty():
        return None
    names = [v.name for v in result.variants]
    base = alt.Chart(frame).encode(x=alt.X("date:T", title=None), color=_challenger_color(names, result.control))
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
        height=240, title=alt.TitleParams("Lift over time", subtitle="Data up to each day, once every arm has 25 "
                                          f"units; band: {fmt.level_label(result.alpha)} {interval}")))


@cached_builder
def samplesize_chart(points: Sequence[tuple[float, int]], chosen: tuple[float, int] | None) -> alt.Chart | None:
    """Units per variant against the relative minimum detectable effect (log scale)."""
    if not points:
        return None
    frame = pl.DataFrame({"mde": [p[0] for p in points], "n": [float(p[1]) for p in points]})
    x = alt.X("mde:Q", title="Minimum detectable effect (relative)", axis=alt.Axis(format=".0%"))
    y = alt.Y("n:Q", title="Units per variant", scale=alt.Scale(type="log"), axis=alt.Axis(format="~s"))
    tooltip = [alt.Tooltip("mde:Q", title="MDE", format=".1%"), alt.Tooltip("n:Q", title="Per variant", format=",.0f")]
    chart = alt.Chart(frame).mark_line(point=True).encode(x=x, y=y, tooltip=tooltip)
    if chosen is not None:
        here = pl.DataFrame({"mde": [chosen[0]], "n": [float(chosen[1])]})
        chart = chart + alt.Chart(here).mark_point(size=160, filled=True, color="#d62728").encode(
            x="mde:Q", y="n:Q", tooltip=tooltip)
    return _fit_width(chart.properties(height=220, title="Smaller effects need many more units"))
