"""A/B tests: a verdict from the campaign table's variants or a file of users, a quick calculator, a planner.
Every number comes from `metrics.abtest`, the engine behind `python -m metrics abtest`, so the page and the command
line agree for the same input. Clients see the report's saved test read-only."""

import polars as pl
import streamlit as st

from metrics import abtest
from metrics.errors import InputError, UsageError
from metrics.ingest import MAX_UPLOAD_BYTES
from metrics.samplesize import samplesize_curve, samplesize_proportions
from ui import ab, filters
from ui.charts import show_chart
from ui.router import require_router
from ui.state import (
    AB_CALC_GRID,
    AB_CALC_MODE,
    AB_CALC_ROWS,
    AB_CONFIG,
    AB_DATA_CAMPAIGN,
    AB_DATA_METRIC,
    AB_DATA_SOURCE,
    AB_SEEDED,
    current_viewer,
    get_dataset,
    keyed,
)
from ui.widgets import md_escape

require_router(__file__)

ALL_CAMPAIGNS = ""
VARIANT_HINTS = ("variant", "group", "version", "arm", "bucket", "treatment", "experiment", "test")
OUTCOME_HINTS = ("convert", "outcome", "success", "purchase", "revenue", "retention", "click", "value", "sales")

st.title("A/B tests")
viewer = current_viewer()
dataset = get_dataset()
frame = dataset.frame if dataset is not None else None
config: dict = st.session_state.get(AB_CONFIG) or {}

# --- clients: the saved test, read-only ------------------------------------------------------------------------
if viewer.is_client:
    ab.render_saved(config, frame, filters.current(), key="saved")
    st.stop()


def save_button(new_config: dict, *, key: str) -> None:
    """Editor only: make this the report's A/B test (saved with the next snapshot)."""
    if st.button("Save as the report's A/B test", key=key, icon=":material/bookmark_add:",
                 help="Stores these settings with the report; a snapshot shares them with clients (read-only)."):
        new_config = {"version": ab.CONFIG_VERSION, **new_config}
        st.session_state[AB_CONFIG] = new_config
        st.session_state[AB_SEEDED] = ab.config_hash(new_config)
        st.toast("Saved as the report's A/B test.", icon=":material/bookmark_added:")
        st.rerun()


# --- a saved configuration (opened snapshot or an earlier save) fills the widgets once -------------------------
if config and st.session_state.get(AB_SEEDED) != ab.config_hash(config):
    st.session_state[AB_SEEDED] = ab.config_hash(config)
    if config.get("source") == "campaign":
        st.session_state[AB_DATA_SOURCE] = "campaign"
        st.session_state[AB_DATA_METRIC] = config.get("metric")
        st.session_state[AB_DATA_CAMPAIGN] = config.get("campaign") or ALL_CAMPAIGNS
        ab.seed_settings("ab_data", config)
    elif config.get("source") == "upload":
        st.session_state[AB_DATA_SOURCE] = "upload"
    elif config.get("source") == "calculator":
        mode = "means" if config.get("metric") == "means" else "counts"
        st.session_state[AB_CALC_MODE] = mode
        st.session_state[keyed(AB_CALC_ROWS, mode)] = list(config.get("calculator_rows") or [])
        st.session_state.pop(keyed(AB_CALC_GRID, mode), None)
        ab.seed_settings("ab_calc", config)

if config:
    with st.expander(f"The report's A/B test (what clients see): {ab.describe_config(config)}",
                     icon=":material/bookmark:"):
        ab.render_saved(config, frame, filters.current(), key="saved")
        if st.button("Remove it from the report", key="ab_remove_saved", icon=":material/delete:"):
            st.session_state[AB_CONFIG] = {}
            st.rerun()

tab_data, tab_calc, tab_plan = st.tabs(["From your data", "Quick calculator", "Planner"])

# --- From your data ---------------------------------------------------------------------------------------------
with tab_data:
    campaign_metrics = ab.available_campaign_metrics(frame) if frame is not None else []
    sources = {"campaign": "Campaign table (variant column)", "upload": "A file with one row per user"}
    st.session_state.setdefault(AB_DATA_SOURCE, "campaign" if campaign_metrics else "upload")
    source = st.segmented_control("Data", list(sources), format_func=sources.get, key=AB_DATA_SOURCE,
                                  required=True) or "campaign"

    if source == "campaign":
        if not campaign_metrics:
            st.info("The current data has no `variant` column with clicks and conversions (or impressions or "
                    "leads). Upload exports that include the A/B variant on the Data page, use the demo data, or "
                    "upload a file with one row per user here.")
        else:
            left, right = st.columns(2)
            ab._default("ab_data_metric", campaign_metrics[0], campaign_metrics)
            metric = left.selectbox("Metric", campaign_metrics, key=AB_DATA_METRIC,
                                    format_func=lambda m: ab.CAMPAIGN_METRICS[m][0])
            _, trials, successes = ab.CAMPAIGN_METRICS[metric]
            report_filters = filters.current()
            in_filters = ab.campaign_rows(frame, filters=report_filters)
            campaigns = sorted(in_filters.filter(pl.col("variant").is_not_null()).get_column("campaign")
                               .drop_nulls().unique().to_list()) if "campaign" in in_filters.columns else []
            ab._default("ab_data_campaign", ALL_CAMPAIGNS, [ALL_CAMPAIGNS] + campaigns)
            campaign = right.selectbox("Campaign", [ALL_CAMPAIGNS] + campaigns, key=AB_DATA_CAMPAIGN,
                                       format_func=lambda c: c or "All campaigns",
                                       help="Restrict the test to the ads of one campaign.")
            rows = ab.campaign_rows(frame, filters=report_filters, campaign=campaign or None)
            st.caption("Rows with a variant label in the report's filters (dates, platforms, campaigns) are summed "
                       f"per variant: {trials} are the trials, {successes} the successes.")
            stats = abtest.stats_from_aggregates(rows, "variant", trials, successes)
            if not stats:
                st.info("No rows with a variant label in the current filters; widen the date range or the "
                        "platform and campaign filters.")
            else:
                settings = ab.settings_widgets("ab_data", ab.variant_names(stats))
                if settings is not None:
                    result = ab.run_analysis(stats, "proportion", settings)
                    daily = ab.cumulative_lift(rows, trials, successes, settings.control, alpha=settings.alpha,
                                               sequential=settings.sequential, tuning=settings.tuning)
                    ab.render_result(result, key="data", daily=daily)
                    save_button({"source": "campaign", "metric": metric, "campaign": campaign or None,
                                 **settings.to_config()}, key="ab_save_data")
    else:
        uploaded = st.file_uploader(
            "A file with one row per user (CSV, TSV, XLSX or Parquet)", type=["csv", "tsv", "txt", "xlsx", "parquet"],
            key="ab_upload", max_upload_size=MAX_UPLOAD_BYTES // (1024 * 1024),
            help="For example user_id, group, converted — or a numeric outcome such as revenue per user. The file "
                 "is read in this session only.")
        if uploaded is None and config.get("source") == "upload":
            st.caption("The report's saved test came from an uploaded file; its results are in the panel above. "
                       "Upload a file to analyse another one.")
        if uploaded is not None:
            users = None
            try:
                users = ab.read_upload(uploaded.name, uploaded.getvalue())
            except InputError as error:
                st.error(md_escape(error))
            if users is not None and users.width < 2:
                st.error("The file needs at least two columns: the variant and the outcome.")
                users = None
            if users is not None:
                columns = users.columns
                lower = [c.lower() for c in columns]
                guess_variant = next((c for c, low in zip(columns, lower) if any(h in low for h in VARIANT_HINTS)),
                                     columns[0])
                left, mid, right = st.columns(3)
                ab._default("ab_upload_variant", guess_variant, columns)
                variant_col = left.selectbox("Variant column", columns, key="ab_upload_variant")
                outcomes = [c for c in columns if c != variant_col]
                guess_outcome = next((c for c in outcomes if any(h in c.lower() for h in OUTCOME_HINTS)),
                                     outcomes[-1])
                ab._default("ab_upload_outcome", guess_outcome, outcomes)
                outcome_col = mid.selectbox("Outcome column", outcomes, key="ab_upload_outcome",
                                            help="0/1 or true/false for a conversion; a number such as revenue "
                                                 "for a mean.")
                kinds = {"proportion": "Converted or not (0/1, true/false)", "mean": "A number per user (mean)"}
                kind_key = f"ab_upload_kind_{ab.config_hash({'o': outcome_col})[:12]}"
                ab._default(kind_key, abtest.infer_metric_kind(users, outcome_col), list(kinds))
                kind = right.radio("Outcome type", list(kinds), format_func=kinds.get, key=kind_key)
                stats = None
                try:
                    stats = abtest.stats_from_rows(users, variant_col, outcome_col, kind=kind)
                except UsageError:
                    st.error(md_escape(f"Column {outcome_col} holds values other than 0/1 or true/false; choose "
                                       "\"A number per user\" or another column."))
                if stats is not None and not stats:
                    st.info(md_escape(f"Column {variant_col} has no variant labels."))
                elif stats:
                    settings = ab.settings_widgets("ab_data", ab.variant_names(stats))
                    if settings is not None:
                        result = ab.run_analysis(stats, kind, settings)
                        ab.render_result(result, key="upload")
                        save_button({"source": "upload", "metric": outcome_col, **settings.to_config(),
                                     "upload": {"file_name": uploaded.name, "variant_column": variant_col,
                                                "outcome_column": outcome_col, "kind": kind,
                                                "stats": ab.stats_to_json(stats)}}, key="ab_save_upload")

# --- Quick calculator -------------------------------------------------------------------------------------------
with tab_calc:
    modes = {"counts": "Conversions (visitors, conversions)", "means": "Means (n, mean, sd)"}
    st.session_state.setdefault(AB_CALC_MODE, "counts")
    mode = st.segmented_control("Metric", list(modes), format_func=modes.get, key=AB_CALC_MODE,
                                required=True) or "counts"
    st.caption("Type your numbers over the example; add a row for each further variant. The first variant is the "
               "control unless you pick another one below.")
    if mode == "counts":
        base = st.session_state.setdefault(keyed(AB_CALC_ROWS, "counts"), [dict(r) for r in ab.CALCULATOR_COUNTS])
        schema = {"name": pl.String, "visitors": pl.Int64, "conversions": pl.Int64}
        column_config = {
            "name": st.column_config.TextColumn("Variant", width=160, required=True),
            "visitors": st.column_config.NumberColumn("Visitors", width=160, min_value=0, step=1,
                                                      help="Users (or sessions, clicks) in the variant."),
            "conversions": st.column_config.NumberColumn("Conversions", width=160, min_value=0, step=1),
        }
    else:
        base = st.session_state.setdefault(keyed(AB_CALC_ROWS, "means"), [dict(r) for r in ab.CALCULATOR_MEANS])
        schema = {"name": pl.String, "n": pl.Int64, "mean": pl.Float64, "sd": pl.Float64}
        column_config = {
            "name": st.column_config.TextColumn("Variant", width=160, required=True),
            "n": st.column_config.NumberColumn("Users (n)", width=120, min_value=0, step=1),
            "mean": st.column_config.NumberColumn("Mean", width=120, help="For example revenue per user."),
            "sd": st.column_config.NumberColumn("Standard deviation", width=160, min_value=0.0,
                                                help="Sample standard deviation of the value per user."),
        }
    base_frame = pl.DataFrame([{k: r.get(k) for k in schema} for r in base], schema=schema, strict=False)
    edited = st.data_editor(base_frame, key=keyed(AB_CALC_GRID, mode), num_rows="dynamic", hide_index=True,
                            column_config=column_config, width="content")
    edited_rows = (edited if isinstance(edited, pl.DataFrame) else pl.from_pandas(edited)).to_dicts()
    calc_stats = ab.calculator_stats(edited_rows, mode)
    if len(ab.variant_names(calc_stats)) < 2:
        st.info("Enter at least two variants with different names.")
    else:
        calc_settings = ab.settings_widgets("ab_calc", ab.variant_names(calc_stats))
        if calc_settings is not None:
            calc_result = ab.run_analysis(calc_stats, "proportion" if mode == "counts" else "mean", calc_settings)
            ab.render_result(calc_result, key="calc")
            save_button({"source": "calculator", "metric": mode, **calc_settings.to_config(),
                         "calculator_rows": [{k: r.get(k) for k in schema} for r in edited_rows]},
                        key="ab_save_calc")

# --- Planner ----------------------------------------------------------------------------------------------------
with tab_plan:
    st.caption("How many users a test needs before it starts: two-sided test of two conversion rates (pooled "
               "formula). With more than two variants α is split over the comparisons with the control.")
    c1, c2, c3, c4 = st.columns([1, 1, 1.1, 1])
    baseline_pct = c1.number_input("Baseline conversion rate (%)", min_value=0.01, max_value=99.99, value=10.0,
                                   step=0.5, key="ab_plan_baseline", help="The control's current rate.")
    effect_labels = {"absolute": "Absolute (points)", "relative": "Relative (%)"}
    relative = (c2.segmented_control("Effect given as", list(effect_labels), format_func=effect_labels.get,
                                     default="absolute", required=True, key="ab_plan_effect") == "relative")
    if relative:
        mde_input = c3.number_input("Minimum detectable effect (% of baseline)", value=20.0, step=5.0,
                                    key="ab_plan_mde_rel", help="20 means a change from 10 % to 12 %.")
    else:
        mde_input = c3.number_input("Minimum detectable effect (points)", value=2.0, step=0.5,
                                    key="ab_plan_mde_abs", help="Percentage points: 2 means a change from 10 % "
                                                                "to 12 %.")
    plan_alpha = c4.selectbox("Significance level α", ab.ALPHAS, index=1, key="ab_plan_alpha",
                              format_func=lambda a: f"{a:g} ({ab.level_label(a)} confidence)")
    c5, c6, c7, _ = st.columns([1, 1, 1.1, 1])
    power = c5.selectbox("Power", [0.8, 0.85, 0.9, 0.95], key="ab_plan_power", format_func=lambda p: f"{p:.0%}",
                         help="The chance of detecting an effect of exactly the minimum size; 80 % is usual.")
    n_variants = int(c6.number_input("Variants (including the control)", min_value=2, max_value=20, value=2, step=1,
                                     key="ab_plan_variants"))
    daily_traffic = c7.number_input("Daily traffic (users per day, all variants)", min_value=0, value=1000,
                                    step=100, key="ab_plan_traffic", help="0 if you do not know it yet.")
    baseline, mde = baseline_pct / 100, mde_input / 100
    try:
        plan = samplesize_proportions(baseline, mde, relative=bool(relative), alpha=plan_alpha, power=power,
                                      variants=n_variants, daily_traffic=daily_traffic or None)
    except ValueError as error:
        st.error(str(error))
        plan = None
    if plan is not None:
        target = baseline * (1 + mde) if relative else baseline + mde
        m1, m2, m3 = st.columns(3)
        m1.metric("Per variant", f"{plan.per_variant:,}")
        m2.metric("Total", f"{plan.total:,}", help=f"{plan.per_variant:,} × {n_variants} variants")
        m3.metric("Days needed", f"{plan.days:,}" if plan.days is not None else "—",
                  help="Total ÷ daily traffic, rounded up." if plan.days is not None else "Give the daily traffic.")
        st.caption(f"Detects a change from {baseline:.2%} to {target:.2%} with {power:.0%} power at α "
                   f"{plan_alpha:g}" + (f" ({plan.alpha_per_comparison:.3g} per comparison)." if n_variants > 2
                                        else "."))
        curve = samplesize_curve(baseline, relative=bool(relative), alpha=plan_alpha, power=power,
                                 variants=n_variants)
        chart = ab.samplesize_chart(curve, (mde, plan.per_variant), relative=bool(relative))
        if chart is not None:
            show_chart(chart, key="plan_curve", name="ab_sample_size")
